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
    (repo / "profiles").symlink_to("workflow/profiles")
    cfg = repo / "config" / "config.yaml"  # the copy's own annotations: edits elsewhere rerun nothing
    cfg.write_text(cfg.read_text() + "annotations: annotations\n")
    proc = smk(repo, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return repo


#: CIViC sensitivity evidence shown beside the resistance calls (never a resistance call). Since
#: catalogue 1.0.0 CIViC's MET-amplification rows hold only in the EGFR-mutant context, so the
#: RET-fusion sample RET01 has none.
SENSITIVITY = {
    "EGFR01_plasma": [f"CIVIC_EGFR_L858R_EGFR_mutation_{i}" for i in range(1, 9)],
    "RET01_tissue": [],
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
                    if r["row_type"] == "finding"]
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
    """ALK01: G1202R not called at baseline (no reads or coverage given, so absence there is not
    assessable: a single observation, not 'emerging'), 0.4 % on 2024-04-02, rising to 2.1 % on
    2024-06-20; both are molecular-progression alerts on alectinib."""
    t = json.loads((ran / "results" / "_patients" / "ALK01" / "timeline.json").read_text())
    [a] = t["alterations"]
    assert (a["alteration"], a["first_detected"]) == ("ALK G1202R", "2024-04-02")
    assert a["trends"] == [None, "single_observation", "rising"] and a["trend"] == "rising"
    assert a["values"] == [None, 0.004, 0.0211]
    assert [(x["alteration"], x["trend"], x["date"], x["drugs"]) for x in t["alerts"]] == [
        ("ALK G1202R", "single_observation", "2024-04-02", ["alectinib"]),
        ("ALK G1202R", "rising", "2024-06-20", ["alectinib"])]


def test_raw_mutect2_series_compound_emerges_on_lorlatinib(ran):
    """ALK03 (raw VCFs, no VEP): G1202R alone does not resist lorlatinib; 4 months later G1202R +
    L1196M in cis does, and only 4th-generation inhibitors remain (preclinical)."""
    t = json.loads((ran / "results" / "_patients" / "ALK03" / "timeline.json").read_text())
    trends = {a["alteration"]: (a["trend"], a["first_detected"]) for a in t["alterations"]}
    assert trends["ALK G1202R+L1196M"] == ("single_observation", "2025-05-20")
    assert [(x["alteration"], x["date"], x["drugs"]) for x in t["alerts"]] == [
        ("ALK G1202R+L1196M", "2025-05-20", ["lorlatinib"])]
    model = json.loads((ran / "results" / "ALK03_T1_plasma" / "report.json").read_text())
    assert model["summary"]["remaining_options"] == ["neladalkib", "tpx-0131"]
    assert model["examined"]["annotation"] == "none (known-site matching)"


def test_batch_summary_lists_every_sample(ran):
    with open(ran / "results" / "_batch" / "summary.tsv") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    assert sorted(r["sample"] for r in rows) == sorted(EXPECTED)
    assert all(r["outcome"] == "ok" for r in rows)


def test_lint_and_dry_run(ran):
    """snakemake --lint finds nothing (conda env per rule, no hard-coded paths, no environment
    variables); a dry run then has nothing to do."""
    lint = smk(ran, "--lint", check=False)
    found = [ln.strip() for ln in (lint.stdout + lint.stderr).splitlines() if ln.strip().startswith("*")]
    assert found == [] and lint.returncode == 0, lint.stdout + lint.stderr
    dry = smk(ran, "-n")
    assert "Nothing to be done" in dry.stdout + dry.stderr


def test_snakemake_report_has_reports_timelines_and_summary(ran, tmp_path):
    """#14.4: `snakemake --report` carries every sample report, every patient timeline and the
    batch summary, each category labelled, with the workflow description."""
    import zipfile

    proc = smk(ran, "--report", str(tmp_path / "report.zip"), check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    with zipfile.ZipFile(tmp_path / "report.zip") as z:
        names = z.namelist()
        main = z.read(next(n for n in names if n.endswith("report/report.html"))).decode()
    n_patients = len({s.split("_")[0] for s in EXPECTED})
    assert sum(n.endswith("/timeline.html") for n in names) == n_patients == 7
    assert sum(n.endswith("/summary.html") for n in names) == 1
    assert sum(n.endswith("/report.html") and "/raw/" in n for n in names) == len(EXPECTED)
    for text in ("Sample reports", "Patient timelines", "Batch summary",
                 "ctresist matched each sample"):
        assert text in main, text


HEADER = "sample\tpatient\tcollection_date\tspecimen\tvcf\tcnv\tdriver\ttherapy\tgenome_build"
ALK01_T1 = "ALK01_T1_plasma\tALK01\t2024-04-02\tplasma\ttest_data/ALK01_T1_plasma.vcf.gz\t\tEML4-ALK\tAlecensa\tGRCh38"
ALK02 = "ALK02_tissue\tALK02\t2012-03-14\ttissue\ttest_data/ALK02_tissue.vcf\t\tEML4-ALK\tcrizotinib\tGRCh37"


def write_sheet(repo, *rows, name="samples.tsv"):
    """The sheet, and the config pointing at the copy's own annotations (so that edits elsewhere
    cannot trigger reruns)."""
    (repo / "config" / name).write_text("\n".join([HEADER, *rows]) + "\n")
    cfg = repo / "config" / "config.yaml"
    if "\nannotations:" not in cfg.read_text():
        cfg.write_text(cfg.read_text() + "annotations: annotations\n")


def calls(repo, sample):
    model = json.loads((repo / "results" / sample / "report.json").read_text())
    return [(c["status"], c["gene"], c["alteration"]) for c in model["calls"]
            if c["status"] != "sensitivity_evidence"], model["thresholds"]


def jobs_to_run(proc) -> dict[str, int]:
    """{rule: count} from the job-stats table of a dry run."""
    out, table = {}, False
    for line in (proc.stdout + proc.stderr).splitlines():
        parts = line.split()
        if parts[:2] == ["job", "count"]:
            table = True
        elif table and len(parts) == 2 and parts[1].isdigit() and parts[0] != "total":
            out[parts[0]] = int(parts[1])
        elif table and parts and parts[0] == "total":
            break
    return out


def test_user_configfile_reaches_every_job(repo_copy):
    """#8.8: `snakemake --configfile mine.yaml` with plasma min_alt_reads 20: ALK01_T1 G1202R
    (12 alt reads of 3000, VAF 0.4 %) is low support, as through the CLI with the same config;
    with the shipped thresholds (min_alt_reads 3) the same sample is actionable. Changing tissue
    thresholds then reruns only the tissue sample's jobs (one patient per annotate group here;
    with the default grouping, the group that holds the tissue sample)."""
    write_sheet(repo_copy, ALK01_T1, ALK02, name="mine.tsv")
    mine = repo_copy / "mine.yaml"
    mine.write_text("samples: config/mine.tsv\nlongitudinal: false\nannotations: annotations\n"
                    "patients_per_job: 1\nthresholds:\n  plasma:\n    min_alt_reads: 20\n")
    proc = smk(repo_copy, "--configfile", str(mine), check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    got, th = calls(repo_copy, "ALK01_T1_plasma")
    assert got == [("resistance_low_support", "ALK", "G1202R")]
    assert (th["min_alt_reads"], th["min_depth"], th["min_vaf"]) == (20, 100, 0.001)
    cli = subprocess.run(["ctresist", "annotate", "--sheet", "config/mine.tsv", "--sample",
                          "ALK01_T1_plasma", "--config", str(mine), "-o", "cli.json"],
                         cwd=repo_copy, env=snakemake_env(), capture_output=True, text=True)
    assert cli.returncode == 0, cli.stderr
    model = json.loads((repo_copy / "cli.json").read_text())
    assert [c["status"] for c in model["calls"] if c["gene"] == "ALK"] == ["resistance_low_support"]
    # only the tissue sample depends on tissue thresholds: its one job
    mine.write_text(mine.read_text() + "  tissue:\n    min_vaf: 0.05\n")
    dry = smk(repo_copy, "-n", "--configfile", str(mine))
    assert jobs_to_run(dry) == {"annotate_00001": 1, "summary": 1, "check": 1, "default": 1}, \
        dry.stdout + dry.stderr
    assert "output: results/ALK02_tissue/report.json" in dry.stdout
    assert "results/ALK01_T1_plasma/report.json," not in dry.stdout.split("rule summary")[0]
    # the shipped thresholds: actionable again (both patients in one group: the default)
    mine.write_text("samples: config/mine.tsv\nlongitudinal: false\nannotations: annotations\n")
    proc = smk(repo_copy, "--configfile", str(mine), check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    got, th = calls(repo_copy, "ALK01_T1_plasma")
    assert got == [("actionable_resistance", "ALK", "G1202R")] and th["min_alt_reads"] == 3


def only_group_planned(repo, group: str) -> str:
    """A dry run plans exactly annotate group ``group``, the summary and its check; returns the
    dry run's text before the summary (the group job's outputs)."""
    dry = smk(repo, "-n")
    assert jobs_to_run(dry) == {f"annotate_{group}": 1, "summary": 1, "check": 1, "default": 1}, \
        dry.stdout
    return dry.stdout.split("rule summary")[0]


def test_appending_a_sample_runs_only_its_jobs(repo_copy):
    """#14.6: a new patient's row adds its annotate group, its outputs, its timeline and the
    summary, nothing else; a new timepoint of a patient reruns that patient's group (its samples'
    outputs and its timeline) and nothing of the other patients; a catalogue changelog edit reruns
    nothing. Two patients per annotate group here: the first two patients share one."""
    write_sheet(repo_copy, ALK02, ALK01_T1)
    cfg = repo_copy / "config" / "config.yaml"
    cfg.write_text(cfg.read_text() + "patients_per_job: 2\n")
    assert smk(repo_copy).returncode == 0
    egfr = ALK01_T1.replace("ALK01_T1_plasma", "EGFR01_plasma").replace("ALK01\t", "EGFR01\t") \
        .replace("test_data/ALK01_T1_plasma.vcf.gz", "test_data/EGFR01_plasma.vcf.gz") \
        .replace("EML4-ALK\tAlecensa", "EGFR L858R\tosimertinib")
    write_sheet(repo_copy, ALK02, ALK01_T1, egfr)
    changelog = repo_copy / "annotations" / "catalogue" / "CHANGELOG.md"
    changelog.write_text(changelog.read_text() + "\n")
    first = only_group_planned(repo_copy, "00001")
    assert "results/EGFR01_plasma/report.json" in first
    assert "results/_patients/EGFR01/timeline.html" in first
    for old in ("ALK02_tissue", "ALK01_T1_plasma"):
        assert f"results/{old}/report.json" not in first
    assert smk(repo_copy).returncode == 0
    # a new timepoint of ALK01 (first group): that group's samples and timelines only
    t2 = ALK01_T1.replace("ALK01_T1_plasma", "ALK01_T2_plasma").replace("2024-04-02", "2024-07-01")
    write_sheet(repo_copy, ALK02, ALK01_T1, egfr, t2)
    first = only_group_planned(repo_copy, "00000")
    assert "results/ALK01_T2_plasma/report.json" in first
    assert "results/_patients/ALK01/timeline.html" in first
    assert "EGFR01" not in first


def test_strict_config_schema_names_the_misspelt_key(repo_copy):
    """#14.2: a misspelt threshold (min_dept) is refused before any job, naming the key."""
    cfg = repo_copy / "config" / "config.yaml"
    cfg.write_text(cfg.read_text().replace("min_depth: 100", "min_dept: 100"))
    proc = smk(repo_copy, check=False)
    assert proc.returncode != 0
    assert "min_dept" in proc.stderr and "Additional properties are not allowed" in proc.stderr
    assert not (repo_copy / "results").exists()


def test_one_uninterpretable_row_fails_only_its_sample(repo_copy):
    """#9.9: an unknown driver, a misspelt drug, an unknown specimen and an impossible date each
    fail their own sample's job with the reason (sheet line named) in the batch summary; the other
    samples are reported."""
    bad_driver = ALK01_T1.replace("ALK01_T1_plasma", "BAD_DRIVER").replace("EML4-ALK", "EML4-ALX")
    bad_drug = ALK01_T1.replace("ALK01_T1_plasma", "BAD_DRUG").replace("Alecensa", "alectinibb")
    bad_specimen = ALK01_T1.replace("ALK01_T1_plasma", "BAD_SPECIMEN").replace("\tplasma\t", "\tblood\t")
    bad_date = ALK01_T1.replace("ALK01_T1_plasma", "BAD_DATE").replace("2024-04-02", "2024-02-30")
    write_sheet(repo_copy, ALK01_T1, bad_driver, bad_drug, bad_specimen, bad_date, ALK02)
    proc = smk(repo_copy, "--keep-going", check=False)
    assert proc.returncode != 0
    with open(repo_copy / "results" / "_batch" / "summary.tsv") as fh:
        rows = {r["sample"]: r for r in csv.DictReader(fh, delimiter="\t")}
    assert {s: r["outcome"] for s, r in rows.items()} == {
        "ALK01_T1_plasma": "ok", "ALK02_tissue": "ok", "BAD_DRIVER": "failed",
        "BAD_DRUG": "failed", "BAD_SPECIMEN": "failed", "BAD_DATE": "failed"}
    assert "EML4-ALX" in rows["BAD_DRIVER"]["headline"]
    assert "alectinibb" in rows["BAD_DRUG"]["headline"]
    assert "column 'specimen': 'blood' is not one of plasma, tissue" in rows["BAD_SPECIMEN"]["headline"]
    assert "config/samples.tsv:6: column 'collection_date': '2024-02-30' is not a real date" in rows["BAD_DATE"]["headline"]
    assert rows["ALK01_T1_plasma"]["actionable"] == "ALK G1202R"
    # the in-process failure summary names each failed sample's patient from the sheet
    assert {rows[s]["patient"] for s in ("BAD_DRIVER", "BAD_DRUG", "BAD_SPECIMEN", "BAD_DATE")} == {"ALK01"}


@pytest.mark.parametrize("sample,why", [
    ("S" + "0" * 20, "repeated"),
    ("S" * 101, "100"),
])
def test_sample_ids_snakemake_cannot_use_are_refused_at_start(repo_copy, sample, why):
    """#9.8: a periodic ID (Snakemake's PeriodicWildcardError) or a 101-character one (file name
    too long) is refused before any job, with the sheet line and the rule."""
    write_sheet(repo_copy, ALK02, ALK01_T1.replace("ALK01_T1_plasma", sample))
    proc = smk(repo_copy, check=False)
    assert proc.returncode != 0
    assert "samples.tsv:3: column 'sample'" in proc.stderr and why in proc.stderr, proc.stderr[-2000:]
    assert not (repo_copy / "results").exists()


def test_sheet_structure_fails_before_any_job(repo_copy):
    """Duplicate IDs are the sheet's structure: the workflow stops at start-up, naming the line."""
    write_sheet(repo_copy, ALK02, ALK02)
    proc = smk(repo_copy, check=False)
    assert proc.returncode != 0
    assert "samples.tsv:3: column 'sample': duplicate sample ID 'ALK02_tissue'" in proc.stderr
    assert not (repo_copy / "results").exists()
