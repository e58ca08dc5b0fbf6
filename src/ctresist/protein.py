"""Protein-change notation: HGVS p. (3- or 1-letter) to one canonical one-letter form, and matching.

The canonical form has no ``p.`` and no brackets: ``G1202R``, ``R213*``, ``G12=``, ``T1151dup``,
``E746_A750del``, ``D770_N771insSVD``, ``L747_T751delinsP``, ``S768Rfs*3`` (frameshifts keep
only ``fs``: ``S768fs``). Residue numbers are 1-based positions on the protein.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import unquote

AA3 = {
    "Ala": "A", "Arg": "R", "Asn": "N", "Asp": "D", "Cys": "C", "Gln": "Q", "Glu": "E",
    "Gly": "G", "His": "H", "Ile": "I", "Leu": "L", "Lys": "K", "Met": "M", "Phe": "F",
    "Pro": "P", "Ser": "S", "Thr": "T", "Trp": "W", "Tyr": "Y", "Val": "V", "Ter": "*",
    "Sec": "U", "Pyl": "O", "Xaa": "X",
}
AA1 = set("ACDEFGHIKLMNPQRSTVWYUOX*")
_AA3_RE = re.compile("|".join(sorted(AA3, key=len, reverse=True)))

_SUBST = re.compile(r"^([A-Z*])(\d+)([A-Z*=]|X)$")
_RANGE = re.compile(r"^([A-Z*])(\d+)(?:_([A-Z*])(\d+))?(del|dup|ins|delins|fs)([A-Z*]*)$")


@dataclass(frozen=True)
class ProteinChange:
    """A parsed one-letter protein change.

    kind: missense | nonsense | synonymous | residue (catalogue wildcard ``G1202X``) |
    del | dup | ins | delins | fs | stop_lost | start_lost
    """

    text: str
    kind: str
    ref: str
    start: int
    end: int
    alt: str = ""

    @property
    def residue(self) -> str:
        return f"{self.ref}{self.start}"


def to_one_letter(hgvsp: str) -> str:
    """Canonical one-letter form of an HGVS protein change (VEP ``HGVSp`` or SnpEff ``HGVS.p``).

    >>> to_one_letter("ENSP00000373700.3:p.Gly1202Arg")
    'G1202R'
    >>> to_one_letter("p.Glu746_Ala750del")
    'E746_A750del'
    """
    text = unquote(hgvsp.strip())
    if ":" in text:
        text = text.split(":", 1)[1]
    text = text.removeprefix("p.").replace("(", "").replace(")", "")
    text = _AA3_RE.sub(lambda m: AA3[m.group(0)], text)
    if re.search(r"fs", text):  # frameshift: keep the first residue only (S768Rfs*3 -> S768fs)
        m = re.match(r"^([A-Z*])(\d+)", text)
        return f"{m.group(1)}{m.group(2)}fs" if m else text
    text = re.sub(r"ext\*?\??\d*$", "ext", text)
    return text


@lru_cache(maxsize=8192)  # pure, and ProteinChange is frozen: the same few specs are parsed often
def parse(change: str) -> ProteinChange | None:
    """Parse a canonical one-letter change; ``None`` when it is not a protein change we model."""
    m = _SUBST.match(change)
    if m:
        ref, pos, alt = m.group(1), int(m.group(2)), m.group(3)
        if alt == "=" or alt == ref:
            kind = "synonymous"
        elif alt == "X":
            kind = "residue"
        elif alt == "*":
            kind = "nonsense"
        elif ref == "*":
            kind = "stop_lost"
        elif ref == "M" and pos == 1:
            kind = "start_lost"
        else:
            kind = "missense"
        return ProteinChange(change, kind, ref, pos, pos, "" if alt in "X=" else alt)
    m = _RANGE.match(change)
    if m:
        ref, start, end_ref, end, kind, alt = m.groups()
        return ProteinChange(change, kind, ref, int(start), int(end or start), alt)
    return None


def is_valid_spec(change: str) -> bool:
    """True when ``change`` is a well-formed catalogue protein change (used by validation)."""
    return parse(change) is not None and all(c in AA1 for c in re.sub(r"[\d_=]|del|dup|ins|fs", "", change))


def matches(observed: ProteinChange, spec: ProteinChange) -> bool:
    """Does an observed change satisfy a catalogue spec (exact change, or any substitution at a residue)?"""
    if spec.kind == "residue":
        return observed.kind == "missense" and observed.start == spec.start and observed.ref == spec.ref
    return observed.text == spec.text
