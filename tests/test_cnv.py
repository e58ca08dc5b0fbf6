"""CNV reader and gene-level copy number: formats, focality, tumour-fraction correction, errors."""
from __future__ import annotations

import pytest
from conftest import SHARED

from ctresist.errors import InputError
from ctresist.genes import genes_for_build
from ctresist.io.cnv import gene_copy_numbers, read_segments

GENES38 = genes_for_build("GRCh38")
GENES37 = genes_for_build("GRCh37")


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def cns(tmp_path, rows, header="chromosome\tstart\tend\tgene\tlog2\tprobes"):
    return write(tmp_path, "s.cns", header + "\n" + "\n".join("\t".join(map(str, r)) for r in rows) + "\n")


def test_cnvkit_focal_met_amplification(tmp_path):
    """CNVkit log2 2.91 over MET only: CN = 2*2^2.91 ~ 15, focal: the gain covers 0.3 % of 7q."""
    p = cns(tmp_path, [("chr7", 1, 116600000, "-", 0.0, 100), ("chr7", 116600001, 116900000, "MET", 2.91, 40),
                       ("chr7", 116900001, 159000000, "-", 0.0, 100)])
    met = gene_copy_numbers(p, read_segments(p), GENES38, "GRCh38", None)["MET"]
    assert met.copy_number == pytest.approx(15.03, abs=0.01)
    # 300,000 bp of 7q (GRCh38 centromere boundary 60,100,000; chr7 159,345,973 bp)
    assert (met.arm, met.amplified_span, met.amplified_span_fraction, met.focal) == ("7q", 300000, 0.003, True)
    assert (met.cn_kind, met.source, met.adjusted_cn, met.tf_corrected) == ("relative", "CNVkit log2", None, False)
    assert (met.baseline_cn, met.baseline_ratio) == (2.0, 7.516)


def test_whole_chromosome_gain_is_broad(tmp_path):
    """One segment covering chr7 at CN 6: it covers all of 7q, so not a focal amplification."""
    p = cns(tmp_path, [("7", 10000, 159300000, "EGFR,MET", 1.585, 900)])
    met = gene_copy_numbers(p, read_segments(p), GENES38, "GRCh38", None)["MET"]
    assert met.copy_number == pytest.approx(6.0, abs=0.01)
    assert (met.amplified_span_fraction, met.focal, met.baseline_ratio) == (0.9995, False, None)


def test_arm_level_gain_is_broad(tmp_path):
    """A gain of 60 % of 7q (more than half an arm, the GISTIC broad definition) is broad even though
    it is only a third of chromosome 7."""
    p = cns(tmp_path, [("7", 1, 100000000, "-", 0.0, 10), ("7", 100000001, 159345973, "MET", 2.0, 10)])
    met = gene_copy_numbers(p, read_segments(p), GENES38, "GRCh38", None)["MET"]
    assert (met.copy_number, met.amplified_span_fraction, met.focal) == (8.0, 0.598, False)


def test_cn_column_and_tumour_fraction_correction(tmp_path):
    """CNVkit's cn column is relative to the sample (no --purity): plasma CN 3 at 25 % tumour
    fraction is 2 + 1/0.25 = 6 copies, corrected once and marked so."""
    p = cns(tmp_path, [("7", 116600001, 116900000, "MET", 0.58, 3, 40)],
            header="chromosome\tstart\tend\tgene\tlog2\tcn\tprobes")
    met = gene_copy_numbers(p, read_segments(p), GENES38, "GRCh38", 0.25)["MET"]
    assert (met.copy_number, met.adjusted_cn, met.cn_kind, met.tf_corrected) == (3.0, 6.0, "relative", True)


def test_purple_copy_number_and_real_cnvkit_file(tmp_path):
    """PURPLE copyNumber columns; and CNVkit's real amplicon.cns (GRCh37) shows MET amplified."""
    p = write(tmp_path, "p.tsv", "chromosome\tstart\tend\tcopyNumber\n7\t116300000\t116500000\t12.5\n")
    assert gene_copy_numbers(p, read_segments(p), GENES37, "GRCh37", None)["MET"].copy_number == 12.5
    real = SHARED / "examples" / "cnvkit" / "amplicon.cns"
    if not real.exists():
        pytest.skip("../shared/data not present (fresh clone)")
    # the real file has inverted zero-probe segments (end < start): skipped, the rest is read
    segs = read_segments(str(real), build="GRCh37")
    assert len(segs) == 80
    met = gene_copy_numbers(str(real), segs, GENES37, "GRCh37", None)["MET"]
    # two MET segments, log2 2.96307 (36,213 bp of the gene) and 3.81256 (56,264 bp)
    assert (met.copy_number, met.arm, met.focal) == (23.204, "7q", True)


@pytest.mark.parametrize("text,match", [
    ("chromosome\tstart\tend\n7\t1\t2\n", r"x\.cns:1: missing column\(s\) log2 or copy number"),
    ("chromosome\tstart\tend\tlog2\n7\t1\t200\tabc\n", r"x\.cns:2: column 'log2': expected a number, got 'abc'"),
    ("chromosome\tstart\tend\tlog2\n7\t1\t200\t0.1\n7\t150\t300\t0.2\n", r"x\.cns:3: segment 7:150-300 overlaps line 2"),
    ("", r"x\.cns: CNV file has no segments \(the file is empty\)"),
])
def test_cnv_errors(tmp_path, text, match):
    """Malformed segment files: one line naming file, line and column."""
    p = write(tmp_path, "x.cns", text)
    with pytest.raises(InputError, match=match):
        read_segments(p)


def test_unknown_contig(tmp_path):
    """A segment on a contig the build does not have is refused with its line."""
    p = cns(tmp_path, [("chrZZ", 1, 100, "-", 0.1, 1)])
    with pytest.raises(InputError, match=r"s\.cns:2: unknown contig 'chrZZ' for GRCh38"):
        gene_copy_numbers(p, read_segments(p), GENES38, "GRCh38", None)


def test_purple_copy_number_is_not_corrected_twice(tmp_path):
    """PURPLE copyNumber is already purity-adjusted: a tumour fraction is not applied again."""
    p = write(tmp_path, "p.tsv", "chromosome\tstart\tend\tcopyNumber\n7\t116300000\t116500000\t6.0\n")
    met = gene_copy_numbers(p, read_segments(p), GENES37, "GRCh37", 0.3)["MET"]
    assert (met.copy_number, met.adjusted_cn, met.cn_kind, met.tf_corrected) == (6.0, 6.0, "absolute", False)
