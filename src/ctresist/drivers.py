"""Driver context from what a user writes in the sample sheet's ``driver`` column."""
from __future__ import annotations

import re

from ctresist import constants as C
from ctresist.errors import InputError

_HELP = ("write a fusion (EML4-ALK, KIF5B-RET, TPM3-NTRK1, CD74-ROS1, 'ALK fusion'), 'EGFR <mutation>', "
         "'MET exon 14 skipping', 'KRAS G12C' or 'BRAF V600E'")


def parse_driver(text: str, where: str) -> str:
    """Driver context from what a user writes: ``EML4-ALK``, ``EML4::ALK``, ``ALK fusion``,
    ``KIF5B-RET``, ``TPM3-NTRK1``, ``CD74-ROS1``, ``EGFR L858R``, ``EGFR exon 19 deletion``,
    ``MET exon 14 skipping`` (``METex14``, ``MET ex14``), ``KRAS G12C``, ``BRAF V600E``.

    A driver with no resistance catalogue (another KRAS or BRAF allele, MET amplification, ERBB2)
    is refused with the reason: a report must never say "no resistance" where nothing was looked up.
    """
    t = text.strip()
    up = t.upper()
    if re.match(r"^EGFR\b", up):
        return "EGFR mutation"
    if re.match(r"^(?:C-)?MET(?:\b|EX|Δ)", up):
        if re.search(r"EX(?:ON)?\s*14|Δ\s*EX|SKIP", up):
            return "MET exon 14 skipping"
        raise InputError(f"{where}: column 'driver': {text!r}: only MET exon 14 skipping is a MET driver "
                         "context (MET amplification as the primary driver has no resistance catalogue); "
                         "write 'MET exon 14 skipping'")
    for gene, allele, long in (("KRAS", "G12C", "GLY12CYS"), ("BRAF", "V600E", "VAL600GLU")):
        if re.match(rf"^{gene}\b", up):
            if re.search(rf"\b(?:P\.)?(?:{allele}|{long})\b", up):
                return f"{gene} {allele}"
            raise InputError(f"{where}: column 'driver': {text!r}: only {gene} {allele} has a targeted-therapy "
                             f"resistance catalogue; other {gene} drivers cannot be assessed")
    if re.match(r"^(?:ERBB2|HER2)\b", up):
        raise InputError(f"{where}: column 'driver': {text!r}: ERBB2 (HER2)-driven NSCLC has no resistance "
                         "catalogue yet (no cited genomic resistance mechanisms to trastuzumab deruxtecan or "
                         "HER2 TKIs); ctresist cannot assess it")
    parts = re.split(r"::|-|\s+|/", up)
    for k in C.FUSION_KINASES:
        if k in parts and (len(parts) > 1 or k == up):
            return f"{k} fusion"
    raise InputError(f"{where}: column 'driver': cannot read driver {text!r}; {_HELP}")


def is_driver_alteration(context: str, gene: str, change: str) -> bool:
    """True when ``gene`` ``change`` (one-letter protein change) is the sample's own driver
    mutation in a mutation-defined context (KRAS G12C in "KRAS G12C"): it is the driver, not a
    resistance finding."""
    return C.DRIVER_ALTERATIONS.get(context) == (gene, change)
