"""The sample sheet: a TSV read once (line numbers kept), its columns checked against the
workflow's JSON schema (unknown or misspelt columns are errors naming the closest known one), then
each row checked for what a schema cannot say (unique IDs, real dates, files, drug names,
drivers)."""
from __future__ import annotations

import csv
import datetime as dt
import difflib
import os
from pathlib import Path

import jsonschema
import pandas as pd
import yaml

from ctresist.catalogue import DrugVocabulary
from ctresist.errors import InputError
from ctresist.io.integrity import check_regular_file

SCHEMA = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "samples.schema.yaml"
#: Well-known other spellings of column names, read as the canonical column.
ALIASES = {"tumour_fraction": "tumor_fraction", "tumour_sample": "tumor_sample",
           "tumour_purity": "tumor_fraction", "purity": "tumor_fraction"}
#: Columns that are IDs and become file names: checked even when row values are left to each job.
ID_COLUMNS = ("sample", "patient")
#: Columns naming an input file of the sample (each optional except vcf): checked to exist.
FILE_COLUMNS = ("vcf", "cnv", "bam", "fusions", "coverage", "purity_file")


def _schema() -> dict:
    """The sheet schema: $CTRESIST_SHEET_SCHEMA, else the installed package's copy of the workflow
    (ctresist/workflow, see pyproject.toml), else the checkout's workflow/schemas."""
    packaged = Path(__file__).resolve().parent / "workflow" / "schemas" / "samples.schema.yaml"
    path = Path(os.environ.get("CTRESIST_SHEET_SCHEMA") or (packaged if packaged.exists() else SCHEMA))
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def read_sheet(path: str, check_files: bool = True, check_values: bool = True,
               sample: str | None = None) -> pd.DataFrame:
    """Read and validate the sheet; InputError ``samples.tsv:<line>: column 'x': ...``.

    Returns one row per sample (all values strings, empty when not given), indexed by sample ID,
    with canonical column names (``tumour_fraction`` is read as ``tumor_fraction``). The 1-based
    file line of each row is in ``df.attrs["lines"]`` ({sample: line}).

    check_values=False checks only the structure (known and required columns, one row per sample,
    valid sample/patient IDs): the workflow uses it so that a row with an unknown driver or drug
    fails only its own sample's job, which reads the sheet with check_values=True.
    check_files=False leaves missing input files to each sample's own job (batch mode).
    sample: check values and files of this sample's row only (``ctresist annotate --sheet
    --sample``: another row's misspelt drug does not fail this sample); structure is always
    checked for every row."""
    lines, rows = _read_rows(path)
    header_line, header = lines[0], rows[0]
    schema = _schema()
    columns = _columns(path, header_line, header, list(schema["properties"]))
    missing = [c for c in schema.get("required", []) if c not in columns]
    if missing:
        raise InputError(f"{path}:{header_line}: missing column(s) {', '.join(missing)}; add them "
                         "to the header line (see workflow/schemas/samples.schema.yaml)")
    if len(rows) == 1:
        raise InputError(f"{path}: no sample rows after the header line; add one row per sample")
    records = []
    for lineno, fields in zip(lines[1:], rows[1:]):
        if len(fields) != len(columns):
            raise InputError(f"{path}:{lineno}: {len(fields)} tab-separated fields, but the header "
                             f"has {len(columns)} columns; separate cells by one tab and leave empty "
                             "cells empty")
        records.append({c: f.strip() for c, f in zip(columns, fields)})
    df = pd.DataFrame(records, columns=columns, dtype=str)
    numbered = list(zip(lines[1:], records))
    validate_rows(numbered, path, schema, check_files=check_files, check_values=check_values,
                  only=sample)
    df = df.set_index("sample", drop=False)
    df.attrs["lines"] = {r["sample"]: n for n, r in numbered}
    return df


def _read_rows(path: str) -> tuple[list[int], list[list[str]]]:
    """File lines and tab-split fields of the header and data rows (comments and blanks skipped).

    Refuses what is not a readable text file before reading: missing, a directory, a FIFO or
    device, empty."""
    check_regular_file(path, "sample sheet", "give the TSV file (e.g. config/samples.tsv)")
    st = os.stat(path)
    if st.st_size == 0:
        raise InputError(f"{path}: the sample sheet is empty (0 bytes); it needs a header line "
                         "and one row per sample")
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            text = fh.read()
    except UnicodeDecodeError as exc:
        lineno = text_line_of_byte(path, exc.start)
        raise InputError(f"{path}:{lineno}: not UTF-8 text ({exc.reason}); save the sheet as "
                         "UTF-8 tab-separated text") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read the sample sheet ({exc.strerror})") from None
    lines: list[int] = []
    kept: list[str] = []
    for lineno, ln in enumerate(text.splitlines(), start=1):
        if not ln.strip() or ln.lstrip().startswith("#"):
            continue
        lines.append(lineno)
        kept.append(ln)
    if not kept:
        raise InputError(f"{path}: no header line (only comments or blank lines); the first line "
                         "names the columns: sample, patient, collection_date, ...")
    try:
        rows = list(csv.reader(kept, delimiter="\t", quotechar='"', strict=True))
    except csv.Error as exc:
        raise InputError(f"{path}: cannot parse the sample sheet as TSV ({exc}); check quotes") from None
    return lines, rows


def text_line_of_byte(path: str, offset: int) -> int:
    """1-based line holding byte ``offset`` of ``path``."""
    with open(path, "rb") as fh:
        return fh.read(offset).count(b"\n") + 1


def _canonical(name: str) -> str:
    return name.strip().lower().replace(" ", "_").replace("-", "_")


def _columns(path: str, header_line: int, header: list[str], known: list[str]) -> list[str]:
    """Canonical column names of the header; unknown names are errors naming the closest one."""
    out: list[str] = []
    for raw in header:
        name = _canonical(raw)
        name = ALIASES.get(name, name)
        if name not in known:
            close = difflib.get_close_matches(name, known + list(ALIASES), n=1, cutoff=0.6)
            hint = f"did you mean {ALIASES.get(close[0], close[0])!r}? " if close else ""
            raise InputError(f"{path}:{header_line}: unknown column {raw.strip()!r}; {hint}known "
                             f"columns: {', '.join(known)}")
        if name in out:
            raise InputError(f"{path}:{header_line}: column {name!r} appears twice (as "
                             f"{header[out.index(name)].strip()!r} and {raw.strip()!r}); keep one")
        out.append(name)
    return out


def validate_rows(numbered: list[tuple[int, dict[str, str]]], path: str, schema: dict | None = None,
                  check_files: bool = True, check_values: bool = True,
                  drugs: DrugVocabulary | None = None, only: str | None = None) -> None:
    """Check (file line, row) pairs: IDs always; values (schema, date, driver, drugs) and files
    when asked, of every row or of sample ``only``."""
    schema = schema or _schema()
    required = schema.get("required", [])
    ids_only = {**schema, "properties": {k: schema["properties"][k] for k in ID_COLUMNS},
                "required": list(ID_COLUMNS)}
    full = jsonschema.Draft202012Validator(schema)
    structure = jsonschema.Draft202012Validator(ids_only)
    if check_values:
        from ctresist.catalogue import load_drugs
        from ctresist.drivers import parse_driver

        drugs = drugs or load_drugs()
    seen: dict[str, int] = {}
    for lineno, row in numbered:
        where = f"{path}:{lineno}"
        values = check_values and (only is None or row["sample"] == only)
        rec = {k: v for k, v in row.items() if v != "" or k in required}
        if not values:
            rec = {k: rec.get(k, "") for k in ID_COLUMNS}
        validator = full if values else structure
        for err in sorted(validator.iter_errors(rec), key=lambda e: list(e.path)):
            col = err.path[0] if err.path else "?"
            val = rec.get(col, "")
            desc = schema["properties"].get(col, {}).get("description", "")
            raise InputError(f"{where}: column {col!r}: invalid value {val!r} ({desc})")
        sid = row["sample"]
        if sid in seen:
            raise InputError(f"{where}: column 'sample': duplicate sample ID {sid!r} (also on line "
                             f"{seen[sid]})")
        seen[sid] = lineno
        if not values:
            continue
        try:
            dt.date.fromisoformat(row["collection_date"])
        except ValueError:
            raise InputError(f"{where}: column 'collection_date': {row['collection_date']!r} is "
                             "not a real date (YYYY-MM-DD)") from None
        parse_driver(row["driver"], where)
        drugs.parse_therapy(row.get("therapy", ""), f"{where}: column 'therapy'")
        if check_files:
            for col in FILE_COLUMNS:
                f = row.get(col, "")
                if f and not os.path.isfile(f):
                    what = "is not a regular file" if os.path.exists(f) else "file not found"
                    raise InputError(f"{where}: column {col!r}: {what}: {f}")
