"""ctDNA read-level evidence through the real Snakemake workflow (#11): the sheet's ``bam`` column
reaches the annotate job, and results/EGFR02_plasma/report.json and calls.tsv carry each catalogue
change's state.

The repository is copied as in tests/test_workflow.py; the sheet has one row, EGFR02_plasma
(test_data/EGFR02_plasma.vcf.gz: T790M 88/4200 and C797S 41/4150 in cis, L858R 160/4000), with a
BAM built by ``bam_builder`` over the real GRCh38 EGFR sequence: 500 fragments, 20 carrying
T790M+C797S, 10 carrying L798I (c.2392C>A, a curated osimertinib-resistance allele the VCF does
not have), 470 reference. Skipped without ../shared/data (the EGFR sequence).
"""
from __future__ import annotations

import csv
import json
import subprocess

import pytest
from bam_builder import C797S, LOCUS_FASTA, T790M, Reads, build_bam
from conftest import snakemake_env

L798I = 55181401
HEADER = "sample\tpatient\tcollection_date\tspecimen\tvcf\tcnv\tdriver\ttherapy\tgenome_build\tbam"
ROW = ("EGFR02_plasma\tEGFR02\t2025-03-12\tplasma\ttest_data/EGFR02_plasma.vcf.gz\t\tEGFR L858R\t"
       "osimertinib\tGRCh38\ttest_data/EGFR02_plasma.bam")

pytestmark = pytest.mark.skipif(not LOCUS_FASTA.is_file(),
                                reason=f"shared GRCh38 EGFR locus sequence not available: {LOCUS_FASTA}")


def test_workflow_with_a_bam_writes_ctdna_states_to_json_and_tsv(repo_copy):
    """One real run (repo_copy: the workflow files, test_data and annotations in a temp dir)."""
    cover = (T790M, C797S, L798I)
    build_bam(repo_copy / "test_data" / "EGFR02_plasma.bam",
              [Reads({T790M: "T", C797S: "A"}, 20, covers=cover), Reads({L798I: "A"}, 10, covers=cover),
               Reads({}, 470, covers=cover)], contig="7")
    (repo_copy / "config" / "ctdna.tsv").write_text(HEADER + "\n" + ROW + "\n")
    (repo_copy / "config" / "ctdna.yaml").write_text(
        "samples: config/ctdna.tsv\nlongitudinal: false\nannotations: annotations\n")
    proc = subprocess.run(["snakemake", "--cores", "2", "--configfile", "config/ctdna.yaml"],
                          cwd=repo_copy, env=snakemake_env(), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = repo_copy / "results" / "EGFR02_plasma"
    check_report_json(out)
    check_calls_tsv(out)


def check_report_json(ran) -> None:
    m = json.loads((ran / "report.json").read_text())
    ct = m["ctdna"]
    assert (ct["source"], ct["input"], m["inputs"]["bam"]) == ("reads", "EGFR02_plasma.bam",
                                                               "EGFR02_plasma.bam")
    # every other catalogue change (the count follows the catalogue) has no reads: not assessable
    assert ct["counts"] == {"detected_by_caller": 3, "read_level_only": 1, "not_detected": 1,
                            "not_assessable": len(ct["sites"]) - 5}
    assert len(ct["sites"]) > 40
    by = {(s["gene"], s["alteration"]): s for s in ct["sites"]}
    got = {k: (by[k]["state"], by[k]["alt_reads"], by[k]["depth"]) for k in
           [("EGFR", "T790M"), ("EGFR", "C797S"), ("EGFR", "L858R"), ("EGFR", "L798I"),
            ("EGFR", "S768I"), ("EGFR", "G724S"), ("KRAS", "G12C")]}
    assert got == {("EGFR", "T790M"): ("detected_by_caller", 88, 4200),
                   ("EGFR", "C797S"): ("detected_by_caller", 41, 4150),
                   ("EGFR", "L858R"): ("detected_by_caller", 160, 4000),
                   ("EGFR", "L798I"): ("read_level_only", 10, 500),
                   ("EGFR", "S768I"): ("not_detected", 0, 203),
                   ("EGFR", "G724S"): ("not_assessable", 0, 0),
                   ("KRAS", "G12C"): ("not_assessable", None, None)}
    assert by[("EGFR", "S768I")]["lod"] == pytest.approx(0.0306872, abs=1e-7)
    # the read-level-only resistance allele is a limitation, never a call
    assert not any("L798I" in c["alteration"] for c in m["calls"])
    assert any(x.startswith("EGFR L798I seen in the reads only, not called by the variant caller")
               for x in m["summary"]["limitations"])
    assert m["summary"]["headline"] == "Resistance to osimertinib detected: EGFR T790M+C797S"


def check_calls_tsv(ran) -> None:
    with open(ran / "calls.tsv") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    sites = {r["finding"]: r for r in rows if r["row_type"] == "ctdna_site"}
    model = json.loads((ran / "report.json").read_text())
    assert list(sites) == [f"{s['gene']} {s['alteration']}" for s in model["ctdna"]["sites"]]
    cols = ("status", "variant", "depth", "alt_reads", "vaf", "vaf_ci_low", "vaf_ci_high", "lod",
            "informative", "source")
    assert tuple(sites["EGFR L798I"][k] for k in cols) == (
        "read_level_only", "7:55181401:C>A", "500", "10", "0.02", "0.00963143", "0.0364724", "", "",
        "reads")
    assert sites["EGFR L798I"]["support"].startswith(
        "possible, confirm: 10 alt reads of 500 (2.00 %, 95 % CI 0.96 %-3.65 %; 5 forward, 5 reverse)")
    assert tuple(sites["EGFR S768I"][k] for k in cols) == (
        "not_detected", "7:55181312:G>T", "203", "0", "0", "0", "0.0180077", "0.0306872", "true",
        "reads")
    assert tuple(sites["EGFR T790M"][k] for k in cols) == (
        "detected_by_caller", "7:55181378:C>T", "4200", "88", "0.021", "0.0168375", "0.025751", "", "",
        "caller")
    assert sites["KRAS G12C"]["support"] == "not assessable: contig 12 is not in the BAM/CRAM header"
    findings = [(r["status"], r["entry_id"]) for r in rows if r["row_type"] == "finding"]
    assert ("actionable_resistance", "EGFR_C797S_T790M__EGFR_mutation_cis") in findings
    assert not [r for r in rows if r["row_type"] == "finding" and "L798I" in r["finding"]]
