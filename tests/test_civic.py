"""CIViC importer: rules on small synthetic exports, exact facts of the real 2016 export, and the
committed ``annotations/catalogue/civic.tsv`` equal to a fresh import (it cannot drift)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from ctresist.catalogue import COLUMNS, _read_tsv, load_drugs, validate_entry
from ctresist.civic import (
    import_civic,
    is_lung_disease,
    resolve_drug,
    skip_counts,
    split_drug_names,
    write_civic,
)
from ctresist.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
CAT = ROOT / "annotations" / "catalogue"
EXPORT = ROOT.parent / "shared" / "data" / "knowledgebases" / "civic_2016_gastonlab" / "civic.biomarkers.target_genes.tsv"
HEADER = ["genesymbol", "variant_name", "evidence_type", "evidence_direction", "evidence_level",
          "evidence_description", "clinical_significance", "pubmed_id", "disease_name", "drug_names",
          "rating", "drug_interaction_type", "api_url", "civic_id"]

needs_export = pytest.mark.skipif(not EXPORT.is_file(), reason=f"real CIViC export not present at {EXPORT} "
                                  "(the shared data folder next to the repository is absent)")


@pytest.fixture(scope="module")
def meta():
    return yaml.safe_load((CAT / "catalogue.yaml").read_text())


@pytest.fixture(scope="module")
def schema():
    return json.loads((CAT / "entry.schema.json").read_text())


@pytest.fixture(scope="module")
def drugs():
    return load_drugs(ROOT / "annotations" / "drugs.tsv")


@pytest.fixture(scope="module")
def real(drugs, meta):
    if not EXPORT.is_file():
        pytest.skip(f"real CIViC export not present at {EXPORT} (shared data folder is absent)")
    return import_civic(str(EXPORT), drugs, meta["genes"])


def by_id(rows, id_):
    [r] = [r for r in rows if r["id"] == id_]
    return r


def reason(skipped, key):
    [s] = [s for s in skipped if f": {key} (" in s]
    return s


def synthetic(tmp_path, *rows: dict[str, str]) -> str:
    """A minimal export: the columns the importer reads; defaults give a kept ALK resistance row."""
    base = {"genesymbol": "ALK", "variant_name": "G1202R", "evidence_type": "Predictive",
            "evidence_direction": "Supports", "evidence_level": "B: Clinical evidence",
            "evidence_description": "desc", "clinical_significance": "Resistance or Non-Response",
            "pubmed_id": "1", "disease_name": "Lung Adenocarcinoma", "drug_names": "Crizotinib",
            "rating": "3", "drug_interaction_type": "NA", "api_url": "https://civic/api/variants/1",
            "civic_id": "CIVIC_1"}
    lines = ["\t".join(HEADER)]
    for i, r in enumerate(rows, start=1):
        full = {**base, "civic_id": f"CIVIC_{i}", **r}
        lines.append("\t".join(full[c] for c in HEADER))
    p = tmp_path / "export.tsv"
    p.write_text("\n".join(lines) + "\n")
    return str(p)


# --- rules, on synthetic rows ---------------------------------------------------------------

def test_lung_disease_rule():
    """Kept: 'non-small cell' or 'lung' without 'small cell'; small-cell lung and other cancers are not."""
    for name in ("Non-small Cell Lung Carcinoma", "Lung Adenocarcinoma", "Lung Squamous Cell Carcinoma",
                 "Lung Cancer", "Lung Carcinoma"):
        assert is_lung_disease(name), name
    for name in ("Lung Small Cell Carcinoma", "Neuroblastoma", "Cancer", "Colorectal Cancer"):
        assert not is_lung_disease(name), name


def test_drug_names_split_and_resolve(drugs):
    """Commas inside parentheses do not split; a name resolves whole, without its '(...)', or by an
    alias inside it; a different drug with a shared word never resolves (no invention)."""
    assert split_drug_names("BEZ235 (NVP-BEZ235, Dactolisib), Afatinib") == ["BEZ235 (NVP-BEZ235, Dactolisib)", "Afatinib"]
    assert resolve_drug("Selumetinib (AZD6244)", drugs) == "selumetinib"
    assert resolve_drug("Foo (AZD9291)", drugs) == "osimertinib"
    assert resolve_drug("Trastuzumab Emtansine", drugs) is None
    assert resolve_drug("EGFR Inhibitor", drugs) is None


def test_mechanism_driver_evidence_rules(tmp_path, drugs, meta):
    """Driver kinase -> on_target_other / target_amplification; a gene every resisted drug targets is
    on-target (MET under crizotinib); KRAS/NRAS/BRAF/MAP2K1 -> downstream_reactivation; other genes ->
    bypass_activation / bypass_amplification. A non-driver gene's context is the driver kinase its
    drugs target (osimertinib -> EGFR mutation); MET evidence whose text names MET exon 14 is in the
    MET exon 14 context. Levels A/B clinical, C case_report, D/E preclinical; AMP level A/B/C, E -> D."""
    path = synthetic(
        tmp_path,
        {"genesymbol": "ALK", "variant_name": "G1202R", "evidence_level": "A: Validated"},
        {"genesymbol": "EGFR", "variant_name": "AMPLIFICATION", "drug_names": "Osimertinib",
         "evidence_level": "C: Case study"},
        {"genesymbol": "MET", "variant_name": "Amplification", "drug_names": "Osimertinib",
         "evidence_level": "D: Preclinical evidence"},
        {"genesymbol": "MET", "variant_name": "D1228N", "evidence_level": "E: Indirect evidence",
         "evidence_description": "NSCLC with a MET exon 14 skipping mutation, D1228N at crizotinib progression"},
        {"genesymbol": "NRAS", "variant_name": "Q61K", "drug_names": "Osimertinib"},
        {"genesymbol": "PIK3CA", "variant_name": "E545K", "drug_names": "Osimertinib"},
        {"genesymbol": "NTRK3", "variant_name": "G623R", "drug_names": "Larotrectinib"},
    )
    rows, skipped = import_civic(path, drugs, meta["genes"])
    assert skipped == []
    got = [(r["id"], r["alteration"], r["mechanism"], r["driver"], r["evidence"], r["level"]) for r in rows]
    assert got == [
        ("CIVIC_ALK_G1202R_ALK_fusion_1", "G1202R", "on_target_other", "ALK fusion", "clinical", "A"),
        ("CIVIC_EGFR_amplification_EGFR_mutation_1", "amplification", "target_amplification", "EGFR mutation", "case_report", "C"),
        ("CIVIC_MET_amplification_EGFR_mutation_1", "amplification", "bypass_amplification", "EGFR mutation", "preclinical", "D"),
        ("CIVIC_MET_D1228N_MET_exon_14_skipping_1", "D1228N", "on_target_other", "MET exon 14 skipping", "preclinical", "D"),
        ("CIVIC_NRAS_Q61K_EGFR_mutation_1", "Q61K", "downstream_reactivation", "EGFR mutation", "clinical", "B"),
        ("CIVIC_PIK3CA_E545K_EGFR_mutation_1", "E545K", "bypass_activation", "EGFR mutation", "clinical", "B"),
        ("CIVIC_NTRK3_G623R_NTRK3_fusion_1", "G623R", "on_target_other", "NTRK3 fusion", "clinical", "B"),
    ]
    assert all(r["resists"] and not r["options"] and r["option_levels"] == "" and r["clinical"] == ""
               for r in rows)


def test_driver_context_is_mapped_or_the_item_left_out(tmp_path, drugs, meta):
    """Issue #10: a CIViC item is imported only in a driver context it can be read in. MET D1228N
    under crizotinib without a driver in its text (crizotinib targets ALK, ROS1 and MET) is left
    out, never imported as 'any' (which called an ALK patient on crizotinib resistant); a text that
    denies the driver ('no concomitant MET exon 14 deletion') does not count; KRAS/BRAF evidence
    naming G12C / V600E goes to that context."""
    path = synthetic(
        tmp_path,
        {"genesymbol": "MET", "variant_name": "D1228N", "evidence_description": "acquired at crizotinib progression"},
        {"genesymbol": "MET", "variant_name": "AMPLIFICATION", "clinical_significance": "Sensitivity",
         "evidence_description": "MET amplification and no concomitant MET exon 14 deletion responded"},
        {"genesymbol": "MET", "variant_name": "D1228N", "evidence_description": "METex14 NSCLC, D1228N on crizotinib"},
        {"genesymbol": "KRAS", "variant_name": "Y96D", "drug_names": "Sotorasib",
         "evidence_description": "KRAS G12C NSCLC acquired Y96D on sotorasib"},
        {"genesymbol": "BRAF", "variant_name": "G596C", "clinical_significance": "Sensitivity",
         "drug_names": "Trametinib, Dabrafenib", "drug_interaction_type": "Combination"},
    )
    rows, skipped = import_civic(path, drugs, meta["genes"])
    assert [(r["id"], r["driver"], r["resists"]) for r in rows] == [
        ("CIVIC_MET_D1228N_MET_exon_14_skipping_1", "MET exon 14 skipping", "crizotinib"),
        ("CIVIC_KRAS_Y96D_KRAS_G12C_1", "KRAS G12C", "sotorasib")]
    assert [s.split(" (")[0] for s in skipped] == ["driver_context_unknown: CIVIC_1",
                                                    "driver_context_unknown: CIVIC_2",
                                                    "driver_context_unknown: CIVIC_5"]


def test_sensitivity_and_interaction_rules(tmp_path, drugs, meta):
    """Sensitivity -> options, mechanism 'sensitivity', resists empty; Combination -> one '+' option;
    Substitutes -> one item per drug; no interaction type: each drug for a resistance, skipped for a
    sensitivity; resistance to a combination and Sequential are skipped."""
    path = synthetic(
        tmp_path,
        {"clinical_significance": "Sensitivity", "drug_names": "Lorlatinib", "evidence_level": "C: Case study"},
        {"clinical_significance": "Sensitivity/Response", "genesymbol": "BRAF", "variant_name": "G596C",
         "drug_names": "Trametinib, Dabrafenib", "drug_interaction_type": "Combination",
         "evidence_description": "BRAF V600E NSCLC responded"},
        {"drug_names": "Crizotinib, Ceritinib", "drug_interaction_type": "Substitutes"},
        {"clinical_significance": "Resistance", "drug_names": "Crizotinib, Ceritinib"},
        {"clinical_significance": "Sensitivity", "drug_names": "Crizotinib, Ceritinib"},
        {"drug_names": "Crizotinib, Ceritinib", "drug_interaction_type": "Combination"},
        {"drug_names": "Crizotinib, Ceritinib", "drug_interaction_type": "Sequential"},
    )
    rows, skipped = import_civic(path, drugs, meta["genes"])
    got = [(r["id"], r["mechanism"], r["resists"], r["options"], r["option_levels"]) for r in rows]
    assert got == [
        ("CIVIC_ALK_G1202R_ALK_fusion_1", "sensitivity", "", "lorlatinib", "case_report"),
        ("CIVIC_BRAF_G596C_BRAF_V600E_1", "sensitivity", "", "trametinib+dabrafenib", "clinical_trial"),
        ("CIVIC_ALK_G1202R_ALK_fusion_2", "on_target_other", "crizotinib;ceritinib", "", ""),
        ("CIVIC_ALK_G1202R_ALK_fusion_3", "on_target_other", "crizotinib;ceritinib", "", ""),
    ]
    assert skipped == [
        "interaction_not_modelled: CIVIC_5 (line 6, ALK G1202R): no interaction type with 2 drugs (sensitivity)",
        "interaction_not_modelled: CIVIC_6 (line 7, ALK G1202R): resistance to a combination",
        "interaction_not_modelled: CIVIC_7 (line 8, ALK G1202R): Sequential with 2 drugs (resistance)",
    ]


def test_skip_reasons_in_rule_order(tmp_path, drugs, meta):
    """Each left-out row gets one reason, from the first rule it fails; unknown drugs skip the whole
    row, even when another drug of it is known."""
    path = synthetic(
        tmp_path,
        {"evidence_type": "Prognostic"},
        {"evidence_direction": "Does Not Support"},
        {"genesymbol": "MYC"},
        {"disease_name": "Neuroblastoma"},
        {"clinical_significance": "Poor Outcome"},
        {"variant_name": "EXON 19 DELETION"},
        {"variant_name": "M774INSAYVM"},
        {"genesymbol": "BRAF", "variant_name": "V600E", "pubmed_id": "23524406", "drug_names": "Dabrafenib"},
        {"drug_names": "NA"},
        {"drug_names": "Crizotinib, Madeupinib", "drug_interaction_type": "Substitutes"},
        {"evidence_level": "Z: Unknown"},
    )
    rows, skipped = import_civic(path, drugs, meta["genes"])
    assert rows == []
    assert [s.split(":", 1)[0] for s in skipped] == [
        "not_predictive_supports", "not_predictive_supports", "gene_not_in_catalogue", "disease_not_lung",
        "significance_not_modelled", "variant_not_protein_change", "variant_not_protein_change",
        "excluded", "no_drug", "unknown_drug", "evidence_level_unknown"]
    assert skipped[-2] == "unknown_drug: CIVIC_10 (line 11, ALK G1202R): 'Madeupinib'"


def test_not_an_export_is_an_input_error(tmp_path, drugs, meta):
    """A file without the export's columns is refused, naming the missing ones."""
    p = tmp_path / "other.tsv"
    p.write_text("gene\tvariant\nALK\tG1202R\n")
    with pytest.raises(InputError, match="missing column.*genesymbol"):
        import_civic(str(p), drugs, meta["genes"])


def test_write_civic_format(tmp_path, drugs, meta, schema):
    """Two comment lines, the schema column order, the note's description whitespace-collapsed and cut
    at 200 characters; the catalogue reader and validate_entry accept it; no temporary file is left."""
    path = synthetic(tmp_path, {"evidence_description": "a  b   c  d" + "x" * 300})
    rows, _ = import_civic(path, drugs, meta["genes"])
    out = tmp_path / "out" / "civic.tsv"
    write_civic(rows, out, "export.tsv")
    lines = out.read_text().splitlines()
    assert lines[:3] == ["# Imported from CIViC (CC0) export export.tsv, by ctresist.civic",
                         "# Do not edit by hand: regenerate with ctresist catalogue import-civic",
                         "\t".join(COLUMNS)]
    [(_, row)] = _read_tsv(out)
    validate_entry(row, "out", schema, meta, drugs)
    assert row["clinical"] == ""
    assert row["curation"].startswith("CIViC level B (rating 3): a b c d" + "x" * 193 + "... | disease: Lung Adenocarcinoma")
    assert row["citations"] == "PMID:1"
    assert sorted(p.name for p in out.parent.iterdir()) == ["civic.tsv"]


# --- the real 2016 export -------------------------------------------------------------------

@needs_export
def test_real_counts(real):
    """Exact totals of the 2016 export (543 rows): 36 imported, 507 skipped, by gene and by reason
    (7 items whose driver context cannot be told: BRAF G596C and six MET amplification items with
    crizotinib, two of which deny MET exon 14 in their text)."""
    rows, skipped = real
    assert len(rows) == 36 and len(skipped) == 507
    per_gene: dict[str, int] = {}
    for r in rows:
        per_gene[r["gene"]] = per_gene.get(r["gene"], 0) + 1
    assert per_gene == {"ALK": 1, "EGFR": 28, "KRAS": 1, "PIK3CA": 2, "MET": 3, "ERBB2": 1}
    assert skip_counts(skipped) == {"not_predictive_supports": 154, "disease_not_lung": 295,
                                    "variant_not_protein_change": 38, "excluded": 1, "unknown_drug": 12,
                                    "driver_context_unknown": 7}
    assert sum(r["mechanism"] == "sensitivity" for r in rows) == 21
    assert sum(bool(r["resists"]) for r in rows) == 15
    assert "any" not in {r["driver"] for r in rows}


@needs_export
def test_real_alk_f1174l_resists_crizotinib(real):
    """CIVIC_12 (ALK F1174L, NSCLC, level D, Ba/F3 EML4-ALK, PMID 21030459) -> a preclinical
    on-target crizotinib resistance in the ALK-fusion context."""
    r = by_id(real[0], "CIVIC_ALK_F1174L_ALK_fusion_1")
    assert {k: r[k] for k in COLUMNS if k != "curation"} == {
        "id": "CIVIC_ALK_F1174L_ALK_fusion_1", "gene": "ALK", "alteration": "F1174L", "phase": "",
        "mechanism": "on_target_other", "driver": "ALK fusion", "resists": "crizotinib", "options": "",
        "option_levels": "", "level": "D", "evidence": "preclinical", "citations": "PMID:21030459",
        "clinical": ""}
    assert r["curation"] == (
        "CIViC level D (rating 3): Ba/F3 cells expressing the EML4-ALK fusion containing an F1174L "
        "mutation were more resistant to crizotinib treatment than Ba/F3 cells expressing EML4-ALK "
        "without this mutation. | disease: Non-small Cell Lung Carcinoma; drugs: Crizotinib; variant: "
        "https://civic.genome.wustl.edu/api/variants/8; export row CIVIC_12 (row number of the GastonLab "
        "flattening, not a CIViC evidence ID)")


@needs_export
def test_real_resistance_facts(real):
    """EGFR T790M (PMID 27304188, Substitutes) resists gefitinib, erlotinib, afatinib; KRAS G12A
    (PMID 19794967, no interaction type) resists erlotinib and gefitinib downstream; MET D1228N under
    crizotinib (PMID 27343442) is on-target; MET amplification resists gefitinib as a bypass."""
    rows = real[0]
    t790m = by_id(rows, "CIVIC_EGFR_T790M_EGFR_mutation_1")
    assert (t790m["resists"], t790m["mechanism"], t790m["evidence"], t790m["citations"]) == (
        "gefitinib;erlotinib;afatinib", "on_target_other", "clinical", "PMID:27304188")
    kras = by_id(rows, "CIVIC_KRAS_G12A_EGFR_mutation_1")
    assert (kras["resists"], kras["mechanism"], kras["citations"]) == (
        "erlotinib;gefitinib", "downstream_reactivation", "PMID:19794967")
    met = by_id(rows, "CIVIC_MET_D1228N_MET_exon_14_skipping_1")
    assert (met["resists"], met["mechanism"], met["evidence"], met["citations"]) == (
        "crizotinib", "on_target_other", "case_report", "PMID:27343442")
    amp = by_id(rows, "CIVIC_MET_amplification_EGFR_mutation_1")
    assert (amp["resists"], amp["mechanism"], amp["citations"]) == ("gefitinib", "bypass_amplification", "PMID:17463250")
    assert not [r for r in rows if r["gene"] == "BRAF"]  # G596C: no driver context named


@needs_export
def test_real_skips(real):
    """Non-lung (neuroblastoma CIVIC_1), non-predictive (prognostic CIVIC_252), 'Does Not Support'
    (CIVIC_243), small-cell lung (CIVIC_334), unknown drugs (CIVIC_282 'EGFR Inhibitor', CIVIC_367
    'Trastuzumab Emtansine', never mapped to trastuzumab) and the excluded BRAF V600E item
    (CIVIC_66, resistance due to KRAS G12D) are skipped with their reason."""
    skipped = real[1]
    assert reason(skipped, "CIVIC_1") == "disease_not_lung: CIVIC_1 (line 2, ALK F1245C): Neuroblastoma"
    assert reason(skipped, "CIVIC_252").startswith("not_predictive_supports: CIVIC_252 (")
    assert reason(skipped, "CIVIC_243").endswith(": Predictive / Does Not Support")
    assert reason(skipped, "CIVIC_334").endswith("ERBB2 AMPLIFICATION): Lung Small Cell Carcinoma")
    assert reason(skipped, "CIVIC_282") == "unknown_drug: CIVIC_282 (line 280, EGFR AMPLIFICATION): 'EGFR Inhibitor'"
    assert reason(skipped, "CIVIC_367") == "unknown_drug: CIVIC_367 (line 333, ERBB2 AMPLIFICATION): 'Trastuzumab Emtansine'"
    assert reason(skipped, "CIVIC_66").startswith("excluded: CIVIC_66 (line 40, BRAF V600E): ")
    assert reason(skipped, "CIVIC_321").endswith(": M774INSAYVM")


@needs_export
def test_real_rows_validate(real, schema, meta, drugs):
    """Every imported row passes the catalogue's validate_entry; ids are unique; citations are PMIDs only
    (this export carries no CIViC evidence-item ID)."""
    rows = real[0]
    for r in rows:
        validate_entry(r, r["id"], schema, meta, drugs)
        assert re.fullmatch(r"PMID:\d+", r["citations"])
        assert "\t" not in r["curation"] and "\n" not in r["curation"]
    assert len({r["id"] for r in rows}) == len(rows)


@needs_export
def test_committed_civic_tsv_equals_fresh_import(real, tmp_path):
    """annotations/catalogue/civic.tsv is exactly what import + write gives today (regenerate it with
    `ctresist catalogue import-civic <export> -o annotations/catalogue/civic.tsv`)."""
    fresh = tmp_path / "civic.tsv"
    write_civic(real[0], fresh, EXPORT.name)
    assert (CAT / "civic.tsv").read_bytes() == fresh.read_bytes()
