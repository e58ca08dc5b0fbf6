"""Which drugs remain options: findings are compared by gene + alteration + variant, and only
confirmed findings (enough known read support, not read through a compound) rule drugs out."""
from __future__ import annotations

from dataclasses import replace

from ctresist.catalogue import load_catalogue
from ctresist.interpret import Context, Thresholds, interpret
from ctresist.io.cnv import GeneCopyNumber
from ctresist.io.vcf import Variant

CAT = replace(load_catalogue(), entries=[e for e in load_catalogue().entries if e.source == "curated"])


def ctx(driver, therapy, specimen="tissue", has_normal=False):
    return Context(sample="S", driver_text=driver, driver=driver, therapy_text="+".join(therapy),
                   therapy=list(therapy), specimen=specimen, build="GRCh38", has_normal=has_normal)


def var(gene, change, pos, vaf=0.2, depth=500, alt=100, **kw):
    return Variant(chrom="2", pos=pos, ref="C", alt="T", record=1, gene=gene, hgvsp=change,
                   annotation="VEP", vaf=vaf, depth=depth, alt_reads=alt, **kw)


def amp(gene, copies, chrom):
    return GeneCopyNumber(gene, chrom, copies, None, adjusted_cn=None, amplified_span_fraction=0.01)


def run(c, variants, cnvs=None):
    return interpret(c, variants, cnvs or {}, CAT, Thresholds.for_specimen(c.specimen),
                     cnv_given=cnvs is not None)


def test_met_and_erbb2_amplification_block_osimertinib_combinations():
    """EGFR-mutant disease on osimertinib with MET (CN 12) and ERBB2 (CN 10) amplification: both
    are actionable; MET's osimertinib+savolitinib/+tepotinib options are ruled out by the ERBB2
    amplification (which resists osimertinib) although both alterations are named 'amplification'."""
    m = run(ctx("EGFR mutation", ("osimertinib",)), [],
            {"MET": amp("MET", 12.0, "7"), "ERBB2": amp("ERBB2", 10.0, "17")})
    assert [(c["status"], c["gene"], c["alteration"]) for c in m["calls"]] == [
        ("actionable_resistance", "ERBB2", "amplification"),
        ("actionable_resistance", "MET", "amplification")]
    s = m["summary"]
    assert s["current_therapy_resisted"] == ["osimertinib"]
    assert s["remaining_options"] == []
    assert s["headline"] == ("Resistance to osimertinib detected: ERBB2 amplification, "
                             "MET amplification")


def test_met_amplification_alone_keeps_its_combinations():
    """MET amplification alone on osimertinib: the MET-inhibitor combinations remain."""
    m = run(ctx("EGFR mutation", ("osimertinib",)), [], {"MET": amp("MET", 12.0, "7")})
    assert m["summary"]["remaining_options"] == ["osimertinib+savolitinib", "osimertinib+tepotinib"]
    assert m["summary"]["options_in_doubt"] == {}


def test_alk_g1202r_plus_l1196m_phased_cis_leaves_only_fourth_generation():
    """ALK G1202R + L1196M in cis on alectinib: the compound resists lorlatinib too, the single
    mutations are read through it, and only the compound's own options remain."""
    m = run(ctx("ALK fusion", ("alectinib",), "plasma"),
            [var("ALK", "G1202R", 29220747, genotype="0|1"), var("ALK", "L1196M", 29220765, genotype="0|1")])
    s = m["summary"]
    assert s["headline"] == "Resistance to alectinib detected: ALK G1202R+L1196M"
    assert s["current_therapy_resisted"] == ["alectinib"]
    assert s["remaining_options"] == ["neladalkib", "tpx-0131"]
    assert "lorlatinib" in s["drugs_resisted"]


def test_alk_g1202r_plus_l1196m_unphased_keeps_lorlatinib_in_doubt():
    """Unphased G1202R + L1196M on alectinib: the cis compound is only possible, so it neither
    hides the single mutations nor rules lorlatinib out; lorlatinib is listed as in doubt because
    the possible cis compound would resist it. G1202R rules out L1196M's ALK-TKI options."""
    m = run(ctx("ALK fusion", ("alectinib",), "plasma"),
            [var("ALK", "G1202R", 29220747, genotype="0/1"), var("ALK", "L1196M", 29220765, genotype="0/1")])
    assert [(c["status"], c["alteration"]) for c in m["calls"]] == [
        ("actionable_resistance", "G1202R"), ("resistance_low_support", "G1202R+L1196M"),
        ("resistance_other_drugs", "L1196M")]
    s = m["summary"]
    assert s["headline"] == "Resistance to alectinib detected: ALK G1202R"
    assert s["remaining_options"] == ["lorlatinib", "neladalkib", "tpx-0131"]
    assert s["options_in_doubt"] == {"lorlatinib": ["ALK G1202R+L1196M"]}


def test_variant_without_read_counts_is_never_confirmed():
    """G1202R with no depth and no alt reads (a VCF without AD/DP) on alectinib: low support,
    confirm; it is not actionable and does not rule out L1196M's options either."""
    m = run(ctx("ALK fusion", ("crizotinib",), "plasma"),
            [var("ALK", "G1202R", 29220747, vaf=None, depth=None, alt=None),
             var("ALK", "L1196M", 29220765)])
    g = next(c for c in m["calls"] if c["alteration"] == "G1202R")
    assert g["status"] == "resistance_low_support"
    assert g["support"] == "read counts unknown (no depth or alt reads in the VCF); VAF unknown < 0.001"
    s = m["summary"]
    assert s["actionable"] is True and s["current_therapy_resisted"] == ["crizotinib"]
    assert s["headline"] == "Resistance to crizotinib detected: ALK L1196M"
    assert s["remaining_options"] == ["ceritinib", "alectinib", "brigatinib", "lorlatinib",
                                      "ensartinib", "entrectinib"]
    doubt = ["ALK G1202R+L1196M", "ALK G1202R"]
    assert s["options_in_doubt"] == {"ceritinib": doubt, "alectinib": doubt, "brigatinib": doubt,
                                     "lorlatinib": ["ALK G1202R+L1196M"], "entrectinib": ["ALK G1202R"]}


def test_other_drug_finding_without_read_counts_does_not_rule_out():
    """On lorlatinib, G1202R without read counts resists other drugs only: not confirmed, so the
    drugs it would resist are not listed as resisted."""
    m = run(ctx("ALK fusion", ("lorlatinib",), "plasma"),
            [var("ALK", "G1202R", 29220747, vaf=None, depth=None, alt=None)])
    assert m["summary"]["drugs_resisted"] == []
    assert m["summary"]["actionable"] is False
