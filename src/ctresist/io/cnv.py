"""The one CNV reader: segment files to gene-level copy number.

Accepted: CNVkit ``.cns`` (``chromosome start end ... log2 [cn]``), PURPLE ``*.cnv.somatic.tsv``
(``copyNumber``), allele-specific tables (``nMajor`` + ``nMinor``), and any generic segment file
with a chromosome, start, end and either a log2 ratio or an absolute copy number column.
Copy number from log2 assumes a diploid baseline: CN = 2 * 2**log2.
"""
from __future__ import annotations

import csv
import logging
import math
import os
from dataclasses import dataclass

from ctresist.errors import InputError
from ctresist.genes import Gene, chrom_lengths, norm_chrom

log = logging.getLogger("ctresist")

CHROM_COLS = ("chromosome", "chrom", "chr", "Chromosome", "CHROM", "chromosome_name", "contig")
START_COLS = ("start", "Start", "loc.start", "start.pos", "START", "startpos")
END_COLS = ("end", "End", "loc.end", "end.pos", "END", "endpos")
CN_COLS = ("cn", "copy_number", "copyNumber", "CN", "total_cn", "Corrected_Copy_Number", "tcn")
LOG2_COLS = ("log2", "seg.mean", "log2_ratio", "log2ratio", "Segment_Mean", "seg.median.logR")


@dataclass(frozen=True)
class Segment:
    """A copy-number segment; start/end as in the file; cn absolute total copies (None unknown)."""

    chrom: str
    start: int
    end: int
    cn: float | None
    log2: float | None
    line: int
    tumour_cn: bool = False  # cn is already the tumour's own copy number (purity-adjusted)


#: copy-number columns that already hold the tumour's purity-adjusted copy number (PURPLE
#: copyNumber, ichorCNA Corrected_Copy_Number): a tumour fraction must not be applied again
TUMOUR_CN_COLS = ("copyNumber", "Corrected_Copy_Number")


@dataclass
class GeneCopyNumber:
    """Gene-level copy number.

    copy_number: length-weighted mean absolute CN over the segments overlapping the gene;
    adjusted_cn: corrected for tumour fraction (None when the fraction is unknown);
    amplified_span_fraction: length of the contiguous run of segments at >= the gene's CN-level
    divided by the chromosome length (near 1 = whole-chromosome gain, not a focal amplification).
    """

    gene: str
    chrom: str
    copy_number: float | None
    log2: float | None
    adjusted_cn: float | None = None
    amplified_span: int | None = None
    amplified_span_fraction: float | None = None
    segments: int = 0


def _pick(header: list[str], names: tuple[str, ...]) -> str | None:
    for n in names:
        if n in header:
            return n
    return None


def read_segments(path: str) -> list[Segment]:
    """Read a segment file; InputError naming the file, line and column on any malformed value."""
    if not os.path.exists(path):
        raise InputError(f"{path}: file not found")
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            lines = [ln for ln in fh if not ln.startswith("#") and ln.strip()]
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not a text segment file ({exc})") from exc
    if not lines:
        raise InputError(f"{path}: empty CNV file (no header line)")
    rows = csv.reader((ln.rstrip("\r\n") for ln in lines), delimiter="\t")
    header = [h.strip() for h in next(rows)]
    c_chrom, c_start, c_end = _pick(header, CHROM_COLS), _pick(header, START_COLS), _pick(header, END_COLS)
    c_cn, c_log2 = _pick(header, CN_COLS), _pick(header, LOG2_COLS)
    c_major = "nMajor" if "nMajor" in header and "nMinor" in header else None
    missing = [n for n, c in (("chromosome", c_chrom), ("start", c_start), ("end", c_end)) if c is None]
    if c_cn is None and c_log2 is None and c_major is None:
        missing.append("log2 or copy number (cn)")
    if missing:
        raise InputError(f"{path}:1: missing column(s) {', '.join(missing)}; header has "
                         f"{', '.join(header)}")
    idx = {h: i for i, h in enumerate(header)}
    segs: list[Segment] = []
    for lineno, row in enumerate(rows, start=2):
        if len(row) < len(header):
            raise InputError(f"{path}:{lineno}: {len(row)} columns, header has {len(header)}")


        def num(col: str | None, kind: type = float, row: list[str] = row, lineno: int = lineno):
            return _number(path, lineno, row, idx, col, kind)

        start, end = num(c_start, int), num(c_end, int)
        if start is None or end is None:
            raise InputError(f"{path}:{lineno}: start/end missing")
        if end < start:
            # CNVkit writes such inverted zero-probe segments in real output (see its amplicon.cns
            # example): they carry no coverage, so they are skipped with a warning, not fatal.
            log.warning("%s:%d: end %d before start %d: segment skipped", path, lineno, end, start)
            continue
        log2 = num(c_log2)
        if c_cn:
            cn = num(c_cn)
        elif c_major:
            a, b = num("nMajor"), num("nMinor")
            cn = a + b if a is not None and b is not None else None
        else:
            cn = 2.0 * 2.0 ** log2 if log2 is not None else None
        if cn is not None and cn < 0:
            raise InputError(f"{path}:{lineno}: negative copy number {cn:g}")
        segs.append(Segment(row[idx[c_chrom]].strip(), start, end, cn, log2, lineno,
                            tumour_cn=c_cn in TUMOUR_CN_COLS))
    _check_order(path, segs)
    return segs


def _number(path: str, lineno: int, row: list[str], idx: dict[str, int], col: str | None,
            kind: type = float) -> float | int | None:
    """One numeric cell; '', NA, nan and '.' are missing (None), anything else non-numeric is an error."""
    if col is None:
        return None
    raw = row[idx[col]].strip()
    if raw in ("", "NA", "nan", "NaN", "."):
        return None
    try:
        val = kind(raw)
    except ValueError:
        raise InputError(f"{path}:{lineno}: column {col!r}: expected a number, got {raw!r}") from None
    if kind is float and math.isinf(val):
        raise InputError(f"{path}:{lineno}: column {col!r}: infinite value {raw!r}")
    return val


def _check_order(path: str, segs: list[Segment]) -> None:
    """Overlapping segments make gene copy number ambiguous: refuse them, naming both lines."""
    by_chrom: dict[str, list[Segment]] = {}
    for s in segs:
        by_chrom.setdefault(norm_chrom(s.chrom), []).append(s)
    for chrom_segs in by_chrom.values():
        ordered = sorted(chrom_segs, key=lambda s: (s.start, s.end))
        for a, b in zip(ordered, ordered[1:]):
            if b.start < a.end:
                raise InputError(f"{path}:{b.line}: segment {b.chrom}:{b.start}-{b.end} overlaps "
                                 f"line {a.line} ({a.chrom}:{a.start}-{a.end}); segments must not "
                                 "overlap")


def gene_copy_numbers(path: str, segs: list[Segment], genes: list[Gene], build: str,
                      tumor_fraction: float | None, ploidy: float = 2.0) -> dict[str, GeneCopyNumber]:
    """Gene-level copy number for each gene overlapped by at least one segment.

    tumor_fraction (0-1, plasma ctDNA fraction or tissue purity) corrects dilution by normal DNA:
    adjusted = ploidy + (observed - ploidy) / tumor_fraction.
    """
    lengths = chrom_lengths()[build]
    known = set(lengths) | {"MT"}
    for s in segs:
        if norm_chrom(s.chrom) not in known and not any(x in s.chrom for x in ("_", "EBV", "hs37d5")):
            raise InputError(f"{path}:{s.line}: unknown contig {s.chrom!r} for {build}; expected "
                             "1-22, X, Y (with or without 'chr')")
    out: dict[str, GeneCopyNumber] = {}
    for g in genes:
        chrom_segs = sorted((s for s in segs if norm_chrom(s.chrom) == g.chrom), key=lambda s: s.start)
        over = [s for s in chrom_segs if s.start <= g.end and s.end >= g.start and s.cn is not None]
        if not over:
            continue
        weights = [min(s.end, g.end) - max(s.start, g.start) + 1 for s in over]
        cn = sum(w * s.cn for w, s in zip(weights, over)) / sum(weights)
        l2 = [s.log2 for s in over if s.log2 is not None]
        gcn = GeneCopyNumber(g.name, g.chrom, round(cn, 3),
                             round(sum(l2) / len(l2), 4) if l2 else None, segments=len(over))
        if over[0].tumour_cn:  # PURPLE/ichorCNA: already the tumour's copy number
            gcn.adjusted_cn = gcn.copy_number
        elif tumor_fraction:
            gcn.adjusted_cn = round(max(0.0, ploidy + (cn - ploidy) / tumor_fraction), 3)
        # contiguous run of segments around the gene whose CN is at least the gene's lowest segment CN
        level = min(s.cn for s in over)
        i0 = chrom_segs.index(over[0])
        i1 = chrom_segs.index(over[-1])
        while i0 > 0 and (chrom_segs[i0 - 1].cn or 0) >= level:
            i0 -= 1
        while i1 < len(chrom_segs) - 1 and (chrom_segs[i1 + 1].cn or 0) >= level:
            i1 += 1
        span = chrom_segs[i1].end - chrom_segs[i0].start + 1
        gcn.amplified_span = span
        gcn.amplified_span_fraction = round(span / lengths[g.chrom], 4) if g.chrom in lengths else None
        out[g.name] = gcn
    return out
