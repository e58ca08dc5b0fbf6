"""Tumour fraction of a (plasma) sample, with the method written beside the value.

Order (:func:`choose_tumour_fraction`): the sample sheet's ``tumor_fraction``; else a purity file
(ichorCNA ``<id>.params.txt`` or PURPLE ``<id>.purple.purity.tsv``); else an estimate from the
somatic variants' VAFs (:func:`estimate_from_variants`); else unknown, said so.

* **ichorCNA** ``params.txt`` (``outputParametersToFile`` in ichorCNA's R/output.R): a table
  ``Sample / Tumor Fraction / Ploidy`` (one row per sample), then per-sample blocks with
  ``Tumor Fraction:\t<value>`` lines.
* **PURPLE** ``purity.tsv``: one row with columns ``purity``, ``minPurity``, ``maxPurity``,
  ``ploidy``, ``status`` ...; status ``NO_TUMOR`` means the purity is not a tumour estimate.
* **Estimate**: ``2 x VAF`` of the driver mutation when the VCF has it (a clonal, heterozygous
  driver at diploid copy number: an amplified driver allele overestimates), otherwise of the
  highest-VAF somatic variant. Excluded first: non-PASS calls, variants in clonal-haematopoiesis
  genes (``constants.CH_GENES``), population AF above ``germline_population_af``, alt reads in a
  matched normal, and germline-like VAFs (0.40-0.60 or >= 0.90) other than the driver's.
"""
from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ctresist import constants as C
from ctresist.errors import InputError

#: VAFs that look germline (heterozygous ~0.5, homozygous ~1.0) in a tumour-only plasma sample.
GERMLINE_LIKE_VAF = ((0.40, 0.60), (0.90, 1.0))


@dataclass
class TumourFraction:
    value: float | None  # 0-1, None = unknown
    method: str  # sample sheet | ichorCNA | PURPLE | estimated from VAF | unknown
    text: str  # for the report: value, source and caveats
    low: float | None = None  # PURPLE minPurity
    high: float | None = None  # PURPLE maxPurity

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def _fraction(value: str, where: str, what: str) -> float:
    try:
        x = float(value)
    except ValueError:
        raise InputError(f"{where}: {what} {value!r} is not a number; give the tool's unedited "
                         "output") from None
    if not 0 <= x <= 1:
        raise InputError(f"{where}: {what} {x} is not a fraction between 0 and 1; give the "
                         "tool's unedited output")
    return x


def read_ichorcna(path: str, sample: str | Sequence[str | None] | None = None) -> TumourFraction:
    """Tumour fraction from an ichorCNA ``params.txt`` (first table). ``sample``: one name, whose
    row must be there; or the sheet's names in order of preference (tumor_sample, sample): the
    first present picks the row, and a one-row table is the sample's whatever its name (ichorCNA
    names the row after the BAM)."""
    rows: list[tuple[int, list[str]]] = []
    with open(path, encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    if not lines or lines[0].split("\t")[:3] != ["Sample", "Tumor Fraction", "Ploidy"]:
        raise InputError(f"{path}:1: not an ichorCNA params.txt (expected the header "
                         "'Sample<TAB>Tumor Fraction<TAB>Ploidy'); give <id>.params.txt")
    for i, line in enumerate(lines[1:], 2):
        if not line.strip():
            break
        rows.append((i, line.split("\t")))
    if isinstance(sample, str):
        rows = [r for r in rows if r[1][0] == sample]
        if not rows:
            raise InputError(f"{path}: sample {sample!r} is not in the ichorCNA table; check "
                             "the sample name")
    wanted = [s for s in (sample or []) if s] if not isinstance(sample, str) else []
    if len(rows) > 1 and wanted:
        picked = next(([r for r in rows if r[1][0] == name] for name in wanted
                       if any(r[1][0] == name for r in rows)), [])
        if not picked:
            names = ", ".join(r[1][0] for r in rows)
            raise InputError(f"{path}: none of {', '.join(map(repr, wanted))} is in the ichorCNA "
                             f"table ({names}); set tumor_sample to the table's sample name")
        rows = picked
    if len(rows) != 1:
        names = ", ".join(r[1][0] for r in rows) or "none"
        raise InputError(f"{path}: {len(rows)} samples in the ichorCNA table ({names}); name the "
                         "sample")
    lineno, f = rows[0]
    if len(f) < 3:
        raise InputError(f"{path}:{lineno}: expected Sample, Tumor Fraction, Ploidy")
    tf = _fraction(f[1], f"{path}:{lineno}", "Tumor Fraction")
    ploidy = f[2]
    return TumourFraction(tf, "ichorCNA", f"{tf * 100:.1f} % (ichorCNA {os.path.basename(path)}, "
                                         f"sample {f[0]}, ploidy {ploidy})")


def read_purple(path: str) -> TumourFraction:
    """Tumour purity from a PURPLE ``purity.tsv`` (with its min/max and status)."""
    with open(path, encoding="utf-8") as fh:
        reader = csv.DictReader(fh, delimiter="\t")
        if not reader.fieldnames or "purity" not in reader.fieldnames:
            raise InputError(f"{path}:1: not a PURPLE purity.tsv (no 'purity' column); give "
                             "<tumour>.purple.purity.tsv")
        rows = list(reader)
    if len(rows) != 1:
        raise InputError(f"{path}: expected one data row, found {len(rows)}; give PURPLE's "
                         "unedited purity.tsv")
    r = rows[0]
    where = f"{path}:2"
    tf = _fraction(r["purity"], where, "purity")
    lo = _fraction(r["minPurity"], where, "minPurity") if r.get("minPurity") else None
    hi = _fraction(r["maxPurity"], where, "maxPurity") if r.get("maxPurity") else None
    text = f"{tf * 100:.1f} % (PURPLE {os.path.basename(path)}"
    if lo is not None and hi is not None:
        text += f", range {lo * 100:.1f}-{hi * 100:.1f} %"
    if r.get("ploidy"):
        text += f", ploidy {r['ploidy']}"
    status = r.get("status", "")
    text += f", status {status})" if status else ")"
    if status == "NO_TUMOR":
        text += "; PURPLE found no tumour: the value is not a tumour-fraction estimate"
    return TumourFraction(tf, "PURPLE", text, lo, hi)


def read_tumour_fraction(path: str, sample: str | Sequence[str | None] | None = None) -> TumourFraction:
    """ichorCNA ``params.txt`` or PURPLE ``purity.tsv``, told apart by the header line."""
    if not os.path.exists(path):
        raise InputError(f"{path}: tumour-fraction file not found")
    with open(path, encoding="utf-8", errors="replace") as fh:
        head = fh.readline()
    if head.startswith("Sample\tTumor Fraction"):
        return read_ichorcna(path, sample)
    if re.match(r"^purity\t", head):
        return read_purple(path)
    raise InputError(f"{path}:1: neither an ichorCNA params.txt nor a PURPLE purity.tsv header; "
                     "give one of those files unedited")


def driver_of(driver: str, driver_text: str = "") -> tuple[str | None, str | None]:
    """(gene, one-letter change or None) of a mutation driver context: ``("EGFR mutation",
    "EGFR L858R")`` -> ``("EGFR", "L858R")``; ``"EGFR exon 19 deletion"`` -> ``("EGFR", None)``
    (any activating EGFR mutation); fusions -> ``(None, None)`` (no SNV driver in plasma)."""
    if not driver.endswith(" mutation"):
        return None, None
    gene = driver.split()[0]
    m = re.match(rf"^\s*{gene}\s+(?:p\.)?([A-Z]\d+[A-Z])\s*$", driver_text, flags=re.I)
    return gene, (m.group(1).upper() if m else None)


def _driver_match(v, gene: str | None, change: str | None, activating: dict | None) -> bool:
    if gene is None or v.gene != gene or not v.hgvsp:
        return False
    from ctresist import protein

    one = protein.to_one_letter(v.hgvsp)
    if change:
        return one == change
    parsed = protein.parse(one)
    if parsed is None or activating is None:
        return False
    from ctresist.catalogue import is_activating

    return is_activating(gene, parsed, activating)


def estimate_from_variants(variants: Iterable, driver_gene: str | None = None,
                           driver_change: str | None = None, activating: dict | None = None,
                           germline_population_af: float = C.GERMLINE_POPULATION_AF,
                           normal_max_alt_reads: float = C.NORMAL_MAX_ALT_READS
                           ) -> TumourFraction:
    """``2 x VAF`` of the driver (``driver_gene`` + one-letter ``driver_change``, or any of the
    gene's ``activating`` specs) or else of the highest-VAF eligible somatic variant; see the
    module doc for what is excluded. Variants need ``gene, hgvsp, vaf, filters, population_af,
    normal_alt_reads`` (``ctresist.io.vcf.Variant``)."""
    eligible, excluded = [], []
    driver = None
    for v in variants:
        if v.vaf is None or v.filters not in ("PASS", "."):
            continue
        label = f"{v.gene or v.chrom} {v.hgvsp or f'{v.chrom}:{v.pos}{v.ref}>{v.alt}'}"
        if _driver_match(v, driver_gene, driver_change, activating):
            if driver is None or v.vaf > driver.vaf:
                driver = v
            continue
        if v.gene in C.CH_GENES:
            excluded.append(f"{label} (possible CHIP)")
        elif v.population_af is not None and v.population_af > germline_population_af:
            excluded.append(f"{label} (population AF {v.population_af:g})")
        elif v.normal_alt_reads is not None and v.normal_alt_reads >= normal_max_alt_reads:
            excluded.append(f"{label} (seen in the normal)")
        elif any(lo <= v.vaf <= hi for lo, hi in GERMLINE_LIKE_VAF):
            excluded.append(f"{label} (germline-like VAF {v.vaf:.2f})")
        else:
            eligible.append(v)
    skipped = f"; excluded: {', '.join(excluded)}" if excluded else ""
    if driver is not None:
        tf = min(1.0, 2 * driver.vaf)
        from ctresist import protein

        return TumourFraction(tf, "estimated from VAF",
                              f"{tf * 100:.1f} % estimated as 2 x VAF of the driver {driver.gene} "
                              f"{protein.to_one_letter(driver.hgvsp)} ({driver.vaf * 100:.1f} %), "
                              "assuming a clonal heterozygous driver at diploid copy number (an "
                              f"amplified driver overestimates){skipped}")
    if eligible:
        top = max(eligible, key=lambda v: v.vaf)
        tf = min(1.0, 2 * top.vaf)
        name = f"{top.gene} {top.hgvsp}" if top.hgvsp else f"{top.chrom}:{top.pos}{top.ref}>{top.alt}"
        return TumourFraction(tf, "estimated from VAF",
                              f"{tf * 100:.1f} % estimated as 2 x VAF of the highest-VAF somatic "
                              f"variant {name} ({top.vaf * 100:.1f} %; driver not in the VCF), "
                              f"assuming a clonal heterozygous variant{skipped}")
    return TumourFraction(None, "unknown",
                          "tumour fraction unknown: no sheet value, no ichorCNA/PURPLE file and no "
                          f"eligible somatic variant{skipped}")


def choose_tumour_fraction(sheet_value: float | None = None, path: str | None = None,
                           variants: Iterable = (), sample: str | Sequence[str | None] | None = None,
                           **estimate_args) -> TumourFraction:
    """The sample's tumour fraction by the order in the module doc."""
    if sheet_value is not None:
        return TumourFraction(float(sheet_value), "sample sheet",
                              f"{float(sheet_value) * 100:.1f} % (sample sheet tumor_fraction)")
    if path:
        return read_tumour_fraction(path, sample)
    return estimate_from_variants(variants, **estimate_args)
