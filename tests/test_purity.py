"""Tumour fraction (ctresist.io.purity): ichorCNA params.txt, PURPLE purity.tsv (our fixture and
the real hmftools file in ../shared/data when present), the sheet, and the VAF estimate with CHIP
and germline-like variants excluded."""
from __future__ import annotations

from pathlib import Path

import pytest

from ctresist.catalogue import load_catalogue
from ctresist.errors import InputError
from ctresist.io.purity import (
    choose_tumour_fraction,
    driver_of,
    estimate_from_variants,
    read_tumour_fraction,
)
from ctresist.io.vcf import Variant

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "ctdna"
SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
REAL_PURPLE = SHARED / "examples" / "hmftools_colo829_purple" / "tumor_sample.purple.purity.tsv"


def test_ichorcna_params():
    tf = read_tumour_fraction(str(FIXTURES / "PLASMA_T2.params.txt"))
    assert (tf.value, tf.method) == (0.0412, "ichorCNA")
    assert tf.text == "4.1 % (ichorCNA PLASMA_T2.params.txt, sample PLASMA_T2, ploidy 2.013)"
    assert read_tumour_fraction(str(FIXTURES / "PLASMA_T2.params.txt"), "PLASMA_T2").value == 0.0412
    with pytest.raises(InputError, match="sample 'OTHER' is not in the ichorCNA table"):
        read_tumour_fraction(str(FIXTURES / "PLASMA_T2.params.txt"), "OTHER")


def test_ichorcna_multi_sample_needs_a_name(tmp_path):
    p = tmp_path / "multi.params.txt"
    p.write_text("Sample\tTumor Fraction\tPloidy\nA\t0.1\t2\nB\t0.3\t2.1\n\n")
    with pytest.raises(InputError, match=r"2 samples in the ichorCNA table \(A, B\); name the sample"):
        read_tumour_fraction(str(p))
    assert read_tumour_fraction(str(p), "B").value == 0.3
    p.write_text("Sample\tTumor Fraction\tPloidy\nA\t12.5\t2\n")
    with pytest.raises(InputError, match=r"multi.params.txt:2: Tumor Fraction 12.5 is not a "
                                         "fraction between 0 and 1"):
        read_tumour_fraction(str(p))


def test_purple_purity_fixture():
    tf = read_tumour_fraction(str(FIXTURES / "PLASMA_T1.purple.purity.tsv"))
    assert (tf.value, tf.low, tf.high, tf.method) == (0.18, 0.15, 0.21, "PURPLE")
    assert tf.text == ("18.0 % (PURPLE PLASMA_T1.purple.purity.tsv, range 15.0-21.0 %, ploidy "
                       "2.0100, status NORMAL)")


@pytest.mark.skipif(not REAL_PURPLE.exists(), reason=f"{REAL_PURPLE} not found (shared data absent)")
def test_real_purple_purity_file():
    tf = read_tumour_fraction(str(REAL_PURPLE))
    assert (tf.value, tf.low, tf.high) == (0.99, 0.97, 1.0)
    assert "ploidy 3.1000, status NORMAL" in tf.text


def test_no_tumor_status_is_said(tmp_path):
    text = (FIXTURES / "PLASMA_T1.purple.purity.tsv").read_text().replace("\tNORMAL\t", "\tNO_TUMOR\t")
    p = tmp_path / "x.purple.purity.tsv"
    p.write_text(text)
    assert read_tumour_fraction(str(p)).text.endswith(
        "PURPLE found no tumour: the value is not a tumour-fraction estimate")


def test_unknown_file(tmp_path):
    p = tmp_path / "x.txt"
    p.write_text("hello\n")
    with pytest.raises(InputError, match=r"x.txt:1: neither an ichorCNA params.txt nor a PURPLE"):
        read_tumour_fraction(str(p))


def v(gene, hgvsp, vaf, **kw):
    return Variant(chrom=kw.pop("chrom", "7"), pos=kw.pop("pos", 1), ref="C", alt="T", record=1,
                   gene=gene, hgvsp=hgvsp, vaf=vaf, **kw)


PLASMA = [
    v("DNMT3A", "p.Arg882His", 0.081, chrom="2", pos=25234373),  # CHIP hotspot, highest VAF
    v("EGFR", "p.Leu858Arg", 0.031),
    v("TP53", "p.Arg273His", 0.05),  # CH gene too
    v("KRAS", "p.Gly12Asp", 0.012),
    v("BRCA2", "p.Asn372His", 0.49, population_af=0.27),
    v("ATR", "p.Thr1000Ile", 0.51),  # germline-like VAF
    v("PIK3CA", "p.Glu545Lys", 0.04, filters="weak_evidence"),
]


def test_driver_first_chip_and_germline_excluded():
    tf = estimate_from_variants(PLASMA, driver_gene="EGFR", driver_change="L858R")
    assert tf.value == pytest.approx(0.062)
    assert tf.method == "estimated from VAF"
    assert tf.text == (
        "6.2 % estimated as 2 x VAF of the driver EGFR L858R (3.1 %), assuming a clonal "
        "heterozygous driver at diploid copy number (an amplified driver overestimates); "
        "excluded: DNMT3A p.Arg882His (possible CHIP), TP53 p.Arg273His (possible CHIP), "
        "BRCA2 p.Asn372His (population AF 0.27), ATR p.Thr1000Ile (germline-like VAF 0.51)")


def test_driver_from_the_activating_list():
    cat = load_catalogue()
    tf = estimate_from_variants(PLASMA, driver_gene="EGFR", activating=cat.activating)
    assert tf.value == pytest.approx(0.062)


def test_without_driver_the_highest_eligible_vaf_is_used():
    no_egfr = [x for x in PLASMA if x.gene != "EGFR"]
    tf = estimate_from_variants(no_egfr, driver_gene="ALK")
    assert tf.value == pytest.approx(0.024)  # KRAS G12D 1.2 %, never DNMT3A R882H 8.1 %
    assert "highest-VAF somatic variant KRAS p.Gly12Asp (1.2 %; driver not in the VCF)" in tf.text


def test_nothing_eligible_is_unknown():
    tf = estimate_from_variants(PLASMA[:1])
    assert (tf.value, tf.method) == (None, "unknown")
    assert tf.text == ("tumour fraction unknown: no sheet value, no ichorCNA/PURPLE file and no "
                       "eligible somatic variant; excluded: DNMT3A p.Arg882His (possible CHIP)")


def test_order_sheet_then_file_then_estimate():
    assert choose_tumour_fraction(0.07, str(FIXTURES / "PLASMA_T2.params.txt"), PLASMA).method \
        == "sample sheet"
    assert choose_tumour_fraction(None, str(FIXTURES / "PLASMA_T2.params.txt"), PLASMA).value \
        == 0.0412
    assert choose_tumour_fraction(None, None, PLASMA, driver_gene="EGFR",
                                  driver_change="L858R").value == pytest.approx(0.062)


def test_driver_of_sheet_text():
    assert driver_of("EGFR mutation", "EGFR L858R") == ("EGFR", "L858R")
    assert driver_of("EGFR mutation", "EGFR p.T790M") == ("EGFR", "T790M")
    assert driver_of("EGFR mutation", "EGFR exon 19 deletion") == ("EGFR", None)
    assert driver_of("ALK fusion", "EML4-ALK") == (None, None)
