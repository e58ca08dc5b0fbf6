"""One report model, rendered to JSON, TSV and self-contained HTML (Jinja2 with autoescape)."""
from __future__ import annotations

import datetime as dt
import functools
import json
import math
import os
import re
from typing import Any

from jinja2 import Environment, FileSystemBytecodeCache, PackageLoader, select_autoescape
from markupsafe import Markup

from ctresist.atomic import atomic_write
from ctresist.errors import InputError
from ctresist.findings import with_findings

#: calls.tsv: one table, one header. ``row_type`` says what a row is: ``finding`` (a catalogue
#: match, any status but sensitivity), ``evidence`` (CIViC sensitivity evidence), ``not_interpretable``
#: (a catalogue-gene variant whose protein change is unknown) or ``ctdna_site`` (one catalogue
#: change genotyped at its known allele(s): ``status`` is its ctDNA state, ``variant`` the allele
#: looked at, ``source`` where the counts came from, ``support`` the report's sentence). New
#: columns are appended after the version stamps so that existing readers keep their positions.
TSV_COLUMNS = ["sample", "finding", "status", "gene", "alteration", "variant", "vaf", "depth", "alt_reads",
               "copy_number", "phase", "mechanism", "driver_context", "resists_current", "resists",
               "options", "evidence", "citations", "source", "entry_id", "support", "cautions",
               "excluded_reason", "catalogue_version", "ctresist_version",
               "row_type", "vaf_ci_low", "vaf_ci_high", "lod", "informative"]


def _clean(obj: Any) -> Any:
    """JSON-safe copy: NaN/inf become None (missing is written as null everywhere)."""
    if isinstance(obj, float) and (math.isnan(obj) or math.isinf(obj)):
        return None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj


#: Unicode bidirectional controls (U+202A-U+202E, U+2066-U+2069): they can make a report read
#: differently from what it says ("Trojan Source"), so they are shown as visible code points
BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")


def neutralise_bidi(text: str) -> str:
    """``"\u202eRB1"`` -> ``"<U+202E>RB1"``: the control is shown, not obeyed."""
    return BIDI.sub(lambda m: f"<U+{ord(m.group()):04X}>", text)


def write_json(model: dict, path: str) -> None:
    """A report model (it has ``calls``) is written with its findings (see ``findings.py``)."""
    with atomic_write(path) as fh:
        json.dump(_clean(with_findings(model)), fh, indent=2, sort_keys=True, ensure_ascii=False)
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
    text = neutralise_bidi(re.sub(r"[\t\r\n]+", " ", str(value)))
    if text and text[0] in "=+-@\t\r" and not re.fullmatch(r"[-+]?\d+(\.\d+)?([eE][-+]?\d+)?", text):
        text = "'" + text
    return text


def tsv_rows(model: dict) -> list[list[str]]:
    """The rows of calls.tsv: calls, not-interpretable variants, then every catalogue change of
    ``model["ctdna"]["sites"]`` with its state (an older model without a ctDNA block has none)."""
    sample = model["sample"]["sample"]
    versions = {"catalogue_version": model["catalogue"]["version"],
                "ctresist_version": model["ctresist_version"]}
    rows = []
    for c in model["calls"]:
        rows.append({**c, "sample": sample, "finding": f"{c['gene']} {c['alteration']}",
                     "row_type": "evidence" if c["status"] == "sensitivity_evidence" else "finding"})
    for n in model["not_interpretable"]:
        rows.append({"sample": sample, "status": "not_interpretable", "gene": n["gene"],
                     "variant": n["variant"], "support": n["reason"], "row_type": "not_interpretable"})
    for s in (model.get("ctdna") or {}).get("sites", []):
        rows.append({"sample": sample, "finding": f"{s['gene']} {s['alteration']}",
                     "status": s["state"], "gene": s["gene"], "alteration": s["alteration"],
                     "variant": f"{s['chrom']}:{s['pos']}:{s['ref']}>{s['alt']}", "vaf": s["vaf"],
                     "depth": s["depth"], "alt_reads": s["alt_reads"], "source": s["source"],
                     "support": s["text"], "row_type": "ctdna_site", "vaf_ci_low": s["ci_low"],
                     "vaf_ci_high": s["ci_high"], "lod": s["lod"],
                     # true: a clonal mutation would be above the LoD at this tumour fraction
                     "informative": {True: "true", False: "false"}.get(s["informative"])})
    return [[tsv_cell({**r, **versions}.get(k)) for k in TSV_COLUMNS] for r in rows]


def report_schema() -> dict:
    """The published JSON Schema of report.json (``ctresist/schemas/report.schema.json``)."""
    from importlib.resources import files

    return json.loads(files("ctresist").joinpath("schemas", "report.schema.json").read_text(encoding="utf-8"))


def check_model(model: Any, source: str = "report model") -> dict:
    """The model with its findings, after checking it is a report model at all (a report.json of
    any version: findings, driver evidence and the version stamp are recomputed here).

    Raises InputError ``<source>: not a ctresist report model: $.calls[0]: 'gene' is a required
    property; ...`` instead of a traceback from the middle of a template."""
    import jsonschema

    schema = report_schema()
    added = {"schema", "findings", "driver_evidence"}
    schema["required"] = [k for k in schema["required"] if k not in added]
    schema["properties"] = {k: v for k, v in schema["properties"].items() if k not in added}
    schema["properties"]["summary"]["required"] = ["actionable", "headline", "drugs_resisted",
                                                   "remaining_options"]
    err = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(model))
    if err is not None:
        raise InputError(f"{source}: not a ctresist report model: {err.json_path}: {err.message}; "
                         "give a report.json written by 'ctresist annotate'")
    return with_findings(model)


def write_tsv(model: dict, path: str, source: str = "report model", checked: bool = False) -> None:
    """calls.tsv of a report model (``checked``: already through :func:`check_model`)."""
    model = model if checked else check_model(model, source)
    with atomic_write(path) as fh:
        fh.write("\t".join(tsv_cell(c) for c in TSV_COLUMNS) + "\n")
        for r in tsv_rows(model):
            fh.write("\t".join(r) + "\n")


def _finalize(value: Any) -> Any:
    """Every value printed into HTML: bidi controls made visible (markup stays markup)."""
    if isinstance(value, Markup):
        return Markup(neutralise_bidi(str(value)))
    if isinstance(value, str):
        return neutralise_bidi(value)
    return value


class _BytecodeCache(FileSystemBytecodeCache):
    """Jinja2's cache, but a cache problem (unreadable or truncated entry, full disk) only costs
    a compilation: it never fails a report."""

    def load_bytecode(self, bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # noqa: BLE001 - any bad entry: compile instead
            bucket.reset()

    def dump_bytecode(self, bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass


@functools.lru_cache(maxsize=1)
def _env() -> Environment:
    """One template environment per process. Compiling report.html.j2 costs ~0.25 s, more than
    annotating a panel sample: the compiled code is kept in Jinja2's per-user bytecode cache (a
    private folder in the temp dir, keyed by each template's checksum), so one process per sample
    compiles nothing. Where no safe cache folder exists, templates are compiled as before."""
    try:
        cache = _BytecodeCache()  # creates and checks the folder (owner, mode 0700)
    except (OSError, RuntimeError):
        cache = None
    env = Environment(loader=PackageLoader("ctresist", "templates"),
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      trim_blocks=True, lstrip_blocks=True, finalize=_finalize,
                      bytecode_cache=cache)
    env.filters["num"] = lambda x, f="{:.3g}": "" if x is None else f.format(x)
    env.filters["pct"] = lambda x: "" if x is None else f"{100 * x:.2f} %"
    return env


def generated_at() -> str:
    """Render time: SOURCE_DATE_EPOCH when set (reproducible builds), otherwise now (UTC)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    t = dt.datetime.fromtimestamp(int(epoch), dt.UTC) if epoch else dt.datetime.now(dt.UTC)
    return t.strftime("%Y-%m-%d %H:%M UTC")


def cn_plot(model: dict) -> dict | None:
    """Geometry of the inline SVG of gene copy number (raw and tumour-fraction corrected).

    Bars on a linear scale capped at ``cap`` copies (a taller value is drawn to the cap and
    labelled); the amplification threshold is a dashed line; a gain spanning at least
    ``focal_max_fraction`` of its chromosome is labelled broad."""
    genes = model.get("copy_number") or []
    if not genes:
        return None
    th = model.get("thresholds", {})
    amp, focal = th.get("amplification_min_cn", 5.0), th.get("focal_max_fraction", 0.5)
    values = [v for g in genes for v in (g.get("copy_number"), g.get("adjusted_cn")) if v is not None]
    cap = max(8.0, min(max(values, default=0.0), 40.0))
    row, left, width = 22, 70, 520
    bars = []
    for i, g in enumerate(genes):
        raw, adj = g.get("copy_number"), g.get("adjusted_cn")
        shown = adj if adj is not None else raw
        span = g.get("amplified_span_fraction")
        broad = shown is not None and shown >= amp and span is not None and span >= focal
        bars.append({
            "gene": g["gene"], "y": 10 + i * row, "raw": raw, "adj": adj,
            "raw_w": 0 if raw is None else round(width * min(raw, cap) / cap, 1),
            "adj_w": 0 if adj is None else round(width * min(adj, cap) / cap, 1),
            "label": ("not reported" if shown is None else f"{shown:.1f}"
                      + (" (broad gain)" if broad else " (focal amplification)" if shown >= amp else "")),
        })
    return {"bars": bars, "left": left, "width": width, "cap": cap,
            "amp_x": round(left + width * min(amp, cap) / cap, 1), "amp": amp,
            "height": 30 + len(genes) * row, "total_width": left + width + 190}


def write_html(model: dict, path: str, template: str = "report.html.j2", source: str = "report model",
               checked: bool = False) -> None:
    """Self-contained HTML (no script, no external resource); ``source`` names the input in errors
    (``checked``: the model is already through :func:`check_model`)."""
    from ctresist.findings import is_main

    m = model if checked else check_model(model, source)
    main = [f for f in m["findings"] if is_main(f)]
    rest = [f for f in m["findings"] if not is_main(f)]
    html = _env().get_template(template).render(r=m, main=main, rest=rest, cn=cn_plot(m),
                                                generated=generated_at())
    with atomic_write(path) as fh:
        fh.write(html)
