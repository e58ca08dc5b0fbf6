"""Across reports: one patient's series over time (emerging resistance before the scan shows
progression), and the batch summary of a run (including samples that failed)."""
from __future__ import annotations

import json
import os

from ctresist.atomic import atomic_write
from ctresist.errors import InputError
from ctresist.report import _env, generated_at, tsv_cell, write_json

DETECTED = ("actionable_resistance", "resistance_low_support", "resistance_other_drugs")


def _load(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: cannot read report JSON ({exc})") from exc


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


def do_longitudinal(paths: list[str], patient: str, json_out: str, tsv_out: str, html_out: str) -> None:
    reports = [_load(p) for p in paths]
    for p, r in zip(paths, reports):
        if r["sample"].get("patient") != patient:
            raise InputError(f"{p}: report is for patient {r['sample'].get('patient')!r}, not {patient!r}")
    model = {"patient": patient, **timeline(reports)}
    write_json(model, json_out)
    with atomic_write(tsv_out) as fh:
        dates = [f"{t['date']}:{t['sample']}" for t in model["timepoints"]]
        fh.write("\t".join(["patient", "alteration", "mechanism", "trend", "first_detected", *dates]) + "\n")
        for a in model["alterations"]:
            vals = ["" if v is None else f"{v:.4g}" for v in a["values"]]
            fh.write("\t".join(tsv_cell(x) for x in [patient, a["alteration"], a["mechanism"],
                                                      a["trend"], a["first_detected"]]) + "\t"
                     + "\t".join(vals) + "\n")
    html = _env().get_template("timeline.html.j2").render(m=model, generated=generated_at())
    with atomic_write(html_out) as fh:
        fh.write(html)


def do_batch_summary(paths: list[str], failed: list[str], tsv_out: str, html_out: str) -> None:
    """One row per sample: outcome, headline, actionable alterations; failed samples with reason."""
    rows = []
    for p in sorted(paths):
        if not os.path.exists(p):
            continue
        r = _load(p)
        act = [f"{c['gene']} {c['alteration']}" for c in r["calls"]
               if c["status"] == "actionable_resistance" and not c.get("subsumed_by")]
        rows.append({"sample": r["sample"]["sample"], "patient": r["sample"]["patient"],
                     "outcome": "ok", "actionable": ";".join(dict.fromkeys(act)),
                     "headline": r["summary"]["headline"]})
    for f in sorted(failed):
        sample, _, reason = f.partition(":")
        rows.append({"sample": sample, "patient": "", "outcome": "failed", "actionable": "",
                     "headline": reason.strip()})
    cols = ["sample", "patient", "outcome", "actionable", "headline"]
    with atomic_write(tsv_out) as fh:
        fh.write("\t".join(cols) + "\n")
        for row in rows:
            fh.write("\t".join(tsv_cell(row[c]) for c in cols) + "\n")
    html = _env().get_template("summary.html.j2").render(rows=rows, generated=generated_at())
    with atomic_write(html_out) as fh:
        fh.write(html)
