"""The one table of caller conventions: which FORMAT/INFO fields give VAF, depth and alt reads.

Callers write read support differently, and the same field name can mean different things
(VarScan's ``AD`` is the alt count alone; RADIA's ``AD``/``AF`` list the reference first; Strelka's
``DP`` includes filtered base calls). The caller is identified from the header (``##source``,
the ``##FORMAT`` declarations), and vectors are indexed by their declared ``Number``
(``R``: reference first, ``A``: one per ALT, ``.``: by length), never by position alone.

Each :class:`Convention` lists the fields it uses and how the values are derived; the first whose
``detect`` matches the header is used (``generic`` matches everything). :data:`CONVENTIONS` is
also the README's table of supported callers.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Decl:
    """One ``##FORMAT``/``##INFO`` declaration."""

    number: str
    type: str
    description: str


@dataclass
class Header:
    """What a convention needs from the header."""

    raw: str
    formats: dict[str, Decl] = field(default_factory=dict)
    infos: dict[str, Decl] = field(default_factory=dict)
    n_samples: int = 0

    @classmethod
    def parse(cls, raw: str, n_samples: int) -> Header:
        h = cls(raw=raw, n_samples=n_samples)
        for m in re.finditer(r"^##(FORMAT|INFO)=<(.*)>\s*$", raw, flags=re.M):
            body = m.group(2)
            vals = dict(re.findall(r'(ID|Number|Type)=([^,>]+)', body))
            desc = re.search(r'Description="((?:[^"\\]|\\.)*)"', body)
            if "ID" in vals:
                d = Decl(vals.get("Number", "."), vals.get("Type", "String"), desc.group(1) if desc else "")
                (h.formats if m.group(1) == "FORMAT" else h.infos)[vals["ID"]] = d
        return h

    def source(self) -> str:
        m = re.search(r"^##source=(.*)$", self.raw, flags=re.M)
        return m.group(1).strip().strip('"').lower() if m else ""


@dataclass
class Counts:
    """Read support of one ALT allele in one sample; None is unknown (missing is not zero)."""

    vaf: float | None = None
    depth: int | None = None
    alt_reads: int | None = None
    ref_reads: int | None = None


#: a value getter: tag -> list of numbers (None for '.'), or None when the field is absent
Getter = Callable[[str], "list[float | None] | None"]


@dataclass(frozen=True)
class Site:
    """One ALT allele of a record, as the conventions see it."""

    ref: str
    alts: tuple[str, ...]
    ai: int  # 0-based ALT index
    fmt: Getter  # FORMAT values of the chosen sample
    info: Getter  # INFO values of the record
    header: Header


def _int(x: float | None) -> int | None:
    return None if x is None else int(x)


def allele_value(vals: list[float | None] | None, decl: Decl | None, ai: int, n_alts: int,
                 ) -> float | None:
    """The value of ALT ``ai`` in a per-allele vector, by its declared Number.

    ``R`` lists the reference first; ``A`` one value per ALT; ``.`` (and a fixed number) is read
    as reference-first when it has one value more than there are ALTs, per ALT when it has exactly
    one per ALT. A vector whose length contradicts its declaration (an ``A`` field with a reference
    value, an ``R`` field without one) is unknown rather than guessed.
    """
    if not vals:
        return None
    number = decl.number if decl else "."
    if number == "R":
        i = ai + 1 if len(vals) == n_alts + 1 else None
    elif number == "A":
        i = ai if len(vals) == n_alts else None
    elif len(vals) == n_alts + 1:
        i = ai + 1
    elif len(vals) == n_alts:
        i = ai
    else:
        i = None
    return vals[i] if i is not None else None


def ref_value(vals: list[float | None] | None, decl: Decl | None, n_alts: int) -> float | None:
    """The reference value of a reference-first vector (None when the vector has no reference)."""
    if not vals:
        return None
    number = decl.number if decl else "."
    return vals[0] if number != "A" and len(vals) == n_alts + 1 else None


# --- the conventions ----------------------------------------------------------------------------

def _generic(s: Site) -> Counts:
    """AD (by Number), DP, AF/FA/VF/VAF (by Number)."""
    h, n = s.header, len(s.alts)
    c = Counts()
    ad = s.fmt("AD")
    ad_decl = h.formats.get("AD")
    if ad_decl is not None and ad_decl.number == "1":  # VarScan-style alt count alone
        c.alt_reads = _int(ad[0]) if ad and n == 1 else None
    else:
        c.alt_reads = _int(allele_value(ad, ad_decl, s.ai, n))
        c.ref_reads = _int(ref_value(ad, ad_decl, n))
    dp = s.fmt("DP")
    c.depth = _int(dp[0]) if dp else None
    if c.depth is None and c.ref_reads is not None and ad:
        c.depth = int(sum(x for x in ad if x is not None))
    for tag in ("AF", "FA", "VF", "VAF"):
        vals = s.fmt(tag)
        if vals:
            c.vaf = allele_value(vals, h.formats.get(tag), s.ai, n)
            break
    if c.vaf is None and c.alt_reads is not None and c.depth:
        c.vaf = c.alt_reads / c.depth
    return c


def _pcgr(s: Site) -> Counts:
    """ADT (ref,alt counts, often Type=String) and DPT."""
    n = len(s.alts)
    ad = s.fmt("ADT")
    c = Counts(alt_reads=_int(allele_value(ad, s.header.formats.get("ADT"), s.ai, n)),
               ref_reads=_int(ref_value(ad, s.header.formats.get("ADT"), n)))
    dp = s.fmt("DPT")
    c.depth = _int(dp[0]) if dp else None
    if c.alt_reads is not None and c.depth:
        c.vaf = c.alt_reads / c.depth
    return c


def _varscan(s: Site) -> Counts:
    """RD = ref count, AD = alt count (Number=1), FREQ = percent string; depth = RD + AD."""
    rd, ad, freq = s.fmt("RD"), s.fmt("AD"), s.fmt("FREQ")
    c = Counts(ref_reads=_int(rd[0]) if rd else None, alt_reads=_int(ad[0]) if ad else None)
    if c.ref_reads is not None and c.alt_reads is not None:
        c.depth = c.ref_reads + c.alt_reads
    if freq and freq[0] is not None:
        c.vaf = freq[0] / 100.0
    elif c.alt_reads is not None and c.depth:
        c.vaf = c.alt_reads / c.depth
    return c


def _bcount_index(base: str) -> int | None:
    return "ACGT".find(base.upper()) if len(base) == 1 and base.upper() in "ACGT" else None


def _somaticsniper(s: Site) -> Counts:
    """BCOUNT (A,C,G,T counts): alt = count of the ALT base, depth = sum; else DP4."""
    c = Counts()
    bc = s.fmt("BCOUNT")
    i, r = _bcount_index(s.alts[s.ai]), _bcount_index(s.ref)
    if bc and len(bc) == 4 and i is not None and all(x is not None for x in bc):
        c.alt_reads, c.depth = int(bc[i]), int(sum(bc))
        c.ref_reads = int(bc[r]) if r is not None else None
    else:
        dp4 = s.fmt("DP4")
        if dp4 and len(dp4) == 4 and all(x is not None for x in dp4) and len(s.alts) == 1:
            c.ref_reads, c.alt_reads = int(dp4[0] + dp4[1]), int(dp4[2] + dp4[3])
            c.depth = c.ref_reads + c.alt_reads
    if c.alt_reads is not None and c.depth:
        c.vaf = c.alt_reads / c.depth
    return c


def _strelka(s: Site) -> Counts:
    """Somatic SNVs: tier-1 (first) value of {A,C,G,T}U; depth = sum of the four tier-1 counts
    (DP also counts filtered base calls, FDP). Indels: tier-1 TIR (alt) and TAR (ref)."""
    c = Counts()
    alt = s.alts[s.ai]
    if len(s.ref) == 1 and len(alt) == 1 and s.fmt("AU") is not None:
        tier1 = {b: s.fmt(f"{b}U") for b in "ACGT"}
        if all(v and v[0] is not None for v in tier1.values()) and alt.upper() in tier1:
            c.alt_reads = int(tier1[alt.upper()][0])
            c.ref_reads = int(tier1[s.ref.upper()][0]) if s.ref.upper() in tier1 else None
            c.depth = int(sum(v[0] for v in tier1.values()))
    else:
        tir, tar = s.fmt("TIR"), s.fmt("TAR")
        if tir and tar and tir[0] is not None and tar[0] is not None:
            c.alt_reads, c.ref_reads = int(tir[0]), int(tar[0])
            c.depth = c.alt_reads + c.ref_reads
    if c.alt_reads is not None and c.depth:
        c.vaf = c.alt_reads / c.depth
    elif s.fmt("AD") is not None:  # Strelka2 germline writes AD/DP
        return _generic(s)
    return c


def _freebayes(s: Site) -> Counts:
    """RO (ref observations), AO (per ALT); depth = RO + sum(AO); VAF = AO / depth."""
    ro, ao = s.fmt("RO"), s.fmt("AO")
    c = Counts(ref_reads=_int(ro[0]) if ro else None,
               alt_reads=_int(allele_value(ao, s.header.formats.get("AO"), s.ai, len(s.alts))))
    if c.ref_reads is not None and ao and all(x is not None for x in ao):
        c.depth = c.ref_reads + int(sum(ao))
    if c.alt_reads is not None and c.depth:
        c.vaf = c.alt_reads / c.depth
    return c


def _lofreq(s: Site) -> Counts:
    """No sample column: INFO AF, INFO DP, alt = DP4 alt-forward + alt-reverse."""
    c = Counts()
    dp, af, dp4 = s.info("DP"), s.info("AF"), s.info("DP4")
    c.depth = _int(dp[0]) if dp else None
    c.vaf = allele_value(af, s.header.infos.get("AF"), s.ai, len(s.alts)) if af else None
    if dp4 and len(dp4) == 4 and all(x is not None for x in dp4) and len(s.alts) == 1:
        c.ref_reads, c.alt_reads = int(dp4[0] + dp4[1]), int(dp4[2] + dp4[3])
    return c


def _has(*tags: str) -> Callable[[Header], bool]:
    return lambda h: all(t in h.formats for t in tags)


@dataclass(frozen=True)
class Convention:
    caller: str
    fields: str  # the FORMAT/INFO fields used
    derive: str  # how VAF, depth and alt reads are derived
    detect: Callable[[Header], bool]
    counts: Callable[[Site], Counts]
    #: DP is approximate (the caller says so): alt reads above DP on a record are tolerated with
    #: a warning and depth = max(DP, ref + alt)
    approximate_dp: bool = False


CONVENTIONS: tuple[Convention, ...] = (
    Convention("Strelka (somatic)", "FORMAT AU,CU,GU,TU (SNV); TAR,TIR (indel)",
               "SNV: alt = tier-1 count of the ALT base, depth = sum of the four tier-1 counts "
               "(not DP, which includes filtered calls); indel: alt = TIR tier 1, depth = TAR + TIR "
               "tier 1; VAF = alt / depth",
               lambda h: "strelka" in h.source() or _has("AU", "CU", "GU", "TU")(h) or _has("TAR", "TIR")(h),
               _strelka),
    Convention("VarScan 2", "FORMAT RD, AD (Number=1), FREQ",
               "alt = AD, ref = RD, depth = RD + AD, VAF = FREQ (percent)",
               lambda h: "varscan" in h.source() or _has("RD", "FREQ")(h), _varscan),
    Convention("SomaticSniper", "FORMAT BCOUNT (A,C,G,T), DP4",
               "alt = BCOUNT of the ALT base, depth = sum of BCOUNT (else DP4 ref + alt), "
               "VAF = alt / depth", _has("BCOUNT"), _somaticsniper),
    Convention("FreeBayes", "FORMAT RO, AO", "alt = AO, depth = RO + all AO, VAF = alt / depth",
               lambda h: _has("RO", "AO")(h), _freebayes),
    Convention("LoFreq", "INFO AF, DP, DP4 (no sample column)",
               "VAF = INFO AF, depth = INFO DP, alt = DP4 alt-forward + alt-reverse",
               lambda h: h.n_samples == 0 and ("lofreq" in h.source() or "DP4" in h.infos), _lofreq),
    Convention("PCGR / TCGA", "FORMAT ADT (ref,alt), DPT", "alt = ADT alt, depth = DPT, VAF = alt / depth",
               _has("ADT"), _pcgr),
    Convention("MuTect 1", "FORMAT AD (ref first), FA, DP (approximate)",
               "alt = AD alt, depth = DP, VAF = FA; alt above DP is tolerated (DP is approximate)",
               _has("FA"), _generic, approximate_dp=True),
    Convention("RADIA", "FORMAT AD, AF (Number=., reference first), DP",
               "alt = AD[1+i], VAF = AF[1+i] (the first value is the reference), depth = DP",
               lambda h: "radia" in h.source(), _generic),
    Convention("Pisces", "FORMAT AD (ref first), VF, DP", "alt = AD alt, depth = DP, VAF = VF",
               _has("VF"), _generic),
    Convention("generic (Mutect2, VarDict, DRAGEN/TSO500, MuSE, Pindel, UMI callers)",
               "FORMAT AD (by Number: R/./A), AF (by Number), DP",
               "alt = AD of the ALT, depth = DP (else sum of AD), VAF = AF (else alt / depth)",
               lambda h: True, _generic),
)


def identify(header: Header) -> Convention:
    """The first convention whose ``detect`` matches (``generic`` matches every header)."""
    for conv in CONVENTIONS:
        if conv.detect(header):
            return conv
    return CONVENTIONS[-1]


def dp_is_approximate(header: Header) -> bool:
    """The header itself says FORMAT DP is approximate (GATK/MuTect1 wording)."""
    d = header.formats.get("DP")
    return d is not None and "approximate" in d.description.lower()


def readme_table() -> str:
    """The README table of supported conventions (markdown)."""
    rows = ["| caller | fields used | how VAF, depth and alt reads are derived |", "|---|---|---|"]
    rows += [f"| {c.caller} | {c.fields} | {c.derive} |" for c in CONVENTIONS]
    return "\n".join(rows)
