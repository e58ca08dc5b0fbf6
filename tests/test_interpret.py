"""Interpretation in context: driver, current drug, read support, germline/CH, compound phase."""
from __future__ import annotations

from dataclasses import replace

import pytest

from ctresist.catalogue import load_catalogue
from ctresist.errors import InputError
from ctresist.interpret import Context, Thresholds, interpret, parse_driver
from ctresist.io.cnv import GeneCopyNumber
from ctresist.io.vcf import Variant

#: the curated entries only: these tests pin curated facts (CIViC rows are tested in test_civic.py)
CAT = replace(load_catalogue(), entries=[e for e in load_catalogue().entries if e.source == "curated"])


def ctx(driver="ALK fusion", therapy=("alectinib",), specimen="plasma", has_normal=False):
    return Context(sample="S", driver_text=driver, driver=driver, therapy_text="+".join(therapy),
                   therapy=list(therapy), specimen=specimen, build="GRCh38", has_normal=has_normal)


def var(gene, change, pos=1, vaf=0.01, depth=3000, alt=30, **kw):
    return Variant(chrom="7", pos=pos, ref="C", alt="T", record=1, gene=gene, hgvsp=change,
                   annotation="VEP", vaf=vaf, depth=depth, alt_reads=alt, **kw)


def run(c, variants, cnvs=None):
    return interpret(c, variants, cnvs or {}, CAT, Thresholds.for_specimen(c.specimen), cnv_given=bool(cnvs))


def statuses(model):
    return [(c["status"], c["gene"], c["alteration"]) for c in model["calls"]]


@pytest.mark.parametrize("text,expected", [("EML4-ALK", "ALK fusion"), ("EML4::ALK", "ALK fusion"),
                                           ("KIF5B-RET", "RET fusion"), ("TPM3-NTRK1", "NTRK1 fusion"),
                                           ("CD74-ROS1", "ROS1 fusion"), ("EGFR L858R", "EGFR mutation"),
                                           ("ALK fusion", "ALK fusion")])
def test_parse_driver(text, expected):
    """What users write in the driver column maps to one driver context."""
    assert parse_driver(text, "x") == expected


def test_unknown_driver_is_an_error():
    with pytest.raises(InputError, match=r"samples.tsv:4: column 'driver': cannot read driver 'EML4-XYZ'"):
        parse_driver("EML4-XYZ", "samples.tsv:4")


def test_g1202r_on_alectinib_is_actionable_with_lorlatinib_as_option():
    """ALK G1202R in plasma on alectinib: actionable; lorlatinib is among the remaining options."""
    m = run(ctx(), [var("ALK", "G1202R")])
    assert statuses(m) == [("actionable_resistance", "ALK", "G1202R")]
    assert m["summary"]["current_therapy_resisted"] == ["alectinib"]
    assert "lorlatinib" in m["summary"]["remaining_options"]


def test_g1202r_on_lorlatinib_is_not_actionable():
    """The same G1202R on lorlatinib resists other drugs, not the current one."""
    m = run(ctx(therapy=("lorlatinib",)), [var("ALK", "G1202R")])
    assert statuses(m) == [("resistance_other_drugs", "ALK", "G1202R")]
    assert m["summary"]["actionable"] is False


def test_low_read_support_is_reported_not_actionable():
    """Two alt reads at 0.07 % VAF: listed as low support with the reason, never actionable."""
    m = run(ctx(), [var("ALK", "G1202R", vaf=0.0007, depth=3000, alt=2)])
    [c] = m["calls"]
    assert c["status"] == "resistance_low_support"
    assert c["support"] == "alt reads 2 < 3; VAF 0.0007 < 0.001"


def test_out_of_context_alteration_is_not_actionable():
    """EGFR T790M in an ALK-fusion tumour is not an ALK-resistance call."""
    m = run(ctx(), [var("EGFR", "T790M")])
    assert all(c["status"] == "out_of_context" for c in m["calls"])
    assert m["summary"]["actionable"] is False


def test_germline_and_matched_normal_exclusions():
    """Population AF >= 1 % is germline; alt reads in the white-blood-cell normal are CH/germline."""
    m = run(ctx(), [var("ALK", "G1202R", population_af=0.2)])
    assert m["calls"][0]["status"] == "excluded" and "germline" in m["calls"][0]["excluded_reason"]
    m = run(ctx(has_normal=True), [var("ALK", "G1202R", normal_alt_reads=6)])
    assert "clonal haematopoiesis" in m["calls"][0]["excluded_reason"]
    assert m["summary"]["actionable"] is False


def test_caller_filters():
    """A caller's weak_evidence filter on a resistance mutation: possible resistance, confirm (never
    hidden); a germline/normal-artifact filter: excluded as not tumour-derived."""
    m = run(ctx(), [var("ALK", "G1202R", filters="weak_evidence")])
    assert m["calls"][0]["status"] == "resistance_low_support"
    assert m["calls"][0]["support"] == "caller FILTER=weak_evidence"
    m = run(ctx(), [var("ALK", "G1202R", filters="germline;normal_artifact")])
    assert m["calls"][0]["status"] == "excluded"
    assert m["calls"][0]["excluded_reason"] == ("filtered by the caller as not tumour-derived "
                                                "(FILTER=germline;normal_artifact)")


def egfr_pair(gt_t790m, gt_c797s):
    return [var("EGFR", "T790M", pos=55181378, genotype=gt_t790m, phase_set=5),
            var("EGFR", "C797S", pos=55181398, genotype=gt_c797s, phase_set=5)]


def test_t790m_c797s_cis_and_trans_give_opposite_recommendations():
    """Cis: no EGFR TKI remains; trans: first- plus third-generation combination is the option."""
    cis = run(ctx("EGFR mutation", ("osimertinib",)), egfr_pair("0|1", "0|1"))
    trans = run(ctx("EGFR mutation", ("osimertinib",)), egfr_pair("0|1", "1|0"))
    cis_ids = {c["entry_id"] for c in cis["calls"] if c["phase"]}
    trans_ids = {c["entry_id"] for c in trans["calls"] if c["phase"]}
    assert "EGFR_C797S_T790M__EGFR_mutation_cis" in cis_ids and "EGFR_C797S_T790M__EGFR_mutation_trans" not in cis_ids
    assert "EGFR_C797S_T790M__EGFR_mutation_trans" in trans_ids and "EGFR_C797S_T790M__EGFR_mutation_cis" not in trans_ids
    assert cis["summary"]["remaining_options"] == []
    assert "gefitinib+osimertinib" in trans["summary"]["remaining_options"]


def test_unphased_compound_reports_both_with_caution():
    """Unphased T790M + C797S: both cis and trans entries, each saying the phase is undetermined."""
    m = run(ctx("EGFR mutation", ("osimertinib",)), egfr_pair("0/1", "0/1"))
    comp = [c for c in m["calls"] if c["phase"] == "undetermined"]
    assert {c["entry_id"] for c in comp} >= {"EGFR_C797S_T790M__EGFR_mutation_cis", "EGFR_C797S_T790M__EGFR_mutation_trans"}
    assert any("phase undetermined" in w for c in comp for w in c["cautions"])


def cn(gene, copies, frac=0.01, adjusted=None):
    return {gene: GeneCopyNumber(gene, "7", copies, None, adjusted_cn=adjusted, amplified_span_fraction=frac)}


def test_focal_met_amplification_in_ret_fusion():
    """Focal MET CN 15 on selpercatinib: actionable, selpercatinib + crizotinib remains."""
    m = run(ctx("RET fusion", ("selpercatinib",), "tissue"), [], cn("MET", 15.0))
    assert statuses(m) == [("actionable_resistance", "MET", "amplification")]
    assert m["summary"]["remaining_options"] == ["selpercatinib+crizotinib"]


def test_whole_chromosome_gain_is_not_called_amplification():
    """CN 8 spanning 95 % of chr7 is polysomy: excluded as broad gain, not actionable."""
    m = run(ctx("RET fusion", ("selpercatinib",), "tissue"), [], cn("MET", 8.0, frac=0.95))
    assert [c["status"] for c in m["calls"]] == ["excluded"]
    assert m["calls"][0]["excluded_reason"] == "broad gain, not focal amplification"


def test_plasma_copy_number_without_tumour_fraction_is_low_support():
    """Plasma CN 3.2 with unknown tumour fraction: possible amplification, confirm."""
    m = run(ctx("RET fusion", ("selpercatinib",), "plasma"), [], cn("MET", 3.2))
    assert [c["status"] for c in m["calls"]] == ["resistance_low_support"]
    m = run(ctx("RET fusion", ("selpercatinib",), "plasma"), [], cn("MET", 3.2, adjusted=10.8))
    assert [c["status"] for c in m["calls"]] == ["actionable_resistance"]


def test_nothing_found_is_explicit():
    m = run(ctx(), [var("ALK", "G1202=")])
    assert m["calls"] == []
    assert m["summary"]["headline"] == "No resistance to the current therapy detected among the examined alterations"
    assert m["other_variants"][0]["change"] == "G1202="


def test_sensitivity_entries_never_become_resistance_calls():
    """An imported 'sensitivity' entry is shown as sensitivity evidence, not resistance."""
    from dataclasses import replace

    base = next(e for e in CAT.entries if e.id == "ALK_L1196M__ALK_fusion")
    sens = replace(base, id="X_sens", mechanism="sensitivity", resists=(), options=("ceritinib",), source="CIViC")
    cat = replace(CAT, entries=[base, sens])
    c = ctx(therapy=("crizotinib",))
    m = interpret(c, [var("ALK", "L1196M")], {}, cat, Thresholds.for_specimen("plasma"), cnv_given=False)
    assert [(x["status"], x["entry_id"], x["source"]) for x in m["calls"]] == [
        ("actionable_resistance", "ALK_L1196M__ALK_fusion", "curated"),
        ("sensitivity_evidence", "X_sens", "CIViC")]


def test_tp53_alone_is_no_resistance_but_tp53_plus_rb1_is_a_transformation_hint():
    """TP53 R273H alone: no drug resisted, no hint. With RB1 truncation: the summary flags a
    possible small-cell transformation, still without claiming drug resistance."""
    c = ctx("EGFR mutation", ("osimertinib",), "tissue")
    m = run(c, [var("TP53", "R273H")])
    assert m["summary"]["actionable"] is False and m["summary"]["transformation_hint"] == ""
    m = run(c, [var("TP53", "R273H"), var("RB1", "R320*", pos=2)])
    assert m["summary"]["actionable"] is False
    assert m["summary"]["transformation_hint"].startswith("TP53 and RB1 both inactivated")


def test_unphased_compound_needing_cis_is_not_actionable():
    """ALK G1202R + L1196M unphased on lorlatinib: the cis-only entry is 'possible, confirm phase',
    not actionable; with phased cis genotypes it is actionable."""
    c = ctx(therapy=("lorlatinib",))
    unphased = [var("ALK", "G1202R", pos=29220747, genotype="0/1"), var("ALK", "L1196M", pos=29220765, genotype="0/1")]
    m = run(c, unphased)
    [comp] = [x for x in m["calls"] if x["alteration"] == "G1202R+L1196M"]
    assert comp["status"] == "resistance_low_support"
    assert comp["support"] == "phase undetermined, entry requires cis"
    phased = [var("ALK", "G1202R", pos=29220747, genotype="0|1"), var("ALK", "L1196M", pos=29220765, genotype="0|1")]
    [comp] = [x for x in run(c, phased)["calls"] if x["alteration"] == "G1202R+L1196M"]
    assert comp["status"] == "actionable_resistance"


def test_unverified_citation_is_flagged():
    """An entry cited only by UNVERIFIED: tokens carries a caution in the call."""
    base = next(e for e in CAT.entries if e.id == "ALK_G1202R__ALK_fusion")
    cat = replace(CAT, entries=[replace(base, citations=("UNVERIFIED:someone 2099",))])
    m = interpret(ctx(), [var("ALK", "G1202R")], {}, cat, Thresholds.for_specimen("plasma"), cnv_given=False)
    [c] = m["calls"]
    assert any("citation is not verified" in w for w in c["cautions"])
    m = run(ctx(), [var("ALK", "G1202R")])
    assert not any("citation" in w for w in m["calls"][0]["cautions"])


def test_no_therapy_given_still_reports_resistance_in_headline():
    """With an empty therapy column a resistance mutation is not hidden behind 'no resistance'."""
    m = run(ctx(therapy=()), [var("ALK", "G1202R")])
    assert m["summary"]["headline"].startswith("Resistance alterations detected (ALK G1202R); no current therapy given")


def test_ch_gene_in_plasma_without_normal_is_possible_chip_not_actionable():
    """A TP53 truncation (CH gene) plus RB1 loss in plasma without a matched normal: the TP53 call
    carries a 'possible CHIP' caution and low support, and the transformation hint says the TP53
    variant may be clonal haematopoiesis. With a matched normal the caution is gone."""
    c = ctx("EGFR mutation", ("osimertinib",), "plasma")
    m = run(c, [var("TP53", "R196*"), var("RB1", "R320*", pos=2)])
    tp53 = next(x for x in m["calls"] if x["gene"] == "TP53")
    assert tp53["cautions"][0].startswith("possible CHIP: TP53 is often mutated in clonal haematopoiesis")
    assert tp53["support"] == "possible CHIP (TP53 in plasma without a matched normal)"
    assert m["summary"]["actionable"] is False
    assert m["summary"]["transformation_hint"].endswith(
        "(the TP53 variant may be clonal haematopoiesis: no matched normal)")
    m = run(replace(c, has_normal=True), [var("TP53", "R196*"), var("RB1", "R320*", pos=2)])
    tp53 = next(x for x in m["calls"] if x["gene"] == "TP53")
    assert tp53["cautions"] == [] and tp53["support"] == "ok"


def test_kras_g12c_in_plasma_is_resistance_not_chip():
    """KRAS is not a clonal-haematopoiesis gene here: KRAS G12C in plasma without a normal on
    osimertinib is an actionable resistance call with no CHIP caution."""
    m = run(ctx("EGFR mutation", ("osimertinib",), "plasma"), [var("KRAS", "G12C")])
    [k] = [x for x in m["calls"] if x["gene"] == "KRAS"]
    assert k["status"] == "actionable_resistance" and k["cautions"] == []


def test_unverified_build_never_gives_a_plain_negative_headline():
    """Nothing found and the build not verified: the headline says the build could not be
    verified, and the limitations list it first."""
    bc = {"status": "not_verified", "reason": "no ##contig lengths, no assembly name in the header "
          "and no record at a catalogue site", "evidence": []}
    m = interpret(ctx(), [], {}, CAT, Thresholds.for_specimen("plasma"), cnv_given=False, build_check=bc)
    assert m["summary"]["headline"] == (
        "No catalogue resistance found, but the genome build could not be verified: no ##contig "
        "lengths, no assembly name in the header and no record at a catalogue site")
    assert m["summary"]["limitations"][0].startswith("genome build not verified: no ##contig lengths")
    assert m["summary"]["limitations"][1].startswith("no copy-number file")


def test_outputs_honour_the_umask(tmp_path):
    """Reports are written via a temporary file and renamed; the file gets 0666 minus the umask
    (0644 with umask 022, 0640 with 027), not mkstemp's private 0600."""
    import os
    import stat

    from ctresist.atomic import atomic_write

    for mask, mode in ((0o022, 0o644), (0o027, 0o640), (0o077, 0o600)):
        old = os.umask(mask)
        try:
            with atomic_write(tmp_path / f"r{mask:o}.json") as fh:
                fh.write("{}\n")
        finally:
            os.umask(old)
        assert stat.S_IMODE((tmp_path / f"r{mask:o}.json").stat().st_mode) == mode


def test_unknown_kras_driver_names_the_only_catalogued_allele():
    with pytest.raises(InputError, match=r"samples.tsv:2: column 'driver': 'KRAS G12D': only KRAS G12C has a "
                                         "targeted-therapy resistance catalogue"):
        parse_driver("KRAS G12D", "samples.tsv:2")


def test_calls_carry_entry_level_and_option_weights():
    """Each call shows the entry's evidence level and each option's level/status (catalogue 1.0)."""
    [c] = run(ctx(), [var("ALK", "G1202R")])["calls"]
    e = next(x for x in CAT.entries if x.id == "ALK_G1202R__ALK_fusion")
    assert c["level"] == e.level and c["option_weights"] == e.option_weights
    assert set(c["option_weights"]) == set(c["options"])
    assert all(w["status"] in ("approved", "investigational") for w in c["option_weights"].values())


def test_exact_entry_hides_residue_entries_of_its_own_source_only():
    """A curated G1202R hides a curated G1202X of the same context, never a CIViC G1202X."""
    base = next(e for e in CAT.entries if e.id == "ALK_G1202R__ALK_fusion")
    cur_res = replace(base, id="X_curated_res", alteration="G1202X")
    civic_res = replace(base, id="X_civic_res", alteration="G1202X", source="CIViC")
    cat = replace(CAT, entries=[base, cur_res, civic_res])
    m = interpret(ctx(), [var("ALK", "G1202R")], {}, cat, Thresholds.for_specimen("plasma"), cnv_given=False)
    assert sorted(c["entry_id"] for c in m["calls"]) == ["ALK_G1202R__ALK_fusion", "X_civic_res"]


def test_driver_allele_of_a_mutation_context_is_never_a_finding():
    """KRAS G12C in a 'KRAS G12C' tumour on sotorasib is the driver, even though a KRAS residue entry
    (G12X) would match it: no call, listed as the driver; Y96D beside it is actionable."""
    base = next(e for e in CAT.entries if e.id == "KRAS_Y96D__KRAS_G12C")
    g12x = replace(base, id="X_KRAS_G12X", alteration="G12X")
    cat = replace(CAT, entries=[*CAT.entries, g12x])
    c = ctx("KRAS G12C", ("sotorasib",), "tissue")
    m = interpret(c, [var("KRAS", "G12C", vaf=0.3, depth=500, alt=150),
                      var("KRAS", "Y96D", pos=2, vaf=0.1, depth=500, alt=50)],
                  {}, cat, Thresholds.for_specimen("tissue"), cnv_given=False)
    assert statuses(m) == [("actionable_resistance", "KRAS", "Y96D")]
    assert [(o["change"], o["consequence"]) for o in m["other_variants"]] == [
        ("G12C", "the sample's driver mutation")]


def test_cnv_calls_carry_kind_correction_and_arm_wording():
    """A gain over 70 % of 7q: broad, said of the chromosome arm; the call keeps the CNV's kind,
    correction, source and MET/baseline ratio."""
    g = GeneCopyNumber("MET", "7", 8.0, None, adjusted_cn=8.0, amplified_span_fraction=0.7, cn_kind="absolute",
                       source="PURPLE copyNumber", arm="7q", baseline_ratio=4.0)
    m = run(ctx("RET fusion", ("selpercatinib",), "tissue"), [], {"MET": g})
    [c] = m["calls"]
    assert (c["status"], c["alteration"]) == ("excluded", "broad gain")
    assert c["cautions"] == ["gain spans 70% of chromosome arm 7q: broad (arm-level or whole-chromosome) gain, "
                             "not focal amplification"]
    assert (c["cn_kind"], c["tf_corrected"], c["cn_source"], c["baseline_ratio"]) == (
        "absolute", False, "PURPLE copyNumber", 4.0)


def test_filtered_or_estimated_copy_number_is_low_support():
    """A caller-filtered MET gain, or relative CN corrected with a VAF-estimated tumour fraction, is
    'possible, confirm', never actionable; the same gain PASS with a sheet fraction is actionable."""
    c = ctx("RET fusion", ("selpercatinib",), "plasma")

    def met(**kw):
        return {"MET": GeneCopyNumber("MET", "7", 3.6, None, adjusted_cn=10.0, amplified_span_fraction=0.01,
                                      cn_kind="relative", tf_corrected=True, **kw)}

    m = run(c, [], met())
    assert [(x["status"], x["support"]) for x in m["calls"]] == [("actionable_resistance", "ok")]
    m = run(c, [], met(filters="cnvQual"))
    assert [(x["status"], x["support"]) for x in m["calls"]] == [
        ("resistance_low_support", "copy-number caller FILTER=cnvQual")]
    est = replace(c, extra={"tumor_fraction_method": "estimated from VAF"})
    [x] = run(est, [], met())["calls"]
    assert x["status"] == "resistance_low_support"
    assert x["support"].startswith("copy number 3.6 corrected to 10 with a tumour fraction estimated from "
                                   "variant allele fractions")


def test_extra_calls_and_limitations_are_summarised():
    """Calls made elsewhere (fusions) are collapsed and summarised with the rest; extra limitations
    are listed after the sample's own."""
    e = next(x for x in CAT.entries if x.id == "RET_fusion__EGFR_mutation")
    from ctresist.interpret import _entry_fields

    c = ctx("EGFR mutation", ("osimertinib",), "plasma")
    fusion = {"status": "actionable_resistance", "gene": "RET", "alteration": "fusion CCDC6::RET",
              "variant": "CCDC6::RET", "vaf": 0.05, "depth": 401, "alt_reads": 21, "transcript": None,
              "hgvsc": "", "annotation": "fusion:manta", "copy_number": None, "phase": "", "support": "ok",
              "excluded_reason": "", "cautions": [], **_entry_fields(e, c)}
    m = interpret(c, [], {}, CAT, Thresholds.for_specimen("plasma"), cnv_given=True, extra_calls=[fusion],
                  extra_limitations=["fusions: x"])
    assert m["summary"]["headline"] == "Resistance to osimertinib detected: RET fusion CCDC6::RET"
    assert m["summary"]["remaining_options"] == ["osimertinib+selpercatinib", "osimertinib+pralsetinib"]
    assert m["summary"]["limitations"] == ["fusions: x"]
