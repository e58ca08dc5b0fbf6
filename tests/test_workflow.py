"""The real Snakemake workflow on test_data/ in a temp dir: lint, dry run, full run, exact calls."""
from __future__ import annotations

import csv
import json
import subprocess

import pytest
from conftest import snakemake_env

EXPECTED = {
    "ALK01_T0_plasma": [],
    "ALK01_T1_plasma": [("actionable_resistance", "ALK", "G1202R", "ALK_G1202R__ALK_fusion")],
    "ALK01_T2_plasma": [("actionable_resistance", "ALK", "G1202R", "ALK_G1202R__ALK_fusion")],
    "RET01_tissue": [("actionable_resistance", "MET", "amplification", "MET_amplification__RET_fusion")],
    "ALK02_tissue": [("actionable_resistance", "ALK", "L1152R", "ALK_L1152R__ALK_fusion"),
                     ("actionable_resistance", "EGFR", "L858R", "EGFR_activating_mutation__ALK_fusion")],
    "NTRK01_plasma": [("actionable_resistance", "NTRK1", "G595R", "NTRK1_G595R__NTRK1_fusion"),
                      ("excluded", "KRAS", "G12C", "KRAS_activating_mutation__NTRK1_fusion")],
    "EGFR01_plasma": [],
    "ALK03_T0_plasma": [("resistance_other_drugs", "ALK", "G1202R", "ALK_G1202R__ALK_fusion")],
    "ALK03_T1_plasma": [("actionable_resistance", "ALK", "G1202R+L1196M", "ALK_G1202R-L1196M__ALK_fusion"),
                        ("resistance_other_drugs", "ALK", "G1202R", "ALK_G1202R__ALK_fusion"),
                        ("resistance_other_drugs", "ALK", "L1196M", "ALK_L1196M__ALK_fusion")],
    "EGFR02_plasma": [("actionable_resistance", "EGFR", "T790M+C797S", "EGFR_C797S_T790M__EGFR_mutation_any"),
                      ("actionable_resistance", "EGFR", "T790M+C797S", "EGFR_C797S_T790M__EGFR_mutation_cis"),
                      ("actionable_resistance", "EGFR", "C797S", "CIVIC_EGFR_C797S_EGFR_mutation_1"),
                      ("actionable_resistance", "EGFR", "C797S", "CIVIC_EGFR_C797S_EGFR_mutation_2"),
                      ("actionable_resistance", "EGFR", "C797S", "EGFR_C797S__EGFR_mutation")]
    + [("resistance_other_drugs", "EGFR", "T790M", f"CIVIC_EGFR_T790M_EGFR_mutation_{i}") for i in range(1, 6)]
    + [("resistance_other_drugs", "EGFR", "T790M", "EGFR_T790M__EGFR_mutation")],
}


def smk(repo, *args, check=True):
    return subprocess.run(["snakemake", "--cores", "2", *args], cwd=repo, env=snakemake_env(),
                          capture_output=True, text=True, check=check)


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    import shutil

    from conftest import ROOT

    repo = tmp_path_factory.mktemp("wf") / "repo"
    repo.mkdir()
    for item in ("Snakefile", "workflow", "config", "test_data", "annotations"):
        src = ROOT / item
        (shutil.copytree if src.is_dir() else shutil.copy)(src, repo / item)
    proc = smk(repo, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return repo


#: CIViC sensitivity evidence shown beside the resistance calls (never a resistance call)
SENSITIVITY = {
    "EGFR01_plasma": [f"CIVIC_EGFR_L858R_EGFR_mutation_{i}" for i in range(1, 9)],
    "RET01_tissue": [f"CIVIC_MET_amplification_any_{i}" for i in range(1, 7)],
}


def test_every_sample_has_exactly_the_expected_calls(ran):
    """The workflow's JSON and TSV carry exactly the expected calls for each test sample."""
    for sample, expected in EXPECTED.items():
        model = json.loads((ran / "results" / sample / "report.json").read_text())
        got = [(c["status"], c["gene"], c["alteration"], c["entry_id"]) for c in model["calls"]
               if c["status"] != "sensitivity_evidence"]
        assert got == expected, sample
        with open(ran / "results" / sample / "calls.tsv") as fh:
            rows = [r for r in csv.DictReader(fh, delimiter="\t")
                    if r["status"] not in ("not_interpretable", "sensitivity_evidence")]
        assert [(r["status"], r["gene"], r["alteration"], r["entry_id"]) for r in rows] == expected, sample
        if sample in SENSITIVITY:
            sens = sorted(c["entry_id"] for c in model["calls"] if c["status"] == "sensitivity_evidence")
            assert sens == sorted(SENSITIVITY[sample]), sample


def test_reports_are_stamped_and_say_nothing_found(ran):
    """Reports carry catalogue version + checksum and input names; 'no resistance' is explicit."""
    model = json.loads((ran / "results" / "EGFR01_plasma" / "report.json").read_text())
    assert model["catalogue"]["version"] and len(model["catalogue"]["sha256"]) == 64
    assert model["inputs"]["vcf"] == "EGFR01_plasma.vcf.gz"
    html = (ran / "results" / "EGFR01_plasma" / "report.html").read_text()
    assert "No catalogue resistance alteration was found in this sample." in html
    html = (ran / "results" / "ALK01_T1_plasma" / "report.html").read_text()
    assert "ACTIONABLE RESISTANCE: Resistance to alectinib detected: ALK G1202R" in html


def test_longitudinal_g1202r_emerges_then_rises(ran):
    """ALK01: G1202R absent at baseline, emerging on 2024-04-02 (0.4 %), 2.1 % on 2024-06-20."""
    t = json.loads((ran / "results" / "_patients" / "ALK01" / "timeline.json").read_text())
    [a] = t["alterations"]
    assert (a["alteration"], a["trend"], a["first_detected"]) == ("ALK G1202R", "emerging", "2024-04-02")
    assert a["values"] == [None, 0.004, 0.0211]


def test_raw_mutect2_series_compound_emerges_on_lorlatinib(ran):
    """ALK03 (raw VCFs, no VEP): G1202R alone does not resist lorlatinib; 4 months later G1202R +
    L1196M in cis does, and only 4th-generation inhibitors remain (preclinical)."""
    t = json.loads((ran / "results" / "_patients" / "ALK03" / "timeline.json").read_text())
    trends = {a["alteration"]: (a["trend"], a["first_detected"]) for a in t["alterations"]}
    assert trends["ALK G1202R+L1196M"] == ("emerging", "2025-05-20")
    model = json.loads((ran / "results" / "ALK03_T1_plasma" / "report.json").read_text())
    assert model["summary"]["remaining_options"] == ["neladalkib", "tpx-0131"]
    assert model["examined"]["annotation"] == "none (known-site matching)"


def test_batch_summary_lists_every_sample(ran):
    with open(ran / "results" / "_batch" / "summary.tsv") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    assert sorted(r["sample"] for r in rows) == sorted(EXPECTED)
    assert all(r["outcome"] == "ok" for r in rows)


def test_lint_and_dry_run(ran):
    """snakemake --lint finds nothing serious: the only lint left is "specify a conda environment"
    (the tool is pip-installed with the workflow, see README); a dry run then has nothing to do."""
    lint = smk(ran, "--lint", check=False)
    found = {ln.strip() for ln in (lint.stdout + lint.stderr).splitlines() if ln.strip().startswith("*")}
    assert found <= {"* Specify a conda environment or container for each rule.:"}, found
    dry = smk(ran, "-n")
    assert "Nothing to be done" in dry.stdout + dry.stderr


def test_invalid_sheet_fails_before_any_job(repo_copy):
    """A bad specimen value stops the workflow at start-up with the column named."""
    sheet = repo_copy / "config" / "samples.tsv"
    sheet.write_text(sheet.read_text().replace("\tplasma\t", "\tblood\t", 1))
    proc = smk(repo_copy, check=False)
    assert proc.returncode != 0
    assert "samples.tsv:2: column 'specimen': invalid value 'blood'" in proc.stderr
    assert not (repo_copy / "results").exists()
