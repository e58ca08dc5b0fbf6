"""MultiQC custom content for a batch: ``ctresist_mqc.tsv`` (a table section, one row per sample)
and ``ctresist_mqc.yaml`` (the actionable count in MultiQC's General Statistics)."""
from __future__ import annotations

import json

import yaml

from ctresist.atomic import atomic_write
from ctresist.failed import is_failed

COLUMNS = ["outcome", "actionable_count", "headline", "specimen", "tumor_fraction",
           "catalogue_version"]


def sample_rows(reports: list[str], failed: list[str]) -> dict[str, dict]:
    """{sample: row} from report JSONs, and failed samples (``sample: reason``) with outcome failed."""
    rows: dict[str, dict] = {}
    for path in sorted(reports):
        with open(path, encoding="utf-8") as fh:
            r = json.load(fh)
        if is_failed(r):  # not analysed: a failed sample with its reason
            failed = [*failed, f"{r['sample']['sample']}: {r['error']}"]
            continue
        actionable = {(c["gene"], c["alteration"]) for c in r["calls"]
                      if c["status"] == "actionable_resistance" and not c.get("subsumed_by")}
        tf = r["sample"].get("tumor_fraction")
        rows[r["sample"]["sample"]] = {
            "outcome": "ok", "actionable_count": len(actionable),
            "headline": r["summary"]["headline"], "specimen": r["sample"].get("specimen", ""),
            "tumor_fraction": "" if tf is None else tf,
            "catalogue_version": r["catalogue"]["version"]}
    for f in sorted(failed):
        sample, _, reason = f.partition(":")
        rows[sample.strip()] = {"outcome": "failed", "actionable_count": "",
                                "headline": reason.strip(), "specimen": "", "tumor_fraction": "",
                                "catalogue_version": ""}
    return rows


def _cell(v: object) -> str:
    return " ".join(str(v).split())  # one line, no tabs


def write_multiqc(reports: list[str], failed: list[str], tsv: str, yaml_out: str) -> None:
    rows = sample_rows(reports, failed)
    header = {
        "id": "ctresist",
        "section_name": "ctresist: targeted-therapy resistance",
        "description": "Per sample: outcome of the ctresist run, number of actionable resistance "
                       "alterations, the report headline, specimen, tumour fraction and the "
                       "catalogue version the calls were made with.",
        "plot_type": "table",
        "pconfig": {"id": "ctresist_table", "title": "ctresist: resistance per sample",
                    "col1_header": "Sample"},
    }
    with atomic_write(tsv) as fh:
        for line in yaml.safe_dump(header, sort_keys=False, width=1000).splitlines():
            fh.write(f"# {line}\n")
        fh.write("\t".join(["Sample", *COLUMNS]) + "\n")
        for sample, row in rows.items():
            fh.write("\t".join(_cell(x) for x in [sample, *(row[c] for c in COLUMNS)]) + "\n")
    general = {
        "id": "ctresist_general",
        "section_name": "ctresist",
        "plot_type": "generalstats",
        "pconfig": [{"actionable_count": {"title": "Actionable", "format": "{:,.0f}",
                                          "description": "ctresist: actionable resistance "
                                                         "alterations to the current therapy"}}],
        "data": {s: {"actionable_count": r["actionable_count"]} for s, r in rows.items()
                 if r["outcome"] == "ok"},
    }
    with atomic_write(yaml_out) as fh:
        yaml.safe_dump(general, fh, sort_keys=False)
