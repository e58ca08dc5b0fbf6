"""Every report the bundled samples give is valid against the published JSON Schemas, and the
findings layer gives the exact structure a reader relies on (EGFR02: one compound finding).
The reports are made once per session by the ``bundled`` fixture (tests/conftest.py)."""
from __future__ import annotations

import json
from importlib.resources import files

import jsonschema
import pytest


def _schema(name: str) -> dict:
    return json.loads(files("ctresist").joinpath("schemas", name).read_text(encoding="utf-8"))


def test_every_bundled_report_validates(bundled):
    """report.json of each of the 10 bundled samples and each of the 7 timeline.json files is schema-valid."""
    out, _ = bundled
    reports = sorted(out.glob("*/report.json"))
    timelines = sorted(out.glob("_patients/*/timeline.json"))
    assert len(reports) == 10 and len(timelines) == 7
    report_schema, timeline_schema = _schema("report.schema.json"), _schema("timeline.schema.json")
    jsonschema.Draft202012Validator.check_schema(report_schema)
    for p in reports:
        jsonschema.validate(json.loads(p.read_text()), report_schema, cls=jsonschema.Draft202012Validator)
    for p in timelines:
        jsonschema.validate(json.loads(p.read_text()), timeline_schema, cls=jsonschema.Draft202012Validator)


def test_schema_versions_are_stamped(bundled):
    """The written files say which structure they follow; the schema's const is the same string."""
    out, _ = bundled
    model = json.loads((out / "EGFR02_plasma" / "report.json").read_text())
    t = json.loads((out / "_patients" / "ALK01" / "timeline.json").read_text())
    assert model["schema"] == _schema("report.schema.json")["properties"]["schema"]["const"] == "ctresist-report/2"
    assert t["schema"] == _schema("timeline.schema.json")["properties"]["schema"]["const"] == "ctresist-timeline/2"


def test_a_changed_structure_fails_validation(bundled):
    """The schema is strict on findings: a missing key or a wrong status is refused."""
    out, _ = bundled
    model = json.loads((out / "EGFR02_plasma" / "report.json").read_text())
    schema = _schema("report.schema.json")
    broken = json.loads(json.dumps(model))
    del broken["findings"][0]["evidence"]
    with pytest.raises(jsonschema.ValidationError, match="'evidence' is a required property"):
        jsonschema.validate(broken, schema, cls=jsonschema.Draft202012Validator)
    broken = json.loads(json.dumps(model))
    broken["findings"][0]["status"] = "resistant"
    with pytest.raises(jsonschema.ValidationError, match="'resistant' is not one of"):
        jsonschema.validate(broken, schema, cls=jsonschema.Draft202012Validator)


def test_egfr02_json_has_one_finding_per_alteration(bundled):
    """EGFR02 (L858R, T790M + C797S in cis on osimertinib): 28 evidence rows are 4 findings; the
    summary counts one actionable finding (the compound), not 5 actionable rows."""
    out, _ = bundled
    model = json.loads((out / "EGFR02_plasma" / "report.json").read_text())
    assert len(model["calls"]) == 28
    got = [(f["gene"], f["alteration"], f["status"], f["subsumed_by"], len(f["evidence"]))
           for f in model["findings"]]
    assert got == [
        ("EGFR", "T790M+C797S", "actionable_resistance", None, 2),
        ("EGFR", "C797S", "actionable_resistance", "EGFR_C797S_T790M__EGFR_mutation_cis", 3),
        ("EGFR", "T790M", "resistance_other_drugs", "EGFR_C797S_T790M__EGFR_mutation_cis", 15),
        ("EGFR", "L858R", "sensitivity_evidence", None, 8),
    ]
    assert model["summary"]["n_actionable"] == 1 and model["summary"]["n_findings"] == 1
    [compound] = [f for f in model["findings"] if f["alteration"] == "T790M+C797S"]
    assert compound["detail"]["hgvsc"] == "ENST00000275493.7:c.2369C>T;ENST00000275493.7:c.2389T>A"
    assert (compound["detail"]["depth"], compound["detail"]["alt_reads"], compound["detail"]["vaf"]) == (4150, 41, 0.0099)
    assert compound["detail"]["vaf_ci"] == [0.007099, 0.013379]  # Clopper-Pearson, 41 of 4150
    assert model["driver_evidence"]["detected"] == [
        {"change": "L858R", "variant": "7:55191822:T>G", "vaf": 0.04, "vaf_ci": [0.03414, 0.046543],
         "depth": 4000, "alt_reads": 160, "in_catalogue": True}]
