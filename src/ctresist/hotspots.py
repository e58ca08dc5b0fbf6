"""Catalogue hotspot sites: the exact genomic alleles (``annotations/known_alleles.tsv``, both
builds) of every catalogue alteration relevant to a driver context, for read-level genotyping
(:mod:`ctresist.genotype`) and for force-calling upstream (``export_hotspots``: a BED or VCF that
SAGE hotspots, VarDict ``-R`` or Mutect2 ``--alleles`` can read).

A catalogue entry contributes sites when it is a protein change (``T790M``), a residue wildcard
(``G810X``: every known allele at that residue), a compound (each component) or
``activating_mutation`` (the gene's listed activating specs, e.g. KRAS G12X). In an
``EGFR mutation`` context the driver's own activating alleles (L858R, exon 19 deletions) are
added with role ``driver`` (also when another source, e.g. CIViC, lists them as resistance):
seeing them in plasma shows that the tumour sheds DNA.
Amplifications, losses and fusions have no allele; protein changes without a known allele
(insertions, most indels) are listed by :func:`missing_alleles` so a report can say so.
"""
from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pysam

from ctresist import protein
from ctresist.atomic import atomic_write
from ctresist.catalogue import Catalogue, Entry, is_activating, load_catalogue
from ctresist.errors import InputError
from ctresist.genes import BUILDS, annotations_dir
from ctresist.knownsites import load_known_alleles


@dataclass(frozen=True)
class Site:
    """One known allele: 1-based ``pos``, VCF-style ``ref``/``alt``, chrom without ``chr``."""

    gene: str
    alteration: str  # one-letter protein change, e.g. T790M
    chrom: str
    pos: int
    ref: str
    alt: str
    hgvsc: str  # ENST...:c.2369C>T
    role: str = "resistance"  # resistance | driver
    entries: tuple[str, ...] = ()  # catalogue entry ids this site serves

    @property
    def key(self) -> tuple[str, int, str, str]:
        return (self.chrom, self.pos, self.ref, self.alt)

    @property
    def label(self) -> str:
        return f"{self.gene} {self.alteration} {self.chrom}:{self.pos}{self.ref}>{self.alt}"


def _specs(entry: Entry, cat: Catalogue) -> list[str]:
    if entry.alteration == "activating_mutation":
        return list(cat.activating.get(entry.gene, []))
    # protein changes only: amplification, loss, fusion ... have no allele
    return [p for p in entry.alteration.split("+") if protein.parse(p) is not None]


@lru_cache(maxsize=65536)  # pure: every known allele meets every spec of its gene once per driver
def _matches(change: str, spec: str, gene: str) -> bool:
    obs = protein.parse(change)
    if obs is None:
        return False
    if re.fullmatch(r"(del|ins):\d+-\d+", spec):
        return is_activating(gene, obs, {gene: [spec]})
    want = protein.parse(spec)
    return want is not None and protein.matches(obs, want)


def _check(build: str, driver: str | None, cat: Catalogue) -> None:
    if build not in BUILDS:
        raise InputError(f"genome build {build!r}: expected one of {', '.join(BUILDS)}")
    if driver is not None and driver not in cat.drivers:
        raise InputError(f"driver {driver!r} is not a catalogue driver context "
                         f"({', '.join(cat.drivers)})")


def sites_for(build: str, driver: str | None = None, drugs: list[str] | None = None,
              catalogue: Catalogue | None = None) -> list[Site]:
    """Known alleles of the catalogue entries of ``driver`` (a catalogue driver context such as
    ``EGFR mutation`` or ``ALK fusion``, as returned by ``drivers.parse_driver``; None = every
    driver), optionally only entries resisting one of ``drugs``; sorted by chrom, pos."""
    cat = catalogue or load_catalogue()
    _check(build, driver, cat)
    alleles = load_known_alleles(build)
    by_gene: dict[str, list[tuple[tuple[str, int, str, str], str, str]]] = {}
    for key, (gene, change, hgvsc) in alleles.items():
        by_gene.setdefault(gene, []).append((key, change, hgvsc))
    chosen: dict[tuple[str, int, str, str], Site] = {}

    def add(gene: str, spec: str, role: str, entry_id: str) -> None:
        for key, change, hgvsc in by_gene.get(gene, []):
            if not _matches(change, spec, gene):
                continue
            old = chosen.get(key)
            if old is None:
                chosen[key] = Site(gene, change, *key, hgvsc, role, (entry_id,) if entry_id else ())
            else:  # the driver role wins: the patient's own driver is not a resistance call
                role = "driver" if "driver" in (role, old.role) else old.role
                entries = old.entries + ((entry_id,) if entry_id and entry_id not in old.entries
                                         else ())
                chosen[key] = Site(old.gene, old.alteration, *key, old.hgvsc, role, entries)

    for e in cat.entries:
        if driver is not None and e.driver != driver:
            continue
        if drugs and not set(drugs) & set(e.resists):
            continue
        for spec in _specs(e, cat):
            add(e.gene, spec, "resistance", e.id)
    if driver is not None and driver.endswith(" mutation"):
        gene = driver.split()[0]
        for spec in cat.activating.get(gene, []):
            add(gene, spec, "driver", "")
    order = {c: i for i, c in enumerate(_lengths(build))}  # the ##contig / sequence-dict order
    return sorted(chosen.values(), key=lambda s: (order.get(s.chrom, len(order)), s.pos, s.ref,
                                                  s.alt))


def missing_alleles(build: str, driver: str | None = None,
                    catalogue: Catalogue | None = None) -> list[str]:
    """Catalogue mutations of ``driver`` with no known allele in ``build``: they cannot be
    genotyped or exported (e.g. ``ALK T1151dup``, ``RET G810S``)."""
    cat = catalogue or load_catalogue()
    _check(build, driver, cat)
    have = {(s.gene, s.alteration) for s in sites_for(build, driver, catalogue=cat)}
    alleles = load_known_alleles(build).values()
    out = []
    for e in cat.entries:
        if (driver is not None and e.driver != driver) or e.alteration == "activating_mutation":
            continue
        for spec in _specs(e, cat):
            if not any(g == e.gene and _matches(c, spec, g) for g, c, _ in alleles) and \
                    (e.gene, spec) not in have and f"{e.gene} {spec}" not in out:
                out.append(f"{e.gene} {spec}")
    return out


def _lengths(build: str) -> dict[str, int]:
    out = {}
    with open(annotations_dir() / "chromosomes.tsv", encoding="utf-8") as fh:
        rows = [ln.rstrip("\n").split("\t") for ln in fh if not ln.startswith("#")]
    head = rows[0]
    col = head.index(build)
    for r in rows[1:]:
        out[r[0]] = int(r[col])
    return out


def export_hotspots(build: str, driver: str | None, fmt: str, out: str | Path,
                    chr_prefix: bool | None = None, catalogue: Catalogue | None = None) -> int:
    """Write the sites of ``driver`` in ``build`` to ``out`` as ``bed`` (0-based half-open, name =
    ``GENE:ALTERATION:hgvsc``) or ``vcf`` (VCFv4.2 with ##contig lengths; ``out`` ending ``.gz``
    is bgzipped and tabix-indexed, as Mutect2 ``--alleles`` needs). Contigs are named ``chr7``
    for GRCh38 and ``7`` for GRCh37 unless ``chr_prefix`` says otherwise. Returns the number of
    sites written; nothing is written on error."""
    if fmt not in ("bed", "vcf"):
        raise InputError(f"export format {fmt!r}: expected bed or vcf")
    sites = sites_for(build, driver, catalogue=catalogue)
    pre = "chr" if (build == "GRCh38" if chr_prefix is None else chr_prefix) else ""
    out = Path(out)
    gz = out.name.endswith(".gz")
    if gz and fmt == "bed":
        raise InputError(f"{out}: write the BED uncompressed (drop .gz)")
    lines: list[str] = []
    if fmt == "bed":
        lines.append(f"track name=ctresist_hotspots description=\"ctresist catalogue sites, "
                     f"{driver or 'all drivers'}, {build}\"")
        for s in sites:
            lines.append(f"{pre}{s.chrom}\t{s.pos - 1}\t{s.pos - 1 + len(s.ref)}\t"
                         f"{s.gene}:{s.alteration}:{s.hgvsc.split(':')[-1]}:{s.ref}>{s.alt}")
    else:
        lengths = _lengths(build)
        lines += ["##fileformat=VCFv4.2", f"##reference={build}",
                  f"##source=ctresist catalogue hotspots ({driver or 'all drivers'})"]
        lines += [f"##contig=<ID={pre}{c},length={n},assembly={build}>"
                  for c, n in lengths.items()]
        lines += ['##INFO=<ID=GENE,Number=1,Type=String,Description="Gene">',
                  '##INFO=<ID=PROTEIN,Number=1,Type=String,Description="Catalogue protein change">',
                  '##INFO=<ID=HGVSC,Number=1,Type=String,Description="Transcript:c. change">',
                  '##INFO=<ID=ROLE,Number=1,Type=String,Description="resistance or driver">',
                  "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"]
        for s in sites:
            lines.append(f"{pre}{s.chrom}\t{s.pos}\t{s.gene}_{s.alteration}\t{s.ref}\t{s.alt}\t.\t"
                         f".\tGENE={s.gene};PROTEIN={s.alteration};HGVSC={s.hgvsc};ROLE={s.role}")
    text = "\n".join(lines) + "\n"
    if gz:  # bgzip + tabix in a temporary folder next to ``out``, then rename both
        out.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=out.parent, prefix=".ctresist-") as tmp:
            plain, packed = Path(tmp) / "sites.vcf", Path(tmp) / "sites.vcf.gz"
            plain.write_text(text, encoding="utf-8")
            pysam.tabix_compress(str(plain), str(packed))
            pysam.tabix_index(str(packed), preset="vcf")
            os.replace(str(packed) + ".tbi", str(out) + ".tbi")
            os.replace(packed, out)
    else:
        with atomic_write(out) as fh:
            fh.write(text)
    return len(sites)
