"""The sample sheet: read (pandas, all strings), validated against the workflow's JSON schema,
then checked for what a schema cannot say (unique IDs, real dates, files, drug names, drivers)."""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import jsonschema
import pandas as pd
import yaml

from ctresist.catalogue import DrugVocabulary
from ctresist.errors import InputError

SCHEMA = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "samples.schema.yaml"


def _schema() -> dict:
    path = Path(os.environ.get("CTRESIST_SHEET_SCHEMA", SCHEMA))
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def read_sheet(path: str, check_files: bool = True) -> pd.DataFrame:
    """Read and validate the sheet; InputError ``samples.tsv:<line>: column 'x': ...``.

    check_files=False leaves missing input files to each sample's own job (batch mode), so one
    broken sample does not stop the others."""
    if not os.path.exists(path):
        raise InputError(f"{path}: sample sheet not found")
    try:
        df = pd.read_csv(path, sep="\t", dtype=str, comment="#", keep_default_na=False,
                         skip_blank_lines=True)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot parse the sample sheet as TSV ({exc})") from exc
    df.columns = [c.strip() for c in df.columns]
    df = df.apply(lambda col: col.str.strip())
    validate_rows(df, path, check_files=check_files)
    return df.set_index("sample", drop=False)


def line_of(path: str, i: int) -> int:
    """1-based file line of data row ``i`` (0-based), counting header, comments and blank lines."""
    n = -1
    with open(path, encoding="utf-8") as fh:
        for lineno, ln in enumerate(fh, start=1):
            if ln.startswith("#") or not ln.strip():
                continue
            if n == i:
                return lineno
            n += 1
    return i + 2


def validate_rows(df: pd.DataFrame, path: str, check_files: bool = True,
                  drugs: DrugVocabulary | None = None) -> None:
    schema = _schema()
    missing = [c for c in schema.get("required", []) if c not in df.columns]
    if missing:
        raise InputError(f"{path}:1: missing column(s) {', '.join(missing)}")
    validator = jsonschema.Draft202012Validator(schema)
    from ctresist.catalogue import load_drugs
    from ctresist.drivers import parse_driver

    drugs = drugs or load_drugs()
    seen: dict[str, int] = {}
    for i, row in enumerate(df.to_dict(orient="records")):
        where = f"{path}:{line_of(path, i)}"
        rec = {k: v for k, v in row.items() if v != "" or k in schema.get("required", [])}
        for err in sorted(validator.iter_errors(rec), key=lambda e: list(e.path)):
            col = err.path[0] if err.path else "?"
            val = rec.get(col, "")
            desc = schema["properties"].get(col, {}).get("description", "")
            raise InputError(f"{where}: column {col!r}: invalid value {val!r} ({desc})")
        sid = row["sample"]
        if sid in seen:
            raise InputError(f"{where}: column 'sample': duplicate sample ID {sid!r} (also on line "
                             f"{seen[sid]})")
        seen[sid] = line_of(path, i)
        try:
            dt.date.fromisoformat(row["collection_date"])
        except ValueError:
            raise InputError(f"{where}: column 'collection_date': {row['collection_date']!r} is "
                             "not a real date (YYYY-MM-DD)") from None
        parse_driver(row["driver"], where)
        drugs.parse_therapy(row.get("therapy", ""), f"{where}: column 'therapy'")
        if check_files:
            for col in ("vcf", "cnv", "bam"):
                f = row.get(col, "")
                if f and not os.path.exists(f):
                    raise InputError(f"{where}: column {col!r}: file not found: {f}")
