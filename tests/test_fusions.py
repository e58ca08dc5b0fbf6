"""Fusions and structural variants (issue #13): each caller format read into one model, fusions named
5'::3' with exons from the shipped gene models, kinase-domain retention, catalogue calls in the
driver/therapy context and the driver-confirmation dict. Fixtures: tests/fixtures/fusions (see its
PROVENANCE.md)."""
from __future__ import annotations

from pathlib import Path

import pytest

from ctresist.catalogue import load_catalogue
from ctresist.drivers import parse_driver
from ctresist.errors import InputError
from ctresist.fusions import assess_fusions, limitations, read_sample_fusions
from ctresist.interpret import Context, Thresholds, _summary
from ctresist.io.fusions import read_fusions

FIX = Path(__file__).parent / "fixtures" / "fusions"
SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def ctx(driver: str, therapy: list[str], specimen: str, build: str = "GRCh37") -> Context:
    return Context(sample="S1", driver_text=driver, driver=parse_driver(driver, "test"), therapy_text=";".join(therapy),
                   therapy=therapy, specimen=specimen, build=build)


def run(name: str, c: Context):
    return assess_fusions(str(FIX / name), c, load_catalogue(), Thresholds.for_specimen(c.specimen))


def test_acquired_ccdc6_ret_in_plasma_on_osimertinib_is_actionable_with_combination():
    """The issue's 'done': an EGFR-mutant patient on osimertinib with an acquired CCDC6::RET in plasma
    (Manta BND mate pair) gets one actionable call citing the osimertinib + selpercatinib option."""
    c = ctx("EGFR L858R", ["osimertinib"], "plasma")
    calls, conf, fusions = run("manta_somatic_ccdc6_ret.grch37.vcf", c)
    assert [f["name"] for f in fusions] == ["CCDC6::RET"]  # the EGFR deletion record is no fusion
    assert len(calls) == 1
    call = calls[0]
    assert call["status"] == "actionable_resistance" and call["support"] == "ok"
    assert (call["gene"], call["alteration"], call["variant"]) == ("RET", "fusion CCDC6::RET", "CCDC6::RET")
    assert call["hgvsc"] == "CCDC6 exon 1::RET exon 12" and call["annotation"] == "fusion:manta"
    # Manta tumour PR 180,9 and SR 200,12: alt 9 + 12 = 21, ref 380, AF 21/401
    assert (call["alt_reads"], call["depth"]) == (21, 401) and call["vaf"] == pytest.approx(21 / 401)
    assert call["fusion"]["split_reads"] == 12 and call["fusion"]["paired_reads"] == 9
    assert call["entry_id"] == "RET_fusion__EGFR_mutation" and call["catalogue_alteration"] == "fusion"
    assert call["mechanism"] == "bypass_fusion" and call["resists_current"] == ["osimertinib"]
    assert call["options"] == ["osimertinib+selpercatinib", "osimertinib+pralsetinib"]
    assert "DOI:10.1186/s12967-022-03593-3" in call["citations"]
    assert call["fusion"]["kinase_domain"] == "retained" and call["fusion"]["breakpoint3"] == "10:43611200"
    summary = _summary(calls, c)
    assert summary["headline"] == "Resistance to osimertinib detected: RET fusion CCDC6::RET"
    assert summary["remaining_options"] == ["osimertinib+selpercatinib", "osimertinib+pralsetinib"]
    assert conf["status"] == "not_applicable" and conf["contradicting"] == []


def test_eml4_alk_v3_driver_confirmed_with_support_from_breakends():
    """An EML4-ALK v3 driver (EML4 intron 6, ALK intron 19) is confirmed with its read support; the
    driver's own fusion is not a resistance call."""
    c = ctx("EML4-ALK", ["alectinib"], "tissue")
    calls, conf, _ = run("manta_somatic_eml4_alk_v3_reciprocal.grch37.vcf", c)
    assert calls == []
    assert conf["status"] == "detected"
    assert conf["text"].startswith("driver EML4::ALK variant 3a/b (E6;A20) detected: 56 supporting reads "
                                   "(31 split, 25 paired/spanning); allele fraction 0.298; manta")
    assert conf["fusion"]["exon5"] == 6 and conf["fusion"]["exon3"] == 20


@pytest.mark.parametrize("name, reads", [("arriba_eml4_alk_v3.fusions.tsv", "28 supporting reads (21 split, "
                                          "7 paired/spanning)"),
                                         ("tumor_sample.linx.fusion.tsv", "read support not given by the caller")])
def test_eml4_alk_v3_driver_confirmed_from_fusion_tables(name, reads):
    """Arriba (RNA junction at EML4 exon 6 end / ALK exon 20 start) and LINX (fusedExonUp 6,
    fusedExonDown 20) give the same variant 3a/b driver."""
    calls, conf, _ = run(name, ctx("EML4-ALK", ["alectinib"], "tissue"))
    assert calls == [] and conf["status"] == "detected"
    assert conf["text"].startswith(f"driver EML4::ALK variant 3a/b (E6;A20) detected: {reads}")


def test_reciprocal_and_mate_only_breakends_give_one_fusion():
    """A mate pair (two records of one junction) and a mate-only reciprocal junction (ALK::EML4) give
    one fusion: the product with the kinase at 3', the reciprocal noted on it."""
    fusions, fmt = read_sample_fusions(str(FIX / "manta_somatic_eml4_alk_v3_reciprocal.grch37.vcf"), "GRCh37")
    assert fmt == "vcf:manta" and len(read_fusions(str(FIX / "manta_somatic_eml4_alk_v3_reciprocal.grch37.vcf"))[0]) == 2
    assert [(f["name"], f["reciprocal"], f["alt_reads"]) for f in fusions] == [
        ("EML4::ALK", "reciprocal ALK::EML4 also seen", 56)]
    assert (fusions[0]["breakpoint5"], fusions[0]["breakpoint3"]) == ("2:42492091", "2:29447500")


def test_3prime_partner_losing_the_kinase_domain_is_not_a_driver_nor_actionable():
    """TRIM33::RET breaking in RET exon 15 keeps no RET kinase-domain exons (13-14): it does not confirm a
    RET-fusion driver; KIF5B::ALK starting at ALK exon 27 is listed as excluded, never actionable."""
    _, conf, fusions = run("star-fusion.fusion_predictions.abridged.tsv", ctx("TRIM33-RET", ["selpercatinib"],
                                                                               "tissue"))
    lost = [f for f in fusions if f["name"] == "TRIM33::RET"][0]
    assert lost["kinase_domain"] == "lost" and lost["exons"] == "TRIM33 exon 14::RET exon 15"
    assert conf["status"] == "detected" and conf["fusion"]["name"] == "KIF5B::RET"  # the retained one
    assert "the sheet names TRIM33 as the partner" in conf["text"]
    calls, conf, _ = run("generic_fusions.tsv", ctx("EGFR exon 19 deletion", ["osimertinib"], "plasma"))
    alk = [x for x in calls if x["gene"] == "ALK"]
    assert [(x["status"], x["variant"]) for x in alk] == [("excluded", "KIF5B::ALK")]
    assert alk[0]["excluded_reason"] == ("not an active ALK fusion: the ALK part starts at exon 27; exons 21-25 "
                                         "(kinase-domain residues) are not all kept")
    # CD74::ROS1 keeps ROS1's kinase exons but is no resistance entry in EGFR disease: flagged
    assert [x["fusion"] for x in conf["contradicting"]] == ["CD74::ROS1"]


def test_only_a_kinase_dead_rearrangement_is_not_the_driver():
    """A RET-fusion driver with only a kinase-losing RET rearrangement seen is 'not detected', saying why."""
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "sf.tsv"
        lines = (FIX / "star-fusion.fusion_predictions.abridged.tsv").read_text().splitlines()
        p.write_text("\n".join([lines[0], lines[2]]) + "\n")
        c = ctx("KIF5B-RET", ["selpercatinib"], "plasma")
        _, conf, _ = assess_fusions(str(p), c, load_catalogue(), Thresholds.for_specimen("plasma"))
        shutil.rmtree(d, ignore_errors=True)
    assert conf["status"] == "not_detected"
    assert conf["text"] == ("driver not detected: ctDNA may be uninformative (TRIM33::RET seen, but without the RET "
                            "kinase domain: not the driver)")


def test_plasma_without_the_driver_fusion_is_reported_uninformative_and_contradiction_flagged():
    """An ALK-fusion patient's plasma without any ALK fusion: 'driver not detected: ctDNA may be
    uninformative'; an active RET fusion (no resistance entry in ALK disease) is flagged."""
    c = ctx("EML4-ALK", ["lorlatinib"], "plasma")
    calls, conf, _ = run("manta_somatic_ccdc6_ret.grch37.vcf", c)
    assert conf["status"] == "not_detected" and conf["text"] == "driver not detected: ctDNA may be uninformative"
    assert [x["fusion"] for x in conf["contradicting"]] == ["CCDC6::RET"]
    assert conf["contradicting"][0]["text"].startswith("CCDC6::RET (21 supporting reads (12 split, 9 paired/"
                                                       "spanning); allele fraction 0.052; manta")
    assert [(x["status"], x["driver_context"]) for x in calls] == [("out_of_context", "EGFR mutation")]
    assert limitations(conf) == ["driver not detected: ctDNA may be uninformative"]


def test_no_fusion_file_is_not_assessed():
    """Without a fusion/SV file the report says fusions were not examined (never 'no resistance')."""
    calls, conf, fusions = assess_fusions(None, ctx("EML4-ALK", ["alectinib"], "plasma"), load_catalogue(),
                                          Thresholds.for_specimen("plasma"))
    assert (calls, fusions, conf["status"]) == ([], [], "not_assessed")
    assert limitations(conf) == ["no fusion/SV file: acquired fusions (RET, ALK, BRAF, NTRK1 ...) and the driver "
                                 "fusion were not examined"]


def test_fusioncatcher_and_star_fusion_read_support():
    """FusionCatcher: Spanning_pairs 11 + Spanning_unique_reads 6; STAR-Fusion: JunctionReadCount 18 +
    SpanningFragCount 7; both RET parts start at exon 12 (RNA junction at its first base); KIF5B ends
    at exon 15 (K15;R12), CCDC6 at exon 1."""
    fc, fmt = read_sample_fusions(str(FIX / "fusioncatcher.final-list_candidate-fusion-genes.txt"), "GRCh37")
    assert fmt == "fusioncatcher"
    assert [(f["name"], f["alt_reads"], f["split_reads"], f["paired_reads"], f["exon3"], f["kinase_domain"])
            for f in fc] == [("CCDC6::RET", 17, 6, 11, 12, "retained")]
    assert fc[0]["exons"] == "CCDC6 exon 1::RET exon 12"
    sf, fmt = read_sample_fusions(str(FIX / "star-fusion.fusion_predictions.abridged.tsv"), "GRCh37")
    assert fmt == "star-fusion"
    assert [(f["name"], f["alt_reads"], f["exons"]) for f in sf] == [("KIF5B::RET", 25, "KIF5B exon 15::RET exon 12"),
                                                                    ("TRIM33::RET", 8, "TRIM33 exon 14::RET exon 15")]


def test_low_read_support_is_never_actionable():
    """A fusion below min_alt_reads (tissue: 4) is 'possible resistance, confirm'; LINX calls, which
    have no read counts, are never enough."""
    c = ctx("EGFR L858R", ["osimertinib"], "tissue")
    th = Thresholds.for_specimen("tissue", {"tissue": {"min_alt_reads": 30}})
    calls, _, _ = assess_fusions(str(FIX / "manta_somatic_ccdc6_ret.grch37.vcf"), c, load_catalogue(), th)
    assert [(x["status"], x["support"]) for x in calls] == [("resistance_low_support", "supporting reads 21 < 30")]


def test_real_pcgr_fusion_tables_both_builds():
    """PCGR's example fusion tables (MIT, GRCh37 and GRCh38): EML4--ALK is v1 in GRCh37 (EML4 intron
    13, ALK exon 20) and again v1 from the GRCh38 coordinates; NTRK1--TPM3 has NTRK1 at 5' (lost); an
    unnamed 5' partner keeps its locus; a breakpoint outside its gene in this build gets no exon."""
    fs, fmt = read_sample_fusions(str(FIX / "pcgr_T001-BRCA.grch37.fusions.tsv"), "GRCh37")
    got = {f["name"]: (f["exons"], f["eml4_alk_variant"], f["kinase_domain"], f["alt_reads"]) for f in fs}
    assert fmt == "pcgr" and got == {
        "EML4::ALK": ("EML4 exon 13::ALK exon 20", "1 (E13;A20)", "retained", 100),
        "FGFR3::TACC3": ("FGFR3 exon 14 (in exon)::TACC3 exon 17", "", "unknown", 40),
        "NTRK1::TPM3": ("NTRK1 exon 11::TPM3 exon 9", "", "lost", 55),
        "KIAA1549::BRAF": ("KIAA1549::BRAF exon 17", "", "lost", 45),
        "CCDC6::RET": ("CCDC6 exon 7::RET exon 12 (in exon)", "", "retained", 65),
        "2:29955249::ALK": ("2:29955249::ALK exon 5", "", "retained", 50),
        "15:87433109::NTRK3": ("", "", "unknown", 90)}
    fs, _ = read_sample_fusions(str(FIX / "pcgr_T001-COAD.grch38.fusions.tsv"), "GRCh38")
    eml4 = [f for f in fs if f["name"] == "EML4::ALK"][0]
    assert (eml4["exons"], eml4["eml4_alk_variant"]) == ("EML4 exon 13::ALK exon 20", "1 (E13;A20)")  # same in both builds


def test_real_arriba_output_without_kinase_fusion():
    """Arriba's own test output (BCR-ABL1, MIT) is read; ABL1 is no catalogue kinase: nothing to call."""
    calls, fmt = read_fusions(str(FIX / "arriba_test_bcr_abl1.fusions.tsv"))
    assert fmt == "arriba" and [(c.gene5, c.gene3, c.alt_reads) for c in calls] == [("BCR", "ABL1", 11)]
    assert read_sample_fusions(str(FIX / "arriba_test_bcr_abl1.fusions.tsv"), "GRCh38")[0] == []


def test_real_linx_fusions_of_colo829():
    """The hmftools ORANGE test run's LINX fusions (12 rows, no kinase fusion) read without error."""
    p = SHARED / "examples" / "hmftools_colo829_purple" / "tumor_sample.linx.fusion.tsv"
    if not p.is_file():
        pytest.skip("shared data (../shared/data) not present")
    calls, fmt = read_fusions(str(p))
    assert fmt == "linx" and len(calls) == 12
    assert (calls[0].gene5, calls[0].gene3, calls[0].exon5, calls[0].exon3) == ("DMD", "DMD", 67, 70)
    assert read_sample_fusions(str(p), "GRCh37")[0] == []


@pytest.mark.parametrize("name, message", [
    ("arriba_malformed.fusions.tsv", r"arriba_malformed\.fusions\.tsv:3: column 'split_reads1': expected a whole "
                                     r"number of reads, got 'many'; write a count such as 12$"),
    ("manta_malformed_bnd.vcf", r"manta_malformed_bnd\.vcf: record 1 chr10:43611200: malformed breakend ALT "
                                r"'T\[chr10:61650000\]'; expected t\[p\[, t\]p\], \]p\]t or \[p\[t"),
])
def test_malformed_input_is_one_line_error(name, message):
    """A malformed row or breakend is one InputError naming the file and line/record."""
    with pytest.raises(InputError, match=message) as exc:
        read_fusions(str(FIX / name))
    assert "\n" not in str(exc.value)


def test_other_build_is_refused():
    """A fusion table whose every kinase breakpoint lies outside its gene in the sheet's build is refused."""
    with pytest.raises(InputError, match=r"star-fusion\.fusion_predictions\.abridged\.tsv:2: breakpoint "
                                         r"10:43612032 is not in RET \(GRCh38 10:43077027-43130351\).*another genome build"):
        read_sample_fusions(str(FIX / "star-fusion.fusion_predictions.abridged.tsv"), "GRCh38")


def test_unknown_table_and_small_variant_vcf_are_refused(tmp_path):
    """A table of no known format, or a VCF without SVTYPE, is refused in one line."""
    p = tmp_path / "x.tsv"
    p.write_text("a\tb\n1\t2\n")
    with pytest.raises(InputError, match=r"x\.tsv:1: unknown fusion table header"):
        read_fusions(str(p))
    v = Path(__file__).parent.parent / "test_data"
    small = next(iter(sorted(v.glob("*.vcf"))), None)
    if small is not None:
        with pytest.raises(InputError, match=r"no INFO/SVTYPE declared"):
            read_fusions(str(small))


def test_catalogue_fusion_rows_resist_every_egfr_drug():
    """Acquired fusion rows in EGFR-mutant disease are off-target (rule 4): each resists every EGFR drug."""
    cat = load_catalogue()
    rows = {e.gene: e for e in cat.entries if e.kind == "fusion"}
    assert sorted(rows) == ["ALK", "BRAF", "FGFR3", "NTRK1", "RET"]
    for e in rows.values():
        assert e.driver == "EGFR mutation" and e.mechanism == "bypass_fusion"
        assert set(cat.driver_drugs["EGFR mutation"]) <= set(e.resists)


def test_gridss_breakends_and_unnamed_grch38_partner():
    """GRIDSS (GRCh38, tumour column by name): VF 12 against REF 60 + REFPAIR 48 gives AF 0.1; the BRAF
    part starts at exon 10 (kinase exons 11-15 kept); a 5' partner without a shipped gene model is named
    by its locus; a single breakend ('A.') is skipped. In EGFR-mutant plasma on osimertinib it is an
    actionable BRAF fusion (no option)."""
    c = ctx("EGFR exon 19 deletion", ["osimertinib"], "plasma", "GRCh38")
    calls, _, fusions = assess_fusions(str(FIX / "gridss_kiaa1549_braf.grch38.vcf"), c, load_catalogue(),
                                       Thresholds.for_specimen("plasma"), tumor_sample="tumor")
    assert [(f["name"], f["exons"], f["alt_reads"], f["ref_reads"], f["split_reads"], f["paired_reads"])
            for f in fusions] == [("7:138867900::BRAF", "7:138867900::BRAF exon 10", 12, 108, 7, 5)]
    assert fusions[0]["af"] == pytest.approx(0.1)
    assert [(x["status"], x["entry_id"], x["options"], x["alteration"], x["hgvsc"]) for x in calls] == [
        ("actionable_resistance", "BRAF_fusion__EGFR_mutation", [], "fusion ?::BRAF", "7:138867900::BRAF exon 10")]
    with pytest.raises(InputError, match=r"2 sample columns \(normal, tumor\)"):
        read_fusions(str(FIX / "gridss_kiaa1549_braf.grch38.vcf"))


def test_manta_inversion_record_gives_kif5b_ret():
    """A Manta <INV> with INV5 (both ends keep their right side) is KIF5B (minus strand, 5' part) joined
    to RET (plus strand, from intron 11): KIF5B::RET with RET exons from 12."""
    fusions, fmt = read_sample_fusions(str(FIX / "manta_inv5_kif5b_ret.grch37.vcf"), "GRCh37")
    assert fmt == "vcf:manta"
    assert [(f["name"], f["exons"], f["kinase_domain"], f["alt_reads"], f["breakpoint5"], f["breakpoint3"])
            for f in fusions] == [("KIF5B::RET", "KIF5B exon 15::RET exon 12", "retained", 11, "10:32317001", "10:43611501")]


def test_driver_with_unknown_read_support_is_confirmed_with_a_caution():
    """LINX gives no read counts: the driver is detected, but the text says the support is unknown."""
    _, conf, _ = run("tumor_sample.linx.fusion.tsv", ctx("EML4-ALK", ["alectinib"], "plasma"))
    assert conf["status"] == "detected"
    assert conf["text"].endswith("; low support (supporting read count unknown (linx writes none)): confirm")


@pytest.mark.parametrize("content, message", [
    (b"", r"empty\.tsv:1: empty file"),
    (b"\x1f\x8b\x08\x00garbage", r"empty\.tsv: not a readable text table"),
    (b"gene5\tgene3\tbreakpoint5\nEML4\tALK\tchr2-42491871\n", r"empty\.tsv:2: column 'breakpoint5': malformed "
                                                             r"breakpoint 'chr2-42491871'; write chrom:pos"),
    (b"gene5\tgene3\tsupporting_reads\nEML4\tALK\n", r"empty\.tsv:2: 2 columns, the header has 3"),
])
def test_broken_tables_are_one_line_errors(tmp_path, content, message):
    """Empty, corrupt-gzip, malformed-breakpoint and short rows each give one InputError with file:line."""
    p = tmp_path / "empty.tsv"
    p.write_bytes(content)
    with pytest.raises(InputError, match=message):
        read_fusions(str(p))


def test_intragenic_rearrangement_is_no_fusion(tmp_path):
    """A LINX/generic row naming the same gene twice (MET_MET) is an intragenic event, not a fusion."""
    p = tmp_path / "g.tsv"
    p.write_text("gene5\tgene3\tsupporting_reads\nMET\tMET\t30\nEML4\tALK\t12\n")
    assert [f["name"] for f in read_sample_fusions(str(p), "GRCh37")[0]] == ["EML4::ALK"]


def test_fusion_joins_the_patient_timeline_under_one_name(tmp_path):
    """The same CCDC6::RET from a DNA caller (Manta) and an RNA caller (FusionCatcher) at two time points
    is one timeline row (the alteration text leaves the caller-specific exons out)."""
    import json

    from ctresist.longitudinal import timeline

    c = ctx("EGFR L858R", ["osimertinib"], "plasma")
    reports = []
    for i, name in enumerate(("manta_somatic_ccdc6_ret.grch37.vcf", "fusioncatcher.final-list_candidate-fusion-genes.txt")):
        calls, _, _ = run(name, c)
        reports.append(json.loads(json.dumps({"sample": {"sample": f"T{i}", "collection_date": f"2025-0{i + 1}-01",
                                                         "specimen": "plasma", "therapy_text": "osimertinib"},
                                              "summary": _summary(calls, c), "calls": calls})))
    rows = timeline(reports)["alterations"]
    assert [(r["alteration"], r["trend"], r["values"]) for r in rows] == [
        ("RET fusion CCDC6::RET", "persistent", [pytest.approx(21 / 401), None])]
