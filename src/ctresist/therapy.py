"""The optional per-patient therapy file: lines of therapy with dates and best response.

A TSV with a header, one line of therapy per row::

    drug            start       stop        best_response
    alectinib       2023-11-02  2024-07-01  PR
    lorlatinib      2024-07-15              SD

``drug``: one or more drugs as in the sample sheet (brand or generic names, ``+`` for a
combination), resolved through ``annotations/drugs.tsv``; ``start``: ISO date; ``stop``: ISO date
or empty (ongoing); ``best_response``: RECIST 1.1 (CR, PR, SD, PD, NE) or empty. Each row is
checked against ``SCHEMA`` (jsonschema), then stop >= start. Errors name the file and line.
"""
from __future__ import annotations

import csv
import datetime as dt

from ctresist.errors import InputError

COLUMNS = ("drug", "start", "stop", "best_response")
RESPONSES = ("CR", "PR", "SD", "PD", "NE")
_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "one line of therapy (a row of the per-patient therapy file)",
    "type": "object", "additionalProperties": False, "required": list(COLUMNS),
    "properties": {
        "drug": {"type": "string", "minLength": 1, "description": "drug(s) as in the sample sheet"},
        "start": {"type": "string", "pattern": _DATE, "description": "first day, YYYY-MM-DD"},
        "stop": {"type": "string", "pattern": "^([0-9]{4}-[0-9]{2}-[0-9]{2})?$", "description": "last day, or empty: ongoing"},
        "best_response": {"enum": [*RESPONSES, ""], "description": "RECIST 1.1 best response"},
    },
}


def read_therapy_file(path: str) -> list[dict]:
    """Lines of therapy in start order: ``{drug, drugs (generic names), start, stop, best_response}``."""
    import jsonschema

    from ctresist.catalogue import load_drugs

    try:
        with open(path, encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh, delimiter="\t"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read the therapy file ({exc}); give a UTF-8 TSV") from exc
    rows = [(n, r) for n, r in enumerate(rows, 1) if r and not r[0].startswith("#") and any(c.strip() for c in r)]
    if not rows:
        raise InputError(f"{path}:1: empty therapy file; write a header {' '.join(COLUMNS)} and one row per line")
    (hline, header), body = rows[0], rows[1:]
    header = [h.strip().lower() for h in header]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise InputError(f"{path}:{hline}: missing column(s) {', '.join(missing)}; the header must be "
                         f"{chr(9).join(COLUMNS)} (tab-separated)")
    vocab = load_drugs()
    validator = jsonschema.Draft202012Validator(SCHEMA)
    out = []
    for n, r in body:
        if len(r) > len(header):
            raise InputError(f"{path}:{n}: {len(r)} fields but {len(header)} columns; separate columns by one tab")
        row = {c: (r[header.index(c)].strip() if header.index(c) < len(r) else "") for c in COLUMNS}
        row["best_response"] = row["best_response"].upper()
        err = next(iter(sorted(validator.iter_errors(row), key=lambda e: list(e.path))), None)
        if err is not None:
            field = err.path[0] if err.path else ""
            raise InputError(f"{path}:{n}: {field} {row.get(field, '')!r} is invalid ({err.message}); "
                             "dates are YYYY-MM-DD, best_response one of " + ", ".join(RESPONSES) + " or empty")
        try:
            start = dt.date.fromisoformat(row["start"])
            stop = dt.date.fromisoformat(row["stop"]) if row["stop"] else None
        except ValueError as exc:
            raise InputError(f"{path}:{n}: not a calendar date ({exc}); write YYYY-MM-DD") from exc
        if stop is not None and stop < start:
            raise InputError(f"{path}:{n}: stop {row['stop']} is before start {row['start']}; swap them")
        drugs = vocab.parse_therapy(row["drug"], f"{path}:{n}")
        out.append({**row, "drugs": drugs})
    return sorted(out, key=lambda x: x["start"])
