"""#14.7: several samples per process (``ctresist annotate-batch``, the workflow's annotate job).

Each sample runs as ``ctresist annotate`` would (same calls, same error line, its own log and its
own timeout); a failed sample gets failure reports that can never read as "no resistance", its
group-mates are unaffected, its patient's timeline is made from the patient's other samples, the
batch summary lists it as failed and ``check-summary`` fails.
"""
from __future__ import annotations

import json
import os
import subprocess

import jsonschema
import pytest
from conftest import ROOT

from ctresist.failed import FAILED_SCHEMA

T1 = ROOT / "test_data" / "ALK01_T1_plasma.vcf.gz"
T2 = ROOT / "test_data" / "ALK01_T2_plasma.vcf.gz"


def ctresist(*args, cwd, check=False, timeout=120):
    return subprocess.run(["ctresist", *args], cwd=cwd, capture_output=True, text=True,
                          check=check, timeout=timeout)


def sample_job(tmp, sample, vcf, date, therapy="Alecensa"):
    out = [str(tmp / "results" / sample / n) for n in ("report.json", "report.html", "calls.tsv")]
    argv = ["annotate", f"--sample={sample}", "--patient=ALK01", f"--date={date}", "--specimen=plasma",
            "--build=GRCh38", "--driver=EML4-ALK", f"--therapy={therapy}", f"--vcf={vcf}",
            f"--origin=sheet.tsv:{sample[-1]}", f"--output={out[0]}", f"--html={out[1]}",
            f"--tsv={out[2]}"]
    return {"sample": sample, "argv": argv, "log": str(tmp / "logs" / f"{sample}.log"),
            "outputs": out, "what": {"sample": sample, "patient": "ALK01", "collection_date": date,
                                     "specimen": "plasma"}}


def timeline_job(tmp, samples):
    d = tmp / "results" / "_patients" / "ALK01"
    out = [str(d / n) for n in ("timeline.json", "timeline.tsv", "timeline.html", "timeline.svg")]
    return {"patient": "ALK01", "samples": samples, "log": str(tmp / "logs" / "ALK01.timeline.log"),
            "argv": ["longitudinal", "--patient=ALK01", f"--json={out[0]}", f"--tsv={out[1]}",
                     f"--html={out[2]}"], "outputs": out}


def calls(path):
    with open(path) as fh:
        model = json.load(fh)
    return [(c["status"], c["gene"], c["alteration"]) for c in model["calls"]
            if c["status"] != "sensitivity_evidence"]


def test_one_bad_sample_fails_alone_with_a_failure_report(tmp_path):
    jobs = {"samples": [sample_job(tmp_path, "S1", T1, "2024-04-02"),
                        sample_job(tmp_path, "S2", tmp_path / "missing.vcf", "2024-05-02"),
                        sample_job(tmp_path, "S3", T2, "2024-06-02", therapy="alectinibb"),
                        sample_job(tmp_path, "S4", T2, "2024-07-02")],
            "timelines": [timeline_job(tmp_path, ["S1", "S2", "S3", "S4"])]}
    r = ctresist("annotate-batch", "--jobs", json.dumps(jobs), "--sample-timeout", "60", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "2 sample(s) annotated, 2 failed (S2, S3); 1 timeline(s)" in r.stderr
    # the good samples: exactly the calls of a single `ctresist annotate`
    assert calls(tmp_path / "results" / "S1" / "report.json") == [
        ("actionable_resistance", "ALK", "G1202R")]
    single = ctresist(*sample_job(tmp_path / "single", "S4", T2, "2024-07-02")["argv"], cwd=tmp_path)
    assert single.returncode == 0, single.stderr
    assert calls(tmp_path / "results" / "S4" / "report.json") == calls(
        tmp_path / "single" / "results" / "S4" / "report.json")
    # the bad ones: their own error line in their own log, and failure reports
    assert (tmp_path / "logs" / "S2.log").read_text().strip().endswith("missing.vcf: file not found")
    assert "unknown drug 'alectinibb'" in (tmp_path / "logs" / "S3.log").read_text()
    failed = json.loads((tmp_path / "results" / "S2" / "report.json").read_text())
    schema = json.loads((ROOT / "src" / "ctresist" / "schemas" / "failed.schema.json").read_text())
    jsonschema.validate(failed, schema)
    assert failed["schema"] == FAILED_SCHEMA and failed["failed"] is True
    assert failed["error"].endswith("missing.vcf: file not found")
    assert failed["sample"] == {"sample": "S2", "patient": "ALK01", "collection_date": "2024-05-02",
                                "specimen": "plasma"}
    page = (tmp_path / "results" / "S2" / "report.html").read_text()
    assert "NOT ANALYSED" in page and "not a negative report" in page and "No resistance" not in page
    rows = (tmp_path / "results" / "S3" / "calls.tsv").read_text().splitlines()
    assert len(rows) == 2
    row = dict(zip(rows[0].split("\t"), rows[1].split("\t")))
    assert (row["sample"], row["status"], row["row_type"]) == ("S3", "not_analysed", "failed")
    assert "alectinibb" in row["excluded_reason"]
    # the patient's timeline is made of the two analysed samples and lists the two others as
    # not analysed (JSON, TSV and the page), never as negative timepoints
    d = tmp_path / "results" / "_patients" / "ALK01"
    tl = json.loads((d / "timeline.json").read_text())
    assert [t["sample"] for t in tl["timepoints"]] == ["S1", "S4"]
    assert [(n["sample"], n["date"]) for n in tl["not_analysed"]] == [("S2", "2024-05-02"),
                                                                      ("S3", "2024-06-02")]
    jsonschema.validate(tl, json.loads((ROOT / "src" / "ctresist" / "schemas" /
                                        "timeline.schema.json").read_text()))
    tsv = [ln.split("\t") for ln in (d / "timeline.tsv").read_text().splitlines()]
    gaps = [dict(zip(tsv[0], ln)) for ln in tsv[1:] if "not_analysed" in ln]
    assert [(g["sample"], g["state"]) for g in gaps] == [("S2", "not_analysed"), ("S3", "not_analysed")]
    assert "missing.vcf: file not found" in gaps[0]["note"]
    page = (d / "timeline.html").read_text()
    assert "Samples not analysed" in page and "they are not negative results" in page
    # the batch summary lists the failed ones; the final check fails naming them
    reports = [str(tmp_path / "results" / s / "report.json") for s in ("S1", "S2", "S3", "S4")]
    summ = tmp_path / "results" / "_batch"
    r = ctresist("summary", *reports, "--tsv", str(summ / "summary.tsv"), "--html",
                 str(summ / "summary.html"), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    lines = [ln.split("\t") for ln in (summ / "summary.tsv").read_text().splitlines()]
    cols = lines[0]
    got = {ln[cols.index("sample")]: (ln[cols.index("outcome")], ln[cols.index("patient")])
           for ln in lines[1:]}
    assert got == {"S1": ("ok", "ALK01"), "S2": ("failed", "ALK01"), "S3": ("failed", "ALK01"),
                   "S4": ("ok", "ALK01")}
    r = ctresist("check-summary", str(summ / "summary.tsv"), "-o", str(summ / "ok.txt"), cwd=tmp_path)
    assert r.returncode == 1 and not (summ / "ok.txt").exists()
    assert r.stderr.strip() == (f"ctresist: error: {summ / 'summary.tsv'}: 2 of 4 sample(s) not "
                                "analysed (S2, S3); each one's reason is in that file (and its "
                                "report); fix those inputs and rerun")


def test_each_sample_has_its_own_timeout(tmp_path):
    """A FIFO that never delivers stops its own sample after --sample-timeout; the next sample of
    the same process is annotated (the watchdog of the first is disarmed)."""
    fifo = tmp_path / "stuck.vcf"
    os.mkfifo(fifo)
    jobs = {"samples": [sample_job(tmp_path, "S1", fifo, "2024-04-02"),
                        sample_job(tmp_path, "S2", T1, "2024-05-02")], "timelines": []}
    r = ctresist("annotate-batch", "--jobs", json.dumps(jobs), "--sample-timeout", "2", cwd=tmp_path,
                 timeout=60)
    assert r.returncode == 0, r.stderr
    s1 = json.loads((tmp_path / "results" / "S1" / "report.json").read_text())
    assert s1["failed"] is True
    # a FIFO is refused when opened, or the sample times out: either way it fails alone
    assert "FIFO" in s1["error"] or "no result after 2 s" in s1["error"]
    assert calls(tmp_path / "results" / "S2" / "report.json") == [
        ("actionable_resistance", "ALK", "G1202R")]


@pytest.mark.parametrize("jobs", ["[]", "{\"samples\": [{\"sample\": \"S\"}]}", "not json"])
def test_malformed_jobs_are_one_line(tmp_path, jobs):
    r = ctresist("annotate-batch", "--jobs", jobs, cwd=tmp_path)
    assert r.returncode == 1
    assert r.stderr.startswith("ctresist: error: annotate-batch --jobs: ") and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
