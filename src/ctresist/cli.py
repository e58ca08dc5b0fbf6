"""Command line: thin ``_cmd_*`` functions parse arguments and call the library.

Every user error is one line on stderr (``ctresist: error: <file>:<line>: ...``) and exit status 1;
``--debug`` shows the traceback instead.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys

import yaml

from ctresist import __version__
from ctresist.errors import InputError

log = logging.getLogger("ctresist")

DESCRIPTION = """\
ctresist: which resistance to targeted therapy has appeared, and what it means for the next drug.

Reads small-variant VCFs (VEP CSQ or SnpEff ANN annotated; raw caller VCFs through bcftools csq when
a reference FASTA + GFF3 is configured, or by exact known alleles) and copy-number segments from
tissue or plasma (ctDNA), matches them against a cited catalogue of resistance mutations and bypass
amplifications (ALK, RET, NTRK1/2/3, ROS1, EGFR, MET, KIT, ERBB2, KRAS, NRAS, BRAF, MAP2K1, PIK3CA,
TP53/RB1) in the sample's driver and therapy context, and writes JSON/TSV/HTML reports.

Typical use: run the Snakemake workflow (snakemake --cores 2), which calls these subcommands.
"""


def _load_config(path: str | None) -> dict:
    if not path:
        return {}
    try:
        with open(path, encoding="utf-8") as fh:
            return yaml.safe_load(fh) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(f"{path}: cannot read config ({exc})") from exc


def _cmd_annotate(args: argparse.Namespace) -> None:
    from ctresist.annotate import context_from_row, do_annotate
    from ctresist.catalogue import load_catalogue
    from ctresist.report import write_json

    cat = load_catalogue(args.catalogue)
    config = _load_config(args.config)
    if args.settings:
        try:
            settings = json.loads(args.settings)
            if not isinstance(settings, dict):
                raise ValueError("not a JSON object")
        except ValueError as exc:
            raise InputError(f"--settings: not a JSON object of config settings ({exc}); give "
                             "e.g. '{\"thresholds\": {\"plasma\": {\"min_vaf\": 0.002}}}'") from None
        config.update(settings)
    for key, value in (("reference_fasta", args.reference_fasta), ("gff3", args.gff3)):
        if value:  # one file for this sample's build
            config[key] = {build: value for build in ("GRCh37", "GRCh38")}
    if args.sheet:
        from ctresist.sheet import read_sheet

        # only this sample's row values are checked; its files are checked when read
        df = read_sheet(args.sheet, check_files=False, sample=args.sample)
        if args.sample not in df.index:
            raise InputError(f"{args.sheet}: no sample {args.sample!r}")
        row = df.loc[args.sample].to_dict()
        where = args.sheet
    else:
        row = {"sample": args.sample, "driver": args.driver, "therapy": args.therapy or "",
               "specimen": args.specimen, "genome_build": args.build, "patient": args.patient or "",
               "collection_date": args.date or "", "vcf": args.vcf, "cnv": args.cnv or "",
               "tumor_sample": args.tumor_sample or "", "normal_sample": args.normal_sample or "",
               "tumor_fraction": args.tumor_fraction or "", "bam": args.bam or "",
               "fusions": args.fusions or "", "coverage": args.coverage or "",
               "purity_file": args.purity_file or ""}
        missing = [k for k in ("vcf", "driver", "specimen", "genome_build") if not row[k]]
        if missing:
            raise InputError(f"annotate: give --sheet, or --{' --'.join(m.replace('genome_build', 'build') for m in missing)}")
        where = args.origin
        for col, allowed in (("specimen", ("plasma", "tissue")), ("genome_build", ("GRCh37", "GRCh38"))):
            if row[col] not in allowed:
                raise InputError(f"{where}: column {col!r}: {row[col]!r} is not one of "
                                 f"{', '.join(allowed)}; fix the sample sheet")
        if row["collection_date"]:
            import datetime as dt

            try:
                dt.date.fromisoformat(row["collection_date"])
            except ValueError:
                raise InputError(f"{where}: column 'collection_date': {row['collection_date']!r} "
                                 "is not a real date (YYYY-MM-DD); fix the sample sheet") from None
    ctx = context_from_row(row, cat, where)
    log.info("annotating %s (%s, %s, %s)", ctx.sample, ctx.specimen, ctx.driver, ctx.build)
    model = do_annotate(ctx, row["vcf"], row.get("cnv") or None, cat,
                        thresholds=config.get("thresholds"),
                        tumor_sample=row.get("tumor_sample") or None,
                        normal_sample=row.get("normal_sample") or None,
                        bam=row.get("bam") or None,
                        reference=(config.get("reference_fasta") or {}).get(row["genome_build"]),
                        gff3=(config.get("gff3") or {}).get(row["genome_build"]),
                        transcripts=config.get("preferred_transcripts") or {},
                        fusions=row.get("fusions") or None, coverage=row.get("coverage") or None,
                        purity=row.get("purity_file") or None,
                        ctdna_cfg=_ctdna_settings(config, args.settings and "--settings"
                                                  or args.config or "config"))
    model["sample"]["extra"] = {}
    write_json(model, args.output)
    if args.html or args.tsv:  # render in the same process (the workflow: one job per sample)
        _render(args.output, args.html, args.tsv, checked=True)  # written just now, by us
    s = model["summary"]
    log.info("%s: %s (%d calls)", ctx.sample, s["headline"], len(model["calls"]))


#: config ``ctdna`` settings: (type, lowest allowed, highest allowed or None); as
#: workflow/schemas/config.schema.yaml says for the workflow
CTDNA_SETTINGS = {"background": (float, 0.0, 1.0), "dispersion": (float, 0.0, None),
                  "min_mapq": (int, 0, None), "min_baseq": (int, 0, None),
                  "min_family_size": (int, 1, None)}


def _ctdna_settings(config: dict, where: str) -> dict:
    """The config's ``ctdna`` block (read-level genotyping), checked: one error line per bad key."""
    ct = config.get("ctdna") or {}
    if not isinstance(ct, dict):
        raise InputError(f"{where}: ctdna: {ct!r} is not a mapping; give e.g. "
                         "'ctdna: {background: 0.0005, min_family_size: 1}'")
    for key, value in ct.items():
        if key not in CTDNA_SETTINGS:
            raise InputError(f"{where}: ctdna: unknown setting {key!r}; the settings are "
                             + ", ".join(CTDNA_SETTINGS))
        kind, low, high = CTDNA_SETTINGS[key]
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if not number or (kind is int and not isinstance(value, int)) or value < low \
                or (high is not None and value >= high) or (key == "background" and value <= 0):
            bounds = {"background": "a number above 0 and below 1", "dispersion": "a number >= 0",
                      "min_family_size": "an integer >= 1"}.get(key, "an integer >= 0")
            raise InputError(f"{where}: ctdna: {key}: {value!r} is not {bounds}; fix the setting")
    return dict(ct)


def _cmd_render(args: argparse.Namespace) -> None:
    _render(args.json, args.html, args.tsv)


def _render(path: str, html: str | None, tsv: str | None, checked: bool = False) -> None:
    """HTML and TSV from a report JSON; one written by another program or version is checked
    against the report schema first (``checked``: written by this process, skip it)."""
    from ctresist.findings import with_findings
    from ctresist.report import check_model, write_html, write_tsv

    try:
        with open(path, encoding="utf-8") as fh:
            model = json.load(fh)
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: cannot read report JSON ({exc})") from exc
    model = with_findings(model) if checked else check_model(model, path)
    if tsv:
        write_tsv(model, tsv, source=path, checked=True)
    if html:
        write_html(model, html, source=path, checked=True)


def _cmd_annotate_batch(args: argparse.Namespace) -> None:
    """Several samples, and then their patients' timelines, in one process (the workflow's
    annotate job: imports and knowledge load once per group, not once per sample). Each runs
    exactly as ``ctresist annotate`` / ``ctresist longitudinal`` with its own arguments, its own
    ``--timeout`` and its own log. A sample that fails fails alone: its report files become
    failure reports (``ctresist.failed``: "not analysed" and the error line of its log), its
    patient's timeline is made from the patient's other samples; the job itself succeeds."""
    from ctresist.failed import write_failed

    try:
        jobs = json.loads(args.jobs)
        samples, timelines = jobs["samples"], jobs.get("timelines", [])
        for job in [*samples, *timelines]:
            if not (isinstance(job.get("argv"), list) and all(isinstance(a, str) for a in job["argv"])
                    and isinstance(job.get("log"), str) and isinstance(job.get("outputs"), list)):
                raise ValueError(f"malformed job {job!r}")
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InputError(f"annotate-batch --jobs: expected {{\"samples\": [...], \"timelines\": "
                         f"[...]}} as the workflow writes it ({exc})") from None
    ok: dict[str, str] = {}  # sample -> its report.json
    failed: list[str] = []
    for job in samples:
        rc = _run_logged(["--timeout", str(args.sample_timeout), *job["argv"]], job["log"])
        if rc == 130:
            raise KeyboardInterrupt
        if rc == 0:
            ok[job["sample"]] = job["outputs"][0]
        else:
            failed.append(job["sample"])
            write_failed(job["outputs"], job.get("what") or {"sample": job["sample"]},
                         _error_line(job["log"], rc))
    outputs = {job["sample"]: job["outputs"][0] for job in samples}
    for job in timelines:
        what = {"patient": job["patient"]}
        if not any(s in ok for s in job["samples"]):
            write_failed(job["outputs"], what, "no sample of this patient could be analysed: "
                         + "; ".join(f"{s}: see its report" for s in job["samples"]))
            continue
        # the failed samples' failure reports too: the timeline lists them as not analysed
        reports = [outputs[s] for s in job["samples"] if s in outputs]
        rc = _run_logged(["--timeout", str(args.sample_timeout), job["argv"][0], *reports,
                          *job["argv"][1:]], job["log"])
        if rc == 130:
            raise KeyboardInterrupt
        if rc:
            write_failed(job["outputs"], what, _error_line(job["log"], rc))
    log.info("%d sample(s) annotated, %d failed%s; %d timeline(s)", len(ok), len(failed),
             f" ({', '.join(failed)})" if failed else "", len(timelines))


def _error_line(log_path: str, rc: int) -> str:
    from ctresist.batch import failure_reason

    reason = failure_reason(log_path)
    return reason if reason != "failed without an error message" else f"exit status {rc}"


def _run_logged(argv: list[str], log_path: str) -> int:
    """``ctresist ARGV`` in this process, its stderr (log lines, error line, htslib) into
    ``log_path``; the exit status."""
    sys.stderr.flush()
    os.makedirs(os.path.dirname(log_path) or ".", exist_ok=True)
    saved, outer = os.dup(2), sys.stderr
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    os.dup2(fd, 2)
    os.close(fd)
    sys.stderr = os.fdopen(os.dup(2), "w", buffering=1, encoding="utf-8", errors="replace")
    try:
        try:
            args = build_parser().parse_args(argv)
        except SystemExit as exc:  # argparse printed its usage error into the log
            return exc.code if isinstance(exc.code, int) else 2
        if args.command not in ("annotate", "longitudinal"):
            print(f"ctresist: error: annotate-batch runs 'annotate' and 'longitudinal' only, not "
                  f"{args.command!r}", file=sys.stderr)
            return 2
        return _run(args)
    finally:
        sys.stderr.flush()
        sys.stderr.close()
        sys.stderr = outer
        os.dup2(saved, 2)
        os.close(saved)
        _log_to_stderr(logging.getLogger().level)  # the log handler followed the sample's stderr


def _cmd_check_summary(args: argparse.Namespace) -> None:
    """The batch's final check: an error naming the samples that were not analysed (so that the
    workflow does not end in success while a sample has failed), else ``-o`` says all were."""
    import csv

    from ctresist.atomic import atomic_write

    try:
        with open(args.summary, encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh, delimiter="\t"))
    except OSError as exc:
        raise InputError(f"{args.summary}: cannot read the batch summary ({exc.strerror})") from None
    if not rows or "outcome" not in rows[0]:
        raise InputError(f"{args.summary}: not a ctresist batch summary (no 'outcome' column)")
    failed = [r["sample"] for r in rows if r["outcome"] != "ok"]
    if failed:
        shown = ", ".join(failed[:10]) + (f" and {len(failed) - 10} more" if len(failed) > 10 else "")
        raise InputError(f"{args.summary}: {len(failed)} of {len(rows)} sample(s) not analysed "
                         f"({shown}); each one's reason is in that file (and its report); fix "
                         "those inputs and rerun")
    with atomic_write(args.output) as fh:
        fh.write(f"all {len(rows)} samples analysed\n")


def _cmd_catalogue(args: argparse.Namespace) -> None:
    from ctresist import catalogue as catmod

    if args.action == "import-civic":
        from pathlib import Path

        from ctresist import civic

        if not args.query or not args.output:
            raise InputError("catalogue import-civic: give the CIViC export TSV and -o civic.tsv")
        drugs = catmod.load_drugs()
        genes = _catalogue_genes()
        rows, skipped = civic.import_civic(args.query, drugs, genes)
        civic.write_civic(rows, args.output, Path(args.query).name)
        counts = civic.skip_counts(skipped)
        print(f"imported {len(rows)} CIViC entries into {args.output}; skipped "
              + ", ".join(f"{k}={v}" for k, v in sorted(counts.items())))
        return
    if args.action == "stamp":
        sha = catmod.stamp_validated(args.catalogue)
        print(f"catalogue rows checked; {catmod.VALIDATED} = {sha}")
        return
    cat = catmod.load_catalogue(args.catalogue, check_rows=args.action == "validate")
    if args.action == "validate":
        genes: dict[str, int] = {}
        for e in cat.entries:
            genes[e.gene] = genes.get(e.gene, 0) + 1
        print(f"catalogue {cat.version} OK: {len(cat.entries)} entries, sha256 {cat.sha256}")
        print("per source: " + ", ".join(f"{k}={v}" for k, v in sorted(cat.sources.items())))
        print("per gene: " + ", ".join(f"{k}={v}" for k, v in sorted(genes.items())))
        return
    entries = cat.entries
    if args.query:
        q = args.query.lower()
        entries = [e for e in entries if q in " ".join([e.id, e.gene, e.alteration, e.driver,
                                                        e.mechanism, *e.resists, *e.options]).lower()]
    if args.action == "export" and args.format in ("bed", "vcf"):
        from ctresist.drivers import parse_driver
        from ctresist.hotspots import export_hotspots

        if not args.build or not args.output:
            raise InputError(f"catalogue export --format {args.format}: give --build GRCh37|GRCh38 "
                             f"and -o sites.{args.format}")
        driver = parse_driver(args.driver, "--driver") if args.driver else None
        n = export_hotspots(args.build, driver, args.format, args.output, catalogue=cat)
        print(f"wrote {n} catalogue sites ({args.driver or 'all drivers'}, {args.build}) to "
              f"{args.output}")
        return
    if args.action == "export" and args.format == "json":
        json.dump([{**e.__dict__} for e in entries], sys.stdout, indent=1, default=list)
        print()
        return
    cols = ["id", "gene", "alteration", "phase", "mechanism", "driver", "resists", "options",
            "evidence", "citations", "source"]
    print("\t".join(cols))
    for e in entries:
        d = e.__dict__
        print("\t".join(";".join(d[c]) if isinstance(d[c], tuple) else str(d[c]) for c in cols))


def _catalogue_genes() -> list[str]:
    from ctresist.genes import annotations_dir

    with open(annotations_dir() / "catalogue" / "catalogue.yaml", encoding="utf-8") as fh:
        return list(yaml.safe_load(fh)["genes"])


def _cmd_longitudinal(args: argparse.Namespace) -> None:
    from ctresist.longitudinal import do_longitudinal

    do_longitudinal(args.reports, args.patient, args.json, args.tsv, args.html,
                    therapy_file=args.therapy_file)


def _cmd_summary(args: argparse.Namespace) -> None:
    from ctresist.batch import summarise

    failed = list(args.failed or [])
    if args.failed_from:
        from ctresist.batch import MAX_REASON

        try:
            with open(args.failed_from, encoding="utf-8", errors="replace") as fh:
                for line in fh:
                    if line.strip():
                        sample, _, reason = line.strip().partition(":")
                        if len(reason) > MAX_REASON:
                            reason = reason[:MAX_REASON] + f" ... [{len(reason) - MAX_REASON} more characters]"
                        failed.append(f"{sample}:{reason}")
        except OSError as exc:
            raise InputError(f"{args.failed_from}: cannot read the failed-sample list ({exc.strerror})") from None
    patients = None
    if args.sheet:
        from ctresist.sheet import read_sheet

        patients = read_sheet(args.sheet, check_files=False, check_values=False)["patient"].to_dict()
    summarise(args.reports, failed, args.tsv, args.html, patients=patients)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ctresist", description=DESCRIPTION,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"ctresist {__version__}")
    p.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    p.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors on stderr")
    p.add_argument("--annotations", help="annotations folder (default: the shipped annotations/)")
    p.add_argument("--catalogue", help="catalogue folder (default: <annotations>/catalogue)")
    p.add_argument("--timeout", type=int, default=0, metavar="SECONDS",
                   help="stop with an error after this many seconds (0: no limit; the workflow "
                   "passes config job_timeout)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    a = sub.add_parser("annotate", help="match one sample's VCF (+CNV) against the catalogue -> JSON",
                       description="Match one sample against the catalogue and write the report "
                       "model (JSON). Either --sheet/--sample or the per-sample options.")
    a.add_argument("--sheet", help="sample sheet TSV (config/samples.tsv); takes everything from the row")
    a.add_argument("--sample", required=True, help="sample ID")
    a.add_argument("--vcf", help="VCF/VCF.gz/BCF of the sample")
    a.add_argument("--cnv", help="copy-number segments (CNVkit .cns, PURPLE, generic)")
    a.add_argument("--driver", help="driver, e.g. EML4-ALK, KIF5B-RET, 'EGFR L858R'")
    a.add_argument("--therapy", help="current drug(s), e.g. alectinib, Alecensa, 'osimertinib+savolitinib'")
    a.add_argument("--specimen", help="specimen type: plasma or tissue")
    a.add_argument("--build", help="genome build of the inputs: GRCh37 or GRCh38")
    a.add_argument("--patient", help="patient ID (groups samples into a timeline)")
    a.add_argument("--date", help="collection date YYYY-MM-DD")
    a.add_argument("--tumor-sample", help="tumour column of a multi-sample VCF")
    a.add_argument("--normal-sample", help="matched normal / white-blood-cell column")
    a.add_argument("--tumor-fraction", help="ctDNA fraction or purity 0-1 (corrects copy number)")
    a.add_argument("--bam", help="BAM/CRAM of the sample: phases compound mutations from reads")
    a.add_argument("--fusions", help="fusion/SV calls of the sample (Manta/DRAGEN/GRIDSS/LUMPY SV "
                   "VCF, Arriba, STAR-Fusion, FusionCatcher, LINX, PCGR or generic TSV): acquired "
                   "fusions and the driver fusion; without it, fusions are 'not examined'")
    a.add_argument("--coverage", help="depth at the catalogue sites when there is no --bam (gVCF, "
                   "mosdepth per-base/regions, samtools depth -a): 'not detected' with its LoD "
                   "instead of 'not assessable'")
    a.add_argument("--purity-file", help="ichorCNA params.txt or PURPLE purity.tsv: the tumour "
                   "fraction when --tumor-fraction (the sheet's) is not given")
    a.add_argument("--config", help="config.yaml with threshold overrides and reference paths")
    a.add_argument("--settings", help="the same settings as a JSON object (the workflow passes "
                   "the merged Snakemake config this sample uses); overrides --config")
    a.add_argument("--reference-fasta", help="reference FASTA of the sample's build (overrides "
                   "config reference_fasta)")
    a.add_argument("--gff3", help="Ensembl/GENCODE GFF3 of the sample's build (overrides config gff3)")
    a.add_argument("--origin", default="command line",
                   help="where the sample's values come from, named in errors (e.g. the sheet)")
    a.add_argument("-o", "--output", required=True, help="report JSON to write")
    a.add_argument("--html", help="also render the report as HTML (as 'ctresist render')")
    a.add_argument("--tsv", help="also write the calls as TSV (as 'ctresist render')")
    a.set_defaults(func=_cmd_annotate)

    r = sub.add_parser("render", help="render a report JSON to HTML and TSV")
    r.add_argument("json", help="report JSON from 'ctresist annotate'")
    r.add_argument("--html", help="HTML report to write")
    r.add_argument("--tsv", help="TSV of the calls to write")
    r.set_defaults(func=_cmd_render)

    c = sub.add_parser("catalogue", help="validate, list, search or export the catalogue; stamp "
                       "it as validated after an edit (VALIDATED: loads then skip the row checks)")
    c.add_argument("action", choices=["validate", "stamp", "list", "search", "export",
                                      "import-civic"])
    c.add_argument("query", nargs="?", help="search: text to look for (gene, alteration, drug, "
                   "driver); import-civic: the CIViC evidence export TSV")
    c.add_argument("-o", "--output", help="import-civic: catalogue file to write (civic.tsv); "
                   "export --format bed|vcf: the sites file (.vcf.gz: bgzipped + tabix index)")
    c.add_argument("--format", choices=["tsv", "json", "bed", "vcf"], default="tsv",
                   help="export format: the entries (tsv, json) or their known alleles for "
                   "force-calling (bed, vcf: SAGE hotspots, VarDict, Mutect2 --alleles)")
    c.add_argument("--build", choices=["GRCh37", "GRCh38"], help="export bed|vcf: genome build")
    c.add_argument("--driver", help="export bed|vcf: only the sites of this driver, e.g. "
                   "'EGFR L858R', EML4-ALK (default: every driver)")
    c.set_defaults(func=_cmd_catalogue)

    ab = sub.add_parser("annotate-batch", help="several samples' annotate runs, then their "
                        "patients' timelines, in one process (the workflow's annotate job); a "
                        "failed sample gets a failure report, the others are unaffected")
    ab.add_argument("--jobs", required=True, help='JSON {"samples": [{"sample", "argv": '
                    '["annotate", ...], "log", "outputs": [json, html, tsv], "what"}], '
                    '"timelines": [{"patient", "samples", "argv": ["longitudinal", ...], "log", '
                    '"outputs"}]}, as the workflow writes it')
    ab.add_argument("--sample-timeout", type=int, default=0, metavar="SECONDS",
                    help="each sample stops with an error after this many seconds (0: no limit)")
    ab.set_defaults(func=_cmd_annotate_batch)

    ck = sub.add_parser("check-summary", help="fail when a sample of the batch summary was not "
                        "analysed (the workflow's last step)")
    ck.add_argument("summary", help="results/_batch/summary.tsv")
    ck.add_argument("-o", "--output", required=True, help="written when every sample was analysed")
    ck.set_defaults(func=_cmd_check_summary)

    lg = sub.add_parser("longitudinal", help="one patient's reports over time -> timeline")
    lg.add_argument("reports", nargs="+", help="report JSONs of the patient's samples")
    lg.add_argument("--patient", required=True)
    lg.add_argument("--json", required=True)
    lg.add_argument("--tsv", required=True)
    lg.add_argument("--html", required=True,
                    help="timeline page to write (timeline.svg is written beside it)")
    lg.add_argument("--therapy-file", help="per-patient lines of therapy (TSV: drug, start, stop, "
                    "best_response), drawn at their real dates")
    lg.set_defaults(func=_cmd_longitudinal)

    s = sub.add_parser("summary", help="batch summary of all samples (and failed ones)")
    s.add_argument("reports", nargs="*", help="report JSONs")
    s.add_argument("--failed", nargs="*", help="'sample:reason' of failed samples")
    s.add_argument("--failed-from", metavar="FILE",
                   help="file with one 'sample: reason' per line (no argument-length limit)")
    s.add_argument("--sheet", help="sample sheet TSV: names the patient of each failed sample")
    s.add_argument("--tsv", required=True)
    s.add_argument("--html", required=True)
    s.set_defaults(func=_cmd_summary)
    return p


#: htslib messages that say nothing about the data (it looks for an index it does not need)
HTSLIB_BENIGN = ("[E::idx_find_and_load]", "[W::hts_idx_load3]", "[W::bcf_hdr_check_sanity]")


class _HtslibStderr:
    """Collect what htslib (inside cyvcf2/pysam) writes straight to file descriptor 2, so that an
    error stays one line: htslib's detail is appended to the ctresist message, and on success each
    htslib warning becomes one ordinary log line. Python's own stderr keeps the real terminal."""

    def __enter__(self) -> _HtslibStderr:
        import tempfile

        sys.stderr.flush()
        self.saved = os.dup(2)
        self.buffer = tempfile.TemporaryFile()
        os.dup2(self.buffer.fileno(), 2)
        self.py_stderr = sys.stderr
        sys.stderr = os.fdopen(os.dup(self.saved), "w", buffering=1, encoding="utf-8",
                               errors="replace")
        return self

    def lines(self) -> list[str]:
        self.buffer.seek(0)
        text = self.buffer.read().decode("utf-8", "replace")
        return [ln.strip() for ln in text.splitlines() if ln.strip()]

    def __exit__(self, *exc) -> None:
        sys.stderr.flush()
        os.dup2(self.saved, 2)
        os.close(self.saved)
        sys.stderr.close()
        sys.stderr = self.py_stderr

    def detail(self) -> str:
        """The most specific htslib error, to append to a ctresist error line."""
        errs = [ln for ln in self.lines() if ln.startswith("[E::") and not ln.startswith(HTSLIB_BENIGN)]
        if not errs:
            return ""
        import re

        return "; htslib: " + re.sub(r"^\[E::\w+\]\s*", "", errs[-1])


class _Timeout(BaseException):  # not swallowed by an "except Exception"
    pass


def _start_timeout(seconds: int):
    """SIGALRM after ``seconds`` ends the command with one error line; a watchdog thread ends
    the process 10 s later if it is stuck where Python cannot run the handler. Returns the
    function that disarms both (the next sample of a batch gets its own ``seconds``)."""
    import signal
    import threading

    def alarm(signum, frame):
        raise _Timeout

    done = threading.Event()
    signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)

    def watchdog() -> None:
        if done.wait(seconds + 10):
            return
        print(f"ctresist: error: no result after {seconds} s (job_timeout); stopped", file=sys.stderr,
              flush=True)
        os._exit(124)

    threading.Thread(target=watchdog, daemon=True, name="ctresist-timeout").start()

    def cancel() -> None:
        signal.alarm(0)
        done.set()

    return cancel


def _os_error(exc: OSError) -> str:
    """One line for an operating-system error: which file, what happened, what to do."""
    import errno

    name = exc.filename or "output"
    hint = {errno.ENOSPC: "free disk space or write elsewhere, then rerun",
            errno.EDQUOT: "free quota or write elsewhere, then rerun",
            errno.EISDIR: "give a file, not a folder",
            errno.ENOTDIR: "a folder in the path is a file",
            errno.EACCES: "check the permissions",
            errno.EROFS: "write to a writable location",
            errno.ENOENT: "check the path"}.get(exc.errno or 0, "check the file and rerun")
    return f"{name}: {exc.strerror or exc}; {hint}"


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from ctresist.batch import use_packaged_data, watch_parent

    if args.annotations:
        os.environ["CTRESIST_ANNOTATIONS"] = os.path.abspath(args.annotations)
    use_packaged_data()
    watch_parent()
    return _run(args)


def _log_to_stderr(level: int) -> None:
    logging.basicConfig(level=level, format="%(asctime)s ctresist %(levelname)s: %(message)s",
                        stream=sys.stderr, force=True)


def _run(args: argparse.Namespace) -> int:
    """One command, its errors as one line each; the exit status (also one sample of
    ``annotate-batch``, in the same process)."""
    with _HtslibStderr() as hts:
        _log_to_stderr(logging.WARNING if args.quiet else logging.INFO)
        cancel = _start_timeout(args.timeout) if args.timeout > 0 else None
        try:
            status = args.func(args)
        except InputError as exc:
            if args.debug:
                raise
            print(f"ctresist: error: {exc}{hts.detail()}", file=sys.stderr)
            return 1
        except _Timeout:
            print(f"ctresist: error: no result after {args.timeout} s (job_timeout); a FIFO or a "
                  "stalled file system? Check the inputs or raise job_timeout", file=sys.stderr)
            return 124
        except OSError as exc:
            if args.debug:
                raise
            print(f"ctresist: error: {_os_error(exc)}{hts.detail()}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("ctresist: interrupted", file=sys.stderr)
            return 130
        finally:
            if cancel:
                cancel()
        undefined = 0
        for line in hts.lines():
            if line.startswith("[W::vcf_parse] Contig '") and "is not defined in the header" in line:
                undefined += 1  # one per contig: summarised below
            elif not line.startswith(HTSLIB_BENIGN):
                log.warning("htslib: %s", line)
        if undefined:
            log.warning("the VCF header declares no ##contig lines for %d contig(s): the genome "
                        "build was checked from the other signals only (assembly names, reference "
                        "bases at catalogue sites, positions); the report's build check says which",
                        undefined)
    return status or 0


if __name__ == "__main__":
    sys.exit(main())
