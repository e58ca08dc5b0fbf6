"""MultiQC custom content (#14.5): the workflow writes results/_batch/ctresist_mqc.tsv/.yaml and a
real `multiqc` run puts the ctresist section, with exact values per sample, into its report data
(failed samples included, with their reason)."""
from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from conftest import snakemake_env

ROWS = [
    "sample\tpatient\tcollection_date\tspecimen\tvcf\tcnv\tdriver\ttherapy\tgenome_build\ttumor_fraction",
    "ALK01_T1_plasma\tALK01\t2024-04-02\tplasma\ttest_data/ALK01_T1_plasma.vcf.gz\t\tEML4-ALK\tAlecensa\tGRCh38\t",
    "RET01_tissue\tRET01\t2023-11-05\ttissue\ttest_data/RET01_tissue.vcf.gz\ttest_data/RET01_tissue.cns\tKIF5B-RET\tselpercatinib\tGRCh38\t0.6",
    "EGFR01_plasma\tEGFR01\t2024-09-30\tplasma\ttest_data/EGFR01_plasma.vcf.gz\t\tEGFR L858R\tTagrisso\tGRCh38\t",
    "MISSING\tP9\t2024-01-01\tplasma\ttest_data/missing.vcf.gz\t\tEML4-ALK\talectinib\tGRCh38\t",
]


def test_multiqc_reads_the_ctresist_section(repo_copy, tmp_path):
    multiqc = shutil.which("multiqc")
    if multiqc is None:
        pytest.skip("multiqc not installed (pip install -e '.[test]' installs it)")
    (repo_copy / "config" / "samples.tsv").write_text("\n".join(ROWS) + "\n")
    proc = subprocess.run(["snakemake", "--cores", "2", "--keep-going"], cwd=repo_copy,
                          env=snakemake_env(), capture_output=True, text=True)
    assert proc.returncode != 0  # MISSING fails; the batch outputs are still written
    out = tmp_path / "mqc"
    run = subprocess.run([multiqc, str(repo_copy / "results" / "_batch"), "-o", str(out),
                          "--no-ansi"], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    data = json.loads((out / "multiqc_data" / "multiqc_data.json").read_text())
    table = data["report_saved_raw_data"]["multiqc_ctresist_table"]
    version = table["ALK01_T1_plasma"]["catalogue_version"]
    assert version and all(table[s]["catalogue_version"] == version for s in
                           ("ALK01_T1_plasma", "RET01_tissue", "EGFR01_plasma"))
    assert {s: (r["outcome"], r["actionable_count"], r["specimen"], r["tumor_fraction"])
            for s, r in table.items()} == {
        "ALK01_T1_plasma": ("ok", 1, "plasma", ""),
        "RET01_tissue": ("ok", 1, "tissue", 0.6),
        "EGFR01_plasma": ("ok", 0, "plasma", ""),
        "MISSING": ("failed", "", "", ""),
    }
    assert table["ALK01_T1_plasma"]["headline"] == "Resistance to alectinib detected: ALK G1202R"
    assert "test_data/missing.vcf.gz" in table["MISSING"]["headline"]
    general = data["report_saved_raw_data"]["multiqc_general_stats"]
    assert {s: v for s, r in general.items() for k, v in r.items() if k.endswith("actionable_count")} == {
        "ALK01_T1_plasma": 1, "RET01_tissue": 1, "EGFR01_plasma": 0}
