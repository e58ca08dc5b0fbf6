# Helpers shared by the rules: config and sample-sheet validation, per-job params, input functions.
# Each job gets its sample's row values and the settings it uses as params, and its files as
# {input}: appending a sample or changing tissue thresholds reruns only the jobs it changes.
import inspect
import json
import os
import shlex

from snakemake.io import report as report_file  # `report` alone is a Snakemake keyword
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

#: One annotate job (one process) per group of ``patients_per_job`` consecutive patients, in sheet
#: order, each with all its samples: imports and knowledge load once per group, and a new
#: timepoint reruns only its patient's group (appended patients: the last group or a new one).
PER_JOB = config.get("patients_per_job", 20)
CHUNKS = {}  # {chunk: [sample, ...]}
CHUNK_OF = {}  # {sample: chunk}
for _i, _patient in enumerate(BY_PATIENT):  # first appearance in the sheet
    _chunk = f"{_i // PER_JOB:05d}"
    CHUNKS.setdefault(_chunk, []).extend(BY_PATIENT[_patient])
    for _sample in BY_PATIENT[_patient]:
        CHUNK_OF[_sample] = _chunk

if workflow.is_main_process and not workflow.dryrun:
    # kill -9 of a previous run leaves its lock behind: clear it when that run is gone
    batch.claim_run(".snakemake")

ID = "[A-Za-z0-9][A-Za-z0-9_.-]*"


wildcard_constraints:
    sample=ID,
    patient=ID,
    chunk="[0-9]+",


#: inputs come from a storage provider (--default-storage-provider): sheet paths are storage paths
STAGED = bool(workflow.storage_settings.default_storage_provider)


def knowledge_files():
    """The shipped (or configured) knowledge files that can change a call; not README/CHANGELOG.
    They belong to the installation, never to the storage provider: local()."""
    return [local(f) for f in batch.knowledge_files(ANNOTATIONS)]


def annotations_of(wildcards, input):
    """The annotations folder, from the staged knowledge files (genes.tsv is at its top)."""
    return os.path.dirname(input.genes)


#: The sheet's file columns and the index files looked for beside each.
FILE_COLUMNS = {
    "vcf": (".tbi", ".csi"),
    "cnv": (),
    "bam": (".bai", ".crai"),
    "fusions": (),
    "coverage": (".tbi", ".csi"),
    "purity_file": (),
}


def sample_files(sample):
    """The sample's VCF (+ index), CNV, BAM (+ index), fusion/SV calls, coverage (+ index) and
    purity file where they exist; a missing one fails only this sample's job, with the path named
    (the path is then passed as given in the sheet).
    """
    row = ROWS[sample]
    files = {}
    for col, exts in FILE_COLUMNS.items():
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


def annotate_values(sample):
    """``ctresist annotate`` options of one sample from its sheet row and the settings its calls
    depend on (wildcards only: Snakemake records them, and a change reruns the sample's group).
    """
    row = ROWS[sample]
    values = {
        "sample": sample,
        "origin": f"{config['samples']}:{LINES.get(sample, '?')}",
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
    options = [f"--{k}={v}" for k, v in values.items() if v]
    return [*options, f"--settings={annotate_settings(sample)}"]


def annotate_argv(sample, files, outputs):
    """``ctresist annotate`` arguments of one sample: its values, its files (the staged {input}
    paths; a file that does not exist is passed as written in the sheet, so that the sample fails
    naming it) and its outputs (report.json, report.html, calls.tsv)."""
    row = ROWS[sample]
    paths = {}
    for col in FILE_COLUMNS:
        paths[col.replace("_", "-")] = files.get(col, row.get(col, ""))
    paths["reference-fasta"] = files.get("reference_fasta", "")
    paths["gff3"] = files.get("gff3", "")
    return [
        "annotate",
        *annotate_values(sample),
        *(f"--{k}={v}" for k, v in paths.items() if v),
        f"--output={outputs[0]}",
        f"--html={outputs[1]}",
        f"--tsv={outputs[2]}",
    ]


def annotate_settings(sample):
    """The config this sample's calls depend on, as JSON: the thresholds of its specimen and the
    shared ones, the preferred transcripts and the read-level ctDNA settings (a change reruns only
    the groups of the samples it concerns).
    """
    specimen = ROWS[sample].get("specimen")
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


def chunk_files(chunk):
    """The files of every sample of the group, named m<i>_<column> (i: the sample's place)."""
    files = {}
    for i, sample in enumerate(CHUNKS[chunk]):
        for key, path in sample_files(sample).items():
            files[f"m{i}_{key}"] = path
    return files


def chunk_values(chunk):
    """The group's samples and their values (recorded by Snakemake: a change reruns the group)."""
    return json.dumps({s: annotate_values(s) for s in CHUNKS[chunk]}, sort_keys=True)


REPORT_FILES = ("report.json", "report.html", "calls.tsv")
TIMELINE_FILES = ("timeline.json", "timeline.tsv", "timeline.html", "timeline.svg")


def chunk_patients(chunk):
    """The patients of a group, in sheet order (each with all its samples)."""
    return list(dict.fromkeys(ROWS[s]["patient"] for s in CHUNKS[chunk]))


def chunk_outputs(chunk):
    """Every sample's report files and (with ``longitudinal``) every patient's timeline files."""
    out = []
    for sample in CHUNKS[chunk]:
        json_, html, tsv = (f"results/{sample}/{name}" for name in REPORT_FILES)
        labels = {"sample": sample, "type": "report"}
        out += [
            json_,
            report_file(
                html,
                caption="../report/report.rst",
                category="Sample reports",
                labels=labels,
            ),
            tsv,
        ]
    if config.get("longitudinal", True):
        for patient in chunk_patients(chunk):
            json_, tsv, html, svg = (
                f"results/_patients/{patient}/{n}" for n in TIMELINE_FILES
            )
            labels = {"patient": patient, "type": "timeline"}
            out += [
                json_,
                tsv,
                report_file(
                    html,
                    caption="../report/timeline.rst",
                    category="Patient timelines",
                    labels=labels,
                ),
                svg,
            ]
    return out


def chunk_logs(chunk):
    logs = [f"logs/annotate/{s}.log" for s in CHUNKS[chunk]]
    if config.get("longitudinal", True):
        logs += [f"logs/longitudinal/{p}.log" for p in chunk_patients(chunk)]
    return logs


def chunk_jobs(chunk, input, output):
    """JSON of the group's ``ctresist annotate`` runs and, with ``longitudinal``, its patients'
    ``ctresist longitudinal`` runs, with their logs; files are the job's {input} and {output}
    paths (as staged by a storage provider), in the order of :func:`chunk_outputs`."""
    outputs = list(output)
    samples = []
    for i, sample in enumerate(CHUNKS[chunk]):
        prefix = f"m{i}_"  # chunk_files' names of this sample's files
        files = {k[len(prefix) :]: v for k, v in input.items() if k.startswith(prefix)}
        row = ROWS[sample]
        out, outputs = outputs[:3], outputs[3:]
        samples.append(
            {
                "sample": sample,
                "argv": annotate_argv(sample, files, out),
                "log": f"logs/annotate/{sample}.log",
                "outputs": out,
                "what": {
                    "sample": sample,
                    "patient": row.get("patient", ""),
                    "collection_date": row.get("collection_date", ""),
                    "specimen": row.get("specimen", ""),
                },
            }
        )
    timelines = []
    if config.get("longitudinal", True):
        for patient in chunk_patients(chunk):
            out, outputs = outputs[:4], outputs[4:]
            json_, tsv, html, svg = out
            timelines.append(
                {
                    "patient": patient,
                    "samples": BY_PATIENT[patient],
                    "argv": [
                        "longitudinal",
                        f"--patient={patient}",
                        f"--json={json_}",
                        f"--tsv={tsv}",
                        f"--html={html}",
                    ],
                    "log": f"logs/longitudinal/{patient}.log",
                    "outputs": out,
                }
            )
    return json.dumps({"samples": samples, "timelines": timelines})


def chunk_runtime(chunk):
    """SLURM runtime (min) of a group: one job_timeout (a stalled sample is stopped by it) plus a
    minute for each of its samples and timelines (a panel sample takes seconds); not job_timeout
    times each, which would ask a cluster for days."""
    return RUNTIME + len(CHUNKS[chunk]) + len(chunk_patients(chunk))


def all_outputs():
    """The batch summary and its check: they need every sample's report, whose job writes the
    sample's other files and its patients' timelines (Snakemake reruns a job with any output
    missing), so the DAG is built from these two targets, not from 4 x samples of them.
    """
    return ["results/_batch/summary.tsv", "results/_batch/all_samples_analysed.txt"]


onerror:
    # with --keep-going the batch summary still lists every sample, failed ones with their reason
    batch.write_failure_summary(
        list(samples.index),
        "results",
        "logs",
        patients=samples["patient"].to_dict(),
        groups=CHUNK_OF,
    )


#: job_timeout (s): ctresist stops a sample (or a timeline) after it, and the sample fails with
#: the reason; a SLURM job's runtime follows from it (chunk_runtime). Resources, not params:
#: changing it reruns nothing.
TIMEOUT = config.get("job_timeout", 3600)
RUNTIME = -(-TIMEOUT // 60) if TIMEOUT else 7 * 24 * 60
