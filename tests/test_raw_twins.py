"""Raw (unannotated) twins of the test_data VCFs give the same calls as their VEP/SnpEff originals:
with no reference configured, exact known catalogue alleles are still interpreted."""
from __future__ import annotations

import gzip
import re

import pytest
from conftest import ROOT

from ctresist.annotate import context_from_row, do_annotate
from ctresist.catalogue import load_catalogue
from ctresist.sheet import read_sheet

SHEET = ROOT / "config" / "samples.tsv"


def strip_annotation(src: str, dst) -> str:
    """Copy a VCF without CSQ/ANN (header line and INFO key), as a caller would write it."""
    opener = gzip.open if src.endswith(".gz") else open
    with opener(src, "rt") as fh, open(dst, "w") as out:
        for line in fh:
            if line.startswith("##INFO=<ID=CSQ") or line.startswith("##INFO=<ID=ANN"):
                continue
            if not line.startswith("#"):
                f = line.rstrip("\n").split("\t")
                info = [x for x in f[7].split(";") if not re.match(r"(CSQ|ANN)=", x)]
                f[7] = ";".join(info) or "."
                line = "\t".join(f) + "\n"
            out.write(line)
    return str(dst)


def calls(model):
    return sorted((c["status"], c["gene"], c["alteration"], c["entry_id"], c["phase"]) for c in model["calls"])


@pytest.mark.parametrize("sample", [line.split("\t")[0] for line in SHEET.read_text().splitlines()[1:]])
def test_raw_twin_gives_the_same_calls(sample, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    cat = load_catalogue()
    row = read_sheet(str(SHEET)).loc[sample].to_dict()
    ctx = context_from_row(row, cat, "sheet")
    original = do_annotate(ctx, row["vcf"], row["cnv"] or None, cat)
    raw = strip_annotation(row["vcf"], tmp_path / "raw.vcf")
    twin = do_annotate(context_from_row(row, cat, "sheet"), raw, row["cnv"] or None, cat)
    assert calls(twin) == calls(original)
    assert twin["examined"]["annotation"] == "none (known-site matching)"
