"""Across reports: one patient's series over time (emerging resistance before the scan shows
progression), and the batch summary of a run (including samples that failed)."""
from __future__ import annotations

import json
import os

from ctresist.atomic import atomic_write
from ctresist.errors import InputError
from ctresist.findings import DETECTED, TIMELINE_SCHEMA, is_main
from ctresist.report import _env, check_model, generated_at, tsv_cell, write_json


def _load(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as fh:
            model = json.load(fh)
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: cannot read report JSON ({exc})") from exc
    return check_model(model, path)


def timeline(reports: list[dict]) -> dict:
    """Alteration x timepoint matrix with a trend per alteration.

    trend: emerging (absent in an earlier sample, present in the latest), persistent, rising
    (VAF at least doubled since first detection), cleared (absent in the latest sample).
    """
    reports = sorted(reports, key=lambda r: (r["sample"]["collection_date"], r["sample"]["sample"]))
    points = [{"sample": r["sample"]["sample"], "date": r["sample"]["collection_date"],
               "specimen": r["sample"]["specimen"], "therapy": r["sample"]["therapy_text"],
               "headline": r["summary"]["headline"]} for r in reports]
    rows: dict[str, dict] = {}
    for i, r in enumerate(reports):
        for c in r["calls"]:
            if c["status"] not in DETECTED:
                continue
            key = f"{c['gene']} {c['alteration']}"
            row = rows.setdefault(key, {"alteration": key, "mechanism": c["mechanism"],
                                        "values": [None] * len(reports),
                                        "status": [None] * len(reports), "resists": set()})
            val = c["vaf"] if c.get("vaf") is not None else c.get("copy_number")
            if row["values"][i] is None or (val is not None and val > row["values"][i]):
                row["values"][i] = val
            order = DETECTED.index(c["status"])
            if row["status"][i] is None or order < DETECTED.index(row["status"][i]):
                row["status"][i] = c["status"]
            row["resists"].update(c["resists"])
    out = []
    for row in sorted(rows.values(), key=lambda x: x["alteration"]):
        present = [s is not None for s in row["status"]]
        first = present.index(True)
        if not present[-1]:
            trend = "cleared"
        elif first > 0:
            trend = "emerging"
        else:
            v0, v1 = row["values"][first], row["values"][-1]
            trend = "rising" if v0 and v1 and v1 >= 2 * v0 else "persistent"
        out.append({**row, "resists": sorted(row["resists"]), "trend": trend,
                    "first_detected": points[first]["date"]})
    return {"timepoints": points, "alterations": out}


def timeline_plot(model: dict) -> dict | None:
    """Geometry of the inline SVG: VAF per alteration over collection dates, log scale
    (0.01 % to 100 %); copy-number rows are not plotted (they are in the table)."""
    import datetime as dt
    import math

    try:
        days = [dt.date.fromisoformat(t["date"]).toordinal() for t in model["timepoints"]]
    except ValueError:
        return None  # a missing or non-ISO date: the table alone says it
    series = [a for a in model["alterations"] if not a["alteration"].endswith(("amplification", "loss"))]
    if not days or not series:
        return None
    left, top, width, height = 60, 12, 560, 220
    span = max(days[-1] - days[0], 1)
    lo, hi = -4.0, 0.0  # log10 VAF: 0.01 % .. 100 %

    def y(v: float) -> float:
        return round(top + height * (hi - max(lo, min(hi, math.log10(v)))) / (hi - lo), 1)

    xs = [round(left + width * (d - days[0]) / span, 1) if len(days) > 1 else left + width / 2 for d in days]
    palette = ["#b00020", "#27476e", "#1b7f3b", "#8a4b00", "#6a1b9a", "#00838f"]
    lines = []
    for i, a in enumerate(series):
        pts = [{"x": xs[j], "y": y(v), "v": v, "status": a["status"][j]}
               for j, v in enumerate(a["values"]) if v is not None and v > 0]
        absent = [xs[j] for j, v in enumerate(a["values"]) if v is None]
        lines.append({"label": a["alteration"], "colour": palette[i % len(palette)], "points": pts,
                      "absent": absent,
                      "path": " ".join(f"{p['x']},{p['y']}" for p in pts)})
    ticks = [{"y": y(10 ** e), "label": f"{100 * 10 ** e:g} %"} for e in range(-4, 1)]
    dates = [{"x": x, "label": t["date"]} for x, t in zip(xs, model["timepoints"])]
    return {"left": left, "top": top, "width": width, "height": height, "lines": lines, "ticks": ticks,
            "dates": dates, "total_width": left + width + 40, "total_height": top + height + 40 + 16 * len(lines)}


def do_longitudinal(paths: list[str], patient: str, json_out: str, tsv_out: str, html_out: str) -> None:
    reports = [_load(p) for p in paths]
    for p, r in zip(paths, reports):
        if r["sample"].get("patient") != patient:
            raise InputError(f"{p}: report is for patient {r['sample'].get('patient')!r}, not {patient!r}")
    model = {"schema": TIMELINE_SCHEMA, "patient": patient, **timeline(reports)}
    write_json(model, json_out)
    with atomic_write(tsv_out) as fh:
        dates = [f"{t['date']}:{t['sample']}" for t in model["timepoints"]]
        fh.write("\t".join(tsv_cell(h) for h in ["patient", "alteration", "mechanism", "trend",
                                                  "first_detected", *dates]) + "\n")
        for a in model["alterations"]:
            vals = ["" if v is None else f"{v:.4g}" for v in a["values"]]
            fh.write("\t".join(tsv_cell(x) for x in [patient, a["alteration"], a["mechanism"],
                                                      a["trend"], a["first_detected"]]) + "\t"
                     + "\t".join(vals) + "\n")
    html = _env().get_template("timeline.html.j2").render(m=model, plot=timeline_plot(model),
                                                         generated=generated_at())
    with atomic_write(html_out) as fh:
        fh.write(html)


def do_batch_summary(paths: list[str], failed: list[str], tsv_out: str, html_out: str,
                     patients: dict[str, str] | None = None) -> None:
    """One row per sample, actionable first: outcome, headline, actionable findings, mechanisms, a
    link to the report; failed samples with their reason (and patient, from ``patients``)."""
    rows = []
    for p in sorted(paths):
        if not os.path.exists(p):
            continue
        r = _load(p)
        main = [f for f in r["findings"] if is_main(f)]
        act = [f"{f['gene']} {f['alteration']}" for f in main if f["status"] == "actionable_resistance"]
        html = os.path.splitext(p)[0] + ".html"
        rows.append({"sample": r["sample"]["sample"], "patient": r["sample"]["patient"],
                     "outcome": "ok", "actionable": ";".join(dict.fromkeys(act)),
                     "headline": r["summary"]["headline"],
                     "mechanisms": ";".join(sorted({f["meaning"] for f in main})),
                     "report": os.path.relpath(html, os.path.dirname(os.path.abspath(html_out)) or "."),
                     "order": 0 if act else 1 if main else 2})
    for f in sorted(failed):
        sample, _, reason = f.partition(":")
        rows.append({"sample": sample, "patient": (patients or {}).get(sample, ""), "outcome": "failed",
                     "actionable": "", "headline": reason.strip(), "mechanisms": "", "report": "",
                     "order": 3})
    rows.sort(key=lambda x: (x["order"], x["patient"], x["sample"]))
    per_mechanism: dict[str, int] = {}
    for row in rows:
        for m in filter(None, row["mechanisms"].split(";")):
            per_mechanism[m] = per_mechanism.get(m, 0) + 1
    cols = ["sample", "patient", "outcome", "actionable", "headline", "mechanisms", "report"]
    with atomic_write(tsv_out) as fh:
        fh.write("\t".join(cols) + "\n")
        for row in rows:
            fh.write("\t".join(tsv_cell(row[c]) for c in cols) + "\n")
    html = _env().get_template("summary.html.j2").render(rows=rows, per_mechanism=sorted(per_mechanism.items()),
                                                        generated=generated_at())
    with atomic_write(html_out) as fh:
        fh.write(html)
