"""#12 longitudinal monitoring: LoD-aware trend calls, molecular-progression alerts, the long-form
timeline.tsv/JSON and the plot, on the LT01 series (tests/fixtures/longitudinal: five plasma
samples, alectinib then lorlatinib, annotated here by the real ``ctresist annotate``)."""
from __future__ import annotations

import csv
import json
import subprocess
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import jsonschema
import pytest

from ctresist.longitudinal import do_longitudinal, timeline, trend_at

FIX = Path(__file__).resolve().parent / "fixtures" / "longitudinal"
SCHEMA = Path(__file__).resolve().parents[1] / "src" / "ctresist" / "schemas" / "timeline.schema.json"
SAMPLES = [f"LT01_T{i}" for i in range(5)]
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def series(tmp_path_factory):
    out = tmp_path_factory.mktemp("lt01")
    reports = [str(out / f"{s}.json") for s in SAMPLES]

    def annotate(s: str) -> None:  # independent processes, two at a time
        subprocess.run(["ctresist", "annotate", "--sheet", "samples.tsv", "--sample", s,
                        "-o", str(out / f"{s}.json")], cwd=FIX, check=True, capture_output=True)

    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(annotate, SAMPLES))
    do_longitudinal(reports, "LT01", str(out / "timeline.json"), str(out / "timeline.tsv"),
                    str(out / "timeline.html"))
    return out


def test_trend_states_per_alteration_and_timepoint(series):
    """Every trend state on known read counts (3,000x everywhere it is covered, LoD 0.21 %)."""
    m = json.loads((series / "timeline.json").read_text())
    got = {a["alteration"]: (a["trends"], a["trend"]) for a in m["alterations"]}
    assert got == {
        # never covered before T4: a first detection there is a single observation, not emerging
        "ALK F1174L": ([None, None, None, None, "single_observation"], "single_observation"),
        # 0/3000 -> 12/3000 (emerging) -> 150/3000 (rising: TF-scaled CIs 2.1-7.0 % vs 21-29 %)
        # -> 0/3000 twice at LoD 0.21 % < last VAF 5 % (cleared)
        "ALK G1202R": ([None, "emerging", "rising", "cleared", "cleared"], "cleared"),
        "ALK G1202R+L1196M": ([None, "emerging", "persistent", "cleared", "cleared"], "cleared"),
        # 0 -> 3.0 % under lorlatinib (emerging), 3.2 %: CIs overlap (persistent)
        "ALK I1171N": ([None, None, None, "emerging", "persistent"], "persistent"),
        # 5 % -> 1 % (falling), then its site is missing from the depth file: not assessable, never cleared
        "ALK L1196M": ([None, "emerging", "falling", "not_assessable", "not_assessable"], "not_assessable"),
    }
    l1196m = next(a for a in m["alterations"] if a["alteration"] == "ALK L1196M")
    assert [p["state"] for p in l1196m["points"]] == [
        "not_detected", "detected_by_caller", "detected_by_caller", "not_assessable", "not_assessable"]
    p = l1196m["points"][1]
    assert (p["alt_reads"], p["depth"], p["vaf"], p["tumor_fraction"]) == (150, 3000, 0.05, 0.1)
    assert (round(p["ci_low"], 4), round(p["ci_high"], 4)) == (0.0425, 0.0584)
    assert round(l1196m["points"][0]["lod"], 5) == 0.0021
    assert [t["therapy"] for t in m["timepoints"]] == ["Alecensa"] * 3 + ["Lorbrena"] * 2
    jsonschema.validate(m, json.loads(SCHEMA.read_text()))


def test_alerts_name_the_drug_given_then_and_the_next_options(series):
    m = json.loads((series / "timeline.json").read_text())
    assert [(a["alteration"], a["trend"], a["date"], a["drugs"], a["status"]) for a in m["alerts"]] == [
        ("ALK G1202R", "emerging", "2024-03-20", ["alectinib"], "actionable_resistance"),
        ("ALK G1202R+L1196M", "emerging", "2024-03-20", ["alectinib"], "resistance_low_support"),
        ("ALK G1202R", "rising", "2024-06-20", ["alectinib"], "actionable_resistance")]
    # L1196M and I1171N resist other drugs than the one given: no alert
    assert m["alerts"][0]["options"] == ["lorlatinib", "neladalkib", "tpx-0131"]
    assert m["next_options"] == ["brigatinib", "lorlatinib"]
    html = (series / "timeline.html").read_text()
    top = html[:html.index("<svg")]
    assert "Molecular progression" in top and "<strong>ALK G1202R</strong> rising on 2024-06-20" in top
    assert "Next options (latest sample, 2024-12-10): <strong>brigatinib, lorlatinib</strong>" in top
    assert "<script" not in html and "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_long_form_tsv(series):
    with (series / "timeline.tsv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    assert len(rows) == 25 and list(rows[0]) == [
        "patient", "alteration", "mechanism", "sample", "date", "therapy", "state", "trend", "vaf", "ci_low",
        "ci_high", "depth", "alt_reads", "lod", "copy_number", "tumor_fraction", "note"]
    g = [r for r in rows if r["alteration"] == "ALK G1202R"]
    assert [(r["sample"], r["state"], r["trend"], r["vaf"], r["alt_reads"], r["depth"], r["lod"]) for r in g] == [
        ("LT01_T0", "not_detected", "", "", "", "3000", "0.0020971"),
        ("LT01_T1", "detected_by_caller", "emerging", "0.004", "12", "3000", ""),
        ("LT01_T2", "detected_by_caller", "rising", "0.05", "150", "3000", ""),
        ("LT01_T3", "not_detected", "cleared", "", "", "3000", "0.0020971"),
        ("LT01_T4", "not_detected", "cleared", "", "", "3000", "0.0020971")]
    assert (g[1]["therapy"], g[1]["tumor_fraction"], g[1]["ci_low"]) == ("Alecensa", "0.1", "0.00206851")


def test_plot_svg_file_one_series_per_alteration(series):
    """timeline.svg beside the HTML parses; one series per alteration; not-detected points drawn at
    the LoD (open markers), not-assessable as x; two therapy bands; tumour fraction its own series."""
    root = ET.parse(series / "timeline.svg").getroot()
    groups = root.findall(f".//{SVG}g[@class='series']")
    assert sorted(g.get("data-alteration") for g in groups) == [
        "ALK F1174L", "ALK G1202R", "ALK G1202R+L1196M", "ALK I1171N", "ALK L1196M"]
    g1202 = next(g for g in groups if g.get("data-alteration") == "ALK G1202R")
    titles = [t.text for t in g1202.iter(f"{SVG}title")]
    assert titles.count("ALK G1202R: not detected, LoD 0.21 %") == 3
    assert "ALK G1202R: 5.00 % (actionable resistance)" in titles
    l1196m = next(g for g in groups if g.get("data-alteration") == "ALK L1196M")
    assert [t.text for t in l1196m.iter(f"{SVG}title")].count("ALK L1196M: not assessable in this sample") == 2
    bands = [t.text for t in root.iter(f"{SVG}title") if t.text.startswith("therapy:")]
    assert bands == ["therapy: Alecensa", "therapy: Lorbrena"]
    assert root.find(f".//{SVG}g[@class='series tumour-fraction']") is not None
    html = (series / "timeline.html").read_text()
    assert html.count("<svg") == 1 and 'data-alteration="ALK L1196M"' in html


def _obs(state, vaf=None, alt=None, depth=None, lod=None, tf=None):
    from ctresist.stats import vaf_ci

    lo, hi = vaf_ci(alt, depth) if alt is not None else (None, None)
    return {"state": state, "vaf": vaf, "alt_reads": alt, "depth": depth, "lod": lod, "ci_low": lo,
            "ci_high": hi, "tumor_fraction": tf}


def test_trend_rules_on_edges():
    """A VAF doubling within overlapping CIs is persistent; the same VAFs at 10x the depth rise;
    tumour fraction doubling with the VAF is persistent; a negative whose LoD is above the last level
    is not assessable; an earlier negative with LoD above today's VAF makes it a single observation."""
    det = "detected_by_caller"
    assert trend_at([_obs(det, 0.01, 10, 1000), _obs(det, 0.02, 20, 1000)], 1) == "persistent"
    assert trend_at([_obs(det, 0.01, 100, 10000), _obs(det, 0.02, 200, 10000)], 1) == "rising"
    assert trend_at([_obs(det, 0.01, 100, 10000, tf=0.1), _obs(det, 0.02, 200, 10000, tf=0.2)], 1) == "persistent"
    assert trend_at([_obs(det, 0.004, 12, 3000), _obs("not_detected", lod=0.021, depth=300)], 1) == "not_assessable"
    assert trend_at([_obs("not_detected", lod=0.021, depth=300), _obs(det, 0.004, 12, 3000)], 1) == "single_observation"
    assert trend_at([_obs("not_assessable"), _obs(det, 0.004, 12, 3000)], 1) == "single_observation"
    gap = [_obs(det, 0.05, 150, 3000), _obs("not_assessable"), _obs(det, 0.05, 150, 3000)]
    assert [trend_at(gap, i) for i in range(3)] == ["single_observation", "not_assessable", "persistent"]


def test_render_time_20_timepoints_30_alterations(tmp_path):
    """Measured figure for the README: 20 timepoints x 30 alterations."""
    reports = []
    for t in range(20):
        calls = [{"gene": "G", "alteration": f"A{a}", "status": "resistance_other_drugs", "mechanism": "m",
                  "resists": ["x"], "resists_current": [], "vaf": 0.001 * (1 + (a + t) % 7), "depth": 3000,
                  "alt_reads": 3 * (1 + (a + t) % 7), "copy_number": None} for a in range(30) if (a + t) % 5]
        sites = [{"gene": "G", "alteration": f"A{a}", "state": "not_detected", "depth": 3000, "alt_reads": 0,
                  "vaf": None, "lod": 0.0021, "informative": True, "text": ""} for a in range(30)]
        reports.append({"sample": {"sample": f"S{t}", "collection_date": f"2024-{1 + t // 2:02d}-{1 + 14 * (t % 2):02d}",
                                   "specimen": "plasma", "therapy_text": "A" if t < 10 else "B", "therapy": [],
                                   "tumor_fraction": None},
                        "summary": {"headline": "", "remaining_options": []}, "calls": calls,
                        "ctdna": {"sites": sites}})
    from ctresist.longitudinal import _env, generated_at, long_rows, timeline_plot

    t0 = time.perf_counter()
    m = {"schema": "ctresist-timeline/2", "patient": "P", **timeline(reports)}
    m["long"] = long_rows(m)
    html = _env().get_template("timeline.html.j2").render(m=m, plot=timeline_plot(m), generated=generated_at())
    seconds = time.perf_counter() - t0
    print(f"20x30 timeline: {seconds * 1000:.0f} ms, HTML {len(html.encode()) / 1024:.0f} KiB")
    assert len(m["alterations"]) == 30 and len(m["long"]) == 600 and seconds < 5


def test_tsv_cells_are_neutralised(tmp_path):
    """#9.12 in long form: a sample named like a formula, or with a tab/newline, is inert in timeline.tsv."""
    reports = []
    for i, (sample, date) in enumerate([("=HYPERLINK(\"x\")", "2024-01-01"), ("S\t2\nx", "2024-02-01")]):
        call = {"gene": "EGFR", "alteration": "C797S", "status": "actionable_resistance", "mechanism": "m",
                "resists": ["osimertinib"], "resists_current": ["osimertinib"], "vaf": 0.01 * (i + 1),
                "depth": 1000, "alt_reads": 10 * (i + 1), "copy_number": None}
        reports.append({"sample": {"sample": sample, "collection_date": date, "specimen": "plasma",
                                   "therapy_text": "osimertinib", "therapy": ["osimertinib"], "tumor_fraction": None},
                        "summary": {"headline": "", "remaining_options": []}, "calls": [call], "ctdna": None})
    from ctresist.longitudinal import long_rows
    from ctresist.report import tsv_cell

    m = {"patient": "P1", **timeline(reports)}
    assert [tsv_cell(r["sample"]) for r in long_rows(m)] == ["'=HYPERLINK(\"x\")", "S 2 x"]
    assert [a["trends"] for a in m["alterations"]] == [["single_observation", "persistent"]]


def test_therapy_file_lines_drawn_as_bands(series, tmp_path):
    """The per-patient therapy file replaces the sheet's bands with the real start/stop dates."""
    from ctresist.therapy import read_therapy_file

    lines = read_therapy_file(str(FIX / "LT01.therapy.tsv"))
    assert [(t["drugs"], t["start"], t["stop"], t["best_response"]) for t in lines] == [
        (["alectinib"], "2023-11-02", "2024-07-01", "PR"), (["lorlatinib"], "2024-07-15", "", "SD")]
    reports = [str(series / f"{s}.json") for s in SAMPLES]
    do_longitudinal(reports, "LT01", str(tmp_path / "t.json"), str(tmp_path / "t.tsv"), str(tmp_path / "t.html"),
                    therapy_file=str(FIX / "LT01.therapy.tsv"))
    m = json.loads((tmp_path / "t.json").read_text())
    jsonschema.validate(m, json.loads(SCHEMA.read_text()))
    root = ET.parse(tmp_path / "t.svg").getroot()
    bands = [(r.get("x"), r.get("width"), r.find(f"{SVG}title").text)
             for r in root.iterfind(f".//{SVG}g[@class='therapy']/{SVG}rect")]
    # axis 2024-01-10 .. 2024-12-10 (335 days over 560 px from x=60): alectinib clipped to the axis
    # start, stopped on day 173; lorlatinib from day 187 to the end
    assert bands == [("60.0", "289.2", "therapy: Alecensa (best response PR)"),
                     ("372.6", "247.4", "therapy: lorlatinib (best response SD)")]
    assert "Alecensa 2023-11-02 to 2024-07-01, best response PR; lorlatinib 2024-07-15 to ongoing" in \
        (tmp_path / "t.html").read_text()


@pytest.mark.parametrize(("text", "error"), [
    ("drug\tstart\n", "t.tsv:1: missing column(s) stop, best_response; the header must be"),
    ("drug\tstart\tstop\tbest_response\nalectinib\t2024/01/02\t\t\n",
     "t.tsv:2: start '2024/01/02' is invalid ("),
    ("drug\tstart\tstop\tbest_response\nalectinib\t2024-01-02\t\tgood\n",
     "t.tsv:2: best_response 'GOOD' is invalid ("),
    ("drug\tstart\tstop\tbest_response\nalectinib\t2024-02-30\t\t\n", "t.tsv:2: not a calendar date ("),
    ("drug\tstart\tstop\tbest_response\nalectinib\t2024-03-01\t2024-02-01\tPR\n",
     "t.tsv:2: stop 2024-02-01 is before start 2024-03-01; swap them"),
    ("drug\tstart\tstop\tbest_response\nalectinb\t2024-03-01\t\t\n", "t.tsv:2: unknown drug 'alectinb'; did you mean alectinib"),
])
def test_therapy_file_errors_name_file_and_line(tmp_path, text, error):
    from ctresist.errors import InputError
    from ctresist.therapy import read_therapy_file

    p = tmp_path / "t.tsv"
    p.write_text(text)
    with pytest.raises(InputError) as exc:
        read_therapy_file(str(p))
    assert str(exc.value).startswith(f"{p.parent}/{error}") and "\n" not in str(exc.value)


def test_sample_identity_flags_the_swapped_sample(series, tmp_path):
    """LT01_T0..T4 carry the patient's 5 germline SNPs (3 het, 2 hom); LT01_T4S has another person's
    3 (1 shared): every pair with T4S shares 1 of 7, so T4S alone is flagged, in one line."""
    m = json.loads((series / "timeline.json").read_text())
    assert m["identity"]["status"] == "consistent"
    assert {(p["shared"], p["union"]) for p in m["identity"]["pairs"]} == {(5, 5)}
    subprocess.run(["ctresist", "annotate", "--sheet", "samples.tsv", "--sample", "LT01_T4S",
                    "-o", str(tmp_path / "LT01_T4S.json")], cwd=FIX, check=True, capture_output=True)
    reports = [str(series / f"{s}.json") for s in SAMPLES[:4]] + [str(tmp_path / "LT01_T4S.json")]
    do_longitudinal(reports, "LT01", str(tmp_path / "t.json"), str(tmp_path / "t.tsv"), str(tmp_path / "t.html"))
    ident = json.loads((tmp_path / "t.json").read_text())["identity"]
    assert ident["status"] == "likely_swap"
    assert ident["text"] == ("Likely sample swap (LT01_T4S may be another person's): LT01_T4S shares 1 of 7 "
                             "germline-like variants with LT01_T0")
    html = (tmp_path / "t.html").read_text()
    assert html.index("Sample identity</h2>") < html.index("<svg")
    from ctresist.longitudinal import sample_identity

    assert sample_identity([{"sample": {"sample": "A"}, "other_variants": []},
                            {"sample": {"sample": "B"}, "other_variants": []}])["status"] == "not_assessable"


def test_driver_vaf_rising_beyond_its_ci_is_an_alert(tmp_path):
    """EGFR L858R (driver) 42/3500 (CI 0.87-1.62 %) -> 120/3500 (CI 2.85-4.08 %) under osimertinib:
    driver_rising; 42/3500 -> 50/3500 (CIs overlap): persistent, no alert."""
    from ctresist.stats import vaf_ci

    def report(i, alt):
        return {"sample": {"sample": f"E{i}", "collection_date": f"2025-0{i + 1}-01", "specimen": "plasma",
                           "therapy_text": "Tagrisso", "therapy": ["osimertinib"], "tumor_fraction": None},
                "summary": {"headline": "", "remaining_options": []}, "calls": [], "ctdna": None,
                "driver_evidence": {"kind": "mutation", "gene": "EGFR", "detected": [
                    {"change": "L858R", "variant": "7:55191822:T>G", "alt_reads": alt, "depth": 3500,
                     "vaf": round(alt / 3500, 4), "vaf_ci": list(vaf_ci(alt, 3500))}]}}

    m = timeline([report(0, 42), report(1, 50), report(2, 120)])
    [row] = m["alterations"]
    assert (row["alteration"], row["trends"]) == ("EGFR L858R (driver)", ["single_observation", "persistent", "rising"])
    assert [(a["kind"], a["date"], a["drugs"]) for a in m["alerts"]] == [("driver_rising", "2025-03-01", ["osimertinib"])]


def test_lt01_page_in_chromium(series, tmp_path):
    """The LT01 page and timeline.svg in headless Chromium at 1024 px: the only request is the file
    itself, no table or cell overflows, and neither file has a script or event handler."""
    from test_report_browser import CHROMIUM, Browser, Page

    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is absent (Debian: apt-get install chromium)")
    b = Browser(tmp_path / "profile")
    try:
        for page in (series / "timeline.html", series / "timeline.svg"):
            got = b.load(page, 1024, screenshot=False)  # its PNG is not looked at
            assert got["requests"] == [page.as_uri()]
            assert got["bad"] == [] and got["docWidth"] <= got["viewport"]
            p = Page()
            p.feed(page.read_text(encoding="utf-8"))
            assert not [t for t, _ in p.tags if t in ("script", "iframe", "object", "embed", "img", "link")]
            assert not [a for _, a in p.tags if any(k.startswith("on") for k in a)]
    finally:
        b.close()


def test_lookback_earliest_reads_before_the_first_call(series, tmp_path):
    """A copy of LT01_T0's report as if its reads had been genotyped (--bam): 2 G1202R alt reads of
    3,000, below the call threshold (not detected). The timeline reports them as lookback."""
    t0 = json.loads((series / "LT01_T0.json").read_text())
    for site in t0["ctdna"]["sites"]:
        if (site["gene"], site["alteration"]) == ("ALK", "G1202R"):
            site.update(alt_reads=2, source="reads")
    (tmp_path / "LT01_T0.json").write_text(json.dumps(t0))
    reports = [str(tmp_path / "LT01_T0.json")] + [str(series / f"{s}.json") for s in SAMPLES[1:]]
    do_longitudinal(reports, "LT01", str(tmp_path / "t.json"), str(tmp_path / "t.tsv"), str(tmp_path / "t.html"))
    m = json.loads((tmp_path / "t.json").read_text())
    got = {a["alteration"]: a["lookback"] for a in m["alterations"] if a["lookback"]}
    assert list(got) == ["ALK G1202R"]  # the compound has no site row of its own
    assert got["ALK G1202R"]["text"] == "ALK G1202R: 2 of 3,000 reads on 2024-01-10, before it was called on 2024-03-20"
    assert [a["trends"] for a in m["alterations"] if a["alteration"] == "ALK G1202R"] == [
        [None, "emerging", "rising", "cleared", "cleared"]]
    assert "Earlier read-level evidence: ALK G1202R: 2 of 3,000 reads on 2024-01-10" in (tmp_path / "t.html").read_text()
    jsonschema.validate(m, json.loads(SCHEMA.read_text()))


def test_copy_number_on_the_right_axis():
    """MET amplification CN 12 at the third date: a hollow square at the top of a 0-12 right axis
    (x 620: 162 of 162 days); the VAF series keeps its geometry."""
    from ctresist.longitudinal import timeline_plot

    m = {"timepoints": [{"date": d, "sample": s, "therapy": "alectinib"} for d, s in
                        (("2024-01-10", "T0"), ("2024-04-02", "T1"), ("2024-06-20", "T2"))],
         "alterations": [{"alteration": "ALK G1202R", "values": [None, 0.004, 0.0211],
                          "status": [None, "actionable_resistance", "actionable_resistance"]},
                         {"alteration": "MET amplification", "values": [None, None, 12.0],
                          "status": [None, None, "actionable_resistance"]}]}
    plot = timeline_plot(m)
    [cn] = plot["cn_lines"]
    assert (cn["label"], cn["points"]) == ("MET amplification", [{"x": 620.0, "y": 12.0, "v": 12.0}])
    assert [t["label"] for t in plot["cn_ticks"]] == ["0", "6", "12"]
    assert [(b["label"], b["x"], b["width"]) for b in plot["bands"]] == [("alectinib", 60, 560)]
    assert plot["lines"][0]["path"] == "346.9,143.9 620.0,104.2"


def test_batch_summary_progression_lines(series):
    """The batch summary's molecular-progression lines (passed to summary.html.j2 as ``progression``)."""
    from ctresist.longitudinal import progression_lines

    reports = [json.loads((series / f"{s}.json").read_text()) for s in SAMPLES]
    assert progression_lines({"LT01": reports, "X": reports[:1]}) == [
        "LT01: ALK G1202R rising on 2024-06-20 under alectinib; next options: brigatinib, lorlatinib",
        "LT01: ALK G1202R+L1196M emerging on 2024-03-20 under alectinib; next options: brigatinib, lorlatinib",
        "LT01: ALK G1202R emerging on 2024-03-20 under alectinib; next options: brigatinib, lorlatinib"]


def test_svg_written_even_without_a_plot(series, tmp_path):
    """No detection at any timepoint: timeline.svg still exists (a workflow can declare it) and says why."""
    do_longitudinal([str(series / "LT01_T0.json")], "LT01", str(tmp_path / "t.json"), str(tmp_path / "t.tsv"),
                    str(tmp_path / "t.html"))
    root = ET.parse(tmp_path / "t.svg").getroot()
    assert root.find(f"{SVG}text").text.startswith("No plot: nothing detected")
    assert (tmp_path / "t.tsv").read_text().splitlines() == ["\t".join([
        "patient", "alteration", "mechanism", "sample", "date", "therapy", "state", "trend", "vaf", "ci_low",
        "ci_high", "depth", "alt_reads", "lod", "copy_number", "tumor_fraction", "note"])]


def test_lookback_in_an_earlier_bam(tmp_path):
    """EGFR patient on osimertinib: 2025-01-15 plasma read by the real annotate from a BAM built over
    the real GRCh38 EGFR sequence (2 T790M reads of 2,800: below the call threshold, not detected);
    2025-05-20 plasma (test_data/EGFR02_plasma.vcf.gz) calls T790M and C797S. The timeline says
    T790M was in the reads on 2025-01-15, and alerts on C797S emerging under osimertinib."""
    from bam_builder import C797S, LOCUS_FASTA, T790M, Reads, build_bam

    if not LOCUS_FASTA.exists():
        pytest.skip(f"shared data absent: {LOCUS_FASTA.name} (the EGFR locus sequence)")
    from ctresist.annotate import do_annotate
    from ctresist.catalogue import load_catalogue
    from ctresist.interpret import Context

    root = Path(__file__).resolve().parents[1]
    bam = build_bam(tmp_path / "t0.bam", [Reads({T790M: "T"}, 2, covers=(T790M, C797S)),
                                          Reads({}, 2798, covers=(T790M, C797S))], contig="7")
    models = []
    for sample, date, vcf, b in (("E_T0", "2025-01-15", "EGFR01_plasma.vcf.gz", str(bam)),
                                 ("E_T1", "2025-05-20", "EGFR02_plasma.vcf.gz", None)):
        ctx = Context(sample=sample, driver_text="EGFR L858R", driver="EGFR mutation", therapy_text="osimertinib",
                      therapy=["osimertinib"], specimen="plasma", build="GRCh38")
        m = do_annotate(ctx, str(root / "test_data" / vcf), None, load_catalogue(), bam=b)
        m["sample"].update(patient="E", collection_date=date)
        models.append(m)
    t = timeline(models)
    got = {a["alteration"]: (a["trends"], a["lookback"] and a["lookback"]["text"]) for a in t["alterations"]}
    assert got["EGFR T790M"] == ([None, "emerging"],
                                 "EGFR T790M: 2 of 2,800 reads on 2025-01-15, before it was called on 2025-05-20")
    assert got["EGFR C797S"] == ([None, "emerging"], None)  # 0 of 2,800 reads earlier
    assert ("EGFR C797S", "emerging", "2025-05-20", ["osimertinib"]) in [
        (a["alteration"], a["trend"], a["date"], a["drugs"]) for a in t["alerts"]]
