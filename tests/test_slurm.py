"""The workflow on a real SLURM cluster on localhost (opt-in: CTRESIST_SLURM=1, root, Debian
slurm-wlm + munge, snakemake-executor-plugin-slurm). Same exact calls as the local run."""
from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
from conftest import ROOT, snakemake_env
from test_workflow import EXPECTED

pytestmark = pytest.mark.skipif(os.environ.get("CTRESIST_SLURM") != "1",
                                reason="SLURM test is opt-in: CTRESIST_SLURM=1 pytest tests/test_slurm.py")

SCRIPT = ROOT / "tests" / "cluster" / "slurm_localhost.sh"


@pytest.fixture(scope="module")
def cluster():
    subprocess.run(["bash", str(SCRIPT), "start"], check=True)
    yield
    subprocess.run(["bash", str(SCRIPT), "stop"], check=False)


def test_workflow_on_slurm(cluster, tmp_path):
    """Every rule runs as a SLURM job (sbatch) and the reports carry the expected calls."""
    repo = tmp_path / "repo"
    repo.mkdir()
    for item in ("Snakefile", "workflow", "config", "test_data", "annotations"):
        src = ROOT / item
        (shutil.copytree if src.is_dir() else shutil.copy)(src, repo / item)
    (repo / "profiles").symlink_to("workflow/profiles")
    proc = subprocess.run(["snakemake", "--workflow-profile", "slurm", "--config",
                           "patients_per_job=3"], cwd=repo,
                          env=snakemake_env(), capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    submitted = [ln for ln in proc.stderr.splitlines() if "has been submitted with SLURM jobid" in ln]
    # one job per group of 3 patients (its samples' reports and its patients' timelines); the
    # summary and the final check are local rules (tiny)
    with open(repo / "config" / "samples.tsv") as fh:
        patients = list(dict.fromkeys(line.split("\t")[1] for line in list(fh)[1:]))
    assert len(submitted) == -(-len(patients) // 3)
    for sample, expected in EXPECTED.items():
        model = json.loads((repo / "results" / sample / "report.json").read_text())
        got = [(c["status"], c["gene"], c["alteration"], c["entry_id"]) for c in model["calls"]
               if c["status"] != "sensitivity_evidence"]
        assert got == expected, sample
