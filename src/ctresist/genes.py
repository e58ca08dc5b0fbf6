"""Gene coordinates, chromosome lengths and genome-build detection (shipped in ``annotations/``)."""
from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ctresist.errors import InputError

BUILDS = ("GRCh37", "GRCh38")


def annotations_dir() -> Path:
    """The knowledge folder (catalogue, drugs, genes, known alleles, chromosome lengths).

    In this order: ``$CTRESIST_ANNOTATIONS`` (set by ``ctresist --annotations`` and the workflow's
    ``annotations`` setting: an explicit choice wins); ``ctresist/annotations`` shipped as package
    data (an installed, non-editable package); ``annotations/`` next to ``src/`` in a checkout.
    Independent of the working directory, so the workflow can run from any folder."""
    import os

    env = os.environ.get("CTRESIST_ANNOTATIONS")
    if env:
        return Path(env)
    here = Path(__file__).resolve().parent
    packaged = here / "annotations"
    if (packaged / "genes.tsv").is_file():
        return packaged
    return here.parents[1] / "annotations"


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


#: Assembly names in header lines, each with the build it means. Matched case-insensitively as
#: whole tokens (not inside longer words or numbers). GCA_000001405.1-.14 are GRCh37 (.1) and its
#: patches, .15 onwards GRCh38 (GRCh38 no-alt analysis set: GCA_000001405.15); RefSeq
#: GCF_000001405.13-.25 are GRCh37, .26 onwards GRCh38 (annotations/chromosomes.tsv names .13/.26).
ASSEMBLY_NAMES: tuple[tuple[str, str], ...] = (
    (r"hg19|grch37(?:lite)?|b37|hs37d5|hs37|human_g1k_v37|homo_sapiens_assembly19|ncbi37|hg37", "GRCh37"),
    (r"hg38|grch38|b38|hs38dh|hs38|homo_sapiens_assembly38", "GRCh38"),
)
#: Header keys whose values name a reference or assembly (VEP writes ``assembly="GRCh38.p13"``,
#: SnpEff its database such as ``GRCh37.75``, GATK/bcftools their command line with the FASTA).
_BUILD_KEYS = re.compile(r"^##(reference|assembly|source|genome\w*|build|vep|snpeff\w*|"
                         r"\w*commandline\w*|\w*command|new_reference_genome|liftover\w*)=(.*)$",
                         re.I | re.M)
#: UCSC/Ensembl chain files are named <from>To<to>.over.chain: only the target build counts
_CHAIN = re.compile(r"(hg\d\d|grch3\d)to(hg\d\d|grch3\d)", re.I)
_TOKEN = re.compile(r"(?<![a-z0-9])(" + "|".join(p for p, _ in ASSEMBLY_NAMES) + r")(?![0-9a-z])"
                    r"|(?<![a-z0-9])gc[af]_000001405\.(\d+)", re.I)


def _build_of_token(token: str, accession: str | None) -> str | None:
    if accession is not None:
        n = int(accession)
        if token.lower().startswith("gca"):
            return "GRCh37" if n <= 14 else "GRCh38"
        return "GRCh37" if 13 <= n <= 25 else "GRCh38" if n >= 26 else None
    for pattern, build in ASSEMBLY_NAMES:
        if re.fullmatch(pattern, token, re.I):
            return build
    return None


def header_builds(raw_header: str) -> list[tuple[str, str]]:
    """(build, evidence) for each header line naming an assembly, e.g. ``("GRCh37", "##reference
    names 'hg19'")``. A lifted-over VCF is judged by its liftover lines only (its other lines may
    still name the source build); a line naming both builds says nothing."""
    found: list[tuple[str, str, bool]] = []
    for m in _BUILD_KEYS.finditer(raw_header):
        key, value = m.group(1), m.group(2)
        lifted = key.lower().startswith(("liftover", "new_reference"))
        names: dict[str, str] = {}
        chain = _CHAIN.search(value)
        if chain:  # only the chain's target build counts
            target = _build_of_token(chain.group(2), None)
            if target:
                names[target] = f"header ##{key} is a chain to {chain.group(2)} ({chain.group(0)})"
            value = value.replace(chain.group(0), " ")
        for t in _TOKEN.finditer(value):
            b = _build_of_token(t.group(0), t.group(2))
            if b:
                names.setdefault(b, f"header ##{key} names {t.group(0)!r}")
        if len(names) == 1:
            [(b, text)] = names.items()
            found.append((b, text, lifted))
    for m in re.finditer(r"^##contig=<(.+)>$", raw_header, flags=re.M):
        a = re.search(r"(?:^|,)assembly=\"?([^,>\"]+)", m.group(1))
        t = _TOKEN.fullmatch(a.group(1).strip()) if a else None
        b = _build_of_token(t.group(0), t.group(2)) if t else None
        if b:
            found.append((b, f"header ##contig assembly={a.group(1).strip()!r}", False))
    if any(lifted for *_, lifted in found):
        found = [f for f in found if f[2]]
    return list(dict.fromkeys((b, text) for b, text, _ in found))


def verify_build(path: str, declared: str, raw_header: str, contigs: dict[str, int],
                 records: Iterable[tuple[str, str, int, str, str]],
                 max_pos: dict[str, int] | None = None) -> dict:
    """Check the sheet's genome build against every signal in the VCF.

    Parameters
    ----------
    raw_header : the VCF header text (assembly names, see :func:`header_builds`)
    contigs : ``##contig`` lengths from the header
    records : (label, chrom, pos, ref, alt) of the records read, ``label`` naming the record
        for messages (``record``, ``record 12``); pos is 1-based. Records at the catalogue's known sites of
        either build (``annotations/known_alleles.tsv``) are compared base by base.
    max_pos : the largest POS per CHROM over the whole file, when the reader saw it

    Returns ``{"declared", "status": "verified"|"not_verified", "reason", "evidence"}``.
    Raises InputError naming the evidence when the VCF shows the other build: header contig
    lengths or assembly names, a position beyond the declared build's chromosome, a REF that
    differs from the declared build's base at a catalogue site, or (without header evidence for
    the declared build) an exact catalogue allele of the other build only."""
    from ctresist.knownsites import lookup, ref_agrees

    other = next(b for b in BUILDS if b != declared)
    support: list[str] = []
    against: list[str] = []
    found = detect_build(contigs)
    if found:
        (support if found == declared else against).append(f"header contig lengths are {found}")
    for b, text in header_builds(raw_header):
        (support if b == declared else against).append(f"{text} ({b})")
    lengths = chrom_lengths()
    ends = {norm_chrom(c): p for c, p in (max_pos or {}).items()}
    exact: dict[str, list[str]] = {b: [] for b in BUILDS}
    agree: dict[str, list[str]] = {b: [] for b in BUILDS}
    for label, chrom, pos, ref, alt in records:
        c = norm_chrom(chrom)
        if pos > ends.get(c, 0):
            ends[c] = pos
        for b in BUILDS:
            ok = ref_agrees(b, chrom, pos, ref)
            where = f"{label} {chrom}:{pos} {ref}>{alt}"
            if ok is False and b == declared:
                against.append(f"{where} has a REF that differs from the {b} reference base at "
                               "this catalogue site")
            elif ok:
                agree[b].append(where)
                hit = lookup(b, chrom, pos, ref, alt)
                if hit:
                    exact[b].append(f"{where} is the {b} {hit[0]} {hit[1]} allele")
    for c, end in ends.items():
        n, m = lengths[declared].get(c), lengths[other].get(c)
        if n and end > n:
            within = f" (within {other}'s {m:,})" if m and end <= m else ""
            against.append(f"chromosome {c} position {end:,} is beyond its {declared} length "
                           f"{n:,}{within}")
    if exact[other] and not agree[declared] and not support:
        against.append(exact[other][0] + f", and no record matches a {declared} catalogue site")
    if against:
        raise InputError(f"{path}: {against[0]}, but the sample sheet says genome_build "
                         f"{declared}; fix genome_build or use the {declared} VCF"
                         + (f" (also: {'; '.join(against[1:3])})" if len(against) > 1 else ""))
    conflict = bool(agree[declared] and exact[other]) and not support
    if agree[declared] and not conflict:
        support.append(f"{len(agree[declared])} record(s) match {declared} reference bases at "
                       f"catalogue sites, e.g. {(exact[declared] or agree[declared])[0]}")
    if support:
        return {"declared": declared, "status": "verified", "reason": support[0], "evidence": support}
    notes = [f"{len(agree[b])} record(s) match {b} reference bases at catalogue sites, "
             f"e.g. {(exact[b] or agree[b])[0]}" for b in (declared, other) if agree[b]]
    missing = ["no ##contig lengths" if not contigs else "its ##contig lengths match neither build",
               "no assembly name in its header",
               f"records at catalogue sites match both {declared} and {other}" if conflict else
               "no record at a catalogue site" if not notes else
               f"records at catalogue sites match {other}, not {declared}"]
    reason = f"the VCF has {', '.join(missing[:-1])} and {missing[-1]}"
    return {"declared": declared, "status": "not_verified", "reason": reason, "evidence": notes}
