"""Depth at catalogue sites without reads: from a genome VCF (gVCF) or a per-site depth file.

Formats (``fmt=None`` detects them from the name, then the content):

* ``gvcf``: GATK/DRAGEN (``<NON_REF>``), bcftools/DeepVariant (``<*>``), Strelka/Pisces (ALT
  ``.``) reference blocks spanning ``POS..INFO/END``. Depth is the block minimum, FORMAT
  ``MIN_DP`` (GATK/DRAGEN/Strelka) or INFO ``MinDP`` (bcftools), else FORMAT ``DP``, else INFO
  ``DP``. A no-call block (``./.``) has depth 0. A variant record over the site gives
  its ``DP`` and, when it carries the site's allele, the allele's ``AD``. Read with
  :func:`ctresist.io.vcf.open_vcf` (tumour column chosen as for the main VCF).
* ``mosdepth``: ``*.per-base.bed.gz`` (chrom, 0-based start, end, depth) and ``*.regions.bed.gz``
  (chrom, start, end, [name,] mean depth: the region's *mean*, said so in the note); read through
  the ``.csi``/``.tbi`` index when there is one, else streamed.
* ``samtools_depth``: ``chrom, 1-based pos, depth[, depth ...]`` (``column`` picks the sample).
  Without ``-a`` samtools omits zero-depth positions, so a missing position is "not in the file"
  (not assessable), never depth 0.

A site spanning several bases (MNV, deletion) takes the minimum depth over its bases.
"""
from __future__ import annotations

import gzip
import os
from collections.abc import Iterable
from dataclasses import dataclass

import pysam

from ctresist.errors import InputError
from ctresist.genes import norm_chrom
from ctresist.hotspots import Site

FORMATS = ("gvcf", "mosdepth", "samtools_depth")
_REF_ALTS = {"<NON_REF>", "<*>", ".", "*"}


@dataclass
class Coverage:
    """Depth at one site. ``depth`` None: the file says nothing about it (``note`` says why)."""

    depth: int | None
    source: str
    note: str
    alt_reads: int | None = None  # only when a gVCF variant record carries the site's allele


def detect_format(path: str) -> str:
    name = os.path.basename(path).lower()
    if any(name.endswith(x) for x in (".vcf", ".vcf.gz", ".bcf", ".g.vcf", ".gvcf", ".gvcf.gz")):
        return "gvcf"
    if ".per-base.bed" in name or ".regions.bed" in name:
        return "mosdepth"
    for lineno, fields in _lines(path):
        if fields[0].startswith("##fileformat=VCF"):
            return "gvcf"
        if len(fields) >= 4 and _int(fields[1]) is not None and _int(fields[2]) is not None \
                and _int(fields[2]) > _int(fields[1]):
            return "mosdepth"
        if len(fields) >= 3 and _int(fields[1]) is not None:
            return "samtools_depth"
        raise InputError(f"{path}:{lineno}: not a gVCF, mosdepth BED or samtools depth line; "
                         "give a genome VCF, a mosdepth *.per-base.bed.gz/*.regions.bed.gz or "
                         "`samtools depth -a` output")
    raise InputError(f"{path}: empty depth file; give a gVCF, mosdepth or samtools depth output")


def site_coverage(path: str, sites: Iterable[Site], fmt: str | None = None,
                  sample: str | None = None, column: int = 0) -> dict[tuple, Coverage]:
    """``{site.key: Coverage}`` for every site, from ``path`` (see the module doc)."""
    if not os.path.exists(path):
        raise InputError(f"{path}: coverage file not found")
    sites = list(sites)
    fmt = fmt or detect_format(path)
    if fmt == "gvcf":
        per_pos = _gvcf(path, sites, sample)
        source = "gVCF"
    elif fmt == "mosdepth":
        per_pos = _mosdepth(path, sites)
        source = "mosdepth"
    elif fmt == "samtools_depth":
        per_pos = _samtools_depth(path, sites, column)
        source = "samtools depth"
    else:
        raise InputError(f"coverage format {fmt!r}: expected one of {', '.join(FORMATS)}")
    out = {}
    for s in sites:
        got = [per_pos.get((s.chrom, p)) for p in range(s.pos, s.pos + len(s.ref))]
        if any(g is None for g in got):
            missing = s.pos + next(i for i, g in enumerate(got) if g is None)
            why = (f"{s.chrom}:{missing} is not in the {source} file"
                   + (" (samtools depth omits zero-depth positions unless run with -a)"
                      if fmt == "samtools_depth" else ""))
            out[s.key] = Coverage(None, source, why)
            continue
        low = min(got, key=lambda g: g[0])
        alt = None
        for _depth, _note, alleles in got:
            if alleles and (s.ref, s.alt) in alleles:
                alt = alleles[(s.ref, s.alt)]
        out[s.key] = Coverage(low[0], source, low[1], alt)
    return out


def _int(x: str) -> int | None:
    try:
        return int(x)
    except ValueError:
        return None


def _lines(path: str):
    opener = gzip.open if _is_gzip(path) else open
    try:
        with opener(path, "rt", encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, 1):
                if not line.strip() or (line.startswith("#") and not line.startswith("##file")):
                    continue
                yield lineno, line.rstrip("\n").split("\t")
    except (OSError, EOFError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: cannot read ({e}); give a plain or (b)gzipped text file") from e


def _is_gzip(path: str) -> bool:
    with open(path, "rb") as fh:
        return fh.read(2) == b"\x1f\x8b"


def _wanted(sites: list[Site]) -> dict[str, set[int]]:
    want: dict[str, set[int]] = {}
    for s in sites:
        want.setdefault(s.chrom, set()).update(range(s.pos, s.pos + len(s.ref)))
    return want


def _fmt_value(rec, tag: str, si: int) -> int | None:
    try:
        arr = rec.format(tag)
    except KeyError:
        return None
    if arr is None:
        return None
    v = arr[si][0]
    return int(v) if v is not None and v >= 0 else None


def _gvcf(path: str, sites: list[Site], sample: str | None) -> dict:
    from ctresist.io.vcf import open_vcf

    vcf, info = open_vcf(path, tumor=sample)
    si = info.samples.index(info.tumor) if info.tumor else 0
    want = _wanted(sites)
    out: dict[tuple[str, int], tuple[int, str, dict]] = {}
    try:
        if info.indexed:
            names = set(vcf.seqnames or [])
            records = []
            for chrom, positions in want.items():
                name = next((n for n in (chrom, "chr" + chrom) if n in names), None)
                if name is not None:
                    records.append(vcf(f"{name}:{min(positions)}-{max(positions)}"))
            stream = (r for it in records for r in it)
        else:
            stream = iter(vcf)
        for rec in stream:
            chrom = norm_chrom(rec.CHROM)
            if chrom not in want:
                continue
            end = rec.INFO.get("END")
            end = int(end) if end is not None else rec.POS + len(rec.REF) - 1
            hits = [p for p in want[chrom] if rec.POS <= p <= end]
            if not hits:
                continue
            alts = [a for a in rec.ALT if a not in _REF_ALTS]
            depth = _fmt_value(rec, "MIN_DP", si) if not alts else None
            if depth is None and not alts and rec.INFO.get("MinDP") is not None:
                depth = int(rec.INFO.get("MinDP"))  # bcftools call -g
            if depth is None:
                depth = _fmt_value(rec, "DP", si)
            if depth is None and rec.INFO.get("DP") is not None:
                depth = int(rec.INFO.get("DP"))
            if depth is None:
                raise InputError(f"{path}: record {rec.CHROM}:{rec.POS}: no MIN_DP or DP; the "
                                 "depth of this block is unknown (write the gVCF with DP)")
            if alts:
                note = f"gVCF variant record {rec.CHROM}:{rec.POS} DP {depth:,}"
                alleles = {}
                try:
                    ad = rec.format("AD")[si]
                    for i, a in enumerate(alts, 1):
                        alleles[(rec.REF, a)] = int(ad[i]) if ad[i] >= 0 else None
                except (KeyError, TypeError, IndexError):
                    alleles = {(rec.REF, a): None for a in alts}
            else:
                gt = rec.genotypes[si] if rec.genotypes else None
                if gt is not None and all(a < 0 for a in gt[:-1]):
                    depth = 0  # no-call block: the caller could not assess it
                note = (f"gVCF reference block {rec.CHROM}:{rec.POS}-{end}, minimum depth "
                        f"{depth:,}" if end > rec.POS else
                        f"gVCF reference call {rec.CHROM}:{rec.POS}, depth {depth:,}")
                alleles = {}
            for p in hits:
                old = out.get((chrom, p))
                if old is None or depth < old[0]:
                    out[(chrom, p)] = (depth, note, alleles)
    finally:
        vcf.close()
    return out


def _mosdepth(path: str, sites: list[Site]) -> dict:
    want = _wanted(sites)
    regions = ".regions.bed" in os.path.basename(path).lower()
    out: dict[tuple[str, int], tuple[int, str, dict]] = {}

    def take(chrom: str, start: int, end: int, value: str, where: str) -> None:
        c = norm_chrom(chrom)
        if c not in want:
            return
        try:
            depth = float(value)
        except ValueError:
            raise InputError(f"{path}:{where}: depth {value!r} is not a number; give mosdepth "
                             "per-base or regions output") from None
        kind = f"mosdepth mean depth of region {chrom}:{start + 1}-{end}" if regions else \
            "mosdepth per-base"
        for p in want[c]:
            if start < p <= end:
                out[(c, p)] = (int(depth), f"{kind} {depth:,.0f}", {})

    index = next((path + x for x in (".csi", ".tbi") if os.path.exists(path + x)), None)
    if index:
        with pysam.TabixFile(path, index=index) as tbx:
            for chrom, positions in want.items():
                name = next((n for n in (chrom, "chr" + chrom) if n in tbx.contigs), None)
                if name is None:
                    continue
                for line in tbx.fetch(name, min(positions) - 1, max(positions)):
                    f = line.split("\t")
                    take(f[0], int(f[1]), int(f[2]), f[-1], f"{f[0]}:{int(f[1]) + 1}")
        return out
    for lineno, f in _lines(path):
        if len(f) < 4 or _int(f[1]) is None or _int(f[2]) is None:
            raise InputError(f"{path}:{lineno}: expected chrom, start, end, depth (mosdepth BED); "
                             "give *.per-base.bed.gz or *.regions.bed.gz")
        take(f[0], int(f[1]), int(f[2]), f[-1], str(lineno))
    return out


def _samtools_depth(path: str, sites: list[Site], column: int) -> dict:
    want = _wanted(sites)
    out: dict[tuple[str, int], tuple[int, str, dict]] = {}
    for lineno, f in _lines(path):
        if len(f) < 3 + column or _int(f[1]) is None or _int(f[2 + column]) is None:
            raise InputError(f"{path}:{lineno}: expected chrom, pos, depth (samtools depth); "
                             "run `samtools depth -a -b sites.bed x.bam`")
        c = norm_chrom(f[0])
        p = int(f[1])
        if c in want and p in want[c]:
            out[(c, p)] = (int(f[2 + column]), f"samtools depth {int(f[2 + column]):,}", {})
    return out
