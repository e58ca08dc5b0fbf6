"""CNV formats on real files and real-header fixtures (tests/fixtures/cnv, see PROVENANCE.md):
build check, absolute vs relative copy number, copy-number VCFs, multi-sample SEG, refusals."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import ROOT, SHARED

from ctresist.errors import InputError
from ctresist.genes import genes_for_build
from ctresist.io.cnv import gene_copy_numbers, read_segments

FIX = Path(__file__).resolve().parent / "fixtures" / "cnv"
GENES = {b: genes_for_build(b) for b in ("GRCh37", "GRCh38")}
EXAMPLES = SHARED / "examples"


def genes(path, build, tf=None, sample=None):
    path = str(path)
    return gene_copy_numbers(path, read_segments(path, build=build, sample=sample), GENES[build], build, tf)


def shared(rel: str) -> Path:
    p = EXAMPLES / rel
    if not p.exists():
        pytest.skip(f"../shared/data not present (fresh clone): {rel}")
    return p


# --- 1. build check -----------------------------------------------------------------------


def test_hg19_cnvkit_file_under_grch38_sheet_is_refused():
    """CNVkit's real tr95t.cns is hg19: its chr1 segment ends at 249,240,121, past GRCh38 chr1
    (248,956,422). Declared GRCh38, it is refused naming the line and both builds."""
    p = shared("cnvkit/tr95t.cns")
    with pytest.raises(InputError, match=(
            r"tr95t\.cns:7: segment chr1:142535934-249240121 ends beyond chr1 of GRCh38 "
            r"\(248956422 bp\); it fits GRCh37 \(249250621 bp\): the CNV file looks like GRCh37; "
            r"the sample sheet declares GRCh38: fix genome_build")):
        genes(p, "GRCh38")
    assert genes(p, "GRCh37")["MET"].copy_number == 2.005


def test_grch38_pcgr_file_under_grch37_sheet_is_refused():
    """PCGR's real GRCh38 cna.tsv: chr3 segment ending at 198,098,659 is past GRCh37 chr3."""
    p = shared("pcgr/T001-BRCA.grch38.cna.tsv")
    with pytest.raises(InputError, match=r"grch38\.cna\.tsv:49: segment 3:192161890-198098659 ends "
                                         r"beyond 3 of GRCh37 \(198022430 bp\); it fits GRCh38"):
        genes(p, "GRCh37")


def test_vcf_contig_header_of_other_build_is_refused():
    """A copy-number VCF whose ##contig lengths are GRCh37 (DRAGEN fixture) is refused under GRCh38."""
    with pytest.raises(InputError, match=r"dragen_somatic\.cnv\.vcf: header gives 7 length 159138663, "
                                         r"but GRCh38 7 is 159345973; it is the GRCh37 length"):
        read_segments(str(FIX / "dragen_somatic.cnv.vcf"), build="GRCh38")


def test_gatk_seg_sequence_dictionary_is_checked():
    """GATK's called .seg carries @SQ lengths: GRCh38 lengths under a GRCh37 sheet are refused;
    under GRCh38 MEAN_LOG2_COPY_RATIO 2.5 over MET is 2*2^2.5 = 11.314 copies (relative)."""
    p = str(FIX / "gatk_modelsegments.called.seg")
    with pytest.raises(InputError, match=r"called\.seg: header gives chr7 length 159345973, but GRCh37 7 "
                                         r"is 159138663; it is the GRCh38 length"):
        read_segments(p, build="GRCh37")
    met = genes(p, "GRCh38")["MET"]
    assert (met.copy_number, met.source, met.cn_kind, met.focal) == (
        11.314, "GATK MEAN_LOG2_COPY_RATIO", "relative", True)


# --- 2. absolute vs relative copy number -------------------------------------------------


def test_allele_specific_pcgr_is_absolute_and_never_corrected():
    """PCGR/ASCAT nMajor+nMinor is the tumour's own copy number: RB1 1+0 stays 1 copy (not a
    homozygous deletion) and ERBB2 8+1 stays 9 (not 16) at tumour fraction 0.3."""
    g = genes(FIX / "pcgr_T001-BRCA.grch37.chr7_13_17.cna.tsv", "GRCh37", tf=0.3)
    rb1, erbb2 = g["RB1"], g["ERBB2"]
    assert (rb1.copy_number, rb1.adjusted_cn, rb1.cn_kind, rb1.tf_corrected) == (1.0, 1.0, "absolute", False)
    assert (erbb2.copy_number, erbb2.adjusted_cn, erbb2.focal) == (9.0, 9.0, True)
    assert erbb2.source == "allele-specific nMajor+nMinor (ASCAT/PCGR)"
    # ERBB2 at 9 copies on a 17q that is otherwise 1 copy (2+0 / 1+0): 9x its chromosome
    assert (erbb2.baseline_cn, erbb2.baseline_ratio) == (1.0, 9.0)


def test_real_pcgr_file_same_values():
    """The full real PCGR file (shared data) gives the same RB1 and ERBB2 copy numbers."""
    g = genes(shared("pcgr/T001-BRCA.grch37.cna.tsv"), "GRCh37", tf=0.3)
    assert (g["RB1"].adjusted_cn, g["ERBB2"].adjusted_cn, g["MET"].adjusted_cn) == (1.0, 9.0, 3.0)


def test_purple_negative_copy_number_at_deletion_is_zero():
    """PURPLE writes -0.0117 at a homozygous deletion: read as 0 copies, absolute, not an error;
    MET 12.5 is not corrected by the tumour fraction."""
    g = genes(FIX / "purple.cnv.somatic.tsv", "GRCh37", tf=0.3)
    assert (g["RB1"].copy_number, g["RB1"].adjusted_cn, g["RB1"].cn_kind) == (0.0, 0.0, "absolute")
    met = g["MET"]
    assert (met.copy_number, met.adjusted_cn, met.focal, met.baseline_ratio) == (12.5, 12.5, True, 6.219)
    assert met.source == "PURPLE copyNumber"


def test_real_purple_file_reads_with_its_negative_segments():
    """The real hmftools test-run PURPLE file (GRCh37) has copyNumber -0.0117 on chr16: it reads,
    and EGFR/MET keep PURPLE's values (3.961 / 4.033) with a tumour fraction given."""
    g = genes(shared("hmftools_colo829_purple/tumor_sample.purple.cnv.somatic.tsv"), "GRCh37", tf=0.5)
    assert (g["EGFR"].adjusted_cn, g["MET"].adjusted_cn, g["MET"].cn_kind) == (3.961, 4.033, "absolute")


def test_negative_relative_copy_number_is_refused(tmp_path):
    """A relative cn below 0 is not fitting noise: refused with its line."""
    p = tmp_path / "n.cns"
    p.write_text("chromosome\tstart\tend\tlog2\tcn\n7\t1\t200\t0.1\t-1\n")
    with pytest.raises(InputError, match=r"n\.cns:2: negative copy number -1 in cn"):
        read_segments(str(p))


# --- 3. copy-number VCFs ------------------------------------------------------------------


def test_craft_fold_change_matches_illumina_formula():
    """CRAFT reports fold change FC; Illumina's TST170 help: tumour purity 30 %, MET FC 2.2 ->
    n = (200*2.2 - 2*70)/30 = 10 copies. The reader gives the same 10.0."""
    met = genes(FIX / "craft_tst170.CopyNumberVariants.vcf", "GRCh37", tf=0.3)["MET"]
    assert (met.copy_number, met.adjusted_cn, met.source) == (4.4, 10.0, "CRAFT FC (fold change)")


def test_dragen_sm_and_filter():
    """DRAGEN SM (linear copy ratio) 3.6 -> 7.2 observed, 15.0 at tumour fraction 0.4; a cnvQual
    filtered RB1 loss keeps its filter; a REF call (ALT '.') is a copy-neutral segment."""
    g = genes(FIX / "dragen_somatic.cnv.vcf", "GRCh37", tf=0.4)
    assert (g["MET"].copy_number, g["MET"].adjusted_cn, g["MET"].focal) == (7.2, 15.0, True)
    assert (g["RB1"].copy_number, g["RB1"].filters) == (0.2, "cnvQual")
    assert (g["ERBB2"].copy_number, g["ERBB2"].focal) == (2.02, False)


def test_bgzipped_dragen_vcf(tmp_path):
    """DRAGEN writes *.cnv.vcf.gz (BGZF): read the same as the plain file."""
    import pysam

    gz = str(tmp_path / "s.cnv.vcf.gz")
    pysam.tabix_compress(str(FIX / "dragen_somatic.cnv.vcf"), gz)
    assert genes(gz, "GRCh37", tf=0.4)["MET"].adjusted_cn == 15.0


def test_gatk_gcnv_copy_number():
    """GATK gCNV genotyped segments: FORMAT CN 6 over MET, CN 2 around it: 3x the chromosome."""
    met = genes(FIX / "gcnv_genotyped_segments.vcf", "GRCh38")["MET"]
    assert (met.copy_number, met.adjusted_cn, met.baseline_cn, met.baseline_ratio) == (6.0, None, 2.0, 3.0)
    assert (met.amplified_span, met.amplified_span_fraction, met.focal) == (1000000, 0.0101, True)


def test_cnvkit_export_vcf_fold_change_log():
    """CNVkit export vcf: FOLD_CHANGE_LOG is used (the CN genotype is rounded): MET gives the same
    23.204 as the .cns it came from; the DEL record without CN is read too."""
    g = genes(FIX / "cnvkit_export.vcf", "GRCh37")
    assert (g["MET"].copy_number, g["MET"].source) == (23.204, "CNVkit VCF FOLD_CHANGE_LOG")
    assert (g["ERBB2"].copy_number, g["RB1"].copy_number) == (2.859, 0.544)


def test_small_variant_vcf_as_cnv_is_refused():
    """A small-variant VCF given as the CNV file says so and where it belongs."""
    p = ROOT / "test_data" / "ALK02_tissue.vcf"
    with pytest.raises(InputError, match=r"ALK02_tissue\.vcf: record 1 \(chr1:1042965\): this is a "
                                         r"small-variant VCF .* it belongs in the vcf column"):
        read_segments(str(p))


def test_header_only_vcf_has_no_segments(tmp_path):
    """A copy-number VCF with a header and no records is refused, not read as 'no amplification'."""
    text = (FIX / "craft_tst170.CopyNumberVariants.vcf").read_text().split("#CHROM")[0]
    p = tmp_path / "empty.vcf"
    p.write_text(text + "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\n")
    with pytest.raises(InputError, match=r"empty\.vcf: CNV file has no segments"):
        read_segments(str(p))


# --- 4. multi-sample SEG ------------------------------------------------------------------


def test_multi_sample_seg_needs_a_sample_name():
    """CNVkit's real cw-tr-log2.seg (3 samples kept) is refused without a name, listing the IDs."""
    p = str(FIX / "cnvkit_cw-tr-log2.3samples.seg")
    with pytest.raises(InputError, match=r"3 samples in column 'ID' \(TR_01_T, TR_02_T, TR_04_T\); "
                                         r"set 'tumor_sample'"):
        read_segments(p)
    with pytest.raises(InputError, match=r"none of the samples in column 'ID' \(TR_01_T, TR_02_T, "
                                         r"TR_04_T\) is named 'S9' or 'P1_T1'"):
        read_segments(p, sample=["S9", "P1_T1"])


def test_multi_sample_seg_takes_the_named_sample():
    """With a name only that sample's rows are read (TR_04_T ERBB2 log2 0.0134; TR_02_T 0), and
    chromosomes 23 and 24 are read as X and Y."""
    p = FIX / "cnvkit_cw-tr-log2.3samples.seg"
    assert genes(p, "GRCh37", sample=[None, "TR_04_T"])["ERBB2"].copy_number == 2.019
    assert genes(p, "GRCh37", sample="TR_02_T")["ERBB2"].copy_number == 2.0
    segs = read_segments(str(p), sample="TR_01_T")
    assert (len(segs), segs[-2].chrom, segs[-1].chrom) == (38, "X", "Y")


# --- 5. focal definition on real data ------------------------------------------------------


def test_real_cnvkit_files_focal_and_broad():
    """amplicon.cns: MET focal (0.1 % of 7q). tr95t.cns: MET copy-neutral across 7q (broad run)."""
    met = genes(shared("cnvkit/amplicon.cns"), "GRCh37")["MET"]
    assert (met.amplified_span_fraction, met.focal) == (0.001, True)
    met = genes(shared("cnvkit/tr95t.cns"), "GRCh37")["MET"]
    assert (met.amplified_span_fraction, met.focal) == (0.9999, False)


# --- 6/7. refusals ------------------------------------------------------------------------


def test_header_only_cns_has_no_segments(tmp_path):
    """A .cns with only its header line is refused with 'CNV file has no segments'."""
    p = tmp_path / "h.cns"
    p.write_text("chromosome\tstart\tend\tgene\tlog2\n")
    with pytest.raises(InputError, match=r"h\.cns: CNV file has no segments;"):
        read_segments(str(p))


def test_only_inverted_segments_is_no_segments(tmp_path):
    """A file whose only segments are inverted (skipped) has nothing to examine: refused."""
    p = tmp_path / "i.cns"
    p.write_text("chromosome\tstart\tend\tgene\tlog2\n7\t117000000\t116000000\tMET\t2.5\n")
    with pytest.raises(InputError, match=r"i\.cns: CNV file has no segments \(1 inverted segment"):
        read_segments(str(p))


def test_directory_fifo_device_binary(tmp_path):
    """Non-regular files are refused before opening; binary content says so."""
    with pytest.raises(InputError, match=r": is a directory, not a CNV file; give the segment file"):
        read_segments(str(tmp_path))
    fifo = tmp_path / "pipe.cns"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match=r"pipe\.cns: is a FIFO \(named pipe\), not a CNV file"):
        read_segments(str(fifo))
    if os.path.exists("/dev/zero"):
        with pytest.raises(InputError, match=r"/dev/zero: is not a regular file, not a CNV file"):
            read_segments("/dev/zero")
    b = tmp_path / "b.cns"
    b.write_bytes(b"chromosome\tstart\x00\x01\x02")
    with pytest.raises(InputError, match=r"b\.cns: not a text segment file \(binary data"):
        read_segments(str(b))
    z = tmp_path / "z.cns"
    z.write_bytes(b"\x1f\x8b\x08\x00" + b"\x00" * 20)
    with pytest.raises(InputError, match=r"z\.cns: not a text segment file"):
        read_segments(str(z))


def test_absurd_log2_is_an_error_not_an_overflow(tmp_path):
    """log2 1024 (2**1024 overflows a float) is refused naming its line."""
    p = tmp_path / "o.cns"
    p.write_text("chromosome\tstart\tend\tgene\tlog2\n7\t116000000\t117000000\tMET\t1024\n")
    with pytest.raises(InputError, match=r"o\.cns:2: column 'log2': log2 ratio 1024 is not plausible"):
        read_segments(str(p))


def test_gene_level_cna_table_is_refused_with_reason():
    """OncoKB's gene-level CNA matrix has no segments: the error says what it is."""
    p = shared("oncokb_annotator/example_cna.txt")
    with pytest.raises(InputError, match=r"example_cna\.txt:1: missing column\(s\) chromosome, start, "
                                         r"end, log2 or copy number \(cn\).*gene-level CNA table"):
        read_segments(str(p))


def test_bom_and_crlf_are_read(tmp_path):
    """A header with a UTF-8 byte-order mark and CRLF line ends (spreadsheet export) reads."""
    p = tmp_path / "w.cns"
    p.write_bytes(b"\xef\xbb\xbfchromosome\tstart\tend\tlog2\r\n7\t116600001\t116900000\t2.0\r\n")
    assert genes(p, "GRCh38")["MET"].copy_number == 8.0


def test_overlong_line_is_refused(tmp_path):
    """A line longer than 1 MiB is not a segment line: refused, memory stays bounded."""
    p = tmp_path / "l.cns"
    p.write_text("chromosome\tstart\tend\tlog2\n" + "7\t1\t2\t" + "1" * (1 << 20) + "\n")
    with pytest.raises(InputError, match=r"l\.cns:2: line longer than 1048576 bytes"):
        read_segments(str(p))
