"""Site states without reads (ctresist.io.coverage): a GATK-style gVCF fixture, and real
samtools depth, bcftools gVCF and mosdepth outputs made at test time from the plasma BAM of
test_genotype.py (real GRCh38 EGFR sequence)."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pysam
import pysam.bcftools
import pytest
from bam_builder import LOCUS_FASTA, SiteReads, build_site_bam, write_reference
from test_genotype import C797S, L858R, S_C797S, S_L858R, S_T790M, T790M, site

from ctresist import stats
from ctresist.errors import InputError
from ctresist.genotype import site_states
from ctresist.io.coverage import detect_format, site_coverage

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "ctdna"
GVCF = FIXTURES / "gatk_style_egfr.g.vcf"
S_L792H = site("7", 55181384, "T", "A")
S_C797S_2 = site("7", 55181399, "G", "C")
S_C797S_MNV = site("7", 55181398, "TGC", "AGT")
SITES = [S_T790M, S_L792H, S_C797S, S_C797S_2, S_C797S_MNV, S_L858R]

needs_locus = pytest.mark.skipif(not LOCUS_FASTA.exists(),
                                 reason=f"real GRCh38 EGFR sequence not found at {LOCUS_FASTA}")


def test_gatk_gvcf_blocks():
    cov = site_coverage(str(GVCF), SITES)
    assert detect_format(str(GVCF)) == "gvcf"
    t = cov[S_T790M.key]
    assert (t.depth, t.alt_reads) == (1800, None)  # MIN_DP of the block, not its DP 1950
    assert t.note == "gVCF reference block chr7:55181300-55181390, minimum depth 1,800"
    assert cov[S_L792H.key].depth == 1800
    c = cov[S_C797S.key]
    assert (c.depth, c.alt_reads) == (1500, 10)  # a variant record with AD 1490,10,0
    assert cov[S_C797S_2.key].depth == 0  # ./. no-call block
    assert cov[S_C797S_MNV.key].depth == 0  # minimum over its three bases
    assert cov[S_L858R.key].depth is None
    assert cov[S_L858R.key].note == "7:55191822 is not in the gVCF file"


def test_gvcf_states():
    rows = {(r["pos"], r["ref"], r["alt"]): r for r in site_states(
        SITES, [], coverage=site_coverage(str(GVCF), SITES), min_depth=100, min_alt_reads=3,
        min_vaf=0.001, tumor_fraction=0.3)}
    t = rows[(T790M, "C", "T")]
    assert (t["state"], t["depth"], t["k_call"]) == ("not_detected", 1800, 3)
    assert t["lod"] == stats.lod(1800, 3)
    assert t["text"] == ("not detected; 95 % LoD 0.35 % at 1,800x (gVCF reference block "
                         "chr7:55181300-55181390, minimum depth 1,800; LoD for the caller's "
                         "threshold of 3 alt reads)")
    c = rows[(C797S, "T", "A")]
    assert (c["state"], c["alt_reads"], c["depth"]) == ("read_level_only", 10, 1500)
    assert c["text"].startswith("possible, confirm: gVCF variant record chr7:55181398 DP 1,500 "
                                "lists this allele with 10 alt reads of 1,500")
    assert rows[(C797S + 1, "G", "C")]["state"] == "not_assessable"
    assert rows[(C797S + 1, "G", "C")]["text"] == (
        "not assessable: depth 0 (gVCF) is below the minimum 100")
    miss = rows[(L858R, "T", "G")]
    assert (miss["state"], miss["text"]) == (
        "not_assessable", "absence not assessable: 7:55191822 is not in the gVCF file")


def test_min_vaf_raises_the_coverage_threshold():
    (row,) = site_states([S_T790M], [], coverage=site_coverage(str(GVCF), [S_T790M]),
                         min_alt_reads=3, min_vaf=0.01, tumor_fraction=0.3)
    assert row["k_call"] == 18  # 1 % of 1,800
    assert row["lod"] == stats.lod(1800, 18)


@pytest.fixture(scope="module")
def plasma(tmp_path_factory):
    if not LOCUS_FASTA.exists():
        pytest.skip(f"real GRCh38 EGFR sequence not found at {LOCUS_FASTA}")
    d = tmp_path_factory.mktemp("cov")
    bam = build_site_bam(d / "plasma.bam", [
        SiteReads((T790M, C797S), 2400), SiteReads((T790M, C797S), 30, baseq=10),
        SiteReads((L858R,), 60)])
    return d, bam


@needs_locus
def test_real_samtools_depth(plasma):
    d, bam = plasma
    out = d / "depth.txt"
    out.write_text(pysam.samtools.depth("-a", "-r", "chr7:55181370-55181410", bam))
    assert detect_format(str(out)) == "samtools_depth"
    cov = site_coverage(str(out), SITES)
    assert cov[S_T790M.key].depth == 2430  # samtools depth applies no base-quality floor
    assert cov[S_T790M.key].note == "samtools depth 2,430"
    assert cov[S_L858R.key].depth is None
    assert "omits zero-depth positions unless run with -a" in cov[S_L858R.key].note


@needs_locus
def test_real_bcftools_gvcf(plasma, tmp_path):
    d, bam = plasma
    fasta, _ = write_reference(tmp_path / "ref.fa")
    pile = str(tmp_path / "pile.bcf")
    pysam.bcftools.mpileup("-f", fasta, "-a", "AD,DP", "-d", "10000", "-r",
                           "chr7:55181375-55181400", "-Ob", "-o", pile, bam, catch_stdout=False)
    gvcf = str(tmp_path / "plasma.g.vcf.gz")
    pysam.bcftools.call("-m", "-g", "50", "-Oz", "-o", gvcf, pile, catch_stdout=False)
    cov = site_coverage(gvcf, [S_T790M, S_C797S])
    # the block's MinDP counts all 2,430 reads, the 30 with base quality 10 included
    assert cov[S_T790M.key].depth == 2430
    assert cov[S_T790M.key].note.startswith("gVCF reference block chr7:55181375-")


@pytest.mark.skipif(shutil.which("mosdepth") is None, reason="mosdepth is not installed")
@needs_locus
def test_real_mosdepth_per_base_and_regions(plasma):
    d, bam = plasma
    bed = d / "sites.bed"
    bed.write_text("chr7\t55181300\t55181500\tEGFR_ex20\nchr7\t55191800\t55191850\tEGFR_ex21\n")
    subprocess.run(["mosdepth", "-b", str(bed), str(d / "md"), bam], check=True)
    per_base = str(d / "md.per-base.bed.gz")
    cov = site_coverage(per_base, [S_T790M, S_L858R, site("7", 55163737, "C", "T")])
    assert cov[S_T790M.key].depth == 2430 and cov[S_T790M.key].note == "mosdepth per-base 2,430"
    assert cov[S_L858R.key].depth == 60
    assert cov[("7", 55163737, "C", "T")].depth == 0  # mosdepth writes zero-depth runs
    regions = str(d / "md.regions.bed.gz")
    rcov = site_coverage(regions, [S_T790M])
    assert rcov[S_T790M.key].note.startswith("mosdepth mean depth of region chr7:55181301-55181500")
    (row,) = site_states([S_L858R], [], coverage=cov, min_depth=100)
    assert row["state"] == "not_assessable"


def test_bad_depth_files(tmp_path):
    bad = tmp_path / "depth.txt"
    bad.write_text("chr7\t55181378\tmany\n")
    with pytest.raises(InputError, match=r"depth.txt:1: expected chrom, pos, depth \(samtools"):
        site_coverage(str(bad), [S_T790M])
    bad.write_text("chr7\tpos\tdepth\n")
    with pytest.raises(InputError, match=r"depth.txt:1: not a gVCF, mosdepth BED or samtools"):
        site_coverage(str(bad), [S_T790M])
    bad.write_text("chr7\t55181377\t2400\nchr7\tx\t2400\n")
    with pytest.raises(InputError, match=r"depth.txt:2: expected chrom, pos, depth"):
        site_coverage(str(bad), [S_T790M], fmt="samtools_depth")
    with pytest.raises(InputError, match="coverage file not found"):
        site_coverage(str(tmp_path / "none.txt"), [S_T790M])
    nodp = tmp_path / "nodp.g.vcf"
    nodp.write_text(GVCF.read_text().replace("GT:DP:GQ:MIN_DP:PL\t0/0:1950:99:1800:0,120,1800",
                                             "GT:GQ:PL\t0/0:99:0,120,1800"))
    with pytest.raises(InputError, match=r"record chr7:55181300: no MIN_DP or DP"):
        site_coverage(str(nodp), [S_T790M])


def test_pisces_style_genome_vcf_per_position_reference_lines(tmp_path):
    """Pisces -gVCF writes one line per position; a reference position has ALT '.', no END,
    GT 0/0 and FORMAT DP (header lines as in tests/fixtures/callers/pisces.vcf)."""
    header = [ln for ln in (Path(__file__).resolve().parent / "fixtures" / "callers"
                            / "pisces.vcf").read_text().splitlines()
              if ln.startswith("##") and not ln.startswith("##contig")]
    rows = ["##contig=<ID=chr7,length=159345973>",
            "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tplasma.bam",
            "chr7\t55181377\t.\tG\t.\t100\tPASS\tDP=2398\tGT:GQ:AD:DP:VF:NL:SB\t"
            "0/0:100:2398:2398:0.000:20:-100.0000",
            "chr7\t55181378\t.\tC\t.\t100\tPASS\tDP=2401\tGT:GQ:AD:DP:VF:NL:SB\t"
            "0/0:100:2399:2401:0.001:20:-100.0000",
            "chr7\t55181398\t.\tT\tA\t12\tq30\tDP=2380\tGT:GQ:AD:DP:VF:NL:SB\t"
            "0/1:12:2376,4:2380:0.002:20:-100.0000"]
    p = tmp_path / "plasma.genome.vcf"
    p.write_text("\n".join(header + rows) + "\n")
    cov = site_coverage(str(p), [S_T790M, S_C797S, S_L792H])
    assert (cov[S_T790M.key].depth, cov[S_T790M.key].alt_reads) == (2401, None)
    assert cov[S_T790M.key].note == "gVCF reference call chr7:55181378, depth 2,401"
    assert (cov[S_C797S.key].depth, cov[S_C797S.key].alt_reads) == (2380, 4)
    assert cov[S_L792H.key].depth is None  # no line for 55181384
