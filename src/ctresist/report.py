"""One report model, rendered to JSON, TSV and self-contained HTML (Jinja2 with autoescape)."""
from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from ctresist.atomic import atomic_write

TSV_COLUMNS = ["sample", "status", "gene", "alteration", "variant", "vaf", "depth", "alt_reads",
               "copy_number", "phase", "mechanism", "driver_context", "resists_current", "resists",
               "options", "evidence", "citations", "source", "entry_id", "support", "cautions",
               "excluded_reason", "catalogue_version", "ctresist_version"]


def _clean(obj: Any) -> Any:
    """JSON-safe copy: NaN/inf become None (missing is written as null everywhere)."""
    if isinstance(obj, float) and (math.isnan(obj) or math.isinf(obj)):
        return None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj


def write_json(model: dict, path: str) -> None:
    with atomic_write(path) as fh:
        json.dump(_clean(model), fh, indent=2, sort_keys=True, ensure_ascii=False)
        fh.write("\n")


def tsv_cell(value: Any) -> str:
    """One TSV cell: lists joined by ';', missing as empty, tabs/newlines flattened, and text that a
    spreadsheet would execute as a formula (= + - @ at the start) prefixed with a quote."""
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.6g}"
    if isinstance(value, (list, tuple)):
        value = ";".join(str(v) for v in value)
    text = re.sub(r"[\t\r\n]+", " ", str(value))
    if text and text[0] in "=+-@\t\r" and not re.fullmatch(r"[-+]?\d+(\.\d+)?([eE][-+]?\d+)?", text):
        text = "'" + text
    return text


def tsv_rows(model: dict) -> list[list[str]]:
    sample = model["sample"]["sample"]
    versions = [model["catalogue"]["version"], model["ctresist_version"]]
    rows = []
    for c in model["calls"]:
        row = {**c, "sample": sample}
        rows.append([tsv_cell(row.get(k)) for k in TSV_COLUMNS[:-2]] + versions)
    for n in model["not_interpretable"]:
        row = {"sample": sample, "status": "not_interpretable", "gene": n["gene"],
               "variant": n["variant"], "support": n["reason"]}
        rows.append([tsv_cell(row.get(k)) for k in TSV_COLUMNS[:-2]] + versions)
    return rows


def write_tsv(model: dict, path: str) -> None:
    with atomic_write(path) as fh:
        fh.write("\t".join(TSV_COLUMNS) + "\n")
        for r in tsv_rows(model):
            fh.write("\t".join(r) + "\n")


def _env() -> Environment:
    env = Environment(loader=PackageLoader("ctresist", "templates"),
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = lambda x, f="{:.3g}": "" if x is None else f.format(x)
    env.filters["pct"] = lambda x: "" if x is None else f"{100 * x:.2f} %"
    return env


def generated_at() -> str:
    """Render time: SOURCE_DATE_EPOCH when set (reproducible builds), otherwise now (UTC)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    t = dt.datetime.fromtimestamp(int(epoch), dt.UTC) if epoch else dt.datetime.now(dt.UTC)
    return t.strftime("%Y-%m-%d %H:%M UTC")


def write_html(model: dict, path: str, template: str = "report.html.j2") -> None:
    from ctresist.interpret import STATUS_TEXT

    html = _env().get_template(template).render(r=model, generated=generated_at(), status_text=STATUS_TEXT)
    with atomic_write(path) as fh:
        fh.write(html)
