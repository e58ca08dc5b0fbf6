"""Caller conventions for read counts: GATK/Mutect2 (AD/DP/AF), VarDict (AF/AD/DP), Strelka2 tier-1
counts ({A,C,G,T}U for SNVs, TAR/TIR for indels), PCGR/TCGA-style ADT/DPT strings."""
from __future__ import annotations

import pytest
from conftest import SHARED, csq, vcf_text

from ctresist.genes import genes_for_build
from ctresist.io.vcf import read_variants

GENES = genes_for_build("GRCh38")
INFO = "CSQ=" + csq("ALK", "T", "p.Gly1202Arg")


def one(write_vcf, fmt_header: list[str], fmt: str, tumour: str, normal: str | None = None):
    samples = ("NORMAL", "TUMOR") if normal is not None else ("TUMOR",)
    cols = [normal, tumour] if normal is not None else [tumour]
    text = vcf_text(["\t".join(["2", "29220747", ".", "C", "T", ".", "PASS", INFO, fmt, *cols])],
                    samples=samples, fmt_tags=(), extra_header=fmt_header)
    [v] = read_variants(write_vcf("c.vcf", text), GENES)
    return v


def test_strelka_snv_tier1_counts(write_vcf):
    """Strelka2 somatic SNV: no AD; alt reads from TU (tier 1) of the TUMOR column, depth from DP."""
    hdr = ['##FORMAT=<ID=DP,Number=1,Type=Integer,Description="d">'] + [
        f'##FORMAT=<ID={b}U,Number=2,Type=Integer,Description="{b}">' for b in "ACGT"]
    v = one(write_vcf, hdr, "DP:AU:CU:GU:TU", "2000:0,0:1980,1990:0,0:20,21", normal="800:0,0:800,800:0,0:0,0")
    assert (v.depth, v.alt_reads, v.vaf, v.normal_alt_reads) == (2000, 20, 0.01, 0)


def test_vardict_af_ad_dp(write_vcf):
    """VarDict: FORMAT AF is used as given; AD alt count and DP read per sample."""
    hdr = ['##FORMAT=<ID=DP,Number=1,Type=Integer,Description="d">',
           '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="a">',
           '##FORMAT=<ID=AF,Number=A,Type=Float,Description="f">',
           '##FORMAT=<ID=VD,Number=1,Type=Integer,Description="v">']
    v = one(write_vcf, hdr, "DP:VD:AD:AF", "1500:15:1485,15:0.01")
    assert (v.depth, v.alt_reads, v.vaf) == (1500, 15, 0.01)


def test_pcgr_string_adt_dpt(write_vcf):
    """TCGA/PCGR style: ADT declared as a String '21,8' and DPT integer still give counts."""
    hdr = ['##FORMAT=<ID=DPT,Number=1,Type=Integer,Description="d">',
           '##FORMAT=<ID=ADT,Number=.,Type=String,Description="a">']
    v = one(write_vcf, hdr, "DPT:ADT", "29:21,8")
    assert (v.depth, v.alt_reads) == (29, 8)
    assert v.vaf == pytest.approx(0.275862, abs=1e-6)


def test_missing_counts_stay_unknown(write_vcf):
    """No AD/DP/AF at all: VAF, depth and alt reads are None (missing is not zero)."""
    hdr = ['##FORMAT=<ID=GT,Number=1,Type=String,Description="g">']
    v = one(write_vcf, hdr, "GT", "0/1")
    assert (v.depth, v.alt_reads, v.vaf) == (None, None, None)


def test_real_pcgr_vcf_reads_catalogue_genes():
    """The real PCGR TCGA COAD GRCh38 VCF (bgzip, ADT/DPT strings) streams without error."""
    path = SHARED / "examples" / "pcgr" / "T001-COAD.grch38.vcf.gz"
    if not path.exists():
        pytest.skip("../shared/data not present (fresh clone)")
    vs = list(read_variants(str(path), GENES))
    assert vs, "expected variants in catalogue-gene regions"
    assert all(v.depth is not None and v.alt_reads is not None for v in vs)
