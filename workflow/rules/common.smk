# Helpers shared by the rules: config and sample-sheet validation, input functions, path scheme.
import os
import re

from snakemake.utils import validate

from ctresist.errors import InputError
from ctresist.sheet import read_sheet

validate(config, schema="../schemas/config.schema.yaml")

try:
    # the package's one sheet reader: the schema row by row (errors name file line and column),
    # then what a schema cannot say: unique IDs, real dates, known drugs and drivers. Missing input
    # files are left to the sample's own job, so that one broken sample does not stop the batch.
    samples = read_sheet(config["samples"], check_files=False)
except InputError as exc:
    raise WorkflowError(f"sample sheet: {exc}") from None
validate(samples, schema="../schemas/samples.schema.yaml")
patients = sorted(set(samples["patient"]))


wildcard_constraints:
    sample="|".join(map(re.escape, samples.index)) if len(samples) else "^$",
    patient="|".join(map(re.escape, patients)) if patients else "^$",


def sample_inputs(wildcards):
    """The sample's VCF (+ index) and CNV file, where they exist (a missing one fails that job only)."""
    row = samples.loc[wildcards.sample]
    files = [row["vcf"]] + [row["vcf"] + ext for ext in (".tbi", ".csi")]
    for col in ("cnv", "bam"):
        if row.get(col, ""):
            files.append(row[col])
    return [f for f in files if os.path.exists(f)]


def catalogue_files():
    folder = "annotations/catalogue"
    return sorted(os.path.join(folder, f) for f in os.listdir(folder)) + [
        "annotations/drugs.tsv"
    ]


def patient_reports(wildcards):
    ids = samples.index[samples["patient"] == wildcards.patient]
    return expand("results/{sample}/report.json", sample=ids)


def all_outputs():
    out = expand(
        "results/{sample}/{name}",
        sample=samples.index,
        name=["report.json", "report.html", "calls.tsv"],
    )
    if config.get("longitudinal", True):
        out += expand("results/_patients/{patient}/timeline.html", patient=patients)
    out += ["results/_batch/summary.tsv"]
    return out


def failed_samples():
    """'sample: reason' for samples without a report, the reason being their log's error line."""
    failed = []
    for s in samples.index:
        if os.path.exists(f"results/{s}/report.json"):
            continue
        reason = "did not run"
        log = f"logs/annotate/{s}.log"
        if os.path.exists(log):
            with open(log, encoding="utf-8", errors="replace") as fh:
                errors = [ln.strip() for ln in fh if "error" in ln.lower()]
            reason = errors[-1] if errors else reason
        failed.append(f"{s}: {reason}")
    return failed


def write_failure_summary():
    """On a failed run (e.g. with --keep-going) still list every sample and why it failed."""
    import subprocess

    reports = [
        f"results/{s}/report.json"
        for s in samples.index
        if os.path.exists(f"results/{s}/report.json")
    ]
    subprocess.run(
        [
            "ctresist",
            "-q",
            "summary",
            *reports,
            "--failed",
            *failed_samples(),
            "--tsv",
            "results/_batch/summary.tsv",
            "--html",
            "results/_batch/summary.html",
        ],
        check=False,
    )


onerror:
    write_failure_summary()
