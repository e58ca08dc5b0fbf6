"""What stands in place of a sample's report (or a patient's timeline) that could not be made.

In a batch, several samples share one process and one Snakemake job (``annotate-batch``); one
sample's bad input must not take the others' reports with it, so the job completes and the
failed sample's report files say that it was NOT analysed and why (the error line of its log).
They can never be read as "no resistance": the JSON carries ``"failed": true`` and its own schema
tag, the page and the TSV say "not analysed", and the batch summary lists the sample as failed
(and the workflow's final check fails while any sample has failed).
"""
from __future__ import annotations

import html
import json
import os

from ctresist.atomic import atomic_write

#: Schema tag of a failure report (schemas/failed.schema.json).
FAILED_SCHEMA = "ctresist-failed/1"


def is_failed(model: object) -> bool:
    return isinstance(model, dict) and model.get("schema") == FAILED_SCHEMA and model.get("failed") is True


def write_failed(outputs: list[str], what: dict[str, str], reason: str) -> None:
    """Each of ``outputs`` (by its extension: .json, .html, .tsv, .svg) as a failure report of
    ``what`` (``sample`` or ``patient``, plus any of ``patient``, ``collection_date``,
    ``specimen``) with ``reason``."""
    from ctresist import __version__

    kind = "sample" if "sample" in what else "patient"
    name = what.get(kind, "")
    title = f"{kind.capitalize()} {name}: NOT ANALYSED"
    for path in outputs:
        ext = os.path.splitext(path)[1].lower()
        with atomic_write(path) as fh:
            if ext == ".json":
                json.dump({"schema": FAILED_SCHEMA, "failed": True, kind: dict(what), "error": reason,
                           "ctresist_version": __version__}, fh, indent=2, sort_keys=True,
                          ensure_ascii=False)
                fh.write("\n")
            elif ext == ".html":
                fh.write(_page(title, reason))
            elif ext == ".tsv":
                fh.write(_tsv(kind, what, reason))
            elif ext == ".svg":
                fh.write('<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/'
                         'svg" width="640" height="40"><text x="8" y="24" font-size="13">'
                         f'{html.escape(title)}: see timeline.html</text></svg>\n')
            else:
                fh.write(f"{title}\n{reason}\n")


def _page(title: str, reason: str) -> str:
    from ctresist.report import _env

    return _env().get_template("failed.html.j2").render(title=title, reason=reason) + "\n"


def _tsv(kind: str, what: dict[str, str], reason: str) -> str:
    from ctresist.report import TSV_COLUMNS, tsv_cell

    if kind == "sample":
        row = {c: "" for c in TSV_COLUMNS}
        row.update({"sample": what.get("sample", ""), "status": "not_analysed",
                    "row_type": "failed", "excluded_reason": reason})
        return ("\t".join(TSV_COLUMNS) + "\n" + "\t".join(tsv_cell(row[c]) for c in TSV_COLUMNS)
                + "\n")
    from ctresist.longitudinal import TSV_COLUMNS as TIMELINE_COLUMNS

    row = {c: "" for c in TIMELINE_COLUMNS}
    row.update({"patient": what.get("patient", ""), "state": "not_analysed", "note": reason})
    return ("\t".join(TIMELINE_COLUMNS) + "\n"
            + "\t".join(tsv_cell(row[c]) for c in TIMELINE_COLUMNS) + "\n")
