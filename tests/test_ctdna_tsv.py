"""calls.tsv carries every catalogue change of the report's ctDNA block (``row_type`` ctdna_site):
its state, depth, alt reads, VAF with 95 % CI, LoD and the report's sentence.

The model is made by the real ``do_annotate`` on ``test_data/EGFR02_plasma.vcf.gz`` with a BAM
built by ``bam_builder`` over the real GRCh38 EGFR sequence (500 fragments: 20 T790M+C797S,
10 L798I not in the VCF, 470 reference), as in tests/test_integration.py.
"""
from __future__ import annotations

import csv

from bam_builder import C797S, T790M, Reads, build_bam
from conftest import ROOT
from test_integration import needs_locus

from ctresist.annotate import do_annotate
from ctresist.catalogue import load_catalogue
from ctresist.interpret import Context
from ctresist.report import TSV_COLUMNS, write_tsv

EGFR02 = ROOT / "test_data" / "EGFR02_plasma.vcf.gz"
L798I = 55181401


def egfr02(tmp_path, bam: bool = True) -> dict:
    ctx = Context(sample="EGFR02_plasma", driver_text="EGFR L858R", driver="EGFR mutation",
                  therapy_text="osimertinib", therapy=["osimertinib"], specimen="plasma",
                  build="GRCh38")
    path = None
    if bam:
        cover = (T790M, C797S, L798I)
        path = build_bam(tmp_path / "plasma.bam",
                         [Reads({T790M: "T", C797S: "A"}, 20, covers=cover),
                          Reads({L798I: "A"}, 10, covers=cover), Reads({}, 470, covers=cover)],
                         contig="7")
    return do_annotate(ctx, str(EGFR02), None, load_catalogue(), bam=path)


def read_tsv(model: dict, tmp_path) -> list[dict]:
    out = tmp_path / "calls.tsv"
    write_tsv(model, str(out))
    with open(out) as fh:
        reader = csv.DictReader(fh, delimiter="\t")
        assert reader.fieldnames == TSV_COLUMNS
        return list(reader)


COLS = ("status", "variant", "depth", "alt_reads", "vaf", "vaf_ci_low", "vaf_ci_high", "lod",
        "informative", "source", "support")


def sites(rows: list[dict]) -> dict[str, tuple]:
    return {r["finding"]: tuple(r[k] for k in COLS) for r in rows if r["row_type"] == "ctdna_site"}


@needs_locus
def test_every_ctdna_site_is_a_tsv_row_with_state_counts_ci_lod_and_text(tmp_path):
    model = egfr02(tmp_path)
    rows = read_tsv(model, tmp_path)
    got = sites(rows)
    # one row per catalogue change of the JSON's ctdna.sites, same order, same states
    assert [r["finding"] for r in rows if r["row_type"] == "ctdna_site"] == [
        f"{s['gene']} {s['alteration']}" for s in model["ctdna"]["sites"]]
    assert [r["status"] for r in rows if r["row_type"] == "ctdna_site"] == [
        s["state"] for s in model["ctdna"]["sites"]]
    assert len(got) == len(model["ctdna"]["sites"]) > 40
    assert got["EGFR T790M"] == (
        "detected_by_caller", "7:55181378:C>T", "4200", "88", "0.021", "0.0168375", "0.025751", "",
        "", "caller", "detected by the caller: 88 of 4,200 reads (2.10 %, 95 % CI 1.68 %-2.58 %); "
                      "reads here: 20 alt of 500")
    assert got["EGFR C797S"][:7] == ("detected_by_caller", "7:55181398:T>A", "4150", "41", "0.0099",
                                     "0.00709878", "0.013379")
    assert got["EGFR L798I"] == (
        "read_level_only", "7:55181401:C>A", "500", "10", "0.02", "0.00963143", "0.0364724", "", "",
        "reads", "possible, confirm: 10 alt reads of 500 (2.00 %, 95 % CI 0.96 %-3.65 %; 5 forward, "
                 "5 reverse) in the reads only, not called by the caller")
    # not detected: LoD at this depth; the VAF-estimated tumour fraction (8 %) puts a clonal
    # heterozygous mutation near 4 %, above the 3.07 % LoD: an informative negative
    assert got["EGFR S768I"] == (
        "not_detected", "7:55181312:G>T", "203", "0", "0", "0", "0.0180077", "0.0306872", "true",
        "reads", "not detected; 95 % LoD 3.07 % at 203x")
    assert got["EGFR G724S"] == (
        "not_assessable", "7:55174029:G>A", "0", "0", "", "", "", "", "", "reads",
        "not assessable: depth 0 reads is below the minimum 100")
    # a contig the BAM does not have: no depth at all, never "not detected"
    assert got["KRAS G12C"] == (
        "not_assessable", "12:25245351:C>A", "", "", "", "", "", "", "", "reads",
        "not assessable: contig 12 is not in the BAM/CRAM header")
    counts = {}
    for v in got.values():
        counts[v[0]] = counts.get(v[0], 0) + 1
    assert counts == {"detected_by_caller": 3, "read_level_only": 1, "not_detected": 1,
                      "not_assessable": len(got) - 5}
    # the findings are unchanged: the read-level L798I is never a finding row
    assert not [r for r in rows if r["row_type"] in ("finding", "evidence") and "L798I" in r["finding"]]
    assert {r["row_type"] for r in rows} == {"finding", "evidence", "ctdna_site"}
    assert all(r["catalogue_version"] == model["catalogue"]["version"] for r in rows)


def test_without_reads_every_site_says_absence_not_assessable(tmp_path):
    """No BAM, no coverage: every site is a row 'absence not assessable', never 'not detected'."""
    model = egfr02(tmp_path, bam=False)
    got = sites(read_tsv(model, tmp_path))
    assert len(got) == len(model["ctdna"]["sites"]) > 40
    assert got["EGFR T790M"][:4] == ("detected_by_caller", "7:55181378:C>T", "4200", "88")
    rest = {k: v for k, v in got.items() if v[0] != "detected_by_caller"}
    assert len(rest) == len(got) - 3
    assert {(v[0], v[2], v[9], v[10]) for v in rest.values()} == {
        ("not_assessable", "", "", "absence not assessable: no reads or coverage given")}


def test_ctdna_site_text_is_inert_in_the_tsv(tmp_path):
    """A site's text goes through tsv_cell: formula prefixes and bidi controls are neutralised."""
    model = egfr02(tmp_path, bam=False)
    model["ctdna"]["sites"][0]["text"] = "=HYPERLINK(\"x\")\u202e"
    [row] = [r for r in read_tsv(model, tmp_path)
             if r["row_type"] == "ctdna_site" and r["finding"] == "NRAS Q61H"]
    assert row["support"] == "'=HYPERLINK(\"x\")<U+202E>"
