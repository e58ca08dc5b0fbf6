"""#14.7: what one ctresist process pays before its real work, and that the shortcuts are safe.

- The shipped catalogue is byte for byte the one stamped in ``validated.yaml`` (``ctresist
  catalogue stamp`` after an edit): a stale stamp fails here.
- An edited catalogue (any byte) is checked row by row again, even with the old stamp beside it.
- ``annotate`` of a bundled sample imports neither jsonschema (row checks skipped for the stamped
  catalogue, the report it just wrote is not re-validated) nor pandas.
- The compiled report template comes from Jinja2's bytecode cache; a broken cache entry only
  costs a compilation.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
import yaml
from conftest import ROOT

from ctresist.catalogue import VALIDATED, load_catalogue
from ctresist.errors import InputError

CATALOGUE = ROOT / "annotations" / "catalogue"


def test_shipped_catalogue_matches_its_validated_stamp():
    cat = load_catalogue(str(CATALOGUE), check_rows=True)
    stamp = yaml.safe_load((CATALOGUE / VALIDATED).read_text())
    assert stamp["sha256"] == cat.sha256, "catalogue edited: run `ctresist catalogue stamp`"


def test_an_edited_catalogue_is_checked_row_by_row(tmp_path):
    ann = tmp_path / "annotations"
    shutil.copytree(ROOT / "annotations", ann)
    tsv = ann / "catalogue" / "resistance.tsv"
    lines = tsv.read_text().splitlines(keepends=True)
    cols = lines[0].rstrip("\n").split("\t")
    row = lines[1].rstrip("\n").split("\t")
    row[cols.index("level")] = "Z"  # not an AMP/ASCO/CAP level: the schema refuses it
    tsv.write_text("".join([lines[0], "\t".join(row) + "\n", *lines[2:]]))
    assert (ann / "catalogue" / VALIDATED).exists()  # the old stamp is still there
    load_catalogue.cache_clear()
    with pytest.raises(InputError, match=r"resistance.tsv:2: column 'level'"):
        load_catalogue(str(ann / "catalogue"))


PROBE = """
import sys
from ctresist.cli import main
rc = main(["annotate", "--sample", "S", "--vcf", sys.argv[1], "--driver", "EML4-ALK",
           "--therapy", "alectinib", "--specimen", "plasma", "--build", "GRCh38",
           "-o", sys.argv[2] + "/r.json", "--html", sys.argv[2] + "/r.html", "--tsv", sys.argv[2] + "/c.tsv"])
print(rc, "jsonschema" in sys.modules, "pandas" in sys.modules)
"""


def test_annotate_imports_no_validator_and_no_pandas(tmp_path):
    proc = subprocess.run([sys.executable, "-c", PROBE, str(ROOT / "test_data" / "ALK01_T1_plasma.vcf.gz"),
                           str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert proc.stdout.split() == ["0", "False", "False"], proc.stderr
    model = json.loads((tmp_path / "r.json").read_text())
    assert [(c["status"], c["gene"], c["alteration"]) for c in model["calls"]
            if c["status"] != "sensitivity_evidence"] == [("actionable_resistance", "ALK", "G1202R")]


def test_a_broken_template_cache_entry_only_costs_a_compilation(tmp_path, monkeypatch):
    import tempfile
    from pathlib import Path

    from ctresist import report

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # a cache of this test's own
    report._env.cache_clear()
    env = report._env()
    assert env.bytecode_cache is not None
    env.get_template("report.html.j2")  # compiled and stored
    assert Path(env.bytecode_cache.directory).parent == tmp_path
    entries = list(Path(env.bytecode_cache.directory).glob("__jinja2_*.cache"))
    sizes = {e: e.stat().st_size for e in entries}
    assert entries and min(sizes.values()) > 1000
    for entry in entries:
        entry.write_bytes(entry.read_bytes()[:100])  # truncated
    report._env.cache_clear()
    template = report._env().get_template("report.html.j2")  # no error: compiled again ...
    assert template.name == "report.html.j2"
    rewritten = [e for e in entries if e.stat().st_size > 1000]  # ... and stored again
    assert rewritten
    report._env.cache_clear()
