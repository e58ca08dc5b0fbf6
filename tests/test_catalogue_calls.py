"""Sample-level calls of the catalogue 1.0 rows (issue #10), through the real interpretation: each
fixed or added row is read as a patient's variant or copy number in its driver and therapy context,
and the exact status, current drugs resisted and remaining options are asserted."""
from __future__ import annotations

import pytest

from ctresist.catalogue import load_catalogue
from ctresist.interpret import Context, Thresholds, interpret
from ctresist.io.cnv import GeneCopyNumber
from ctresist.io.vcf import Variant

CAT = load_catalogue()  # curated + CIViC: both sources are read for a real sample


def ctx(driver, therapy, specimen="tissue"):
    return Context(sample="S", driver_text=driver, driver=driver, therapy_text="+".join(therapy),
                   therapy=list(therapy), specimen=specimen, build="GRCh38")


def var(gene, change, pos=1000, **kw):
    """A well-supported tissue variant (VAF 20 %, 500x, 100 alt reads)."""
    return Variant(chrom="1", pos=pos, ref="C", alt="T", record=1, gene=gene, hgvsp=change,
                   annotation="VEP", vaf=0.2, depth=500, alt_reads=100, **kw)


def amp(gene, copies=12.0):
    """A focal amplification (1 % of the chromosome arm), tumour copy number ``copies``."""
    return {gene: GeneCopyNumber(gene, "7", copies, None, adjusted_cn=copies, amplified_span_fraction=0.01)}


def run(c, variants=(), cnvs=None):
    return interpret(c, list(variants), cnvs or {}, CAT, Thresholds.for_specimen(c.specimen), cnv_given=bool(cnvs))


def call(model, gene, alteration):
    """The one call of gene+alteration (several matched entries are collapsed to their context)."""
    found = [c for c in model["calls"] if c["gene"] == gene and c["alteration"] == alteration]
    assert found, [(c["gene"], c["alteration"]) for c in model["calls"]]
    return found


def outcome(model):
    s = model["summary"]
    return s["actionable"], s["current_therapy_resisted"], s["remaining_options"]


# --- wrong in 0.3.0 ---------------------------------------------------------------------------

@pytest.mark.parametrize("change", ["G696A", "G696S"])
@pytest.mark.parametrize("drug", ["larotrectinib", "entrectinib", "repotrectinib"])
def test_ntrk3_xdfg_resists_every_type_i_trk_inhibitor(change, drug):
    """NTRK3 G696A (and any G696 substitution, via the catch-all) on larotrectinib, entrectinib or
    repotrectinib: actionable; no approved TRK inhibitor remains (0.3.0: 'not actionable')."""
    m = run(ctx("NTRK3 fusion", (drug,)), [var("NTRK3", change)])
    assert [c["status"] for c in call(m, "NTRK3", change)] == ["actionable_resistance"]
    assert outcome(m) == (True, [drug], [])


def test_ntrk1_g667s_catch_all_resists_larotrectinib():
    """NTRK1 G667S (catch-all G667X, issue #10 sibling rule): larotrectinib is resisted."""
    m = run(ctx("NTRK1 fusion", ("larotrectinib",)), [var("NTRK1", "G667S")])
    assert outcome(m) == (True, ["larotrectinib"], [])


def test_ntrk3_g623r_on_entrectinib():
    """NTRK3 G623R on entrectinib: actionable; selitrectinib and repotrectinib remain."""
    m = run(ctx("NTRK3 fusion", ("entrectinib",)), [var("NTRK3", "G623R")])
    assert outcome(m) == (True, ["entrectinib"], ["selitrectinib", "repotrectinib"])


def test_met_amplification_in_ret_fusion_on_pralsetinib():
    """MET amplification in RET fusion on pralsetinib: actionable (0.3.0 listed selpercatinib only)."""
    m = run(ctx("RET fusion", ("pralsetinib",)), [], amp("MET"))
    assert [c["status"] for c in call(m, "MET", "amplification")] == ["actionable_resistance"]
    assert outcome(m) == (True, ["pralsetinib"], ["selpercatinib+crizotinib"])


@pytest.mark.parametrize("drug", ["dacomitinib", "lazertinib", "rociletinib", "osimertinib"])
def test_egfr_c797s_t790m_cis_resists_every_egfr_tki(drug):
    """C797S + T790M in cis (phased 0|1 0|1) on any EGFR TKI: actionable, no option remains."""
    vs = [var("EGFR", "T790M", pos=55181378, genotype="0|1", phase_set=5),
          var("EGFR", "C797S", pos=55181398, genotype="0|1", phase_set=5)]
    m = run(ctx("EGFR mutation", (drug,)), vs)
    [cis] = [c for c in m["calls"] if c["entry_id"] == "EGFR_C797S_T790M__EGFR_mutation_cis"]
    assert cis["status"] == "actionable_resistance" and cis["phase"] == "cis"
    assert outcome(m) == (True, [drug], [])


@pytest.mark.parametrize("drug", ["ceritinib", "brigatinib", "alectinib", "lorlatinib", "ensartinib"])
def test_met_amplification_in_alk_fusion_resists_alk_tkis_without_met_activity(drug):
    """MET amplification in ALK fusion on a second-generation ALK TKI or lorlatinib: actionable;
    crizotinib (ALK + MET) and lorlatinib + crizotinib remain."""
    m = run(ctx("ALK fusion", (drug,)), [], amp("MET"))
    assert outcome(m) == (True, [drug], ["crizotinib", "lorlatinib+crizotinib"])


def test_met_amplification_in_alk_fusion_on_crizotinib_is_not_actionable():
    """Crizotinib inhibits MET: the amplification does not resist it."""
    m = run(ctx("ALK fusion", ("crizotinib",)), [], amp("MET"))
    assert [c["status"] for c in call(m, "MET", "amplification")] == ["resistance_other_drugs"]


@pytest.mark.parametrize("driver", ["ALK fusion", "ROS1 fusion"])
def test_civic_met_d1228n_is_not_read_in_alk_or_ros1_disease(driver):
    """CIViC MET D1228N (MET exon 14 case, crizotinib) in an ALK or ROS1 patient on crizotinib:
    never actionable (0.3.0 imported it as driver 'any' and called it resistance)."""
    m = run(ctx(driver, ("crizotinib",)), [var("MET", "D1228N")])
    assert {c["status"] for c in call(m, "MET", "D1228N")} == {"out_of_context"}
    assert outcome(m) == (False, [], [])


def test_met_d1228n_in_met_exon14_disease_on_capmatinib():
    """MET D1228N in MET exon 14 disease on capmatinib: actionable through the curated row (not
    hidden by the CIViC crizotinib-only row); foretinib (investigational) is the only option."""
    m = run(ctx("MET exon 14 skipping", ("capmatinib",)), [var("MET", "D1228N")])
    assert {c["entry_id"]: c["status"] for c in call(m, "MET", "D1228N")} == {
        "MET_D1228N__MET_exon_14_skipping": "actionable_resistance",
        "CIVIC_MET_D1228N_MET_exon_14_skipping_1": "resistance_other_drugs"}
    assert outcome(m) == (True, ["capmatinib"], ["foretinib"])


def test_ret_g810v_catch_all_on_pralsetinib():
    """RET G810V (no specific row; catch-all G810X) on pralsetinib: actionable (0.3.0 missed it)."""
    m = run(ctx("RET fusion", ("pralsetinib",)), [var("RET", "G810V")])
    assert [c["entry_id"] for c in call(m, "RET", "G810V")] == ["RET_G810X__RET_fusion"]
    assert outcome(m) == (True, ["pralsetinib"], [])


@pytest.mark.parametrize("driver,drug,gene,change", [
    ("ALK fusion", "alectinib", "KRAS", "G12D"),
    ("ALK fusion", "brigatinib", "NRAS", "Q61K"),
    ("ALK fusion", "ceritinib", "MAP2K1", "K57N"),
    ("ROS1 fusion", "crizotinib", "KRAS", "G12C"),
    ("ROS1 fusion", "entrectinib", "NRAS", "Q61R"),
    ("ROS1 fusion", "repotrectinib", "MAP2K1", "K57N"),
    ("RET fusion", "pralsetinib", "KRAS", "G12V"),
    ("EGFR mutation", "osimertinib", "NRAS", "Q61K"),
    ("EGFR mutation", "lazertinib", "BRAF", "V600E"),
    ("EGFR mutation", "afatinib", "PIK3CA", "E545K"),
])
def test_off_target_rows_resist_every_drug_of_the_driver(driver, drug, gene, change):
    """KRAS/NRAS/MAP2K1/BRAF/PIK3CA activation is off-target: it resists whichever driver TKI is given
    (0.3.0 listed one drug per row in ALK/ROS1/RET disease)."""
    m = run(ctx(driver, (drug,)), [var(gene, change)])
    assert outcome(m)[:2] == (True, [drug])


def test_dropped_placeholder_rows_give_no_call():
    """Rows without a real source were dropped: RET Y806C and EGFR L718R are not matched (listed
    among other variants, not invented as resistance). NTRK1 F589L and EGFR L718Q came back in
    1.1.0 with a source."""
    for driver, drug, gene, change in [("EGFR mutation", "osimertinib", "EGFR", "L718R"),
                                       ("RET fusion", "selpercatinib", "RET", "Y806C")]:
        m = run(ctx(driver, (drug,)), [var(gene, change)])
        assert m["calls"] == [] and [o["change"] for o in m["other_variants"]] == [change]


# --- new driver contexts ----------------------------------------------------------------------

@pytest.mark.parametrize("change,drug,options", [
    ("Y1230C", "capmatinib", ["cabozantinib", "foretinib"]),
    ("Y1230D", "tepotinib", ["cabozantinib", "foretinib"]),
    ("D1228H", "tepotinib", ["foretinib"]),
    ("D1228V", "crizotinib", ["foretinib"]),
])
def test_met_exon14_on_target(change, drug, options):
    """MET exon 14 disease: D1228X/Y1230X resist the type I MET TKIs; type II inhibitors remain
    against Y1230X, only investigational foretinib against D1228X."""
    m = run(ctx("MET exon 14 skipping", (drug,)), [var("MET", change)])
    assert outcome(m) == (True, [drug], options)


@pytest.mark.parametrize("drug", ["sotorasib", "adagrasib"])
@pytest.mark.parametrize("gene,change", [("KRAS", "Y96D"), ("KRAS", "Y96C"), ("NRAS", "Q61K"),
                                         ("MAP2K1", "K57N"), ("BRAF", "V600E")])
def test_kras_g12c_resistance(drug, gene, change):
    """KRAS G12C disease on sotorasib or adagrasib: second-site Y96D/C and NRAS/MAP2K1/BRAF
    activation are actionable."""
    m = run(ctx("KRAS G12C", (drug,)), [var(gene, change)])
    assert outcome(m) == (True, [drug], [])


def test_kras_g12c_driver_itself_is_never_resistance():
    """The driver KRAS G12C in a KRAS G12C patient on sotorasib: not actionable."""
    m = run(ctx("KRAS G12C", ("sotorasib",)), [var("KRAS", "G12C")])
    assert outcome(m) == (False, [], [])
    assert {c["status"] for c in m["calls"]} <= {"out_of_context"}


@pytest.mark.parametrize("gene,change", [("NRAS", "Q61R"), ("KRAS", "G12D"), ("MAP2K1", "K57N")])
def test_braf_v600e_on_dabrafenib_trametinib(gene, change):
    """BRAF V600E disease on dabrafenib + trametinib: NRAS/KRAS/MAP2K1 activation resists both."""
    m = run(ctx("BRAF V600E", ("dabrafenib", "trametinib")), [var(gene, change)])
    assert outcome(m) == (True, ["dabrafenib", "trametinib"], [])


def test_braf_v600e_driver_itself_is_never_resistance():
    m = run(ctx("BRAF V600E", ("dabrafenib", "trametinib")), [var("BRAF", "V600E")])
    assert outcome(m) == (False, [], [])


# --- what a report shows ----------------------------------------------------------------------

def test_call_shows_clinical_text_and_per_option_evidence_only():
    """ALK G1202R on alectinib: the call's note is the clinical statement (no curation remark);
    option evidence names each option's level and marks investigational agents."""
    m = run(ctx("ALK fusion", ("alectinib",)), [var("ALK", "G1202R")])
    [c] = call(m, "ALK", "G1202R")
    assert c["note"].startswith("Solvent-front mutation: resists first- and second-generation ALK inhibitors")
    assert "Lin2017" not in c["note"] and "highwire" not in c["note"]
    assert c["option_evidence"] == ("lorlatinib: approved; neladalkib: preclinical (investigational); "
                                    "tpx-0131: preclinical (investigational)")


@pytest.mark.parametrize("text,expected", [
    ("MET exon 14 skipping", "MET exon 14 skipping"), ("METex14", "MET exon 14 skipping"),
    ("MET ex14 c.3028+1G>T", "MET exon 14 skipping"), ("KRAS G12C", "KRAS G12C"),
    ("KRAS p.G12C", "KRAS G12C"), ("BRAF V600E", "BRAF V600E"), ("EGFR exon 19 deletion", "EGFR mutation"),
])
def test_new_driver_contexts_parse(text, expected):
    """The sheet accepts the three new driver contexts of catalogue 1.0."""
    from ctresist.drivers import parse_driver
    assert parse_driver(text, "samples.tsv:2") == expected


@pytest.mark.parametrize("text,match", [
    ("KRAS G12D", r"samples\.tsv:2: column 'driver': 'KRAS G12D': only KRAS G12C has a targeted-therapy"),
    ("BRAF G469A", r"only BRAF V600E has"),
    ("MET amplification", r"only MET exon 14 skipping is a MET driver context"),
    ("ERBB2 exon 20 insertion", r"ERBB2 \(HER2\)-driven NSCLC has no resistance catalogue yet"),
    ("HER2 mutant", r"ERBB2 \(HER2\)-driven"),
])
def test_drivers_without_a_catalogue_are_refused(text, match):
    """A driver ctresist has no resistance catalogue for is refused with the reason, never read as
    'no resistance found'."""
    from ctresist.drivers import parse_driver
    from ctresist.errors import InputError
    with pytest.raises(InputError, match=match):
        parse_driver(text, "samples.tsv:2")


# --- added in 1.1.0 (sources: OncoKB release notes, see each row's curation) -------------------

@pytest.mark.parametrize("driver,therapy,gene,change,resisted,options", [
    ("ALK fusion", "alectinib", "ALK", "L1196Q", ["alectinib"], []),
    ("ALK fusion", "crizotinib", "ALK", "T1151M", ["crizotinib"], []),
    ("EGFR mutation", "osimertinib", "EGFR", "L718V", ["osimertinib"], ["afatinib"]),
    ("EGFR mutation", "osimertinib", "EGFR", "L718Q", ["osimertinib"], ["afatinib"]),
    ("EGFR mutation", "osimertinib", "EGFR", "L792F", ["osimertinib"], []),
    ("EGFR mutation", "erlotinib", "EGFR", "T854A", ["erlotinib"], []),
    ("EGFR mutation", "osimertinib", "EGFR", "G724S", ["osimertinib"], ["afatinib"]),
    ("ROS1 fusion", "crizotinib", "ROS1", "G2032R", ["crizotinib"],
     ["repotrectinib", "taletrectinib", "cabozantinib"]),
    ("NTRK1 fusion", "larotrectinib", "NTRK1", "F589L", ["larotrectinib"], []),
    ("NTRK3 fusion", "larotrectinib", "NTRK3", "F617L", ["larotrectinib"], []),
])
def test_rows_added_in_1_1_0_are_actionable_on_the_resisted_drug(driver, therapy, gene, change,
                                                                  resisted, options):
    """Each 1.1.0 row (or option) read as the patient's variant on the drug it resists: actionable,
    that drug resisted, exactly the cited options remaining."""
    m = run(ctx(driver, (therapy,)), [var(gene, change)])
    assert [c["status"] for c in call(m, gene, change)] == ["actionable_resistance"]
    assert outcome(m) == (True, resisted, options)


@pytest.mark.parametrize("driver,therapy,gene,change", [
    ("ALK fusion", "crizotinib", "ALK", "L1196Q"),      # the source names alectinib only
    ("EGFR mutation", "gefitinib", "EGFR", "T854A"),    # the source names erlotinib only
    ("NTRK3 fusion", "entrectinib", "NTRK3", "F617L"),  # the source names larotrectinib only
])
def test_rows_added_in_1_1_0_claim_no_drug_the_source_does_not_name(driver, therapy, gene, change):
    """A 1.1.0 row on a drug its source does not name: resistance to other drugs, not actionable."""
    m = run(ctx(driver, (therapy,)), [var(gene, change)])
    assert [c["status"] for c in call(m, gene, change)] == ["resistance_other_drugs"]
    assert outcome(m)[:2] == (False, [])


def test_taletrectinib_option_for_ros1_g2032r_names_its_evidence():
    """ROS1 G2032R on crizotinib: taletrectinib is offered with option level 'clinical trial'."""
    m = run(ctx("ROS1 fusion", ("crizotinib",)), [var("ROS1", "G2032R")])
    [c] = call(m, "ROS1", "G2032R")
    assert c["option_evidence"] == ("repotrectinib: approved; taletrectinib: clinical trial; "
                                    "cabozantinib: preclinical")
