"""Known-site matching for unannotated VCFs: exact genomic alleles of catalogue protein changes
(``annotations/known_alleles.tsv``), per build. Anything else stays "not interpretable"."""
from __future__ import annotations

import csv
from functools import lru_cache

from ctresist import protein
from ctresist.genes import annotations_dir, norm_chrom


@lru_cache(maxsize=4)
def load_known_alleles(build: str) -> dict[tuple[str, int, str, str], tuple[str, str, str]]:
    """{(chrom, pos, ref, alt): (gene, one-letter protein change, hgvsc)} for one build."""
    out: dict[tuple[str, int, str, str], tuple[str, str, str]] = {}
    with open(annotations_dir() / "known_alleles.tsv", encoding="utf-8") as fh:
        rows = csv.DictReader((ln for ln in fh if not ln.startswith("#")), delimiter="\t")
        for r in rows:
            if r["build"] != build:
                continue
            out[(r["chrom"], int(r["pos"]), r["ref"], r["alt"])] = (
                r["gene"], protein.to_one_letter(r["protein"]), f"{r['transcript']}:{r['hgvsc']}")
    return out


def lookup(build: str, chrom: str, pos: int, ref: str, alt: str) -> tuple[str, str, str] | None:
    return load_known_alleles(build).get((norm_chrom(chrom), pos, ref.upper(), alt.upper()))


@lru_cache(maxsize=4)
def reference_bases(build: str) -> dict[tuple[str, int], str]:
    """{(chrom, pos): base} of the reference genome at the catalogue's known sites of one build,
    from the REF of every verified row of ``known_alleles.tsv`` (multi-base REFs give each base)."""
    out: dict[tuple[str, int], str] = {}
    with open(annotations_dir() / "known_alleles.tsv", encoding="utf-8") as fh:
        rows = csv.DictReader((ln for ln in fh if not ln.startswith("#")), delimiter="\t")
        for r in rows:
            if r["build"] != build or r.get("verified", "yes") != "yes":
                continue
            for i, base in enumerate(r["ref"].upper()):
                out[(r["chrom"], int(r["pos"]) + i)] = base
    return out


def ref_agrees(build: str, chrom: str, pos: int, ref: str) -> bool | None:
    """Does a VCF REF starting at ``pos`` (1-based) agree with the build's reference bases at the
    catalogue sites it covers? None when it covers none (or REF is not plain bases)."""
    ref = ref.upper()
    if not ref or set(ref) - set("ACGT"):
        return None
    bases = reference_bases(build)
    c = norm_chrom(chrom)
    seen = [(bases[(c, pos + i)], b) for i, b in enumerate(ref) if (c, pos + i) in bases]
    if not seen:
        return None
    return all(known == b for known, b in seen)
