"""Caller conventions for read counts: GATK/Mutect2 (AD/DP/AF), VarDict (AF/AD/DP), Strelka2 tier-1
counts ({A,C,G,T}U for SNVs, TAR/TIR for indels), PCGR/TCGA-style ADT/DPT strings."""
from __future__ import annotations

from pathlib import Path

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


# --- real caller outputs (tests/fixtures/callers, see PROVENANCE.md there) ------------------------

FIX = Path(__file__).resolve().parent / "fixtures" / "callers"


def counts(name: str, tumor: str | None = None):
    """{(chrom, pos, alt): (vaf, depth, alt_reads)} of every record, and the caller used."""
    infos = []
    vs = list(read_variants(str(FIX / name), None, tumor=tumor, info_out=infos))
    return {(v.chrom, v.pos, v.alt): (v.vaf, v.depth, v.alt_reads) for v in vs}, infos[0]


def test_varscan2_alt_is_ad_ref_is_rd_vaf_is_freq():
    """VarScan 2 1:2584408 TUMOR 'DP=13 RD=9 AD=4 FREQ=30.77%': alt 4, depth 9+4, VAF 0.3077."""
    c, info = counts("varscan2.vcf")
    assert info.caller == "VarScan 2"
    assert c[("1", 2584408, "A")] == (0.3077, 13, 4)
    assert c[("1", 1991014, "G")] == (0.3846, 91, 35)


def test_somaticsniper_bcount():
    """SomaticSniper 1:1233886 C>G TUMOR 'BCOUNT=0,3,4,0': alt 4 (G), depth 7."""
    c, info = counts("somaticsniper.vcf")
    assert info.caller == "SomaticSniper"
    assert c[("1", 1233886, "G")] == (0.571429, 7, 4)
    assert c[("1", 3789211, "G")] == (0.263158, 19, 5)  # BCOUNT 14,0,5,0


def test_radia_reference_first_ad_and_af():
    """RADIA DNA_TUMOR 1:148342496 'AD=531,72 AF=0.88,0.12': VAF 0.12, not 0.88; tri-allelic
    1:155294949 'AD=159,24,1,1 AF=0.86,0.13,0.01,0.01' per ALT."""
    c, info = counts("radia.vcf", tumor="DNA_TUMOR")
    assert info.caller == "RADIA"
    assert c[("1", 148342496, "G")] == (0.12, 603, 72)
    assert [c[("1", 155294949, a)] for a in "ACT"] == [(0.13, 185, 24), (0.01, 185, 1), (0.01, 185, 1)]


def test_strelka_tier1_used_counts_not_dp():
    """Strelka 1:118166116 C>A TUMOR 'DP=66 FDP=2 AU=25,27 CU=39,39': depth 64 (tier-1 used), VAF
    25/64; indel 2:102626146 'TAR=19,19 TIR=57,58': 57 of 76."""
    c, info = counts("strelka.vcf")
    assert info.caller == "Strelka (somatic)"
    assert c[("1", 118166116, "A")] == (0.390625, 64, 25)
    assert c[("2", 102626146, "C")] == (0.75, 76, 57)


def test_mutect1_fa_and_approximate_dp_on_rejected_record():
    """MuTect1: VAF from FA; 1:13448084 (REJECT) TUMOR 'AD=0,13 DP=10': kept with a note, depth 13."""
    c, info = counts("mutect1.vcf")
    assert info.caller == "MuTect 1"
    assert c[("1", 204429832, "A")] == (0.071, 42, 3)
    assert c[("1", 13448084, "A")] == (1.0, 13, 13)
    assert info.notes == ["1:13448084: alt reads 13 exceed DP 10 (DP is approximate or the record is "
                          "filtered); depth taken as 13"]


def test_muse_and_pindel_reference_first_ad():
    """MuSE 1:8715966 'DP=142 AD=130,12'; Pindel 1:16890971 'DP=47 AD=43,4' (AD Number=.)."""
    assert counts("muse.vcf")[0][("1", 8715966, "A")] == (0.084507, 142, 12)
    assert counts("pindel.vcf")[0][("1", 16890971, "A")] == (0.085106, 47, 4)


def test_vardict_paired_af_ad_dp():
    """VarDict paired, tumour column 'abc', 20:126155 'DP=292 AD=200,89 AF=0.3048'."""
    c, info = counts("vardict_paired.vcf", tumor="abc")
    assert c[("20", 126155, "G")] == (0.3048, 292, 89)
    assert c[("20", 68384, "A")] == (0.0076, 264, 2)


def test_freebayes_ro_ao():
    """FreeBayes: depth = RO + all AO; the second ALT of 'RO=10 AO=15,5' has 5 of 30."""
    c, info = counts("freebayes.vcf")
    assert info.caller == "FreeBayes"
    assert c[("ref", 5, "T")] == (0.4, 20, 8)
    assert c[("ref", 7, "T")] == (0.166667, 30, 5)


def test_lofreq_info_fields_without_sample_column():
    """LoFreq (no sample column): VAF = INFO AF, depth = INFO DP, alt = DP4 alt-fwd + alt-rev."""
    c, info = counts("lofreq.vcf")
    assert info.caller == "LoFreq"
    assert c[("2", 29220747, "T")] == (0.019256, 3012, 58)


def test_readme_table_lists_every_convention():
    from ctresist.io.callers import CONVENTIONS, readme_table

    table = readme_table()
    assert table.count("\n") == len(CONVENTIONS) + 1
    assert "| VarScan 2 | FORMAT RD, AD (Number=1), FREQ |" in table


def test_pisces_vf_and_reference_first_ad():
    """Pisces: VAF = VF, alt = AD[1] (AD Number=., reference first), depth = DP."""
    c, info = counts("pisces.vcf")
    assert info.caller == "Pisces"
    assert c[("chr2", 29443613, "T")] == (0.016, 2510, 40)


@pytest.mark.parametrize("name,build,expect", [
    ("lofreq.vcf", "GRCh38", (0.019256, 3012, 58)),
    ("pisces.vcf", "GRCh37", (0.016, 2510, 40)),
])
def test_caller_counts_reach_the_report(tmp_path, name, build, expect):
    """Through the real CLI: the known G1202R allele is called with the caller's own counts."""
    import json
    import subprocess
    import sys

    out = tmp_path / "r.json"
    proc = subprocess.run([sys.executable, "-m", "ctresist.cli", "annotate", "--sample", "S", "--vcf",
                           str(FIX / name), "--driver", "EML4-ALK", "--specimen", "plasma", "--build",
                           build, "--therapy", "alectinib", "-o", str(out)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    [call] = [c for c in json.loads(out.read_text())["calls"] if c["alteration"] == "G1202R"]
    assert (call["vaf"], call["depth"], call["alt_reads"]) == expect


def test_vector_length_contradicting_its_number_is_unknown(write_vcf):
    """AF declared Number=A but written reference first (2 values, 1 ALT): VAF unknown, not 0.98."""
    hdr = ['##FORMAT=<ID=DP,Number=1,Type=Integer,Description="d">',
           '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="a">',
           '##FORMAT=<ID=AF,Number=A,Type=Float,Description="f">']
    v = one(write_vcf, hdr, "DP:AD:AF", "1000:980,20:0.98,0.02")
    assert (v.depth, v.alt_reads, v.vaf) == (1000, 20, 0.02)  # VAF from AD/DP, not AF[0]


def test_strelka_filtered_basecalls_do_not_halve_the_vaf(tmp_path):
    """Strelka's own header lines, a record whose DP (2000) includes 1000 filtered calls (FDP): the
    VAF is 20 of the 1000 used tier-1 calls (0.02), not 20/2000."""
    header = [ln for ln in (FIX / "strelka.vcf").read_text().splitlines() if ln.startswith("#")]
    rec = "\t".join(["2", "29220747", ".", "C", "T", ".", "PASS", "SOMATIC", "DP:FDP:SDP:SUBDP:AU:CU:GU:TU",
                     "900:0:0:0:0,0:900,900:0,0:0,0", "2000:1000:0:0:0,0:980,985:0,0:20,21"])
    path = tmp_path / "s.vcf"
    path.write_text("\n".join(header + [rec]) + "\n")
    [v] = read_variants(str(path), None)
    assert (v.vaf, v.depth, v.alt_reads) == (0.02, 1000, 20)
