"""Gene coordinates, chromosome lengths and genome-build detection (shipped in ``annotations/``)."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ctresist.errors import InputError

BUILDS = ("GRCh37", "GRCh38")


def annotations_dir() -> Path:
    """The ``annotations/`` folder: next to ``src/`` in a checkout, or ``$CTRESIST_ANNOTATIONS``."""
    import os

    env = os.environ.get("CTRESIST_ANNOTATIONS")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "annotations"


@dataclass(frozen=True)
class Gene:
    """A gene's transcript span; 1-based closed coordinates, chromosome without ``chr``."""

    name: str
    build: str
    chrom: str
    start: int
    end: int
    strand: str
    mane_enst: str
    msk_enst: str

    def overlaps(self, chrom: str, start: int, end: int) -> bool:
        return norm_chrom(chrom) == self.chrom and start <= self.end and end >= self.start


def norm_chrom(chrom: str) -> str:
    """``chr7`` and ``7`` alike; ``chrM``/``MT`` to ``MT``."""
    c = chrom[3:] if chrom.lower().startswith("chr") else chrom
    return "MT" if c in ("M", "m") else c


@cache
def load_genes(path: str | None = None) -> dict[tuple[str, str], Gene]:
    """All genes keyed by (build, name) from ``annotations/genes.tsv``."""
    p = Path(path) if path else annotations_dir() / "genes.tsv"
    genes: dict[tuple[str, str], Gene] = {}
    with open(p, encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            g = Gene(row["gene"], row["build"], row["chrom"], int(row["start"]), int(row["end"]),
                     row["strand"], row["mane_select_enst"], row["msk_grch37_enst"])
            genes[(g.build, g.name)] = g
    return genes


def genes_for_build(build: str) -> list[Gene]:
    """Genes of one build, sorted by chromosome then start."""
    gs = [g for (b, _), g in load_genes().items() if b == build]
    return sorted(gs, key=lambda g: (chrom_order(g.chrom), g.start))


def chrom_order(chrom: str) -> tuple[int, str]:
    c = norm_chrom(chrom)
    return (int(c), "") if c.isdigit() else (100, c)


@cache
def chrom_lengths() -> dict[str, dict[str, int]]:
    """{build: {chrom: length}} from ``annotations/chromosomes.tsv``."""
    out: dict[str, dict[str, int]] = {b: {} for b in BUILDS}
    with open(annotations_dir() / "chromosomes.tsv", encoding="utf-8") as fh:
        rows = csv.DictReader((line for line in fh if not line.startswith("#")), delimiter="\t")
        for row in rows:
            for b in BUILDS:
                out[b][row["chrom"]] = int(row[b])
    return out


def detect_build(contigs: dict[str, int]) -> str | None:
    """Build whose chromosome lengths match the header's ``##contig`` lengths; None if undecidable."""
    lengths = chrom_lengths()
    votes = {b: 0 for b in BUILDS}
    for name, length in contigs.items():
        c = norm_chrom(name)
        for b in BUILDS:
            if lengths[b].get(c) == length:
                votes[b] += 1
    hits = [b for b, n in votes.items() if n > 0]
    if len(hits) == 1:
        return hits[0]
    if len(hits) == 2:  # some chromosomes share a length across builds; take the clear majority
        return max(hits, key=lambda b: votes[b]) if votes["GRCh37"] != votes["GRCh38"] else None
    return None


def check_build(path: str, contigs: dict[str, int], declared: str) -> str | None:
    """Raise when the header's contig lengths show another build than the sample sheet declares."""
    found = detect_build(contigs)
    if found and found != declared:
        raise InputError(
            f"{path}: header contig lengths are {found}, but the sample sheet says genome_build "
            f"{declared}; fix genome_build or use the {declared} VCF"
        )
    return found
