"""Across reports: one patient's series over time (emerging resistance before the scan shows
progression), and the batch summary of a run (including samples that failed).

Trend calls (``TRENDS``), per alteration and timepoint, from the ctDNA evidence of each report
(``ctdna.sites``: detected_by_caller / read_level_only / not_detected with LoD / not_assessable)
and its catalogue calls. "Detected" means a call or a read-level hit; a timepoint is compared with
the latest earlier timepoint that could assess the alteration:

* **emerging**: detected now, and the previous assessable sample did not detect it with a LoD at or
  below today's VAF (that sample would have seen it 95 times in 100 at today's level).
* **rising / falling**: detected in both, and the two exact 95 % Clopper-Pearson intervals
  (``stats.vaf_ci``) do not overlap; each interval is divided by the sample's tumour fraction when
  it is known, so a change in shedding alone is not called a change in the clone. Non-overlap of
  two 95 % intervals is conservative (about p < 0.006 for equal widths): with one to a few
  samples per patient, a false "rising" (an alert) costs more than a late one.
* **persistent**: detected in both (intervals overlap, or no read counts, as for copy number).
* **cleared**: not detected now at adequate depth: the sample's LoD is at or below the last
  detected VAF (a negative that could not have seen the last level is "not_assessable").
* **single_observation**: detected for the first time with no earlier assessable sample, or
  earlier negatives whose LoD was above today's VAF: neither emerging nor persistent.
* **not_assessable**: seen before, but this sample could not look (site not covered or not
  genotyped, no reads/coverage given, or too low a tumour fraction for the negative to count). It
  is never read as cleared or emerging; the next call compares with the last assessable sample.

An alert (``alerts``, kind ``molecular_progression``) is raised when an alteration that resists
the drug given at that timepoint (the call's ``resists_current``, status actionable or possible)
is emerging or rising there, or first detected there after earlier samples that could not rule it
out (single_observation after the first sample: new resistance all the same); the page shows it
with the next options of the latest sample. A
driver mutation (``driver_evidence``) is followed the same way (row "<gene> <change> (driver)");
its VAF rising beyond both intervals raises a ``driver_rising`` alert.

Lookback (``lookback``): when a sample's reads were genotyped at the catalogue sites (``--bam``),
its site rows keep the alt reads even below the call threshold; the earliest sample before an
alteration's first call with at least one alt read is reported ("2 of 2,800 reads on <date>, before
it was called on <date>"): evidence to read, not a call (one read can be an error).

Sample identity (``sample_identity``): germline-like variants of each report's ``other_variants``
(VAF 0.4-0.6: heterozygous; > 0.9: homozygous; a germline SNP sits there in plasma and tissue
alike, while somatic ctDNA variants rarely do) are compared between every two samples as shared /
union. Samples of one person share nearly all (a few are lost to coverage or filtering); another
person's sample shares only the common ones. A sample that shares less than half with every other
sample (at least 3 such variants per pair) is flagged as a likely swap. The variants are only those
in catalogue genes, so few samples have enough: then it says "not assessable", never "consistent".
"""
from __future__ import annotations

import functools
import json
import os

from ctresist.atomic import atomic_write
from ctresist.errors import InputError
from ctresist.failed import is_failed
from ctresist.findings import DETECTED, is_main
from ctresist.report import _env, check_model, generated_at, tsv_cell, write_json
from ctresist.stats import vaf_ci

#: Structure version of timeline.json (schemas/timeline.schema.json).
TIMELINE_SCHEMA = "ctresist-timeline/2"

def _load(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as fh:
            model = json.load(fh)
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: cannot read report JSON ({exc})") from exc
    if is_failed(model):  # a sample that could not be analysed: its readers list it as such
        return model
    return check_model(model, path)


#: Trend vocabulary, one per alteration and per timepoint (the change INTO that timepoint).
TRENDS = ("emerging", "rising", "falling", "persistent", "cleared", "single_observation",
          "not_assessable")
_DETECTED_STATES = ("detected_by_caller", "read_level_only")


_ci = functools.lru_cache(maxsize=4096)(vaf_ci)


def _observation(report: dict, key: tuple[str, str], call: dict | None) -> dict:
    """What one sample says about one alteration: state (detected_by_caller, read_level_only,
    not_detected, not_assessable), VAF with its Clopper-Pearson CI, depth, alt reads, LoD, CN, TF.

    Without a call the sample's ctDNA site row decides; an alteration with no site row (copy
    number, fusion, a site not in the catalogue's allele table) is "not_assessable", except a
    compound (``A+B``), which is not detected when one of its parts is not detected."""
    sites = {(s["gene"], s["alteration"]): s for s in (report.get("ctdna") or {}).get("sites") or []}
    tf = report["sample"].get("tumor_fraction")
    obs = {"state": "not_assessable", "vaf": None, "ci_low": None, "ci_high": None, "depth": None,
           "alt_reads": None, "lod": None, "copy_number": None, "tumor_fraction": tf, "note": ""}
    site = sites.get(key)
    if call is not None:
        obs.update(state="detected_by_caller", vaf=call.get("vaf"), depth=call.get("depth"),
                   alt_reads=call.get("alt_reads"), copy_number=call.get("copy_number"))
    elif site is not None:
        obs.update(state=site["state"], vaf=site.get("vaf"), depth=site.get("depth"),
                   alt_reads=site.get("alt_reads"), lod=site.get("lod"), note=site.get("text") or "")
        if site["state"] == "not_detected" and site.get("informative") is False:
            obs.update(state="not_assessable",
                       note="not detected, but a clonal variant at this tumour fraction would sit "
                            "below the LoD")
    elif "+" in key[1]:
        parts = [sites.get((key[0], p)) for p in key[1].split("+")]
        neg = [p for p in parts if p is not None and p["state"] == "not_detected"
               and p.get("informative") is not False]
        if neg:
            obs.update(state="not_detected", depth=min(p["depth"] for p in neg),
                       lod=max(p["lod"] for p in neg), note="a part of the compound not detected")
    else:
        obs["note"] = "no known site to genotype for this alteration in this sample"
    if site is not None and site.get("ci_low") is not None and site.get("alt_reads") == obs["alt_reads"] \
            and site.get("depth") == obs["depth"]:
        obs["ci_low"], obs["ci_high"] = site["ci_low"], site["ci_high"]  # computed by annotate
    elif obs["alt_reads"] is not None and obs["depth"]:
        obs["ci_low"], obs["ci_high"] = _ci(int(obs["alt_reads"]), int(obs["depth"]))
    return obs


def _scaled(o: dict) -> tuple[float, float] | None:
    """CI of the VAF, divided by the tumour fraction when it is known."""
    if o["ci_low"] is None or o["ci_high"] is None:
        return None
    tf = o["tumor_fraction"] or 1.0
    return o["ci_low"] / tf, o["ci_high"] / tf


def trend_at(obs: list[dict], i: int) -> str | None:
    """The trend call for timepoint ``i`` from ``obs[:i + 1]`` (see the module docstring); None
    when the alteration has not been seen at or before ``i`` (nothing to say yet)."""
    cur = obs[i]
    seen = [j for j in range(i) if obs[j]["state"] in _DETECTED_STATES]
    if cur["state"] == "not_assessable":
        return "not_assessable" if seen else None
    prev = next((j for j in range(i - 1, -1, -1) if obs[j]["state"] != "not_assessable"), None)
    if cur["state"] == "not_detected":
        if not seen:
            return None
        last = obs[seen[-1]]
        level = last["vaf"]
        if cur["lod"] is not None and level is not None and cur["lod"] > level:
            return "not_assessable"  # this sample could not have seen the last level
        return "cleared"
    if prev is None:
        return "single_observation"
    p = obs[prev]
    if p["state"] == "not_detected":
        if p["lod"] is not None and cur["vaf"] is not None and p["lod"] > cur["vaf"]:
            return "single_observation"  # the earlier negative could not have seen this level
        return "emerging"
    a, b = _scaled(p), _scaled(cur)
    if a and b and b[0] > a[1]:
        return "rising"
    if a and b and b[1] < a[0]:
        return "falling"
    return "persistent"


def _lookback(name: str, obs: list[dict], points: list[dict], first: int) -> dict | None:
    """The earliest sample before the first call whose reads (the report's site genotyping from
    its BAM/CRAM) already held alt reads of the alteration, below the call threshold."""
    for j in range(first):
        o = obs[j]
        if o["state"] in ("not_detected", "read_level_only") and (o["alt_reads"] or 0) > 0 and o["depth"]:
            return {"sample": points[j]["sample"], "date": points[j]["date"], "alt_reads": o["alt_reads"],
                    "depth": o["depth"],
                    "text": f"{name}: {o['alt_reads']} of {o['depth']:,} reads on {points[j]['date']}, "
                            f"before it was called on {points[first]['date']}"}
    return None


def timeline(reports: list[dict]) -> dict:
    """One patient's reports in date order: per alteration detected in any of them, an
    observation per timepoint (``points``), a trend call per timepoint (``trends``) and overall
    (``trend`` = the latest), and the molecular-progression ``alerts``."""
    reports = sorted(reports, key=lambda r: (r["sample"]["collection_date"], r["sample"]["sample"]))
    points = [{"sample": r["sample"]["sample"], "date": r["sample"]["collection_date"],
               "specimen": r["sample"]["specimen"], "therapy": r["sample"]["therapy_text"],
               "drugs": list(r["sample"].get("therapy") or []),
               "tumor_fraction": r["sample"].get("tumor_fraction"),
               "headline": r["summary"]["headline"]} for r in reports]
    rows: dict[str, dict] = {}
    best: list[dict[str, dict]] = [{} for _ in reports]
    for i, r in enumerate(reports):
        for c in r["calls"]:
            if c["status"] not in DETECTED:
                continue
            key = f"{c['gene']} {c['alteration']}"
            rows.setdefault(key, {"alteration": key, "gene": c["gene"], "change": c["alteration"],
                                  "mechanism": c["mechanism"], "resists": set()})
            rows[key]["resists"].update(c["resists"])
            old = best[i].get(key)
            if old is None or DETECTED.index(c["status"]) < DETECTED.index(old["status"]):
                best[i][key] = c
    out, alerts = [], []
    for key in sorted(rows):
        row = rows[key]
        calls = [best[i].get(key) for i in range(len(reports))]
        obs = [_observation(r, (row["gene"], row["change"]), calls[i]) for i, r in enumerate(reports)]
        trends = [trend_at(obs, i) for i in range(len(obs))]
        values = [None if c is None else (c["vaf"] if c.get("vaf") is not None else c.get("copy_number"))
                  for c in calls]
        first = next(i for i, c in enumerate(calls) if c is not None)
        for i, (c, t) in enumerate(zip(calls, trends)):
            # a first detection after earlier samples that could not rule it out (no reads or
            # coverage there) is still new resistance to the drug of that time: an alert too
            new = t == "single_observation" and i == first and i > 0
            if c is not None and (t in ("emerging", "rising") or new) and c.get("resists_current") \
                    and c["status"] in ("actionable_resistance", "resistance_low_support"):
                alerts.append({"kind": "molecular_progression", "alteration": key, "trend": t,
                               "sample": points[i]["sample"], "date": points[i]["date"],
                               "drugs": sorted(c["resists_current"]), "vaf": obs[i]["vaf"],
                               "status": c["status"], "options": list(c.get("options") or [])})
        out.append({"alteration": key, "mechanism": row["mechanism"], "resists": sorted(row["resists"]),
                    "values": values, "status": [c["status"] if c else None for c in calls],
                    "points": obs, "trends": trends, "trend": trends[-1] or "not_assessable",
                    "first_detected": points[first]["date"], "lookback": _lookback(key, obs, points, first)})
    drivers: dict[str, list] = {}
    for i, r in enumerate(reports):
        d = r.get("driver_evidence") or {}
        for seen in d.get("detected") or []:
            if d.get("kind") == "mutation" and seen.get("vaf") is not None:
                drivers.setdefault(f"{d['gene']}\t{seen['change']}", [None] * len(reports))[i] = seen
    for key, seen in sorted(drivers.items()):
        gene, change = key.split("\t")
        name = f"{gene} {change} (driver)"
        obs = [_observation(r, (gene, change), seen[i]) for i, r in enumerate(reports)]
        trends = [trend_at(obs, i) for i in range(len(obs))]
        for i, t in enumerate(trends):
            if t == "rising":
                alerts.append({"kind": "driver_rising", "alteration": name, "trend": t,
                               "sample": points[i]["sample"], "date": points[i]["date"],
                               "drugs": points[i]["drugs"], "vaf": obs[i]["vaf"], "status": None,
                               "options": []})
        out.append({"alteration": name, "mechanism": "driver", "resists": [],
                    "values": [s["vaf"] if s else None for s in seen], "status": [None] * len(reports),
                    "points": obs, "trends": trends, "trend": trends[-1] or "not_assessable",
                    "first_detected": points[next(i for i, s in enumerate(seen) if s)]["date"], "lookback": None})
    alerts.sort(key=lambda a: (a["date"], a["alteration"]))
    latest = reports[-1]["summary"] if reports else {}
    return {"timepoints": points, "alterations": out, "alerts": alerts,
            "next_options": list(latest.get("remaining_options") or [])}


#: Okabe & Ito's colour-blind-safe palette (no yellow: too pale on white paper) and a shape per
#: series, so that no series depends on colour alone.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
SHAPES = ("circle", "square", "triangle", "diamond")
BANDS = ("#e8e8e8", "#ffffff")


def timeline_plot(model: dict) -> dict | None:
    """Geometry of the inline SVG: VAF per alteration over collection dates, log scale (0.01 % to
    100 %); a sample that did not detect it at adequate depth is an open marker at its LoD, one
    that could not assess it an "x" on the floor; tumour fraction a dashed series; the therapy at
    each collection date as alternating shaded bands. Amplifications: copy number on a linear right
    axis (0 to the largest CN, at least 8), dotted lines with hollow squares."""
    import datetime as dt
    import math

    try:
        days = [dt.date.fromisoformat(t["date"]).toordinal() for t in model["timepoints"]]
    except ValueError:
        return None  # a missing or non-ISO date: the table alone says it
    series = [a for a in model["alterations"] if not a["alteration"].endswith(("amplification", "loss"))]
    amplified = any(a["alteration"].endswith("amplification") for a in model["alterations"])
    if not days or not (series or amplified):
        return None
    left, top, width, height = 60, 12, 560, 220
    span = max(days[-1] - days[0], 1)
    lo, hi = -4.0, 0.0  # log10 VAF: 0.01 % .. 100 %

    def y(v: float) -> float:
        return round(top + height * (hi - max(lo, min(hi, math.log10(v)))) / (hi - lo), 1)

    xs = [round(left + width * (d - days[0]) / span, 1) if len(days) > 1 else left + width / 2 for d in days]
    lines = []
    for i, a in enumerate(series):
        obs = a.get("points") or [None] * len(xs)
        pts, lod, absent = [], [], []
        for j, v in enumerate(a["values"]):
            o = obs[j] or {}
            if v is not None and v > 0:
                pts.append({"x": xs[j], "y": y(v), "v": v, "status": a["status"][j]})
            elif o.get("state") in ("detected_by_caller", "read_level_only") and o.get("vaf"):
                pts.append({"x": xs[j], "y": y(o["vaf"]), "v": o["vaf"], "status": o["state"]})
            elif o.get("state") == "not_detected" and o.get("lod"):
                lod.append({"x": xs[j], "y": y(o["lod"]), "v": o["lod"]})
            else:
                absent.append(xs[j])
        lines.append({"label": a["alteration"], "colour": PALETTE[i % len(PALETTE)],
                      "shape": SHAPES[i % len(SHAPES)], "points": pts, "lod": lod, "absent": absent,
                      "trend": a.get("trend", ""),
                      "path": " ".join(f"{p['x']},{p['y']}" for p in pts)})
    tps = model["timepoints"]
    tf = [{"x": xs[j], "y": y(t["tumor_fraction"]), "v": t["tumor_fraction"]}
          for j, t in enumerate(tps) if t.get("tumor_fraction")]
    bands = []
    if model.get("therapy_lines"):  # the therapy file: bands at the real start and stop dates
        def x(day: int) -> float:
            return round(left + width * max(0.0, min(1.0, (day - days[0]) / span)), 1)

        for k, line in enumerate(model["therapy_lines"]):
            x0 = x(dt.date.fromisoformat(line["start"]).toordinal())
            x1 = x(dt.date.fromisoformat(line["stop"]).toordinal()) if line["stop"] else left + width
            label = line["drug"] + (f" (best response {line['best_response']})" if line["best_response"] else "")
            if x1 > x0:
                bands.append({"label": label, "x": x0, "width": round(x1 - x0, 1), "fill": BANDS[k % 2]})
    else:  # the sheet: the therapy at each collection date, changing halfway between two samples
        for j, t in enumerate(tps):
            if bands and bands[-1]["label"] == t.get("therapy", ""):
                continue
            bands.append({"label": t.get("therapy", ""), "start": j})
        for k, b in enumerate(bands):
            end = bands[k + 1]["start"] if k + 1 < len(bands) else None
            x0 = left if b["start"] == 0 else (xs[b["start"] - 1] + xs[b["start"]]) / 2
            x1 = left + width if end is None else (xs[end - 1] + xs[end]) / 2
            b.update(x=round(x0, 1), width=round(x1 - x0, 1), fill=BANDS[k % 2])
    cn_rows = [a for a in model["alterations"] if a["alteration"].endswith("amplification")]
    cn_max = max([8.0] + [v for a in cn_rows for v in a["values"] if v is not None])
    cn_lines = []
    for i, a in enumerate(cn_rows):
        pts = [{"x": xs[j], "y": round(top + height * (1 - v / cn_max), 1), "v": v}
               for j, v in enumerate(a["values"]) if v is not None]
        cn_lines.append({"label": a["alteration"], "colour": PALETTE[(len(lines) + i) % len(PALETTE)],
                         "points": pts, "path": " ".join(f"{p['x']},{p['y']}" for p in pts)})
    cn_ticks = [{"y": round(top + height * (1 - v / cn_max), 1), "label": f"{v:g}"}
                for v in (0, cn_max / 2, cn_max)] if cn_lines else []
    ticks = [{"y": y(10 ** e), "label": f"{100 * 10 ** e:g} %"} for e in range(-4, 1)]
    dates = [{"x": x, "label": t["date"]} for x, t in zip(xs, tps)]
    n_legend = len(lines) + len(cn_lines) + (1 if tf else 0)
    return {"left": left, "top": top, "width": width, "height": height, "lines": lines, "ticks": ticks,
            "cn_lines": cn_lines, "cn_ticks": cn_ticks,
            "dates": dates, "bands": bands, "tf": tf, "tf_path": " ".join(f"{p['x']},{p['y']}" for p in tf),
            "total_width": left + width + 50, "total_height": top + height + 56 + 16 * n_legend}


#: Germline-like VAF: heterozygous range and homozygous floor; identity thresholds (docstring).
GERMLINE_HET, GERMLINE_HOM, MIN_IDENTITY_SITES, MIN_CONCORDANCE = (0.4, 0.6), 0.9, 3, 0.5


def sample_identity(reports: list[dict]) -> dict:
    """Germline concordance across one patient's samples: ``{status (consistent / likely_swap /
    not_assessable), text (one line), pairs: [{a, b, shared, union}]}``."""
    germ = {}
    for r in reports:
        germ[r["sample"]["sample"]] = {o["variant"] for o in r.get("other_variants") or []
                                       if o.get("vaf") is not None and (GERMLINE_HET[0] <= o["vaf"] <= GERMLINE_HET[1]
                                                                        or o["vaf"] > GERMLINE_HOM)}
    names = list(germ)
    pairs = [{"a": a, "b": b, "shared": len(germ[a] & germ[b]), "union": len(germ[a] | germ[b])}
             for i, a in enumerate(names) for b in names[i + 1:]]
    usable = [p for p in pairs if p["union"] >= MIN_IDENTITY_SITES]
    if len(names) < 2 or not usable:
        return {"status": "not_assessable", "pairs": pairs,
                "text": f"Sample identity not assessable: fewer than {MIN_IDENTITY_SITES} germline-like variants "
                        "(VAF 0.4-0.6 or > 0.9) in catalogue genes shared between samples"}

    def agree(p: dict) -> bool:
        return p["shared"] / p["union"] >= MIN_CONCORDANCE

    odd = [n for n in names if (mine := [p for p in usable if n in (p["a"], p["b"])])
           and not any(agree(p) for p in mine)]
    if not odd:
        return {"status": "consistent", "pairs": pairs,
                "text": f"Sample identity consistent: {len(usable)} sample pairs share at least "
                        f"{MIN_CONCORDANCE:.0%} of their germline-like variants"}
    words = []
    for n in odd:
        worst = max((p for p in usable if n in (p["a"], p["b"])), key=lambda p: p["union"])
        other = worst["b"] if worst["a"] == n else worst["a"]
        words.append(f"{n} shares {worst['shared']} of {worst['union']} germline-like variants with {other}")
    who = "one of these samples" if len(names) == 2 else ", ".join(odd)
    return {"status": "likely_swap", "pairs": pairs,
            "text": f"Likely sample swap ({who} may be another person's): " + "; ".join(words)}


#: Columns of the long-form timeline.tsv: one row per alteration x timepoint.
TSV_COLUMNS = ("patient", "alteration", "mechanism", "sample", "date", "therapy", "state", "trend",
               "vaf", "ci_low", "ci_high", "depth", "alt_reads", "lod", "copy_number",
               "tumor_fraction", "note")


def long_rows(model: dict) -> list[dict]:
    """The timeline in long form (the rows of timeline.tsv and of ``long`` in timeline.json)."""
    rows = []
    for a in model["alterations"]:
        for t, o, trend in zip(model["timepoints"], a["points"], a["trends"]):
            rows.append({"patient": model["patient"], "alteration": a["alteration"],
                         "mechanism": a["mechanism"], "sample": t["sample"], "date": t["date"],
                         "therapy": t["therapy"], "state": o["state"], "trend": trend or "",
                         **{k: o[k] for k in TSV_COLUMNS[8:]}})
    for n in model.get("not_analysed", []):  # a failed timepoint is a row too: never a silent gap
        rows.append({**{k: None for k in TSV_COLUMNS}, "patient": model["patient"], "alteration": "",
                     "mechanism": "", "sample": n["sample"], "date": n["date"], "therapy": "",
                     "state": "not_analysed", "trend": "", "note": n["reason"]})
    return rows


def do_longitudinal(paths: list[str], patient: str, json_out: str, tsv_out: str, html_out: str,
                    therapy_file: str | None = None) -> None:
    """timeline.json, the long-form timeline.tsv, timeline.html and, beside it, timeline.svg (the
    plot alone, for slides; ``<html stem>.svg``). ``therapy_file``: the patient's lines of therapy
    (``therapy.read_therapy_file``), drawn as the plot's bands instead of the sheet's therapy."""
    from ctresist.therapy import read_therapy_file

    lines = read_therapy_file(therapy_file) if therapy_file else []
    loaded = [(p, _load(p)) for p in paths]
    for p, r in loaded:
        owner = r["sample"].get("patient")
        if owner != patient and not (is_failed(r) and not owner):  # a failure may name none
            raise InputError(f"{p}: report is for patient {r['sample'].get('patient')!r}, not {patient!r}")
    # timepoints whose input could not be read: shown as such, never as a negative
    not_analysed = [{"sample": r["sample"]["sample"], "date": r["sample"].get("collection_date", ""),
                     "specimen": r["sample"].get("specimen", ""), "reason": r["error"]}
                    for _, r in loaded if is_failed(r)]
    reports = [r for _, r in loaded if not is_failed(r)]
    if not reports:
        raise InputError(f"patient {patient}: no sample could be analysed ("
                         + "; ".join(f"{n['sample']}: {n['reason']}" for n in not_analysed) + ")")
    model = {"schema": TIMELINE_SCHEMA, "patient": patient, **timeline(reports), "therapy_lines": lines,
             "identity": sample_identity(reports),
             "not_analysed": sorted(not_analysed, key=lambda n: (n["date"], n["sample"]))}
    model["long"] = long_rows(model)
    plot = timeline_plot(model)
    template = _env().get_template("timeline.html.j2")
    html = template.render(m=model, plot=plot, generated=generated_at())
    svg = template.render(m=model, plot=plot, svg_only=True) if plot else (
        '<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="480" height="40">'
        '<text x="8" y="24" font-size="13">No plot: nothing detected, or a sample without an ISO collection date '
        '(see timeline.html)</text></svg>\n')
    write_json(model, json_out)
    with atomic_write(tsv_out) as fh:
        fh.write("\t".join(TSV_COLUMNS) + "\n")
        for row in model["long"]:
            fh.write("\t".join(tsv_cell(row[c]) for c in TSV_COLUMNS) + "\n")
    with atomic_write(html_out) as fh:
        fh.write(html)
    with atomic_write(os.path.splitext(html_out)[0] + ".svg") as fh:  # always, a declarable output
        fh.write(svg)


def progression_lines(by_patient: dict[str, list[dict]]) -> list[str]:
    """One line per alert of each patient with two or more samples, latest first within a
    patient: "<patient>: <alteration> <trend> on <date> under <drugs>; next options: ..." (the
    batch summary's molecular-progression list)."""
    out = []
    for patient, reports in sorted(by_patient.items()):
        if len(reports) < 2:
            continue
        m = timeline(reports)
        for a in reversed(m["alerts"]):
            opts = ", ".join(m["next_options"]) or "none in the catalogue"
            trend = "first detected" if a["trend"] == "single_observation" else a["trend"]
            out.append(f"{patient}: {a['alteration']} {trend} on {a['date']} under "
                       f"{', '.join(a['drugs']) or 'no recorded therapy'}; next options: {opts}")
    return out


def do_batch_summary(paths: list[str], failed: list[str], tsv_out: str, html_out: str,
                     patients: dict[str, str] | None = None) -> None:
    """One row per sample, actionable first: outcome, headline, actionable findings, mechanisms, a
    link to the report; failed samples with their reason (and patient, from ``patients``)."""
    rows = []
    by_patient: dict[str, list[dict]] = {}
    for p in sorted(paths):
        if not os.path.exists(p):
            continue
        r = _load(p)
        if is_failed(r):
            failed = [*failed, f"{r['sample']['sample']}: {r['error']}"]
            patients = {**(patients or {}), r["sample"]["sample"]: r["sample"].get("patient", "")}
            continue
        by_patient.setdefault(r["sample"]["patient"], []).append(r)
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
                                                        progression=progression_lines(by_patient),
                                                        generated=generated_at())
    with atomic_write(html_out) as fh:
        fh.write(html)
