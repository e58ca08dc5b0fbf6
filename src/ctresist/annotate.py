"""``ctresist annotate``: one sample's VCF (+ CNV) to the report model (JSON)."""
from __future__ import annotations

import logging
import os

from ctresist import __version__
from ctresist.catalogue import Catalogue
from ctresist.errors import InputError
from ctresist.genes import BUILDS, genes_for_build, verify_build
from ctresist.interpret import Context, Thresholds, interpret
from ctresist.io.cnv import gene_copy_numbers, read_segments
from ctresist.io.vcf import VcfInfo, open_vcf, read_variants
from ctresist.knownsites import lookup

log = logging.getLogger("ctresist")


def do_annotate(ctx: Context, vcf: str, cnv: str | None, catalogue: Catalogue,
                thresholds: dict | None = None, tumor_sample: str | None = None,
                normal_sample: str | None = None, bam: str | None = None,
                reference: str | None = None, gff3: str | None = None,
                transcripts: dict[str, str] | None = None, coverage: str | None = None,
                purity: str | None = None, ctdna_cfg: dict | None = None,
                fusions: str | None = None) -> dict:
    """Read, match and interpret one sample; returns the report model.

    bam: optional BAM/CRAM of the tumour/plasma sample, used to phase compound mutations that the
    VCF leaves unphased (reference: FASTA for CRAM decoding and ref-allele checks).
    reference + gff3: a VCF without VEP/SnpEff annotation gets its protein changes from
    ``bcftools csq`` (after ``bcftools norm``); without them only known catalogue alleles match.
    transcripts: {gene: ENST} replacing the shipped preferred transcript (MANE Select / MSK) when
    choosing among VEP/SnpEff/BCSQ transcript annotations.
    coverage: depth at the catalogue sites without reads (gVCF, mosdepth, ``samtools depth``);
    purity: ichorCNA ``params.txt`` or PURPLE ``purity.tsv`` (tumour fraction when the sheet has
    none); ctdna_cfg: config ``ctdna`` (background, dispersion, min_mapq, min_baseq,
    min_family_size); fusions: a fusion/SV file (:mod:`ctresist.io.fusions`)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="ctresist-") as work:
        return _annotate(ctx, vcf, cnv, catalogue, thresholds, tumor_sample, normal_sample, bam,
                         reference, gff3, work, transcripts or {}, coverage, purity,
                         ctdna_cfg or {}, fusions)


def _annotate(ctx: Context, vcf: str, cnv: str | None, catalogue: Catalogue,
              thresholds: dict | None, tumor_sample: str | None, normal_sample: str | None,
              bam: str | None, reference: str | None, gff3: str | None, work: str,
              transcripts: dict[str, str], coverage: str | None, purity: str | None,
              ctdna_cfg: dict, fusions: str | None) -> dict:
    genes = [g for g in genes_for_build(ctx.build) if g.name in catalogue.genes]
    # the other build's spans are read too: its catalogue sites are evidence of a mislabelled build
    both = genes + [g for b in BUILDS if b != ctx.build for g in genes_for_build(b)
                    if g.name in catalogue.genes]
    th = Thresholds.for_specimen(ctx.specimen, thresholds)
    # the transcripts whose residue numbering the catalogue uses (the literature's; genes.tsv
    # msk column, which known_alleles.tsv follows); MANE Select too where its protein is the same
    preferred = {g.name: ({g.msk_enst} if g.name in NUMBERING_DIFFERS else {g.mane_enst, g.msk_enst})
                 - {""} for g in genes}
    for gene, tx in transcripts.items():
        preferred[gene] = {tx.split(".")[0]}
    reader, header = open_vcf(vcf, tumor_sample, normal_sample)
    reader.close()
    verify_build(vcf, ctx.build, header.raw_header, header.contigs, [])  # header evidence: fail early
    infos: list[VcfInfo] = []
    evidence: list[tuple[str, str, int, str, str]] = []
    source, span = vcf, both
    if reference and gff3 and not (header.csq_fields or header.ann_fields or header.bcsq):
        from ctresist.consequence import annotate_with_csq

        evidence = [("record", v.chrom, v.pos, v.ref, v.alt)
                    for v in read_variants(vcf, both, tumor=tumor_sample, normal=normal_sample)]
        log.info("%s: no VEP/SnpEff annotation; running bcftools norm + csq", ctx.sample)
        source, span = annotate_with_csq(vcf, reference, gff3, genes, work), genes
    variants = []
    for v in read_variants(source, span, tumor=tumor_sample, normal=normal_sample,
                           transcripts=preferred, info_out=infos):
        if source == vcf:
            evidence.append(("record", v.chrom, v.pos, v.ref, v.alt))
        if not any(g.overlaps(v.chrom, v.pos, v.pos + max(len(v.ref), 1) - 1) for g in genes):
            continue  # in the other build's spans only: read for the build check
        unannotated = not (infos[0].csq_fields or infos[0].ann_fields or infos[0].bcsq)
        tx = (v.transcript or "").split(".")[0]
        if v.gene in NUMBERING_DIFFERS and v.hgvsp and tx and tx not in preferred.get(v.gene, {tx}):
            # residues of another isoform (ROS1 MANE is 2,341 aa, the literature's 2,347): a
            # catalogue residue must not be matched, or missed, on the wrong numbering
            v.problem = (f"{v.gene} protein change {v.hgvsp} is on {v.transcript}, whose residue "
                         "numbering is not the catalogue's (it follows "
                         f"{'/'.join(sorted(preferred[v.gene]))}); annotate that transcript too")
            v.hgvsp = None
        # an exact catalogue allele is interpretable without annotation, and when the annotation
        # is broken or gives no protein change (VEP without HGVSp): never a missed resistance call
        rescue = unannotated or (v.problem is None and v.change is None) or _annotation_failed(v.problem)
        known = lookup(ctx.build, v.chrom, v.pos, v.ref, v.alt) if rescue else None
        if known:
            if v.problem:
                log.warning("%s: %s: %s; read as the known catalogue allele %s %s", ctx.sample,
                            v.key, v.problem, known[0], known[1])
            v.gene, v.hgvsp, v.hgvsc = known
            v.annotation, v.problem = "known_site", None
        elif v.gene is None:  # gene from position, so the variant is listed, never dropped
            v.gene = next((g.name for g in genes if g.overlaps(v.chrom, v.pos, v.pos)), None)
        if unannotated and not known:
            v.problem = ("not interpretable without a reference or VEP/SnpEff annotation "
                         "(no CSQ/ANN in the VCF and not a known catalogue allele)")
        variants.append(v)
        if len(variants) % 10000 == 0:
            log.info("%s: %d alleles in catalogue genes read", ctx.sample, len(variants))
    info = infos[0] if infos else header
    # max_pos: positions past a chromosome's end anywhere in the file (when it was streamed)
    build_check = verify_build(vcf, ctx.build, header.raw_header, header.contigs, evidence,
                               info.max_pos if source == vcf else None)
    ctx.has_normal = bool(info and info.normal)
    tf = _tumour_fraction(ctx, purity, variants, catalogue, th, tumor_sample)
    if ctx.tumor_fraction is None and tf.value is not None:
        ctx.extra["tumor_fraction"] = f"{tf.value:g}"  # for the germline-likely rule (interpret)
    # chosen once: the sheet's value, else a purity file, else (plasma only) the VAF estimate;
    # relative copy number is corrected with it once (absolute copy number never)
    cn_tf = tf.value if tf.method in ("sample sheet", "ichorCNA", "PURPLE") or (
        ctx.specimen == "plasma" and tf.method == "estimated from VAF") else None
    if cn_tf is not None and tf.method != "sample sheet":
        ctx.extra["tumor_fraction_method"] = tf.method
    cnvs = {}
    if cnv:
        segs = read_segments(cnv, build=ctx.build, sample=[tumor_sample, ctx.sample])
        cnvs = gene_copy_numbers(cnv, segs, genes, ctx.build, cn_tf)
    from ctresist.fusions import assess_fusions
    from ctresist.fusions import limitations as fusion_limitations

    fcalls, confirmation, fusions_seen = assess_fusions(fusions, ctx, catalogue, th, tumor_sample)
    ctdna = _ctdna(ctx, variants, catalogue, th, tf, bam, coverage, reference, ctdna_cfg)
    phaser = None
    if bam:
        from ctresist.phasing import phase_from_reads

        def phaser(a, b):
            if len(a.ref) != len(a.alt) or len(b.ref) != len(b.alt):
                return None  # indels: read phasing not supported, stays undetermined
            return phase_from_reads(bam, a.chrom, (a.pos, a.ref, a.alt), (b.pos, b.ref, b.alt),
                                    reference=reference)
    model = interpret(ctx, variants, cnvs, catalogue, th, cnv_given=bool(cnv), read_phaser=phaser,
                      build_check=build_check, extra_calls=fcalls,
                      extra_limitations=fusion_limitations(confirmation) + _read_level_lines(ctdna))
    summary = model["summary"]
    possible = [f"{r['gene']} {r['alteration']}" for r in ctdna["sites"]
                if r["state"] == "read_level_only" and r["role"] == "resistance"]
    if possible and not summary["actionable"] and not any(
            c["status"] == "resistance_low_support" for c in model["calls"]):
        # never "no resistance" when the reads show a resistance allele the caller did not call
        summary["headline"] = ("Possible resistance in the reads only (not called by the variant "
                               f"caller): {', '.join(possible)}; confirm before acting")
    annotation = None
    if info is not None:
        annotation = ("VEP CSQ" if info.csq_fields else "SnpEff ANN" if info.ann_fields
                      else "bcftools csq (BCSQ)" if info.bcsq else "none (known-site matching)")
    model.update({
        "schema": "ctresist-report/1",
        "ctresist_version": __version__,
        "catalogue": {"version": catalogue.version, "sha256": catalogue.sha256,
                      "sources": dict(sorted(catalogue.sources.items()))},
        "sample": {**ctx.__dict__},
        "inputs": {"vcf": os.path.basename(vcf), "cnv": os.path.basename(cnv) if cnv else None,
                   "bam": os.path.basename(bam) if bam else None,
                   "fusions": os.path.basename(fusions) if fusions else None,
                   "coverage": os.path.basename(coverage) if coverage else None,
                   "purity": os.path.basename(purity) if purity else None,
                   "tumor_sample": info.tumor if info else None,
                   "normal_sample": info.normal if info else None},
        "examined": {"vcf_records_read": info.records_read if info else 0,
                     "region_queries": bool(info and info.indexed),
                     "variants_in_catalogue_genes": sum(1 for v in variants if v.gene in catalogue.genes),
                     "annotation": annotation, "genes": [g.name for g in genes],
                     # how read counts were taken (ctresist.io.callers) and what the reader noted
                     # (index not trusted, approximate DP, missing ##fileformat ...)
                     "read_counts": info.caller if info else None,
                     "vcf_notes": list(info.notes) if info else []},
        "thresholds": {k: v for k, v in th.__dict__.items()},
        "copy_number": [c.__dict__ for c in sorted(cnvs.values(), key=lambda c: c.gene)],
        "build_check": build_check,
        "ctdna": ctdna,
        "driver_confirmation": confirmation,
        "fusions": fusions_seen,
    })
    return model


def _tumour_fraction(ctx: Context, purity: str | None, variants: list, catalogue: Catalogue,
                     th: Thresholds, tumor_sample: str | None):
    """The sample's tumour fraction, chosen once: sheet, else purity file, else VAF estimate."""
    from ctresist.io.purity import choose_tumour_fraction, driver_of

    gene, change = driver_of(ctx.driver, ctx.driver_text)
    return choose_tumour_fraction(ctx.tumor_fraction, purity, variants,
                                  sample=[tumor_sample, ctx.sample],
                                  driver_gene=gene, driver_change=change,
                                  activating=catalogue.activating,
                                  germline_population_af=th.germline_population_af,
                                  normal_max_alt_reads=th.normal_max_alt_reads)


def _ctdna(ctx: Context, variants: list, catalogue: Catalogue, th: Thresholds, tf,
           bam: str | None, coverage: str | None, reference: str | None, cfg: dict) -> dict:
    """The report's ``ctdna`` block: every catalogue site of the driver genotyped from the reads
    (or coverage). A ``read_level_only`` site is "possible, confirm" and never becomes a call."""
    from ctresist.genotype import ctdna_evidence
    from ctresist.hotspots import missing_alleles, sites_for

    return ctdna_evidence(
        sites_for(ctx.build, ctx.driver, catalogue=catalogue), variants, bam=bam,
        coverage=coverage, reference=reference, build=ctx.build, min_depth=int(th.min_depth),
        min_alt_reads=int(th.min_alt_reads), min_vaf=th.min_vaf, tumour_fraction=tf,
        plasma=ctx.specimen == "plasma", background=cfg.get("background", 5e-4),
        dispersion=cfg.get("dispersion", 0.0), min_mapq=cfg.get("min_mapq", 20),
        min_baseq=cfg.get("min_baseq", 20), min_family_size=cfg.get("min_family_size", 1),
        not_genotypable=missing_alleles(ctx.build, ctx.driver, catalogue=catalogue))


def _read_level_lines(ctdna: dict) -> list[str]:
    """Limitations for resistance alleles seen in the reads only (never findings)."""
    return [f"{r['gene']} {r['alteration']} seen in the reads only, not called by the variant "
            f"caller ({r['text']}): not a finding until confirmed" for r in ctdna["sites"]
            if r["state"] == "read_level_only" and r["role"] == "resistance"]


#: VCF-reader problems that concern only the annotation entry (not read counts, not a protein
#: change shared with another record of the same haplotype): an exact catalogue allele still
#: identifies such a variant
#: Catalogue genes whose MANE Select protein is not the isoform the literature (and the
#: catalogue, known_alleles.tsv) numbers: ROS1 MANE ENST00000368507 codes 2,341 aa, the literature's
#: ENST00000368508 / NP_002935 2,347 aa (Ensembl; OncoKB and CGI use ENST00000368508); NTRK3 MANE
#: ENST00000629765 is not the transcript the catalogue's residues were checked on (ENST00000360948)
#: and their identity was not verified here. For these genes only the catalogue's transcript is read.
NUMBERING_DIFFERS = frozenset({"ROS1", "NTRK3"})

_ANNOTATION_FAILURES = ("malformed ", "annotation for allele", "unrecognised ", "without a protein change",
                        "without an amino-acid change", "annotation names",
                        "numbering is not the catalogue's")


def _annotation_failed(problem: str | None) -> bool:
    return bool(problem) and any(p in problem for p in _ANNOTATION_FAILURES)


def context_from_row(row: dict[str, str], catalogue: Catalogue, where: str) -> Context:
    from ctresist.drivers import parse_driver

    tf = row.get("tumor_fraction") or None
    try:
        tumor_fraction = float(tf) if tf else None
    except ValueError:
        raise InputError(f"{where}: column 'tumor_fraction': {tf!r} is not a number 0-1") from None
    if tumor_fraction is not None and not 0 < tumor_fraction <= 1:
        raise InputError(f"{where}: column 'tumor_fraction': {tf!r} is not in (0, 1]")
    return Context(
        sample=row["sample"], driver_text=row["driver"], driver=parse_driver(row["driver"], where),
        therapy_text=row.get("therapy", ""),
        therapy=catalogue.drugs.parse_therapy(row.get("therapy", ""), f"{where}: column 'therapy'"),
        specimen=row["specimen"], build=row["genome_build"], patient=row.get("patient", ""),
        collection_date=row.get("collection_date", ""), tumor_fraction=tumor_fraction)
