"""The finished ctDNA, fusion and report features through the real ``ctresist`` command and the
Snakemake workflow: annotate --fusions/--coverage/--purity-file, config ``ctdna`` settings,
sheet columns fusions/coverage/purity_file, catalogue export bed|vcf, render naming its input,
summary --sheet naming the patient of a failed sample.

Inputs: ``test_data/EGFR02_plasma.vcf.gz``; the Manta CCDC6::RET fixture moved to GRCh38, the
driver-only VCF and the BAM built over the real EGFR locus come from ``test_integration``'s
helpers (see that module); ``tests/fixtures/ctdna`` gVCF and PURPLE purity file (README there).
"""
from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys

import pysam
import pytest
from conftest import ROOT, snakemake_env
from test_integration import (
    EGFR02,
    driver_only_vcf,
    manta_ccdc6_ret_grch38,
    needs_locus,
    plasma_bam,
    site,
)

CTDNA = ROOT / "tests" / "fixtures" / "ctdna"
GVCF = CTDNA / "gatk_style_egfr.g.vcf"
PURPLE = CTDNA / "PLASMA_T1.purple.purity.tsv"
EGFR_ARGS = ("--driver", "EGFR L858R", "--therapy", "osimertinib", "--specimen", "plasma",
             "--build", "GRCh38")


def ctresist(*args: str, cwd=ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ctresist.cli", "-q", *args], capture_output=True,
                          text=True, cwd=cwd)


def annotate(tmp_path, *args: str) -> dict:
    out = tmp_path / "report.json"
    r = ctresist("annotate", *args, "-o", str(out))
    assert r.returncode == 0, r.stderr
    return json.loads(out.read_text())


def test_annotate_cli_fusions_coverage_and_purity_file(tmp_path):
    """L858R alone in the VCF, plus --fusions (Manta CCDC6::RET, 21 reads of 401), --coverage (the
    gVCF) and --purity-file (PURPLE 0.18): the acquired RET fusion is actionable with the cited
    osimertinib + selpercatinib / + pralsetinib options (still open: no EGFR resistance); the
    ctDNA block reads the gVCF: T790M not detected at 1,800x with its LoD, C797S listed by the
    gVCF only (10/1500) is 'possible, confirm' and a limitation, never a call."""
    m = annotate(tmp_path, "--sample", "P1", "--vcf", driver_only_vcf(tmp_path), *EGFR_ARGS,
                 "--fusions", manta_ccdc6_ret_grch38(tmp_path), "--coverage", str(GVCF),
                 "--purity-file", str(PURPLE))
    resistance = [c for c in m["calls"] if c["status"] != "sensitivity_evidence"]
    assert [(c["status"], c["gene"], c["alteration"], c["entry_id"], c["alt_reads"], c["depth"])
            for c in resistance] == [("actionable_resistance", "RET", "fusion CCDC6::RET",
                                      "RET_fusion__EGFR_mutation", 21, 401)]
    assert resistance[0]["options"] == ["osimertinib+selpercatinib", "osimertinib+pralsetinib"]
    assert m["summary"]["headline"] == "Resistance to osimertinib detected: RET fusion CCDC6::RET"
    assert m["summary"]["remaining_options"] == ["osimertinib+selpercatinib", "osimertinib+pralsetinib"]
    assert (m["inputs"]["fusions"], m["inputs"]["coverage"], m["inputs"]["purity"]) == (
        "manta.grch38.vcf", "gatk_style_egfr.g.vcf", "PLASMA_T1.purple.purity.tsv")
    ct = m["ctdna"]
    assert (ct["source"], ct["input"]) == ("coverage", "gatk_style_egfr.g.vcf")
    assert (ct["tumor_fraction"]["method"], ct["tumor_fraction"]["value"]) == ("PURPLE", 0.18)
    assert ct["counts"] == {"detected_by_caller": 1, "read_level_only": 1, "not_detected": 2,
                            "not_assessable": 52}
    t790m, c797s = site(m, "EGFR", "T790M"), site(m, "EGFR", "C797S")
    assert (t790m["state"], t790m["depth"]) == ("not_detected", 1800)
    assert t790m["text"].startswith("not detected; 95 % LoD 0.35 % at 1,800x (gVCF reference block")
    assert (c797s["state"], c797s["alt_reads"], c797s["depth"]) == ("read_level_only", 10, 1500)
    assert any(x.startswith("EGFR C797S seen in the reads only") for x in m["summary"]["limitations"])
    assert not any("fusion/SV file" in x for x in m["summary"]["limitations"])


@needs_locus
def test_config_ctdna_settings_reach_read_level_genotyping(tmp_path):
    """EGFR02 + a BAM with 10 L798I reads of 500: at the default background (5e-4) L798I is
    'possible, confirm'; with --settings ctdna background 0.01 (5 expected error reads at 500x)
    10 reads are within background error: not detected."""
    bam = plasma_bam(tmp_path, 10)
    args = ("--sample", "EGFR02_plasma", "--vcf", str(EGFR02), *EGFR_ARGS, "--bam", bam)
    assert site(annotate(tmp_path, *args), "EGFR", "L798I")["state"] == "read_level_only"
    m = annotate(tmp_path, *args, "--settings", json.dumps({"ctdna": {"background": 0.01}}))
    l798i = site(m, "EGFR", "L798I")
    assert (l798i["state"], l798i["alt_reads"], l798i["depth"]) == ("not_detected", 10, 500)


@pytest.mark.parametrize("ctdna,message", [
    ({"min_family_size": 0}, "ctdna: min_family_size: 0 is not an integer >= 1; fix the setting"),
    ({"backgroud": 0.001}, "ctdna: unknown setting 'backgroud'; the settings are background, "
                           "dispersion, min_mapq, min_baseq, min_family_size"),
    ({"background": 1.5}, "ctdna: background: 1.5 is not a number above 0 and below 1; fix the "
                          "setting"),
])
def test_bad_ctdna_setting_is_one_error_line_and_nothing_written(tmp_path, ctdna, message):
    out = tmp_path / "r.json"
    r = ctresist("annotate", "--sample", "EGFR02_plasma", "--vcf", str(EGFR02), *EGFR_ARGS,
                 "--settings", json.dumps({"ctdna": ctdna}), "-o", str(out))
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr == f"ctresist: error: --settings: {message}\n"
    assert not out.exists()


def test_sheet_columns_reach_annotate_and_another_rows_bad_drug_does_not_fail_it(tmp_path):
    """annotate --sheet --sample: the row's fusions/coverage/purity_file columns are used; a
    misspelt drug in another row does not fail this sample (read_sheet(sample=...))."""
    sheet = tmp_path / "samples.tsv"
    sheet.write_text(
        "sample\tpatient\tcollection_date\tspecimen\tvcf\tdriver\ttherapy\tgenome_build\tfusions\t"
        "coverage\tpurity_file\n"
        f"P1\tPAT1\t2025-03-12\tplasma\t{driver_only_vcf(tmp_path)}\tEGFR L858R\tosimertinib\tGRCh38\t"
        f"{manta_ccdc6_ret_grch38(tmp_path)}\t{GVCF}\t{PURPLE}\n"
        f"P2\tPAT2\t2025-03-12\tplasma\t{EGFR02}\tEGFR L858R\tosimertinibb\tGRCh38\t\t\t\n")
    m = annotate(tmp_path, "--sheet", str(sheet), "--sample", "P1")
    assert [c["alteration"] for c in m["calls"] if c["status"] == "actionable_resistance"] == [
        "fusion CCDC6::RET"]
    assert (m["ctdna"]["source"], m["ctdna"]["tumor_fraction"]["method"]) == ("coverage", "PURPLE")
    r = ctresist("annotate", "--sheet", str(sheet), "--sample", "P2", "-o", str(tmp_path / "p2.json"))
    assert r.returncode == 1 and "osimertinibb" in r.stderr and f"{sheet}:3" in r.stderr


def test_catalogue_export_bed_and_vcf(tmp_path):
    """Force-calling sites of the EGFR-mutant context, GRCh38: 172 known alleles (catalogue 1.1.0), BED 0-based
    (T790M c.2369C>T at chr7:55181378 -> 55181377-55181378), sorted in contig order (NRAS on
    chr1 first); VCF.gz bgzipped with its tabix index."""
    bed = tmp_path / "x.bed"
    r = ctresist("catalogue", "export", "--format", "bed", "--build", "GRCh38", "--driver",
                 "EGFR L858R", "-o", str(bed))
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"wrote 172 catalogue sites (EGFR L858R, GRCh38) to {bed}\n"
    lines = bed.read_text().splitlines()
    assert lines[0] == ('track name=ctresist_hotspots description="ctresist catalogue sites, '
                        'EGFR mutation, GRCh38"')
    assert lines[1] == "chr1\t114713906\t114713907\tNRAS:Q61H:c.183A>T:T>A"
    assert "chr7\t55181377\t55181378\tEGFR:T790M:c.2369C>T:C>T" in lines
    assert len(lines) == 173
    # ALK G1202R c.3604G>A: where ALK01_T1's caller put it (GRCh38 2:29220747 C>T); GRCh37 as
    # annotations/known_alleles.tsv has it, read back through the tabix index
    for build, contig, pos in (("GRCh38", "chr2", 29220747), ("GRCh37", "2", 29443613)):
        vcf = tmp_path / f"alk.{build}.vcf.gz"
        r = ctresist("catalogue", "export", "--format", "vcf", "--build", build, "--driver",
                     "EML4-ALK", "-o", str(vcf))
        assert r.returncode == 0, r.stderr
        assert (tmp_path / f"alk.{build}.vcf.gz.tbi").is_file()
        with pysam.VariantFile(str(vcf)) as fh:
            g1202r = [(x.chrom, x.pos, x.ref, x.alts) for x in fh.fetch(contig, pos - 1, pos)
                      if x.info["HGVSC"].endswith("c.3604G>A")]
        assert g1202r == [(contig, pos, "C", ("T",))]


@pytest.mark.parametrize("args", [("--format", "bed", "-o", "x.bed"), ("--format", "vcf", "--build", "GRCh38")])
def test_catalogue_export_needs_build_and_output(tmp_path, args):
    r = ctresist("catalogue", "export", *args, cwd=tmp_path)
    fmt = args[1]
    assert r.returncode == 1
    assert r.stderr == (f"ctresist: error: catalogue export --format {fmt}: give --build "
                        f"GRCh37|GRCh38 and -o sites.{fmt}\n")
    assert list(tmp_path.iterdir()) == []


def test_render_names_the_json_it_could_not_use(tmp_path):
    bad = tmp_path / "notareport.json"
    bad.write_text('{"calls": []}')
    r = ctresist("render", str(bad), "--html", str(tmp_path / "r.html"))
    assert r.returncode == 1
    assert r.stderr.startswith(f"ctresist: error: {bad}: not a ctresist report model: ")
    assert not (tmp_path / "r.html").exists()


def test_summary_sheet_names_the_patient_of_a_failed_sample(tmp_path):
    sheet = tmp_path / "samples.tsv"
    sheet.write_text("sample\tpatient\tcollection_date\tspecimen\tvcf\tdriver\tgenome_build\n"
                     "S1\tPAT9\t2025-01-01\tplasma\tmissing.vcf\tEGFR L858R\tGRCh38\n")
    tsv = tmp_path / "summary.tsv"
    r = ctresist("summary", "--failed", "S1:no VCF", "--sheet", str(sheet), "--tsv", str(tsv),
                 "--html", str(tmp_path / "summary.html"))
    assert r.returncode == 0, r.stderr
    with open(tsv) as fh:
        [row] = list(csv.DictReader(fh, delimiter="\t"))
    assert (row["sample"], row["patient"], row["outcome"], row["headline"]) == (
        "S1", "PAT9", "failed", "no VCF")


def test_workflow_fusion_and_coverage_columns_reach_the_report(repo_copy):
    """A sheet row with fusions, coverage and purity_file columns: through Snakemake the RET
    fusion call, the gVCF-based ctDNA states and the PURPLE tumour fraction reach
    results/<sample>/report.json; a config ctdna change reruns that sample's job."""
    data = repo_copy / "test_data"
    vcf, sv = driver_only_vcf(data), manta_ccdc6_ret_grch38(data)
    shutil.copy(GVCF, data / GVCF.name)
    shutil.copy(PURPLE, data / PURPLE.name)
    rel = lambda p: str(p).replace(f"{repo_copy}/", "")  # noqa: E731 (sheet paths as users write them)
    (repo_copy / "config" / "samples.tsv").write_text(
        "sample\tpatient\tcollection_date\tspecimen\tvcf\tdriver\ttherapy\tgenome_build\tfusions\t"
        "coverage\tpurity_file\n"
        f"P1_plasma\tPAT1\t2025-03-12\tplasma\t{rel(vcf)}\tEGFR L858R\tosimertinib\tGRCh38\t{rel(sv)}\t"
        f"test_data/{GVCF.name}\ttest_data/{PURPLE.name}\n")
    cfg = repo_copy / "config" / "config.yaml"
    cfg.write_text(cfg.read_text().replace("longitudinal: true", "longitudinal: false")
                   + "annotations: annotations\n")
    smk = ["snakemake", "--cores", "2"]
    proc = subprocess.run(smk, cwd=repo_copy, env=snakemake_env(), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    m = json.loads((repo_copy / "results" / "P1_plasma" / "report.json").read_text())
    assert [(c["status"], c["alteration"], c["options"]) for c in m["calls"]
            if c["status"] != "sensitivity_evidence"] == [
        ("actionable_resistance", "fusion CCDC6::RET", ["osimertinib+selpercatinib", "osimertinib+pralsetinib"])]
    assert (m["inputs"]["fusions"], m["inputs"]["coverage"], m["inputs"]["purity"]) == (
        "manta.grch38.vcf", "gatk_style_egfr.g.vcf", "PLASMA_T1.purple.purity.tsv")
    assert (m["ctdna"]["source"], m["ctdna"]["tumor_fraction"]["value"]) == ("coverage", 0.18)
    assert site(m, "EGFR", "T790M")["state"] == "not_detected"
    with open(repo_copy / "results" / "_batch" / "summary.tsv") as fh:
        [row] = list(csv.DictReader(fh, delimiter="\t"))
    assert (row["sample"], row["actionable"]) == ("P1_plasma", "RET fusion CCDC6::RET")
    cfg.write_text(cfg.read_text().replace("ctdna: {}", "ctdna: {background: 0.001}"))
    dry = subprocess.run([*smk, "-n"], cwd=repo_copy, env=snakemake_env(), capture_output=True,
                         text=True, check=True)
    assert "results/P1_plasma/report.json" in dry.stdout and "rule annotate_00000:" in dry.stdout
