"""Residue numbering across transcripts: a catalogue residue is matched only on the isoform the
catalogue numbers, never missed or invented through another isoform's numbering.

* ROS1: VEP writes both the MANE Select transcript (ENST00000368507, 2,341 aa) and the literature's
  ENST00000368508 (2,347 aa, the catalogue's; see tests/test_ros1_numbering.py). The MANE flag must
  not win over the catalogue's transcript; and when only the MANE entry is there, its residue number
  is not read at all (the exact G2032R allele is still found through the genomic allele list).
* MET: CGI names the long isoform (ENST00000318493, 1,408 aa) change D1246V; on the catalogue's
  numbering (MANE ENST00000397752 / NM_000245, 1,390 aa) the same codon is D1228 (D1228N's codon,
  7:116783353-116783355 on GRCh38), so an unannotated D1228V record must meet the catalogue's
  MET D1228V row in MET exon 14 disease on capmatinib.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

HEADER = """##fileformat=VCFv4.2
##FILTER=<ID=PASS,Description="All filters passed">
##contig=<ID=6,length=170805979>
##contig=<ID=7,length=159345973>
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">
##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Read depth">
{csq_header}#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tT1
"""
CSQ_HEADER = ('##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence annotations from '
              'Ensembl VEP. Format: Allele|Consequence|IMPACT|SYMBOL|Gene|Feature_type|Feature|'
              'BIOTYPE|EXON|HGVSc|HGVSp|Codons|CANONICAL|MANE_SELECT">\n')
LIT = ("T|missense_variant|MODERATE|ROS1|ENSG00000047936|Transcript|ENST00000368508|protein_coding|"
       "38/43|ENST00000368508:c.6094G>A|ENSP00000357494:p.Gly2032Arg|Gga/Aga||")
#: the MANE entry: its residue number on the 2,341-aa isoform is not known here, so the test gives it
#: a residue that is NOT a catalogue change; whatever it is, it must not be the one read
MANE_ROS1 = ("T|missense_variant|MODERATE|ROS1|ENSG00000047936|Transcript|ENST00000368507|"
             "protein_coding|38/43|ENST00000368507:c.6076G>A|ENSP00000357493:p.Gly2026Arg|Gga/Aga|YES|"
             "NM_001378902.1")


def _run(tmp_path: Path, record: str, csq: bool, driver: str, therapy: str) -> dict:
    vcf = tmp_path / "t.vcf"
    vcf.write_text(HEADER.format(csq_header=CSQ_HEADER if csq else "") + record + "\n")
    out = tmp_path / "t.json"
    r = subprocess.run([sys.executable, "-m", "ctresist.cli", "-q", "annotate", "--sample", "T1",
                        "--vcf", str(vcf), "--driver", driver, "--therapy", therapy,
                        "--specimen", "tissue", "--build", "GRCh38", "-o", str(out)],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    return json.loads(out.read_text())


def _calls(m: dict) -> list[tuple[str, str, str]]:
    return [(c["gene"], c["alteration"], c["status"]) for c in m["calls"]]


def test_catalogue_transcript_wins_over_the_mane_flag(tmp_path):
    rec = f"6\t117317184\t.\tC\tT\t.\tPASS\tCSQ={MANE_ROS1},{LIT}\tGT:AD:DP\t0/1:400,100:500"
    m = _run(tmp_path, rec, True, "CD74-ROS1", "crizotinib")
    assert _calls(m) == [("ROS1", "G2032R", "actionable_resistance")]
    assert m["calls"][0]["transcript"] == "ENST00000368508"


def test_mane_only_residue_is_not_read_but_the_exact_allele_is_found(tmp_path):
    """Only the MANE entry: the G2032R allele (6:117317184 C>T) is read through the genomic allele
    list; the MANE entry's residue never becomes a call of its own."""
    rec = f"6\t117317184\t.\tC\tT\t.\tPASS\tCSQ={MANE_ROS1}\tGT:AD:DP\t0/1:400,100:500"
    m = _run(tmp_path, rec, True, "CD74-ROS1", "crizotinib")
    assert _calls(m) == [("ROS1", "G2032R", "actionable_resistance")]
    assert m["calls"][0]["annotation"] == "known_site"


def test_mane_only_residue_elsewhere_is_listed_not_interpretable(tmp_path):
    """A ROS1 change on the MANE entry that is not an exact catalogue allele is listed as not
    interpretable with the reason, never dropped and never matched by its MANE residue."""
    rec = f"6\t117317190\t.\tC\tT\t.\tPASS\tCSQ={MANE_ROS1}\tGT:AD:DP\t0/1:400,100:500"
    m = _run(tmp_path, rec, True, "CD74-ROS1", "crizotinib")
    assert _calls(m) == []
    (ni,) = m["not_interpretable"]
    assert ni["gene"] == "ROS1" and "numbering is not the catalogue's" in ni["reason"]
    assert not m["summary"]["headline"].startswith("No resistance")


def test_unannotated_met_d1228v_meets_the_catalogue_row(tmp_path):
    rec = "7\t116783354\t.\tA\tT\t.\tPASS\t.\tGT:AD:DP\t0/1:400,100:500"
    m = _run(tmp_path, rec, False, "MET exon 14 skipping", "capmatinib")
    assert ("MET", "D1228V", "actionable_resistance") in _calls(m)
    assert m["summary"]["current_therapy_resisted"] == ["capmatinib"]
