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
