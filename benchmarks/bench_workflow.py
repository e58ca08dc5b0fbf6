#!/usr/bin/env python
"""Benchmark the Snakemake workflow against the single-process floor on a generated batch.

Usage::

    python benchmarks/bench_workflow.py --samples 1000 [--cores 2] [--dag 1000,10000] [--keep]

The batch: ``--samples`` plasma panel samples, each a plain VCF of ``--records`` records (GRCh38,
VEP CSQ, one TUMOR column) built from ``test_data/ALK01_T1_plasma.vcf.gz``: its header, its
catalogue hits (ALK G1202R at 0.4 %) and filler records outside the catalogue genes; one patient
per 3 samples (2-4 timepoints as the batch size allows), EML4-ALK on alectinib.

Measured in the same run, on the same files:

floor     one Python process: for every sample ``context_from_row`` + ``do_annotate`` + the JSON,
          HTML and TSV writers, then one timeline per patient and the batch summary.
workflow  ``snakemake --cores N`` in a fresh folder (all jobs, scheduling, the summary).
DAG       ``snakemake -n`` on sheets of each ``--dag`` size (rows point at the generated VCFs).

Wall time is ``time.perf_counter`` around each step; peak RSS is the maximum resident size of the
floor process (``ru_maxrss``) and of the largest child of the workflow run. Figures are appended
to ``benchmarks/results.md`` under "Workflow vs single-process floor". Data goes to
``benchmarks/data/workflow`` (git-ignored) and is deleted unless ``--keep``.
"""
from __future__ import annotations

import argparse
import datetime as dt
import gzip
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "test_data" / "ALK01_T1_plasma.vcf.gz"
HEADER = "sample\tpatient\tcollection_date\tspecimen\tvcf\tcnv\tdriver\ttherapy\tgenome_build"


def generate(folder: Path, samples: int, records: int) -> None:
    """VCFs in ``folder/data`` and ``config/samples.tsv`` for the batch."""
    (folder / "data").mkdir(parents=True, exist_ok=True)
    (folder / "config").mkdir(exist_ok=True)
    with gzip.open(SOURCE, "rt") as fh:
        lines = fh.read().splitlines()
    header = [ln for ln in lines if ln.startswith("#")]
    body = [ln for ln in lines if not ln.startswith("#")]
    hits = [ln for ln in body if ln.split("\t")[0] == "2"]  # the ALK records
    filler = []
    for i in range(max(0, records - len(hits))):
        pos = 1_000_000 + 7919 * i  # chr1 and chr3: no catalogue gene in these ranges
        chrom = "1" if pos < 200_000_000 else "3"
        filler.append(f"{chrom}\t{pos if chrom == '1' else pos - 190_000_000}\t.\tA\tC\t.\tPASS\t"
                      "CSQ=C|intergenic_variant|MODIFIER|||||||||||\tGT:AD:DP:AF\t0/1:990,10:1000:0.01")
    rows = [HEADER]
    for s in range(samples):
        name = f"B{s:05d}"
        recs = sorted(filler + hits, key=lambda ln: (ln.split("\t")[0] != "1", ln.split("\t")[0],
                                                     int(ln.split("\t")[1])))
        text = "\n".join(header[:-1] + [header[-1].replace("ALK01_T1_plasma", name)] + recs)
        (folder / "data" / f"{name}.vcf").write_text(text + "\n")
        day = dt.date(2024, 1, 1) + dt.timedelta(days=30 * (s % 3))
        rows.append(f"{name}\tP{s // 3:05d}\t{day}\tplasma\tdata/{name}.vcf\t\tEML4-ALK\t"
                    "alectinib\tGRCh38")
    (folder / "config" / "samples.tsv").write_text("\n".join(rows) + "\n")
    (folder / "config" / "config.yaml").write_text("samples: config/samples.tsv\n")


FLOOR = r"""
import csv, os, sys, time
from ctresist.annotate import context_from_row, do_annotate
from ctresist.catalogue import load_catalogue
from ctresist.longitudinal import do_batch_summary, do_longitudinal
from ctresist.report import write_html, write_json, write_tsv
out = sys.argv[1]
cat = load_catalogue()
with open("config/samples.tsv") as fh:
    rows = list(csv.DictReader(fh, delimiter="\t"))
reports, patients = [], {}
for row in rows:
    ctx = context_from_row(row, cat, "samples.tsv")
    model = do_annotate(ctx, row["vcf"], None, cat)
    d = os.path.join(out, row["sample"])
    write_json(model, os.path.join(d, "report.json"))
    write_html(model, os.path.join(d, "report.html"))
    write_tsv(model, os.path.join(d, "calls.tsv"))
    reports.append(os.path.join(d, "report.json"))
    patients.setdefault(row["patient"], []).append(reports[-1])
for p, paths in patients.items():
    d = os.path.join(out, "_patients", p)
    do_longitudinal(paths, p, d + "/timeline.json", d + "/timeline.tsv", d + "/timeline.html")
do_batch_summary(reports, [], os.path.join(out, "_batch/summary.tsv"), os.path.join(out, "_batch/summary.html"))
"""


def timed(cmd: list[str], cwd: Path) -> tuple[float, int, float]:
    """(wall seconds, peak RSS in MB of the largest descendant so far, CPU seconds of the command
    and its descendants) of one child command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"bench_workflow: {' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return wall, after.ru_maxrss // 1024, cpu


def workflow_folder(folder: Path) -> None:
    for item in ("Snakefile", "workflow"):
        src = ROOT / item
        (shutil.copytree if src.is_dir() else shutil.copy)(src, folder / item)
    (folder / "profiles").symlink_to("workflow/profiles")


def dag_time(base: Path, n: int, samples: int) -> tuple[float, float]:
    """(wall, CPU) of ``snakemake -n`` on a sheet of n rows (cycling over the generated VCFs)."""
    folder = base / f"dag{n}"
    folder.mkdir()
    workflow_folder(folder)
    (folder / "config").mkdir()
    (folder / "data").symlink_to(base / "batch" / "data")
    rows = [HEADER] + [f"D{i:06d}\tQ{i // 3:06d}\t2024-01-0{1 + i % 3}\tplasma\t"
                       f"data/B{i % samples:05d}.vcf\t\tEML4-ALK\talectinib\tGRCh38" for i in range(n)]
    (folder / "config" / "samples.tsv").write_text("\n".join(rows) + "\n")
    (folder / "config" / "config.yaml").write_text("samples: config/samples.tsv\n")
    wall, _, cpu = timed(["snakemake", "-n", "--cores", "2", "--quiet", "all"], folder)
    return wall, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=1000)
    ap.add_argument("--records", type=int, default=300)
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--dag", default="1000,10000", help="sheet sizes for the DAG-build time")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    base = ROOT / "benchmarks" / "data" / "workflow"
    shutil.rmtree(base, ignore_errors=True)
    batch = base / "batch"
    generate(batch, args.samples, args.records)
    load = os.getloadavg()
    floor_wall, floor_rss, floor_cpu = timed([sys.executable, "-c", FLOOR, str(base / "floor")], batch)
    workflow_folder(batch)
    wf_wall, wf_rss, wf_cpu = timed(["snakemake", "--cores", str(args.cores), "--quiet", "all"], batch)
    n_reports = len(list((batch / "results").glob("*/report.json")))
    if n_reports != args.samples:
        sys.exit(f"bench_workflow: {n_reports} reports for {args.samples} samples")
    for name in ("summary.tsv",):  # the workflow and the floor agree, sample by sample
        got = sorted((batch / "results" / "_batch" / name).read_text().splitlines()[1:])
        want = sorted((base / "floor" / "_batch" / name).read_text().splitlines()[1:])
        strip = [ln.rsplit("\t", 1)[0] for ln in got], [ln.rsplit("\t", 1)[0] for ln in want]
        if strip[0] != strip[1]:
            sys.exit("bench_workflow: the workflow's summary differs from the floor's")
    jobs = len(list((batch / "logs" / "annotate" / "_groups").glob("*.log")))
    dags = {int(n): dag_time(base, int(n), args.samples) for n in ["1", *args.dag.split(",")] if n}
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "",
        "## Workflow vs single-process floor",
        "",
        f"Run {when} with `python benchmarks/bench_workflow.py --samples {args.samples} --records "
        f"{args.records} --cores {args.cores} --dag {args.dag}` on {platform.machine()}, "
        f"{os.cpu_count()} CPUs, load average at start {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}.",
        "",
        "| measure | value |",
        "|---|---:|",
        f"| samples (records per VCF) | {args.samples} ({args.records}) |",
        f"| floor: one Python process, wall (CPU) | {floor_wall:.1f} s ({floor_cpu:.1f} s) |",
        f"| workflow: snakemake --cores {args.cores}, wall (CPU, all processes) | {wf_wall:.1f} s "
        f"({wf_cpu:.1f} s) |",
        f"| annotate jobs (groups of patients) | {jobs} |",
        f"| ratio workflow / floor, wall | {wf_wall / floor_wall:.2f} |",
        f"| ratio workflow / floor, CPU | {wf_cpu / floor_cpu:.2f} |",
        *[f"| DAG build (snakemake -n), {n:,} sample{'s' if n > 1 else ''}: wall (CPU) | "
          f"{t:.1f} s ({c:.1f} s) |" for n, (t, c) in dags.items()],
        f"| peak RSS of any one process | {max(floor_rss, wf_rss)} MB |",
        "",
    ]
    print("\n".join(lines))
    with open(ROOT / "benchmarks" / "results.md", "a", encoding="utf-8") as fh:
        fh.write("\n".join(lines))
    if not args.keep:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
