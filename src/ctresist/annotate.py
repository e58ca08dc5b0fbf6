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
                transcripts: dict[str, str] | None = None) -> dict:
    """Read, match and interpret one sample; returns the report model.

    bam: optional BAM/CRAM of the tumour/plasma sample, used to phase compound mutations that the
    VCF leaves unphased (reference: FASTA for CRAM decoding and ref-allele checks).
    reference + gff3: a VCF without VEP/SnpEff annotation gets its protein changes from
    ``bcftools csq`` (after ``bcftools norm``); without them only known catalogue alleles match.
    transcripts: {gene: ENST} replacing the shipped preferred transcript (MANE Select / MSK) when
    choosing among VEP/SnpEff/BCSQ transcript annotations."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="ctresist-") as work:
        return _annotate(ctx, vcf, cnv, catalogue, thresholds, tumor_sample, normal_sample, bam,
                         reference, gff3, work, transcripts or {})


def _annotate(ctx: Context, vcf: str, cnv: str | None, catalogue: Catalogue,
              thresholds: dict | None, tumor_sample: str | None, normal_sample: str | None,
              bam: str | None, reference: str | None, gff3: str | None, work: str,
              transcripts: dict[str, str]) -> dict:
    genes = [g for g in genes_for_build(ctx.build) if g.name in catalogue.genes]
    # the other build's spans are read too: its catalogue sites are evidence of a mislabelled build
    both = genes + [g for b in BUILDS if b != ctx.build for g in genes_for_build(b)
                    if g.name in catalogue.genes]
    th = Thresholds.for_specimen(ctx.specimen, thresholds)
    preferred = {g.name: {g.mane_enst, g.msk_enst} - {""} for g in genes}
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
    cnvs = {}
    if cnv:
        segs = read_segments(cnv)
        cnvs = gene_copy_numbers(cnv, segs, genes, ctx.build, ctx.tumor_fraction)
    phaser = None
    if bam:
        from ctresist.phasing import phase_from_reads

        def phaser(a, b):
            if len(a.ref) != len(a.alt) or len(b.ref) != len(b.alt):
                return None  # indels: read phasing not supported, stays undetermined
            return phase_from_reads(bam, a.chrom, (a.pos, a.ref, a.alt), (b.pos, b.ref, b.alt),
                                    reference=reference)
    model = interpret(ctx, variants, cnvs, catalogue, th, cnv_given=bool(cnv), read_phaser=phaser,
                      build_check=build_check)
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
                   "tumor_sample": info.tumor if info else None,
                   "normal_sample": info.normal if info else None},
        "examined": {"vcf_records_read": info.records_read if info else 0,
                     "region_queries": bool(info and info.indexed),
                     "variants_in_catalogue_genes": sum(1 for v in variants if v.gene in catalogue.genes),
                     "annotation": annotation, "genes": [g.name for g in genes]},
        "thresholds": {k: v for k, v in th.__dict__.items()},
        "copy_number": [c.__dict__ for c in sorted(cnvs.values(), key=lambda c: c.gene)],
        "build_check": build_check,
    })
    return model


#: VCF-reader problems that concern only the annotation entry (not read counts, not a protein
#: change shared with another record of the same haplotype): an exact catalogue allele still
#: identifies such a variant
_ANNOTATION_FAILURES = ("malformed ", "annotation for allele", "unrecognised ", "without a protein change",
                        "without an amino-acid change", "annotation names")


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
