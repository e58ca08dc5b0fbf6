"""The finished modules wired into one annotation: ctDNA read-level evidence (BAM), copy number
from a caller-filtered CNV VCF, and an acquired fusion, each through ``ctresist annotate`` (the
CLI) or ``do_annotate`` (the same options through the CLI and the workflow:
``tests/test_cli_wiring.py``).

Inputs: ``test_data/EGFR02_plasma.vcf.gz`` (EGFR L858R patient on osimertinib; T790M 88/4200
and C797S 41/4150 phased in cis by GT/PS, L858R 160/4000); BAMs built by ``bam_builder`` over
the real GRCh38 EGFR sequence (skipped without ../shared/data); a DRAGEN copy-number VCF and a
Manta SV VCF written here with the callers' own header lines, taken from the committed
fixtures ``tests/fixtures/cnv/dragen_somatic.cnv.vcf`` and
``tests/fixtures/fusions/manta_somatic_ccdc6_ret.grch37.vcf`` (see PROVENANCE.md there), moved
to GRCh38 contig lengths and coordinates.
"""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
from bam_builder import C797S, LOCUS_FASTA, T790M, Reads, build_bam
from conftest import ROOT, csq, rec, vcf_text

from ctresist.annotate import do_annotate
from ctresist.catalogue import load_catalogue
from ctresist.interpret import Context

EGFR02 = ROOT / "test_data" / "EGFR02_plasma.vcf.gz"
L798I = 55181401  # EGFR c.2392C>A (GRCh38), a curated osimertinib-resistance allele
S768I = 55181312  # EGFR c.2303G>T (GRCh38)
CNV_FIX = ROOT / "tests" / "fixtures" / "cnv" / "dragen_somatic.cnv.vcf"
SV_FIX = ROOT / "tests" / "fixtures" / "fusions" / "manta_somatic_ccdc6_ret.grch37.vcf"
CAT = load_catalogue()

needs_locus = pytest.mark.skipif(not LOCUS_FASTA.is_file(),
                                 reason=f"shared GRCh38 EGFR locus sequence not available: {LOCUS_FASTA}")


def egfr_ctx(**kw) -> Context:
    base = dict(sample="EGFR02_plasma", driver_text="EGFR L858R", driver="EGFR mutation",
                therapy_text="osimertinib", therapy=["osimertinib"], specimen="plasma", build="GRCh38")
    return Context(**{**base, **kw})


def plasma_bam(tmp_path, l798i_reads: int) -> str:
    """500 fragments over T790M/C797S/L798I: 20 carry T790M+C797S (as the VCF), ``l798i_reads``
    carry L798I (C>A, not in the VCF), the rest are reference."""
    groups = [Reads({T790M: "T", C797S: "A"}, 20, covers=(T790M, C797S, L798I)),
              Reads({L798I: "A"}, l798i_reads, covers=(T790M, C797S, L798I)),
              Reads({}, 480 - l798i_reads, covers=(T790M, C797S, L798I))]
    return build_bam(tmp_path / "plasma.bam", groups, contig="7")


def dragen_cnv(tmp_path, met_filter: str) -> str:
    """A DRAGEN somatic CNV VCF (header lines of the committed fixture, GRCh38 chr7 length): a
    focal MET gain, SM 3.6 (copy ratio: CN 7.2 of the diluted mixture), FILTER ``met_filter``."""
    header = [ln for ln in CNV_FIX.read_text().splitlines() if ln.startswith("##")
              and not ln.startswith("##contig")]
    lines = header + ["##contig=<ID=7,length=159345973>",
                      "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tPLASMA",
                      f"7\t116500000\tDRAGEN:GAIN:7:116500001-116900000\tN\t<DUP>\t.\t{met_filter}\t"
                      "SVLEN=400000;SVTYPE=CNV;END=116900000;REFLEN=400000\tGT:SM:CN:BC\t./1:3.6:7:80"]
    p = tmp_path / f"met_{met_filter}.cnv.vcf"
    p.write_text("\n".join(lines) + "\n")
    return str(p)


def manta_ccdc6_ret_grch38(tmp_path) -> str:
    """The committed Manta CCDC6::RET mate pair (tumour PR 180,9 / SR 200,12), moved to GRCh38:
    CCDC6 intron 1 (59,889,000) joined to RET intron 11 (43,115,700), contigs of GRCh38."""
    text = SV_FIX.read_text()
    out = []
    for ln in text.splitlines():
        if ln.startswith("##contig"):
            continue
        if ln.startswith("#CHROM"):
            out += ["##contig=<ID=chr7,length=159345973>", "##contig=<ID=chr10,length=133797422>"]
        elif not ln.startswith("#"):
            if ln.startswith("chr7\t"):
                continue  # the EGFR-region deletion of the GRCh37 fixture
            ln = ln.replace("43611200", "43115700").replace("61650000", "59889000")
        out.append(ln)
    p = tmp_path / "manta.grch38.vcf"
    p.write_text("\n".join(out) + "\n")
    return str(p)


def driver_only_vcf(tmp_path) -> str:
    """EGFR L858R alone (160/4000), annotated on EGFR's canonical transcript."""
    vcf = tmp_path / "driver_only.vcf"
    vcf.write_text(vcf_text([rec("7", 55191822, "T", "G", "CSQ=" + csq("EGFR", "G", "p.Leu858Arg",
                                                                     tx="ENST00000275493.7", hgvsc="c.2573T>G"),
                                 "0/1:3840,160:4000:0.04")], contigs={"7": 159345973}))
    return str(vcf)


def cli(tmp_path, *args: str) -> dict:
    out = tmp_path / "report.json"
    r = subprocess.run([sys.executable, "-m", "ctresist.cli", "annotate", *args, "-o", str(out)],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    return json.loads(out.read_text())


def site(model: dict, gene: str, alteration: str) -> dict:
    [row] = [r for r in model["ctdna"]["sites"] if (r["gene"], r["alteration"]) == (gene, alteration)]
    return row


@needs_locus
def test_egfr02_plasma_with_bam_has_ctdna_block_and_read_level_site_is_never_a_finding(tmp_path):
    """EGFR02 + a BAM (through the CLI): the cis T790M+C797S call stands; the ctDNA block gives
    each catalogue change one state; L798I, 10 alt reads in the BAM but not called, is 'possible,
    confirm' (read_level_only), a limitation line, and never a call."""
    m = cli(tmp_path, "--sample", "EGFR02_plasma", "--vcf", str(EGFR02), "--driver", "EGFR L858R",
            "--therapy", "osimertinib", "--specimen", "plasma", "--build", "GRCh38",
            "--bam", plasma_bam(tmp_path, 10))
    assert m["summary"]["headline"] == "Resistance to osimertinib detected: EGFR T790M+C797S"
    assert m["summary"]["remaining_options"] == []
    cis = [c for c in m["calls"] if c["entry_id"] == "EGFR_C797S_T790M__EGFR_mutation_cis"]
    assert [(c["status"], c["phase"]) for c in cis] == [("actionable_resistance", "cis")]
    assert not any("L798I" in c["alteration"] for c in m["calls"])
    ct = m["ctdna"]
    assert (ct["source"], ct["input"]) == ("reads", "plasma.bam")
    assert (ct["tumor_fraction"]["method"], ct["tumor_fraction"]["value"]) == ("estimated from VAF", 0.08)
    t790m, c797s, l858r = site(m, "EGFR", "T790M"), site(m, "EGFR", "C797S"), site(m, "EGFR", "L858R")
    assert (t790m["state"], t790m["alt_reads"], t790m["depth"]) == ("detected_by_caller", 88, 4200)
    assert (c797s["state"], c797s["alt_reads"], c797s["depth"]) == ("detected_by_caller", 41, 4150)
    assert (l858r["state"], l858r["role"]) == ("detected_by_caller", "driver")
    l798i = site(m, "EGFR", "L798I")
    assert (l798i["state"], l798i["alt_reads"], l798i["depth"], l798i["source"]) == (
        "read_level_only", 10, 500, "reads")
    assert l798i["text"].startswith("possible, confirm: 10 alt reads of 500 (2.00 %, 95 % CI 0.96 %-3.65 %; "
                                    "5 forward, 5 reverse) in the reads only")
    s768i = site(m, "EGFR", "S768I")
    assert s768i["state"] == "not_detected" and s768i["lod"] is not None
    # outside the BAM's reads: depth 0, never "not detected"
    g724s = site(m, "EGFR", "G724S")
    assert (g724s["state"], g724s["depth"]) == ("not_assessable", 0)
    assert ct["counts"]["detected_by_caller"] == 3 and ct["counts"]["read_level_only"] == 1
    assert any(x.startswith("EGFR L798I seen in the reads only, not called by the variant caller")
               for x in m["summary"]["limitations"])
    assert m["inputs"]["bam"] == "plasma.bam"


@needs_locus
def test_read_level_only_resistance_never_reads_as_no_resistance(tmp_path):
    """A VCF with only the driver L858R, a BAM with 10 L798I reads: no call, not actionable, and
    the headline says possible resistance in the reads, never 'no resistance'."""
    m = do_annotate(egfr_ctx(), driver_only_vcf(tmp_path), None, CAT, bam=plasma_bam(tmp_path, 10))
    assert [c for c in m["calls"] if c["status"] != "sensitivity_evidence"] == []
    assert m["summary"]["actionable"] is False
    # the T790M+C797S reads are not called either: read-level only too, none of them a finding
    assert m["summary"]["headline"] == ("Possible resistance in the reads only (not called by the variant "
                                        "caller): EGFR T790M, EGFR C797S, EGFR L798I; confirm before acting")
    assert [(site(m, "EGFR", a)["state"], site(m, "EGFR", a)["alt_reads"]) for a in ("T790M", "C797S", "L798I")] \
        == [("read_level_only", 20)] * 2 + [("read_level_only", 10)]


def test_egfr02_without_reads_says_absence_not_assessable(tmp_path):
    """No BAM and no coverage: every uncalled catalogue site is 'not assessable', with the caveat."""
    m = do_annotate(egfr_ctx(), str(EGFR02), None, CAT)
    ct = m["ctdna"]
    assert ct["source"] is None and ct["caveat"].startswith("absence not assessable")
    assert {r["state"] for r in ct["sites"]} == {"detected_by_caller", "not_assessable"}
    assert ct["counts"]["detected_by_caller"] == 3


@pytest.mark.parametrize("met_filter,status,support", [
    ("PASS", "actionable_resistance", "ok"),
    ("cnvQual", "resistance_low_support", "copy-number caller FILTER=cnvQual")])
def test_met_gain_from_dragen_vcf_filtered_cnvqual_is_low_support(tmp_path, met_filter, status, support):
    """Plasma MET gain SM 3.6 (CN 7.2 observed) at tumour fraction 0.4 (CLI --tumor-fraction):
    2 + 5.2/0.4 = 15 tumour copies, focal. PASS: actionable (osimertinib + savolitinib/tepotinib
    remain). The same segment with DRAGEN's cnvQual filter: possible, confirm, never actionable."""
    m = cli(tmp_path, "--sample", "EGFR02_plasma", "--vcf", str(EGFR02), "--driver", "EGFR L858R",
            "--therapy", "osimertinib", "--specimen", "plasma", "--build", "GRCh38",
            "--tumor-fraction", "0.4", "--cnv", dragen_cnv(tmp_path, met_filter))
    [met] = [c for c in m["calls"] if c["gene"] == "MET" and c["source"] == "curated"]
    assert (met["status"], met["support"]) == (status, support)
    assert (met["entry_id"], met["copy_number"], met["adjusted_copy_number"]) == (
        "MET_amplification__EGFR_mutation", 7.2, 15.0)
    assert (met["cn_kind"], met["tf_corrected"], met["cn_source"], met["arm"]) == (
        "relative", True, "DRAGEN SM (copy ratio)", "7q")
    assert met["amplified_span_fraction"] < 0.5 and met["cautions"] == []
    assert met["options"] == ["osimertinib+savolitinib", "osimertinib+tepotinib"]
    assert met["level"] and set(met["option_weights"]) == set(met["options"])
    assert m["summary"]["headline"] == "Resistance to osimertinib detected: EGFR T790M+C797S" + (
        ", MET amplification" if met_filter == "PASS" else "")
    labels = [c["gene"] for c in m["calls"] if c["status"] == "actionable_resistance"
              and not c.get("subsumed_by")]
    assert ("MET" in labels) is (met_filter == "PASS")


def test_acquired_ccdc6_ret_on_osimertinib_is_actionable_with_the_cited_combination(tmp_path):
    """EGFR02 (plasma, osimertinib) + a Manta SV VCF with CCDC6::RET (21 reads): an actionable
    RET fusion call citing osimertinib + selpercatinib / + pralsetinib; the driver confirmation
    and the fusion list are in the model; 'fusions not examined' is gone from the limitations."""
    m = do_annotate(egfr_ctx(), str(EGFR02), None, CAT, fusions=manta_ccdc6_ret_grch38(tmp_path))
    [ret] = [c for c in m["calls"] if c["gene"] == "RET"]
    assert (ret["status"], ret["alteration"], ret["entry_id"], ret["support"]) == (
        "actionable_resistance", "fusion CCDC6::RET", "RET_fusion__EGFR_mutation", "ok")
    assert (ret["alt_reads"], ret["depth"], ret["hgvsc"]) == (21, 401, "CCDC6 exon 1::RET exon 12")
    assert ret["options"] == ["osimertinib+selpercatinib", "osimertinib+pralsetinib"]
    assert "DOI:10.1186/s12967-022-03593-3" in ret["citations"] and ret["level"] == "C"
    assert m["summary"]["headline"] == ("Resistance to osimertinib detected: EGFR T790M+C797S, "
                                        "RET fusion CCDC6::RET")
    # T790M+C797S in cis resists osimertinib: the RET combination is struck out, nothing remains
    assert m["summary"]["remaining_options"] == []
    assert m["inputs"]["fusions"] == "manta.grch38.vcf"
    assert [f["name"] for f in m["fusions"]] == ["CCDC6::RET"]
    assert m["driver_confirmation"]["status"] == "not_applicable"
    assert not any("fusion/SV file" in x for x in m["summary"]["limitations"])


def test_no_fusion_file_is_a_limitation():
    m = do_annotate(egfr_ctx(), str(EGFR02), None, CAT)
    assert m["driver_confirmation"]["status"] == "not_assessed" and m["fusions"] == []
    assert ("no fusion/SV file: acquired fusions (RET, ALK, BRAF, NTRK1 ...) and the driver fusion were "
            "not examined") in m["summary"]["limitations"]


def test_coverage_file_gives_states_without_reads(tmp_path):
    """No BAM, a gVCF (the committed GATK-style fixture): T790M in a reference block of MIN_DP 1800
    is not detected with its LoD; C797S, listed by the gVCF with 10 alt reads of 1500 but not in
    the VCF, is possible, confirm (never a call); L798I in a block of depth 0 is not assessable."""
    gvcf = ROOT / "tests" / "fixtures" / "ctdna" / "gatk_style_egfr.g.vcf"
    m = do_annotate(egfr_ctx(), driver_only_vcf(tmp_path), None, CAT, coverage=str(gvcf))
    assert (m["ctdna"]["source"], m["inputs"]["coverage"]) == ("coverage", "gatk_style_egfr.g.vcf")
    t790m, c797s, l798i = (site(m, "EGFR", a) for a in ("T790M", "C797S", "L798I"))
    assert (t790m["state"], t790m["depth"]) == ("not_detected", 1800) and t790m["lod"] is not None
    assert (c797s["state"], c797s["alt_reads"], c797s["depth"]) == ("read_level_only", 10, 1500)
    assert l798i["state"] == "not_assessable"
    assert [c for c in m["calls"] if c["status"] != "sensitivity_evidence"] == []
    assert m["summary"]["headline"] == ("Possible resistance in the reads only (not called by the variant "
                                        "caller): EGFR C797S; confirm before acting")


def test_tumour_fraction_is_chosen_once_and_corrects_plasma_copy_number_once(tmp_path):
    """DRAGEN MET SM 3.6 (CN 7.2 observed) on EGFR02. A PURPLE purity file (0.18) is used when the
    sheet has none: 2 + 5.2/0.18 = 30.889 copies, actionable, method PURPLE in the ctDNA block.
    Without sheet value or file, the VAF estimate (2 x 4.0 % L858R = 0.08) corrects it to 67 copies
    but only as 'possible, confirm'; the sheet's value wins over the file."""
    cnv = dragen_cnv(tmp_path, "PASS")
    purple = str(ROOT / "tests" / "fixtures" / "ctdna" / "PLASMA_T1.purple.purity.tsv")

    def met(model):
        [c] = [c for c in model["calls"] if c["entry_id"] == "MET_amplification__EGFR_mutation"]
        return c["status"], c["adjusted_copy_number"], model["ctdna"]["tumor_fraction"]["method"]

    m = do_annotate(egfr_ctx(), str(EGFR02), cnv, CAT, purity=purple)
    assert met(m) == ("actionable_resistance", 30.889, "PURPLE")
    assert m["inputs"]["purity"] == "PLASMA_T1.purple.purity.tsv"
    m = do_annotate(egfr_ctx(), str(EGFR02), cnv, CAT)
    assert met(m) == ("resistance_low_support", 67.0, "estimated from VAF")
    m = do_annotate(egfr_ctx(tumor_fraction=0.4), str(EGFR02), cnv, CAT, purity=purple)
    assert met(m) == ("actionable_resistance", 15.0, "sample sheet")
    assert m["sample"]["tumor_fraction"] == 0.4
