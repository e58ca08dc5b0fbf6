"""Deployment as a core does it (#14.1, #14.3): the workflow as a Snakemake module in an empty
folder with its own config, `-s`/`--directory` from elsewhere, profiles by name, and a plain
(non-editable) `pip install .` that finds its catalogue and workflow from any folder."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
from conftest import ROOT, snakemake_env

SHEET = ("sample\tpatient\tcollection_date\tspecimen\tvcf\tcnv\tdriver\ttherapy\tgenome_build\n"
         "ALK01_T1_plasma\tALK01\t2024-04-02\tplasma\tdata/ALK01_T1_plasma.vcf.gz\t\tEML4-ALK\tAlecensa\tGRCh38\n"
         "ALK02_tissue\tALK02\t2012-03-14\ttissue\tdata/ALK02_tissue.vcf\t\tEML4-ALK\tcrizotinib\tGRCh37\n")
#: the user's own thresholds: G1202R in ALK01_T1 has 12 alt reads (of 3000), ALK L1152R in
#: ALK02 a VAF of 0.226; with these both become "low support, confirm" (shipped: actionable)
CONFIG = ("samples: config/samples.tsv\n"
          "thresholds:\n  plasma:\n    min_alt_reads: 20\n  tissue:\n    min_vaf: 0.25\n")


def user_folder(path):
    """An empty folder with only the user's config, sheet and data (no workflow files)."""
    (path / "config").mkdir(parents=True)
    (path / "data").mkdir()
    for name in ("ALK01_T1_plasma.vcf.gz", "ALK01_T1_plasma.vcf.gz.tbi", "ALK02_tissue.vcf"):
        shutil.copy(ROOT / "test_data" / name, path / "data" / name)
    (path / "config" / "samples.tsv").write_text(SHEET)
    (path / "config" / "config.yaml").write_text(CONFIG)
    return path


def assert_user_thresholds_reached_the_reports(path):
    calls = {}
    for sample in ("ALK01_T1_plasma", "ALK02_tissue"):
        model = json.loads((path / "results" / sample / "report.json").read_text())
        calls[sample] = sorted((c["status"], c["gene"], c["alteration"]) for c in model["calls"]
                               if c["status"] not in ("sensitivity_evidence", "not_interpretable"))
        th = model["thresholds"]
        assert (th["min_alt_reads"], th["min_vaf"]) == ((20, 0.001) if "plasma" in sample else (4, 0.25))
    assert calls == {
        "ALK01_T1_plasma": [("resistance_low_support", "ALK", "G1202R")],
        "ALK02_tissue": [("resistance_low_support", "ALK", "L1152R"),
                         ("resistance_low_support", "EGFR", "L858R")],
    }, calls
    assert (path / "results" / "_batch" / "summary.tsv").exists()
    assert (path / "results" / "_patients" / "ALK01" / "timeline.html").exists()


def test_module_in_an_empty_folder_with_its_own_config(tmp_path):
    """The README's deployment: a Snakefile with `module ... config: config` + `use rule *`."""
    work = user_folder(tmp_path / "site")
    (work / "Snakefile").write_text(
        'configfile: "config/config.yaml"\n\n\n'
        f'module ctresist:\n    snakefile:\n        "{ROOT / "workflow" / "Snakefile"}"\n'
        "    config:\n        config\n\n\nuse rule * from ctresist\n")
    proc = subprocess.run(["snakemake", "--cores", "2"], cwd=work, env=snakemake_env(),
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert_user_thresholds_reached_the_reports(work)


def test_snakefile_and_directory_from_another_folder(tmp_path):
    """`snakemake -s <repo>/workflow/Snakefile --directory <folder>` run from yet another folder."""
    work = user_folder(tmp_path / "site")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    proc = subprocess.run(["snakemake", "--cores", "2", "-s", str(ROOT / "workflow" / "Snakefile"),
                           "--directory", str(work)], cwd=elsewhere, env=snakemake_env(),
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert_user_thresholds_reached_the_reports(work)
    assert not list(elsewhere.iterdir())


@pytest.mark.parametrize("snakefile", ["workflow/Snakefile", "Snakefile"])
def test_workflow_profile_by_name(tmp_path, snakefile):
    """`--workflow-profile slurm` finds workflow/profiles/slurm whichever Snakefile is given, and
    the default profile (keep-going, rerun-incomplete) is used without being named."""
    work = user_folder(tmp_path / "site")
    dry = subprocess.run(["snakemake", "-n", "-s", str(ROOT / snakefile), "--workflow-profile",
                          "default"], cwd=work, env=snakemake_env(), capture_output=True, text=True)
    out = dry.stdout + dry.stderr
    assert dry.returncode == 0, out[-3000:]
    assert "profiles/default for setting default command line arguments" in out
    slurm = subprocess.run(["snakemake", "-n", "-s", str(ROOT / snakefile), "--workflow-profile",
                            "slurm"], cwd=work, env=snakemake_env(), capture_output=True, text=True)
    assert "profiles/slurm for setting default command line arguments" in slurm.stdout + slurm.stderr


def test_pip_install_non_editable_works_from_any_folder(tmp_path):
    """A plain `pip install .` into a fresh virtual environment carries annotations/ and the
    workflow as package data: annotate and the packaged workflow run in an unrelated folder."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    pip = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--no-deps", str(ROOT)],
                         capture_output=True, text=True, timeout=600)
    if pip.returncode != 0 and ("Could not find a version" in pip.stderr or "connection" in pip.stderr.lower()):
        pytest.skip(f"pip cannot fetch the build backend (offline?): {pip.stderr.strip()[-200:]}")
    assert pip.returncode == 0, pip.stderr
    env = {k: v for k, v in os.environ.items()
           if k not in ("CTRESIST_ANNOTATIONS", "CTRESIST_SHEET_SCHEMA", "PYTHONPATH")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env['PATH']}"
    where = subprocess.run([str(venv / "bin" / "python"), "-c",
                            "import ctresist, pathlib; print(pathlib.Path(ctresist.__file__).parent)"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, check=True).stdout.strip()
    assert where.startswith(str(venv)), where
    work = user_folder(tmp_path / "site")
    proc = subprocess.run(["ctresist", "annotate", "--sheet", "config/samples.tsv", "--sample",
                           "ALK01_T1_plasma", "-o", "r.json"], cwd=work, env=env,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    model = json.loads((work / "r.json").read_text())
    assert [(c["status"], c["alteration"]) for c in model["calls"] if c["gene"] == "ALK"] == [
        ("actionable_resistance", "G1202R")]
    assert model["catalogue"]["version"]
    proc = subprocess.run([str(venv / "bin" / "python"), "-m", "snakemake", "--cores", "2", "-s",
                           f"{where}/workflow/Snakefile"], cwd=work, env=env,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert_user_thresholds_reached_the_reports(work)


def test_staged_inputs_with_the_fs_storage_plugin(tmp_path):
    """#14.9: with --default-storage-provider fs the sheet's VCFs are staged from the storage
    prefix as {input} (the knowledge files stay local), and the reports land in storage."""
    pytest.importorskip("snakemake_storage_plugin_fs", reason="pip install snakemake-storage-plugin-fs")
    if shutil.which("rsync") is None:
        pytest.skip("the fs storage plugin needs rsync")
    store = tmp_path / "store"
    user_folder(store)  # data/ and config/ as the storage would hold them
    work = tmp_path / "work"
    (work / "config").mkdir(parents=True)
    for name in ("samples.tsv", "config.yaml"):
        shutil.copy(store / "config" / name, work / "config" / name)
    proc = subprocess.run([sys.executable, "-m", "snakemake", "--cores", "2", "-s",
                           str(ROOT / "workflow" / "Snakefile"), "--default-storage-provider", "fs",
                           "--default-storage-prefix", str(store)], cwd=work, env=snakemake_env(),
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert not (work / "data").exists()
    assert_user_thresholds_reached_the_reports(store)
