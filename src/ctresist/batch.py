"""The batch around the per-sample commands: which knowledge files a call depends on, the batch
summary (also for failed samples, each with its capped one-line reason), and recovery of a run
that was killed (its stale Snakemake lock)."""
from __future__ import annotations

import contextlib
import os
import socket
from pathlib import Path

#: a failure reason longer than this is cut (the whole line stays in the sample's log)
MAX_REASON = 500
#: files in the annotations folder that never change a call
NOT_KNOWLEDGE = {"README.md", "CHANGELOG.md", "known_alleles.md", "validated.yaml"}


def knowledge_files(annotations: str | os.PathLike[str]) -> list[str]:
    """Every file of the annotations folder and its catalogue/ that a call can depend on (data,
    schema, vocabulary), sorted; documentation and scripts are not inputs of the jobs."""
    base = Path(annotations)
    files = []
    for folder in (base, base / "catalogue"):
        for p in sorted(folder.iterdir()):
            if p.is_file() and p.name not in NOT_KNOWLEDGE and not p.name.startswith("."):
                files.append(str(p))
    return files


def failure_reason(log: str | os.PathLike[str], cap: int = MAX_REASON) -> str:
    """The last ``ctresist: error:`` line of a job log (else the last line naming an error),
    without the prefix, cut to ``cap`` characters with a pointer to the log."""
    if not os.path.exists(log):
        return "did not run (no log)"
    error_line = other = ""
    with open(log, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            text = line.strip()
            if text.startswith("ctresist: error:"):
                error_line = text[len("ctresist: error:"):].strip()
            elif "error" in text.lower():
                other = text
    found = error_line or other
    reason = found or "failed without an error message"
    if len(reason) > cap:
        reason = f"{reason[:cap]} ... [{len(reason) - cap} more characters in {log}]"
    return reason


def failed_samples(samples: list[str], results: str, logs: str,
                   groups: dict[str, str] | None = None) -> list[str]:
    """``sample: reason`` for each sample without a report. A sample without a log of its own
    whose annotate group (``groups``: {sample: group}) failed as a whole gets the group's reason."""
    out = []
    for s in samples:
        if not os.path.exists(os.path.join(results, s, "report.json")):
            log = os.path.join(logs, "annotate", f"{s}.log")
            group = (groups or {}).get(s)
            group_log = os.path.join(logs, "annotate", "_groups", f"{group}.log")
            if not os.path.exists(log) and group and os.path.exists(group_log):
                reason = f"its annotate group {group} failed: {failure_reason(group_log)}"
            else:
                reason = failure_reason(log)
            out.append(f"{s}: {reason}")
    return out


def summarise(reports: list[str], failed: list[str], tsv: str, html: str,
              mqc_tsv: str | None = None, mqc_yaml: str | None = None,
              patients: dict[str, str] | None = None) -> None:
    """Batch summary (TSV + HTML) and, when asked, the MultiQC custom content; ``patients``
    ({sample: patient}, from the sheet) names the patient of a failed sample."""
    from ctresist.longitudinal import do_batch_summary

    do_batch_summary(reports, failed, tsv, html, patients=patients)
    if mqc_tsv and mqc_yaml:
        from ctresist.multiqc import write_multiqc

        write_multiqc(reports, failed, mqc_tsv, mqc_yaml)


def write_failure_summary(samples: list[str], results: str = "results", logs: str = "logs",
                          patients: dict[str, str] | None = None,
                          groups: dict[str, str] | None = None) -> None:
    """After a failed run (e.g. --keep-going): the summary lists every sample, failed ones with
    their reason and patient (``patients``: {sample: patient} from the sheet). In-process, so no
    argument-list limit however many samples or long reasons."""
    import logging

    reports = [os.path.join(results, s, "report.json") for s in samples]
    reports = [r for r in reports if os.path.exists(r)]
    out = os.path.join(results, "_batch")
    try:
        summarise(reports, failed_samples(samples, results, logs, groups),
                  os.path.join(out, "summary.tsv"),
                  os.path.join(out, "summary.html"), os.path.join(out, "ctresist_mqc.tsv"),
                  os.path.join(out, "ctresist_mqc.yaml"), patients=patients)
    except Exception as exc:  # the run already failed: say why the summary is missing too
        logging.getLogger("ctresist").error("batch summary not written: %s", exc)


# --- recovery after kill -9 -------------------------------------------------------------------

RUN_FILE = "ctresist-run"


def _alive(pid: int, start: str) -> bool:
    """Is process ``pid`` still the one that started at ``start`` (field 22 of /proc/pid/stat)?"""
    try:
        return _start_time(pid) == start
    except OSError:
        return False


def _start_time(pid: int) -> str:
    with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
        return fh.read().rpartition(")")[2].split()[19]


def claim_run(metadata: str = ".snakemake") -> bool:
    """Record this Snakemake process as the owner of the working directory; when the recorded
    previous owner on this host is gone (kill -9, power loss), remove the locks it left, so that
    the same command finishes the batch. A live owner's locks are never touched. Returns whether
    stale locks were removed."""
    meta = Path(metadata)
    run_file = meta / RUN_FILE
    host, pid = socket.gethostname(), os.getpid()
    removed = False
    with contextlib.suppress(OSError, ValueError, IndexError):
        owner_host, owner_pid, owner_start = run_file.read_text().split()
        if owner_host != host or not owner_pid.isdigit():
            return False  # another machine's run (shared file system): leave it alone
        if _alive(int(owner_pid), owner_start):
            return False  # a live run: Snakemake's own lock refuses this one
        for lock in (meta / "locks").glob("*.lock"):
            lock.unlink()
            removed = True
    with contextlib.suppress(OSError):
        meta.mkdir(exist_ok=True)
        tmp = run_file.with_suffix(".tmp")
        tmp.write_text(f"{host} {pid} {_start_time(pid)}\n")
        os.replace(tmp, run_file)
        os.environ["CTRESIST_WATCH"] = f"{host}:{pid}:{_start_time(pid)}"
    return removed


def watch_parent() -> None:
    """In a job started by a local Snakemake run (``CTRESIST_WATCH``): exit when that Snakemake
    process is gone, so a killed run leaves no orphaned jobs running (checked once a second)."""
    spec = os.environ.get("CTRESIST_WATCH", "")
    parts = spec.split(":")
    if len(parts) != 3 or parts[0] != socket.gethostname() or not parts[1].isdigit():
        return
    import threading
    import time

    pid, start = int(parts[1]), parts[2]

    def loop() -> None:
        while _alive(pid, start):
            time.sleep(1)
        os._exit(137)

    threading.Thread(target=loop, daemon=True, name="ctresist-watch").start()


def packaged(name: str) -> Path:
    """A data folder shipped inside the installed package (``annotations``, ``schemas``)."""
    return Path(__file__).resolve().parent / name


def annotations_folder() -> Path:
    """$CTRESIST_ANNOTATIONS, else the checkout's annotations/, else the installed package's."""
    from ctresist.genes import annotations_dir

    found = annotations_dir()
    if os.environ.get("CTRESIST_ANNOTATIONS") or found.is_dir():
        return found
    return packaged("annotations")


def use_packaged_data() -> None:
    """In an installed (non-editable) ctresist the annotations and the workflow (with the sheet
    schema) are package data (ctresist/annotations, ctresist/workflow); in a checkout they are
    beside src/. ``genes.annotations_dir`` and ``sheet._schema`` find either; the annotations
    folder is also fixed in the environment, so that every job of a run reads the same one."""
    if not os.environ.get("CTRESIST_ANNOTATIONS"):
        os.environ["CTRESIST_ANNOTATIONS"] = str(annotations_folder())
