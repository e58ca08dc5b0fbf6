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
