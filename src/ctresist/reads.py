"""The one read filter and base call of ctresist, shared by read-based phasing
(:mod:`ctresist.phasing`) and catalogue-site genotyping (:mod:`ctresist.genotype`).

A read (alignment) is used only if it is mapped, primary (not secondary or supplementary), not a
duplicate, not QC-fail, and has MAPQ >= ``min_mapq`` (:func:`filter_reason`). Its call at a
variant is the read base(s) aligned to the position with base quality >= ``min_baseq``; an ``N``,
a deletion or an unaligned position is no call (:func:`base_call`).
"""
from __future__ import annotations

import os
from pathlib import Path

import pysam

from ctresist.errors import InputError

#: the bases a variant allele may have
BASES = frozenset("ACGT")
#: unmapped | secondary | QC-fail | duplicate | supplementary
SKIP_FLAGS = 0x4 | 0x100 | 0x200 | 0x400 | 0x800


def filter_reason(read: pysam.AlignedSegment, min_mapq: int) -> str | None:
    """Why ``read`` is not used (None = used): the flag bits of :data:`SKIP_FLAGS` and MAPQ,
    named for the report."""
    f = read.flag
    if f & SKIP_FLAGS:
        if f & 0x4:
            return "unmapped"
        if f & 0x400:
            return "duplicate"
        if f & 0x200:
            return "qc_fail"
        return "secondary_or_supplementary"
    if read.mapping_quality < min_mapq:
        return "low_mapq"
    return None


def base_call(read: pysam.AlignedSegment, qpos: dict[int, int], var: tuple[int, str, str],
              min_baseq: int) -> str | None:
    """``alt`` / ``ref`` / ``other`` for an SNV or same-length MNV ``var`` = (1-based pos, ref,
    alt); ``qpos`` maps 0-based reference positions to query positions. None: no call (a base
    unaligned, below ``min_baseq`` or ``N``)."""
    pos, ref, alt = var
    seq = read.query_sequence
    quals = read.query_qualities
    if seq is None:
        return None
    bases = []
    for r in range(pos - 1, pos - 1 + len(ref)):
        q = qpos.get(r)
        if q is None or quals is None or quals[q] < min_baseq or seq[q].upper() == "N":
            return None
        bases.append(seq[q].upper())
    observed = "".join(bases)
    return "alt" if observed == alt else "ref" if observed == ref else "other"


def resolve_contig(chrom: str, references: tuple[str, ...], bam: str) -> str:
    """'7' / 'chr7' (and 'MT' / 'chrM') are the same contig: return the BAM header's spelling."""
    c = str(chrom)
    bare = c[3:] if c.lower().startswith("chr") else c
    candidates = [c, bare, "chr" + bare]
    if bare.upper() in ("M", "MT"):
        candidates += ["MT", "chrM", "M", "chrMT"]
    for name in candidates:
        if name in references:
            return name
    shown = ", ".join(references[:10]) + (", ..." if len(references) > 10 else "")
    raise InputError(f"{bam}: contig {chrom!r} is not in the BAM/CRAM header (contigs: {shown})")


def open_alignment(bam: str, reference: str | None) -> pysam.AlignmentFile:
    """An indexed-or-not BAM/CRAM opened for reading; InputError for a missing file, a CRAM
    without its reference, or a file that is not BAM/CRAM."""
    path = Path(bam)
    if not path.is_file():
        raise InputError(f"{bam}: alignment file not found")
    if reference is not None and not Path(reference).is_file():
        raise InputError(f"{reference}: reference FASTA not found")
    if path.suffix.lower() == ".cram" and reference is None and not (
            os.environ.get("REF_PATH") or os.environ.get("REF_CACHE")):
        raise InputError(f"{bam}: a CRAM needs the reference FASTA it was written against "
                         "(pass reference=...)")
    previous = pysam.set_verbosity(0)  # a missing index is reported below, not as htslib noise
    try:
        aln = pysam.AlignmentFile(str(path), "r", reference_filename=reference)
    except (ValueError, OSError) as e:
        raise InputError(f"{bam}: cannot read as BAM/CRAM ({e})") from e
    finally:
        pysam.set_verbosity(previous)
    if not (aln.is_bam or aln.is_cram):
        aln.close()
        raise InputError(f"{bam}: not a BAM or CRAM file (a SAM cannot be indexed for region "
                         "queries; convert with `samtools sort -o x.bam` and index it)")
    return aln
