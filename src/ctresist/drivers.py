"""Driver context from what a user writes in the sample sheet's ``driver`` column."""
from __future__ import annotations

import re

from ctresist import constants as C
from ctresist.errors import InputError


def parse_driver(text: str, where: str) -> str:
    """Driver context from what a user writes: ``EML4-ALK``, ``EML4::ALK``, ``ALK fusion``,
    ``KIF5B-RET``, ``TPM3-NTRK1``, ``CD74-ROS1``, ``EGFR L858R``, ``EGFR exon 19 deletion``."""
    t = text.strip()
    up = t.upper()
    if re.match(r"^EGFR\b", up):
        return "EGFR mutation"
    parts = re.split(r"::|-|\s+|/", up)
    for k in C.FUSION_KINASES:
        if k in parts and (len(parts) > 1 or k == up):
            return f"{k} fusion"
    raise InputError(f"{where}: column 'driver': cannot read driver {text!r}; write a fusion "
                     "(EML4-ALK, KIF5B-RET, TPM3-NTRK1, CD74-ROS1, 'ALK fusion') or 'EGFR <mutation>'")
