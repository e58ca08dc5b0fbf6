"""Faults: a killed job leaves no output that looks complete; a batch with broken samples still
finishes the good ones under --keep-going and lists every failure with its one-line reason; a
killed run is finished by the same command; operating-system errors and stalled inputs are one
line."""
from __future__ import annotations

import csv
import json
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
    # every sample has its report files; the 3 broken ones are failure reports ("not analysed")
    reports = {p.parent.name: json.loads(p.read_text()) for p in (repo_copy / "results").glob("*/report.json")}
    assert sorted(s for s, m in reports.items() if not m.get("failed")) == [f"S{i:02d}" for i in range(17)]
    assert sorted(s for s, m in reports.items() if m.get("failed")) == ["B1", "B2", "B3"]
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
    time.sleep(0.5)
    finished_early = proc.poll() is not None
    if not finished_early:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        # killed before its atomic rename: no report; after it: the whole report, never a part
        if out.exists():
            assert json.loads(out.read_text())["sample"]["sample"] == "K"
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


def _descendants(pid: int) -> set[int]:
    """All processes below ``pid`` (from /proc/<pid>/task/*/children)."""
    from pathlib import Path

    found, todo = set(), [pid]
    while todo:
        p = todo.pop()
        for children in Path(f"/proc/{p}/task").glob("*/children"):
            try:
                kids = {int(c) for c in children.read_text().split()}
            except OSError:
                continue
            todo += list(kids - found)
            found |= kids
    return found


def _cmdline(pid: int) -> str:
    from pathlib import Path

    try:
        return Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


def test_rerun_after_kill_9_finishes_the_batch(repo_copy):
    """#9.10: snakemake killed with SIGKILL in the middle of a 16-sample batch leaves a lock and
    incomplete outputs; its running ctresist jobs end within seconds (they watch the run); the
    README's command then finishes the batch with the exact calls (default profile:
    rerun-incomplete; the dead run's lock is cleared by the workflow)."""
    rows = ["sample\tpatient\tcollection_date\tspecimen\tvcf\tcnv\tdriver\ttherapy\tgenome_build"]
    for i in range(16):
        rows.append(f"K{i:02d}\tP{i % 8}\t2024-01-{i + 1:02d}\tplasma\ttest_data/ALK01_T1_plasma.vcf.gz\t\tEML4-ALK\talectinib\tGRCh38")
    (repo_copy / "config" / "samples.tsv").write_text("\n".join(rows) + "\n")
    if not (repo_copy / "profiles").exists():  # the repository's profiles/ -> workflow/profiles
        (repo_copy / "profiles").symlink_to("workflow/profiles")
    # one patient (2 samples) per annotate job: 8 jobs, so there is a job to kill after 3 reports
    (repo_copy / "config" / "config.yaml").write_text(
        (repo_copy / "config" / "config.yaml").read_text() + "annotations: annotations\n"
        "patients_per_job: 1\n")
    run = subprocess.Popen(["snakemake", "--cores", "1"], cwd=repo_copy, env=snakemake_env(),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    jobs: set[int] = set()
    while time.time() < deadline and len(list((repo_copy / "results").glob("*/report.json"))) < 3:
        time.sleep(0.2)
    while time.time() < deadline and not jobs and run.poll() is None:  # kill while a job runs
        jobs = {p for p in _descendants(run.pid) if "ctresist" in _cmdline(p)}
    assert run.poll() is None, "the batch finished before it could be killed"
    assert jobs, "no running ctresist job seen"
    os.kill(run.pid, signal.SIGKILL)
    run.wait()
    assert list((repo_copy / ".snakemake" / "locks").glob("*.lock")), "no stale lock to recover from"
    gone_by = time.time() + 3  # the jobs must be gone within 3 s; stop looking once they are
    while time.time() < gone_by and any(_alive(p) for p in jobs):
        time.sleep(0.1)
    assert not [p for p in jobs if _alive(p)], "orphaned ctresist jobs still running"
    done = len(list((repo_copy / "results").glob("*/report.json")))
    assert 3 <= done < 16
    proc = subprocess.run(["snakemake", "--cores", "2"], cwd=repo_copy, env=snakemake_env(),
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    with open(repo_copy / "results" / "_batch" / "summary.tsv") as fh:
        summary = {r["sample"]: r for r in csv.DictReader(fh, delimiter="\t")}
    assert sorted(summary) == [f"K{i:02d}" for i in range(16)]
    assert all(r["outcome"] == "ok" and r["actionable"] == "ALK G1202R" for r in summary.values())


def test_a_300_kib_failure_reason_does_not_stop_the_summary(repo_copy):
    """#9.8: a 15,000-column cohort VCF with a wrong tumor_sample fails with a 300 KiB error line
    (it lists the columns). The summary is still written (reasons never pass through argv) and
    its reason is cut to a readable length that points to the log."""
    names = [f"COHORT_SAMPLE_{i:05d}" for i in range(15000)]
    record = rec("2", 29220747, "C", "T", ".", "\t".join(["0/1:990,10:1000:0.01"] * len(names)))
    (repo_copy / "test_data" / "cohort.vcf").write_text(vcf_text([record], samples=names))
    header = "sample\tpatient\tcollection_date\tspecimen\tvcf\tcnv\tdriver\ttherapy\tgenome_build\ttumor_sample"
    rows = [header,
            "GOOD\tP1\t2024-01-01\tplasma\ttest_data/ALK01_T1_plasma.vcf.gz\t\tEML4-ALK\talectinib\tGRCh38\t",
            "COHORT\tP2\t2024-01-01\tplasma\ttest_data/cohort.vcf\t\tEML4-ALK\talectinib\tGRCh38\tNOPE"]
    (repo_copy / "config" / "samples.tsv").write_text("\n".join(rows) + "\n")
    proc = subprocess.run(["snakemake", "--cores", "2", "--keep-going", "--config", "longitudinal=False"],
                          cwd=repo_copy, env=snakemake_env(), capture_output=True, text=True)
    assert proc.returncode != 0
    assert len((repo_copy / "logs" / "annotate" / "COHORT.log").read_text()) > 128 * 1024
    with open(repo_copy / "results" / "_batch" / "summary.tsv") as fh:
        summary = {r["sample"]: r for r in csv.DictReader(fh, delimiter="\t")}
    assert summary["GOOD"]["outcome"] == "ok" and summary["COHORT"]["outcome"] == "failed"
    reason = summary["COHORT"]["headline"]
    assert "NOPE" in reason and len(reason) < 700, reason[:800]
    assert reason.endswith("more characters in logs/annotate/COHORT.log]")


def test_os_errors_are_one_line(tmp_path):
    """#9.7: an output path that is a folder, and an unwritable output folder, give one line naming
    the file and what to do, exit status 1, no traceback."""
    from conftest import ROOT

    model = tmp_path / "r.json"
    ok = subprocess.run(["ctresist", "annotate", "--sheet", "config/samples.tsv", "--sample",
                         "RET01_tissue", "-o", str(model)], cwd=ROOT, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    (tmp_path / "out.html").mkdir()
    proc = subprocess.run(["ctresist", "render", str(model), "--html", str(tmp_path / "out.html")],
                          capture_output=True, text=True)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert lines[0].startswith("ctresist: error: ") and "out.html" in lines[0], lines[0]
    assert lines[0].endswith("Is a directory; give a file, not a folder"), lines[0]


def test_fifo_input_stops_at_the_job_timeout(tmp_path):
    """#9.7: a reader blocked on a FIFO (nobody writes) ends at --timeout (config job_timeout in
    the workflow) with one error line and exit status 124, instead of hanging the batch."""
    fifo = tmp_path / "stalled.json"
    os.mkfifo(fifo)
    start = time.time()
    proc = subprocess.run(["ctresist", "--timeout", "2", "render", str(fifo), "--html",
                           str(tmp_path / "r.html")], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 124
    assert proc.stderr.strip() == ("ctresist: error: no result after 2 s (job_timeout); a FIFO or "
                                   "a stalled file system? Check the inputs or raise job_timeout")
    assert time.time() - start < 30
    assert not (tmp_path / "r.html").exists()
