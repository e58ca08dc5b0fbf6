"""Faults: a killed job leaves no output that looks complete; a batch with broken samples still
finishes the good ones under --keep-going and lists every failure with its one-line reason."""
from __future__ import annotations

import csv
import os
import signal
import subprocess
import time

from conftest import csq, rec, snakemake_env, vcf_text


def test_batch_of_20_with_3_broken_samples(repo_copy):
    """17 reports and 3 failures (missing file, truncated bgzip, AF > 1) in the batch summary."""
    td = repo_copy / "test_data"
    good = (td / "ALK01_T1_plasma.vcf.gz").read_bytes()
    (td / "truncated.vcf.gz").write_bytes(good[: len(good) // 2])
    (td / "bad_af.vcf").write_text(vcf_text([rec("2", 29220747, "C", "T", ".", "0/1:10,5:12:1.5")]))
    rows = ["sample\tpatient\tcollection_date\tspecimen\tvcf\tcnv\tdriver\ttherapy\tgenome_build"]
    for i in range(17):
        rows.append(f"S{i:02d}\tP{i % 4}\t2024-01-{i + 1:02d}\tplasma\ttest_data/ALK01_T1_plasma.vcf.gz\t\tEML4-ALK\talectinib\tGRCh38")
    rows.append("B1\tPB\t2024-02-01\tplasma\ttest_data/missing.vcf.gz\t\tEML4-ALK\talectinib\tGRCh38")
    rows.append("B2\tPB\t2024-02-02\tplasma\ttest_data/truncated.vcf.gz\t\tEML4-ALK\talectinib\tGRCh38")
    rows.append("B3\tPB\t2024-02-03\tplasma\ttest_data/bad_af.vcf\t\tEML4-ALK\talectinib\tGRCh38")
    (repo_copy / "config" / "samples.tsv").write_text("\n".join(rows) + "\n")
    proc = subprocess.run(["snakemake", "--cores", "2", "--keep-going", "--config", "longitudinal=False"],
                          cwd=repo_copy, env=snakemake_env(), capture_output=True, text=True)
    assert proc.returncode != 0
    reports = sorted(p.parent.name for p in (repo_copy / "results").glob("*/report.json"))
    assert reports == [f"S{i:02d}" for i in range(17)]
    with open(repo_copy / "results" / "_batch" / "summary.tsv") as fh:
        summary = {r["sample"]: r for r in csv.DictReader(fh, delimiter="\t")}
    assert len(summary) == 20
    failed = {s: r["headline"] for s, r in summary.items() if r["outcome"] == "failed"}
    assert set(failed) == {"B1", "B2", "B3"}
    assert "test_data/missing.vcf.gz: file not found" in failed["B1"]
    assert "truncated.vcf.gz" in failed["B2"]
    assert "record 1 (2:29220747): allele fraction 1.5 outside 0-1" in failed["B3"]
    assert all(summary[f"S{i:02d}"]["actionable"] == "ALK G1202R" for i in range(17))


def test_killed_annotate_leaves_no_complete_output(tmp_path):
    """kill -9 in the middle of a long annotate: no report.json appears; a rerun completes it."""
    recs = [rec("2", 29000000 + i * 3, "C", "T", "CSQ=" + csq("ALK", "T", "p.Gly1202Arg"))
            for i in range(60000)]
    vcf = tmp_path / "big.vcf"
    vcf.write_text(vcf_text(recs))
    out = tmp_path / "out" / "report.json"
    cmd = ["ctresist", "annotate", "--sample", "K", "--vcf", str(vcf), "--driver", "EML4-ALK",
           "--therapy", "alectinib", "--specimen", "plasma", "--build", "GRCh38", "-o", str(out)]
    proc = subprocess.Popen(cmd, stderr=subprocess.DEVNULL, start_new_session=True)
    time.sleep(1.5)
    finished_early = proc.poll() is not None
    if not finished_early:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        assert not out.exists()
    rerun = subprocess.run(cmd, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    assert out.exists()


def test_annotate_runs_without_network(tmp_path):
    """Everything ships in annotations/: annotate and render work in a namespace with no network."""
    import shutil

    if shutil.which("unshare") is None or subprocess.run(["unshare", "-n", "true"]).returncode != 0:
        import pytest

        pytest.skip("cannot create a network namespace here (unshare -n)")
    from conftest import ROOT

    out = tmp_path / "r.json"
    cmd = ["unshare", "-n", "ctresist", "annotate", "--sheet", "config/samples.tsv",
           "--sample", "RET01_tissue", "-o", str(out)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    proc = subprocess.run(["unshare", "-n", "ctresist", "render", str(out), "--html", str(tmp_path / "r.html")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
