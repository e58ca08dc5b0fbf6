# Helpers shared by the rules: config and sample-sheet validation, per-job params, input functions.
# Each job gets its sample's row values and the settings it uses as params, and its files as
# {input}: appending a sample or changing tissue thresholds reruns only the jobs it changes.
import inspect
import json
import os
import shlex

from snakemake.utils import validate

from ctresist import batch
from ctresist.errors import InputError
from ctresist.sheet import read_sheet

validate(config, schema="../schemas/config.schema.yaml")
batch.use_packaged_data()  # one annotations folder for every job (checkout or installed package)
ANNOTATIONS = os.path.abspath(config["annotations"] or batch.annotations_folder())

# The sheet's structure (columns, unique and valid IDs) is checked here, before any job; a row's
# values (driver, drugs, dates, files) are checked by its own job, so one bad row fails one sample.
_sheet_options = {"check_files": False}
if "check_values" in inspect.signature(read_sheet).parameters:
    _sheet_options["check_values"] = False
try:
    samples = read_sheet(config["samples"], **_sheet_options)
except InputError as exc:
    raise WorkflowError(f"sample sheet: {exc}") from None
ROWS = samples.to_dict(orient="index")  # O(1) row lookup per job
LINES = samples.attrs.get(
    "lines", {}
)  # {sample: line of the sheet}, named in a job's errors
BY_PATIENT = {}  # {patient: [sample, ...]} in sheet order: O(1) per timeline job
for _sample, _row in ROWS.items():
    BY_PATIENT.setdefault(_row["patient"], []).append(_sample)
patients = sorted(BY_PATIENT)

if workflow.is_main_process and not workflow.dryrun:
    # kill -9 of a previous run leaves its lock behind: clear it when that run is gone
    batch.claim_run(".snakemake")

ID = "[A-Za-z0-9][A-Za-z0-9_.-]*"


wildcard_constraints:
    sample=ID,
    patient=ID,


#: inputs come from a storage provider (--default-storage-provider): sheet paths are storage paths
STAGED = bool(workflow.storage_settings.default_storage_provider)


def knowledge_files():
    """The shipped (or configured) knowledge files that can change a call; not README/CHANGELOG.
    They belong to the installation, never to the storage provider: local()."""
    return [local(f) for f in batch.knowledge_files(ANNOTATIONS)]


def annotations_of(wildcards, input):
    """The annotations folder, from the staged knowledge files (genes.tsv is at its top)."""
    return os.path.dirname(input.genes)


def sample_files(wildcards):
    """The sample's VCF (+ index), CNV, BAM (+ index), fusion/SV calls, coverage (+ index) and
    purity file where they exist; a missing one fails only this sample's job, with the path named
    (the path is then passed as given in the sheet).
    """
    row = ROWS[wildcards.sample]
    files = {}
    for col, exts in (
        ("vcf", (".tbi", ".csi")),
        ("cnv", ()),
        ("bam", (".bai", ".crai")),
        ("fusions", ()),
        ("coverage", (".tbi", ".csi")),
        ("purity_file", ()),
    ):
        path = row.get(col, "")
        if path and STAGED:  # from storage: declared as given (indexes are not staged)
            files[col] = path
        elif path and os.path.exists(path):
            files[col] = path
            for ext in exts:
                if os.path.exists(path + ext):
                    files[col + ext.replace(".", "_")] = path + ext
    build = row.get("genome_build", "")
    for key in ("reference_fasta", "gff3"):
        path = config.get(key, {}).get(build)
        if path:
            files[key] = path
    return files


def annotate_values(wildcards):
    """The sample's sheet values as quoted ctresist annotate options (a changed value reruns it)."""
    row = ROWS[wildcards.sample]
    opts = {
        "sample": wildcards.sample,
        "origin": f"{config['samples']}:{LINES.get(wildcards.sample, '?')}",
        "patient": row.get("patient", ""),
        "date": row.get("collection_date", ""),
        "specimen": row.get("specimen", ""),
        "build": row.get("genome_build", ""),
        "driver": row.get("driver", ""),
        "therapy": row.get("therapy", ""),
        "tumor-sample": row.get("tumor_sample", ""),
        "normal-sample": row.get("normal_sample", ""),
        "tumor-fraction": row.get("tumor_fraction", ""),
    }
    return " ".join(shlex.quote(f"--{k}={v}") for k, v in opts.items() if v)


def annotate_files(wildcards, input):
    """The sample's files as options: the staged {input} paths; a file that does not exist is
    passed as written in the sheet, so that its job fails naming it."""
    row = ROWS[wildcards.sample]
    opts = {
        col.replace("_", "-"): input.get(col, row.get(col, ""))
        for col in ("vcf", "cnv", "bam", "fusions", "coverage", "purity_file")
    }
    opts["reference-fasta"] = input.get("reference_fasta", "")
    opts["gff3"] = input.get("gff3", "")
    return " ".join(shlex.quote(f"--{k}={v}") for k, v in opts.items() if v)


def annotate_settings(wildcards):
    """The config this sample's calls depend on, as JSON: the thresholds of its specimen and the
    shared ones, the preferred transcripts and the read-level ctDNA settings (a change reruns only
    the samples it concerns).
    """
    specimen = ROWS[wildcards.sample].get("specimen")
    thresholds = {
        k: v
        for k, v in config.get("thresholds", {}).items()
        if k not in ("plasma", "tissue") or k == specimen
    }
    settings = {
        "thresholds": thresholds,
        "preferred_transcripts": config.get("preferred_transcripts", {}),
        "ctdna": config.get("ctdna", {}),
    }
    return json.dumps(settings, sort_keys=True)


def patient_reports(wildcards):
    return [f"results/{s}/report.json" for s in BY_PATIENT[wildcards.patient]]


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


onerror:
    # with --keep-going the batch summary still lists every sample, failed ones with their reason
    batch.write_failure_summary(
        list(samples.index),
        "results",
        "logs",
        patients=samples["patient"].to_dict(),
    )


#: job_timeout (s): ctresist stops itself after it (the sample fails with the reason); SLURM
#: gets it as the job's runtime (min). Resources, not params: changing it reruns nothing.
TIMEOUT = config.get("job_timeout", 3600)
RUNTIME = -(-TIMEOUT // 60) if TIMEOUT else 7 * 24 * 60
