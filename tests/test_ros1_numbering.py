"""ROS1 residue numbering (issue #10): the catalogue's ROS1 changes (G2032R, D2033N, L2026M, S1986F)
are numbered on the 2,347-residue protein P08922 / NP_002935, transcript ENST00000368508 /
NM_002944.2. The GRCh38 MANE Select transcript ENST00000368507 / NM_001378902.1 encodes a
2,341-residue protein (Ensembl), so MANE numbering cannot be assumed to equal the literature's;
the catalogue, the genomic allele list and the transcript preference therefore use ENST00000368508
(the transcript OncoKB and the MSK isoform overrides use on both builds). Sources:
annotations/README.md "ROS1 numbering".

A ROS1 G2032R record as VEP writes it on GRCh38 (CSQ on ENST00000368508, c.6094G>A as the CGI
biomarker table gives it; GRCh38 position 6:117317184 from annotations/known_alleles.tsv) is read by
the real CLI in a CD74-ROS1 patient on crizotinib and must be the actionable call."""
from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LITERATURE_TX = "ENST00000368508"
MANE_TX = "ENST00000368507"

HEADER = """##fileformat=VCFv4.2
##FILTER=<ID=PASS,Description="All filters passed">
##contig=<ID=6,length=170805979>
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">
##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Read depth">
{csq_header}#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tROS1_T1
"""
CSQ_HEADER = ('##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence annotations from '
              'Ensembl VEP. Format: Allele|Consequence|IMPACT|SYMBOL|Gene|Feature_type|Feature|'
              'BIOTYPE|EXON|HGVSc|HGVSp|Codons|CANONICAL|MANE_SELECT">\n'
              "##VEP=v110 cache=homo_sapiens/110_GRCh38\n")
CSQ = ("T|missense_variant|MODERATE|ROS1|ENSG00000047936|Transcript|ENST00000368508|protein_coding|"
       "38/43|ENST00000368508:c.6094G>A|ENSP00000357494:p.Gly2032Arg|Gga/Aga||")


def _vcf(tmp_path: Path, info: str, csq_header: str) -> Path:
    p = tmp_path / "ros1.vcf"
    p.write_text(HEADER.format(csq_header=csq_header)
                 + f"6\t117317184\t.\tC\tT\t.\tPASS\t{info}\tGT:AD:DP\t0/1:400,100:500\n")
    return p


def _annotate(tmp_path: Path, vcf: Path) -> dict:
    out = tmp_path / "ros1.json"
    r = subprocess.run([sys.executable, "-m", "ctresist.cli", "-q", "annotate", "--sample", "ROS1_T1",
                        "--vcf", str(vcf), "--driver", "CD74-ROS1", "--therapy", "crizotinib",
                        "--specimen", "tissue", "--build", "GRCh38", "-o", str(out)],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    return json.loads(out.read_text())


@pytest.mark.parametrize("annotated", [True, False], ids=["vep_csq", "unannotated"])
def test_ros1_g2032r_grch38_is_actionable_on_crizotinib(tmp_path, annotated):
    """VEP CSQ on ENST00000368508 (p.Gly2032Arg), and the same allele without annotation (matched
    through the genomic allele list): ROS1 G2032R, actionable, crizotinib resisted, repotrectinib,
    taletrectinib (catalogue 1.1.0) and cabozantinib remain."""
    vcf = _vcf(tmp_path, f"CSQ={CSQ}" if annotated else ".", CSQ_HEADER if annotated else "")
    m = _annotate(tmp_path, vcf)
    assert [(c["gene"], c["alteration"], c["status"]) for c in m["calls"]] == [
        ("ROS1", "G2032R", "actionable_resistance")]
    s = m["summary"]
    assert (s["actionable"], s["current_therapy_resisted"]) == (True, ["crizotinib"])
    assert s["drugs_resisted"] == ["crizotinib", "entrectinib", "lorlatinib"]
    assert s["remaining_options"] == ["repotrectinib", "taletrectinib", "cabozantinib"]


def test_ros1_transcripts_agree_across_annotation_files():
    """genes.tsv names ENST00000368508 (literature numbering) as ROS1's second preferred transcript
    beside MANE, and every ROS1 row of known_alleles.tsv is numbered on ENST00000368508."""
    with open(ROOT / "annotations" / "genes.tsv", newline="") as fh:
        rows = [r for r in csv.DictReader(fh, delimiter="\t") if r["gene"] == "ROS1"]
    assert {(r["build"], r["mane_select_enst"], r["msk_grch37_enst"]) for r in rows} == {
        ("GRCh37", MANE_TX, LITERATURE_TX), ("GRCh38", MANE_TX, LITERATURE_TX)}
    with open(ROOT / "annotations" / "known_alleles.tsv", newline="") as fh:
        lines = [ln for ln in fh if not ln.startswith("#")]
    ros1 = [r for r in csv.DictReader(lines, delimiter="\t") if r["gene"] == "ROS1"]
    assert ros1 and {r["transcript"] for r in ros1} == {LITERATURE_TX}
    g2032r = {(r["build"], r["pos"], r["ref"], r["alt"]) for r in ros1
              if r["protein"] == "p.G2032R" and r["hgvsc"] == "c.6094G>A"}
    assert g2032r == {("GRCh37", "117638347", "C", "T"), ("GRCh38", "117317184", "C", "T")}
