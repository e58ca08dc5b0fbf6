"""Protein-change notation: one canonical one-letter form, and catalogue matching."""
import pytest

from ctresist import protein


@pytest.mark.parametrize("hgvsp,expected", [
    ("ENSP00000373700.3:p.Gly1202Arg", "G1202R"),
    ("p.(Leu858Arg)", "L858R"),
    ("p.Thr1151dup", "T1151dup"),
    ("p.Glu746_Ala750del", "E746_A750del"),
    ("p.Asp770_Asn771insSerValAsp", "D770_N771insSVD"),
    ("p.Leu747_Thr751delinsPro", "L747_T751delinsP"),
    ("p.Arg213Ter", "R213*"),
    ("p.Ser768ArgfsTer3", "S768fs"),
    ("p.Gly12%3D", "G12="),
    ("p.G1202R", "G1202R"),
])
def test_to_one_letter(hgvsp, expected):
    """VEP/SnpEff 3-letter HGVSp (URL-escaped too) becomes the catalogue's one-letter form."""
    assert protein.to_one_letter(hgvsp) == expected


def test_residue_spec_matches_any_substitution_at_that_residue_only():
    """G1202X matches G1202R and G1202S, not G1202= (synonymous) nor another residue."""
    spec = protein.parse("G1202X")
    assert protein.matches(protein.parse("G1202R"), spec)
    assert protein.matches(protein.parse("G1202S"), spec)
    assert not protein.matches(protein.parse("G1202="), spec)
    assert not protein.matches(protein.parse("G1201R"), spec)


def test_exact_spec_matches_only_itself():
    """An exact entry (G1202R) must not match another substitution at the residue (G1202S)."""
    assert protein.matches(protein.parse("G1202R"), protein.parse("G1202R"))
    assert not protein.matches(protein.parse("G1202S"), protein.parse("G1202R"))


@pytest.mark.parametrize("spec,ok", [("G1202R", True), ("G1202X", True), ("E746_A750del", True),
                                     ("T1151dup", True), ("G1202B", False), ("1202R", False), ("foo", False)])
def test_spec_validation(spec, ok):
    """Malformed catalogue protein changes are refused."""
    assert protein.is_valid_spec(spec) is ok
