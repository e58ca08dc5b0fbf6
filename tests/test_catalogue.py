"""The catalogue: it validates, every entry is cited, and literature facts hold exactly."""
from __future__ import annotations

import shutil

import pytest

from ctresist.catalogue import load_catalogue, load_drugs
from ctresist.errors import InputError
from ctresist.genes import annotations_dir


@pytest.fixture(scope="module")
def cat():
    return load_catalogue()


def entry(cat, id_):
    [e] = [e for e in cat.entries if e.id == id_]
    return e


def test_shipped_catalogue_validates_and_is_cited(cat):
    """Every entry has at least one citation and a known mechanism/driver; versions are stamped."""
    assert len(cat.entries) >= 100
    assert all(e.citations for e in cat.entries)
    assert cat.version and len(cat.sha256) == 64


def test_seed_mechanisms_present(cat):
    """Every mechanism named in the seed papers has an entry in its driver context."""
    have = {(e.gene, e.alteration, e.driver) for e in cat.entries}
    for gene, alt in [("ALK", "L1196M"), ("ALK", "G1269A"), ("ALK", "G1202R"), ("ALK", "L1152R"),
                      ("ALK", "C1156Y"), ("ALK", "T1151dup"), ("ALK", "F1174C"), ("ALK", "F1174L"),
                      ("ALK", "I1171N"), ("ALK", "S1206Y"), ("ALK", "amplification"),
                      ("KIT", "amplification"), ("EGFR", "activating_mutation"), ("MET", "amplification")]:
        assert (gene, alt, "ALK fusion") in have, (gene, alt)
    for gene, alt, drv in [("MET", "amplification", "RET fusion"), ("NTRK1", "G595R", "NTRK1 fusion"),
                           ("NTRK1", "G667C", "NTRK1 fusion"), ("EGFR", "T790M", "EGFR mutation"),
                           ("EGFR", "C797S", "EGFR mutation"), ("RET", "V804M", "RET fusion")]:
        assert (gene, alt, drv) in have, (gene, alt, drv)
    assert any(e.gene == "RET" and e.alteration.startswith("G810") for e in cat.entries)


def test_alk_g1202r_resists_second_generation_but_not_lorlatinib(cat):
    """ALK G1202R resists alectinib and brigatinib; lorlatinib remains an option."""
    e = entry(cat, "ALK_G1202R__ALK_fusion")
    assert {"alectinib", "brigatinib", "crizotinib", "ceritinib"} <= set(e.resists)
    assert "lorlatinib" not in e.resists and "lorlatinib" in e.options


def test_alk_l1196m_resists_crizotinib(cat):
    """ALK L1196M (gatekeeper) resists crizotinib; second-generation drugs remain options."""
    e = entry(cat, "ALK_L1196M__ALK_fusion")
    assert "crizotinib" in e.resists and "alectinib" in e.options and e.mechanism == "on_target_gatekeeper"


def test_ret_v804m_does_not_resist_selective_ret_inhibitors(cat):
    """RET V804M resists multikinase inhibitors but not selpercatinib or pralsetinib."""
    [e] = [e for e in cat.entries if e.gene == "RET" and e.alteration == "V804M"]
    assert "selpercatinib" not in e.resists and "selpercatinib" in e.options
    assert "vandetanib" in e.resists


def test_egfr_c797s_cis_vs_trans(cat):
    """C797S in cis with T790M: no EGFR TKI option; in trans: 1st + 3rd generation combination."""
    cis = entry(cat, "EGFR_C797S_T790M__EGFR_mutation_cis")
    trans = entry(cat, "EGFR_C797S_T790M__EGFR_mutation_trans")
    assert {"osimertinib", "gefitinib", "erlotinib"} <= set(cis.resists) and cis.options == ()
    assert "gefitinib+osimertinib" in trans.options


def test_met_amp_in_ret_fusion_suggests_adding_met_inhibitor(cat):
    """MET amplification in RET-fusion NSCLC on selpercatinib: selpercatinib + crizotinib (Rosen 2021)."""
    [e] = [e for e in cat.entries if e.gene == "MET" and e.alteration == "amplification" and e.driver == "RET fusion"]
    assert "selpercatinib" in e.resists and "selpercatinib+crizotinib" in e.options


def test_drug_synonyms_resolve():
    """Brand names and codes resolve to generic names; typos get a suggestion."""
    d = load_drugs()
    assert d.parse_therapy("Alecensa", "x") == ["alectinib"]
    assert d.parse_therapy("LOXO-292 + crizotinib", "x") == ["selpercatinib", "crizotinib"]
    with pytest.raises(InputError, match=r"unknown drug 'alectnib'; did you mean alectinib"):
        d.parse_therapy("alectnib", "samples.tsv:3: column 'therapy'")


@pytest.mark.parametrize("col,value,match", [
    ("gene", "FOO1", r"column 'gene': unknown gene 'FOO1'"),
    ("alteration", "G1202B", r"column 'alteration': malformed protein change 'G1202B'"),
    ("resists", "alectnib", r"column 'resists': drug 'alectnib' is not in annotations/drugs.tsv \(closest: alectinib, "),
    ("citations", "Smith 2020", r"column 'citations'"),
    ("mechanism", "magic", r"column 'mechanism'"),
])
def test_malformed_entry_fails_loudly(tmp_path, col, value, match):
    """A broken catalogue row is refused with file, line and column."""
    src = annotations_dir()
    dst = tmp_path / "annotations"
    shutil.copytree(src, dst)
    path = dst / "catalogue" / "resistance.tsv"
    lines = path.read_text().splitlines()
    header = lines[0].split("\t")
    row = lines[1].split("\t")
    row[header.index(col)] = value
    lines[1] = "\t".join(row)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match=r"resistance\.tsv:2: " + match):
        load_catalogue(str(dst / "catalogue"))


def test_ret_solvent_front_resists_both_selective_inhibitors(cat):
    """RET G810R/S/C resist selpercatinib and pralsetinib (Solomon 2020, PMID:31988000)."""
    for alt in ("G810R", "G810S", "G810C"):
        e = entry(cat, f"RET_{alt}__RET_fusion")
        assert {"selpercatinib", "pralsetinib"} <= set(e.resists) and "PMID:31988000" in e.citations


# --- catalogue 1.0 (issue #10): rules checked at load, per-option evidence, checksum ------------

def _copy(tmp_path):
    dst = tmp_path / "annotations"
    shutil.copytree(annotations_dir(), dst)
    return dst


def _edit_row(dst, row_id, **changes):
    path = dst / "catalogue" / "resistance.tsv"
    lines = path.read_text().splitlines()
    header = lines[0].split("\t")
    for i, ln in enumerate(lines):
        cols = ln.split("\t")
        if cols[0] == row_id:
            for k, v in changes.items():
                cols[header.index(k)] = v
            lines[i] = "\t".join(cols)
    path.write_text("\n".join(lines) + "\n")


def _drop_row(dst, row_id):
    path = dst / "catalogue" / "resistance.tsv"
    path.write_text("\n".join(ln for ln in path.read_text().splitlines() if not ln.startswith(row_id + "\t")) + "\n")


def test_shipped_catalogue_obeys_every_rule(cat):
    """validate_rules finds nothing in the shipped catalogue; it is version 1.1.0."""
    from ctresist.catalogue import validate_rules
    assert validate_rules(cat) == [] and cat.version == "1.1.0"


@pytest.mark.parametrize("row_id,changes,match", [
    ("MET_amplification__RET_fusion", {"resists": "selpercatinib"},
     r"MET_amplification__RET_fusion: off-target row does not resist pralsetinib of the RET fusion drugs"),
    ("RET_G810X__RET_fusion", {"resists": "selpercatinib"},
     r"RET_G810X__RET_fusion: catch-all resists fewer drugs than its specific siblings \(G810R, G810S, "
     r"G810C\); add cabozantinib, pralsetinib, vandetanib"),
    ("ALK_L1152P__ALK_fusion", {"citations": "UNVERIFIED:someone 2020"}, r"only unverified citations"),
    ("ALK_G1202R__ALK_fusion", {"clinical": "CGI line 5 says so"}, r"clinical text holds curation remark 'CGI'"),
    ("ALK_G1202R__ALK_fusion", {"curation": "read from /home/someone/seeds/000.txt"}, r"column 'curation' holds a machine path"),
    ("ALK_G1202R__ALK_fusion", {"options": "lorlatinib;alectinib", "option_levels": "approved;approved"},
     r"alectinib both resisted and offered"),
    ("ALK_V1180L__ALK_fusion", {"level": "A"}, r"level A needs clinical evidence \(is preclinical\)"),
])
def test_rule_violation_refuses_to_load(tmp_path, row_id, changes, match):
    """Each catalogue-wide rule is checked at load: a broken catalogue cannot be used."""
    dst = _copy(tmp_path)
    _edit_row(dst, row_id, **changes)
    with pytest.raises(InputError, match=match):
        load_catalogue(str(dst / "catalogue"))


def test_imported_exact_row_may_not_hide_a_curated_catch_all(tmp_path):
    """Without the curated MET D1228N row, CIViC's exact D1228N (crizotinib only) would hide the
    curated D1228X catch-all in MET exon 14 disease, and capmatinib resistance would be lost."""
    dst = _copy(tmp_path)
    _drop_row(dst, "MET_D1228N__MET_exon_14_skipping")
    with pytest.raises(InputError, match=r"civic\.tsv:\d+: CIVIC_MET_D1228N_MET_exon_14_skipping_1: hides the curated "
                       r"catch-all MET_D1228X__MET_exon_14_skipping"):
        load_catalogue(str(dst / "catalogue"))


def test_option_levels_must_match_options(tmp_path):
    """One evidence level per option, from the fixed list; the error names file, line and column."""
    dst = _copy(tmp_path)
    _edit_row(dst, "ALK_G1202R__ALK_fusion", option_levels="approved")
    with pytest.raises(InputError, match=r"resistance\.tsv:2: column 'option_levels': 1 level\(s\) for 3 option\(s\)"):
        load_catalogue(str(dst / "catalogue"))
    _edit_row(dst, "ALK_G1202R__ALK_fusion", option_levels="approved;preclinical;rumour")
    with pytest.raises(InputError, match=r"column 'option_levels'"):
        load_catalogue(str(dst / "catalogue"))


def test_drug_status_is_required(tmp_path):
    """Every drug is approved or investigational."""
    dst = _copy(tmp_path)
    p = dst / "drugs.tsv"
    p.write_text(p.read_text().replace("\tinvestigational\n", "\tmaybe\n", 1))
    with pytest.raises(InputError, match=r"drugs\.tsv:\d+: column 'status': expected approved or investigational, got 'maybe'"):
        load_catalogue(str(dst / "catalogue"))


def test_option_weights_separate_investigational_agents(cat):
    """Each option carries its own level and regulatory status; a combination is investigational
    when one of its drugs is (savolitinib is approved only in China)."""
    g = entry(cat, "ALK_G1202R__ALK_fusion")
    assert g.option_weights == {
        "lorlatinib": {"level": "approved", "status": "approved", "investigational": []},
        "neladalkib": {"level": "preclinical", "status": "investigational", "investigational": ["neladalkib"]},
        "tpx-0131": {"level": "preclinical", "status": "investigational", "investigational": ["tpx-0131"]}}
    m = entry(cat, "MET_amplification__EGFR_mutation")
    assert m.option_weights["osimertinib+savolitinib"]["status"] == "investigational"
    assert m.option_weights["osimertinib+tepotinib"] == {"level": "clinical_trial", "status": "approved",
                                                         "investigational": []}


def test_note_is_the_clinical_text_only(cat):
    """Reports show Entry.note: the clinical statement, never the curation remarks."""
    e = entry(cat, "ALK_G1202R__ALK_fusion")
    assert e.note == e.clinical and "highwire" in e.curation and "highwire" not in e.note
    assert all(e.note == e.clinical for e in cat.entries)


def test_checksum_covers_every_knowledge_file(tmp_path):
    """Version + sha256 cover drugs.tsv, genes.tsv, known_alleles.tsv and chromosomes.tsv: changing
    any of them changes the stamp."""
    base = load_catalogue(str(_copy(tmp_path / "a") / "catalogue"))
    assert {"../drugs.tsv", "../genes.tsv", "../known_alleles.tsv", "../chromosomes.tsv",
            "resistance.tsv", "civic.tsv", "activating.tsv"} <= set(base.files)
    for name in ("drugs.tsv", "genes.tsv", "known_alleles.tsv", "chromosomes.tsv"):
        dst = _copy(tmp_path / name)
        with open(dst / name, "a") as fh:
            fh.write("# edited\n")
        assert load_catalogue(str(dst / "catalogue")).sha256 != base.sha256, name


def test_no_machine_path_in_catalogue_files():
    """No path of any machine in the catalogue, the drug vocabulary or their README."""
    from ctresist.catalogue import MACHINE_PATH
    base = annotations_dir()
    files = [*(base / "catalogue").iterdir(), base / "drugs.tsv", base / "README.md"]
    for p in files:
        assert not MACHINE_PATH.search(p.read_text(encoding="utf-8")), p


def test_driver_contexts_and_their_drugs(cat):
    """Ten driver contexts, each with its targeted drugs; ERBB2 is deliberately not one."""
    assert list(cat.driver_drugs) == ["ALK fusion", "RET fusion", "NTRK1 fusion", "NTRK2 fusion", "NTRK3 fusion",
                                      "ROS1 fusion", "EGFR mutation", "MET exon 14 skipping", "KRAS G12C", "BRAF V600E"]
    assert cat.driver_drugs["KRAS G12C"] == ["sotorasib", "adagrasib"]
    assert {e.driver for e in cat.entries} <= set(cat.driver_drugs) | {"any"}


def test_anchor_comparison_against_cgi_civic_moalmanac():
    """The catalogue against the NSCLC resistance rows of CGI 2017, CIViC 2016 and MOAlmanac and the
    OncoKB R1/R2 levels of OncoKB's release notes (annotations/scripts/compare_anchors.py): 112
    drug-level anchors matched (OncoKB 31 of 31), none conflicting; the two missing are CGI's EGFR
    L718/L792 osimertinib catch-alls, whose only source is a conference abstract without PMID."""
    import importlib.util
    import io
    from contextlib import redirect_stdout

    from ctresist.genes import annotations_dir as ann
    script = ann() / "scripts" / "compare_anchors.py"
    spec = importlib.util.spec_from_file_location("compare_anchors", script)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    if not mod.KB.is_dir():
        pytest.skip("shared knowledge bases (../shared/data/knowledgebases) are absent")
    out = io.StringIO()
    with redirect_stdout(out):
        assert mod.main(details=True) == 0
    lines = out.getvalue().splitlines()
    assert lines[-1] == "total: matched=112, missing=2, conflicting=0, not_comparable=10"
    assert "OncoKB: matched=31, missing=0, conflicting=0, not_comparable=0" in lines
    missing = sorted(ln.split("\t")[3] for ln in lines if "\tmissing\t" in ln)
    assert missing == ["L718X", "L792X"]
