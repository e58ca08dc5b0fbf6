"""Findings: evidence rows grouped into one finding per alteration; links, clinical text, driver,
meaning of each class, and the HTML/TSV neutralisation of hostile text (#9.12, #9.13)."""
from __future__ import annotations

import json
import subprocess

import pytest

from ctresist.findings import (
    build_findings,
    citation_link,
    clinical_text,
    driver_evidence,
    search_links,
    vaf_interval,
    with_findings,
)
from ctresist.longitudinal import do_longitudinal
from ctresist.report import tsv_cell, write_html, write_tsv


def row(status="resistance_other_drugs", gene="EGFR", alteration="T790M", entry="E1", source="curated",
        mechanism="on_target_gatekeeper", resists=("erlotinib",), current=(), options=(), **kw) -> dict:
    """One evidence row as ``interpret`` writes it (keys of ctresist-report/1 calls)."""
    base = {"status": status, "gene": gene, "alteration": alteration, "variant": "7:55181378:C>T",
            "vaf": 0.021, "depth": 4200, "alt_reads": 88, "transcript": "ENST00000275493.7",
            "hgvsc": "ENST00000275493.7:c.2369C>T", "annotation": "VEP", "copy_number": None, "phase": "",
            "support": "ok", "excluded_reason": "", "cautions": [], "entry_id": entry,
            "catalogue_alteration": alteration, "mechanism": mechanism, "driver_context": "EGFR mutation",
            "resists": list(resists), "resists_current": list(current), "options": list(options),
            "option_evidence": "", "evidence": "clinical", "citations": ["PMID:25939061"], "source": source,
            "note": ""}
    return {**base, **kw}


def model(calls, driver="EGFR mutation", driver_text="EGFR L858R", other=(), specimen="plasma") -> dict:
    return {"calls": calls, "other_variants": list(other), "not_interpretable": [], "copy_number": [],
            "summary": {"actionable": any(c["status"] == "actionable_resistance" for c in calls),
                        "n_actionable": 99, "headline": "h", "drugs_resisted": [], "remaining_options": [],
                        "transformation_hint": ""},
            "sample": {"sample": "S1", "patient": "P1", "collection_date": "2024-01-01", "specimen": specimen,
                       "build": "GRCh38", "driver": driver, "driver_text": driver_text, "therapy": ["erlotinib"],
                       "therapy_text": "erlotinib", "tumor_fraction": None, "has_normal": False},
            "inputs": {"vcf": "s.vcf.gz", "cnv": None}, "thresholds": {"min_depth": 100},
            "examined": {"vcf_records_read": 3, "region_queries": True, "variants_in_catalogue_genes": 3,
                         "annotation": "VEP CSQ", "genes": ["EGFR"]},
            "catalogue": {"version": "0.3.0", "sha256": "0" * 64, "sources": {"curated": 1}},
            "ctresist_version": "0.1.0", "schema": "ctresist-report/1"}


def test_one_t790m_is_one_finding_with_nested_evidence():
    """EGFR T790M on erlotinib matched by 1 curated + 5 CIViC resistance rows and 9 CIViC
    sensitivity rows (as in EGFR02): one finding, actionable, 15 evidence rows, n_actionable 1."""
    calls = [row("actionable_resistance", current=["erlotinib"], options=["osimertinib"])]
    calls += [row("actionable_resistance", entry=f"CIVIC_{i}", source="CIViC", current=["erlotinib"])
              for i in range(1, 6)]
    calls += [row("sensitivity_evidence", entry=f"CIVIC_S{i}", source="CIViC", mechanism="sensitivity",
                  resists=()) for i in range(9)]
    m = with_findings(model(calls))
    [f] = m["findings"]
    assert (f["id"], f["status"], len(f["evidence"])) == ("EGFR T790M [7:55181378:C>T]", "actionable_resistance", 15)
    assert [e["source"] for e in f["evidence"][:2]] == ["curated", "CIViC"]  # curated row first
    assert f["resists"] == ["erlotinib"] and f["resists_current"] == ["erlotinib"]
    assert f["options"] == [{"option": "osimertinib", "evidence": "", "regulatory": "", "investigational": False,
                             "resisted_by": []}]
    assert m["summary"]["n_actionable"] == 1 and m["summary"]["n_findings"] == 1
    assert m["schema"] == "ctresist-report/2"


def test_sensitivity_rows_never_add_resisted_drugs():
    """A finding's resisted drugs come only from rows of its own (strongest) status."""
    calls = [row("resistance_other_drugs", resists=["gefitinib"]),
             row("sensitivity_evidence", entry="S", mechanism="sensitivity", resists=["osimertinib"])]
    [f] = build_findings(calls)
    assert f["resists"] == ["gefitinib"] and f["meaning"] == "On-target kinase mutation (gatekeeper)"


def test_transformation_is_labelled_by_meaning():
    """RB1 loss resists no drug but signals transformation: the label says so, not 'does not
    affect the current therapy'."""
    calls = [row(gene="RB1", alteration="loss", variant="", mechanism="histologic_transformation", resists=(),
                 options=["platinum-etoposide"], copy_number=0.3, vaf=None, depth=None, alt_reads=None)]
    [f] = build_findings(calls)
    assert f["meaning"] == "Histologic transformation risk: consider re-biopsy"
    assert f["detail"]["hgvsp"] is None and f["detail"]["copy_number"] == 0.3 and f["detail"]["vaf_ci"] is None


def test_variant_detail_and_missing_counts(tmp_path):
    """HGVS c./p., transcript, VAF with its 95 % Wilson interval, depth and alt reads are on the page;
    a depth the caller did not report is 'not reported', never '?'."""
    assert vaf_interval({"alt_reads": 41, "depth": 4150}) == [0.007099, 0.013379]
    assert vaf_interval({"alt_reads": None, "depth": 4150}) is None and vaf_interval({"alt_reads": 3, "depth": 0}) is None
    assert vaf_interval({"alt_reads": 41, "depth": 4150, "ci_low": 0.001, "ci_high": 0.02}) == [0.001, 0.02]
    calls = [row("actionable_resistance", current=["erlotinib"]),
             row("actionable_resistance", gene="MET", alteration="D1228N", variant="7:116771936:G>A",
                 current=["erlotinib"], depth=None, alt_reads=None, vaf=0.05, support="caller FILTER=weak_evidence")]
    html = tmp_path / "r.html"
    write_html(model(calls), str(html))
    text = html.read_text()
    assert "p.T790M" in text and "c.2369C&gt;T" in text and "ENST00000275493.7" in text
    assert "2.10 % (95 % CI 1.68&ndash;2.58 %)" in text
    assert "4200 / 88" in text and "not reported / not reported" in text
    assert "weak_evidence" in text and "/ ?" not in text and "? /" not in text


def test_links_are_built_from_identifiers_only():
    assert citation_link("PMID:25939061") == {"text": "PMID 25939061", "verified": True,
                                              "url": "https://pubmed.ncbi.nlm.nih.gov/25939061/"}
    assert citation_link("DOI:10.1158/2159-8290.CD-16-1123")["url"] == "https://doi.org/10.1158/2159-8290.CD-16-1123"
    assert citation_link("UNVERIFIED:Rosen 2021 Clin Cancer Res 27(1):34-42 (seed 000, no PMID/DOI printed)") == {
        "text": "unverified reference: Rosen 2021 Clin Cancer Res 27(1):34-42", "url": None, "verified": False}
    assert [x["url"] for x in search_links("EGFR", "T790M")] == [
        "https://www.ncbi.nlm.nih.gov/clinvar/?term=EGFR%5Bgene%5D+T790M",
        "https://cancer.sanger.ac.uk/cosmic/search?q=EGFR+T790M", "https://www.oncokb.org/gene/EGFR/T790M"]
    assert search_links("MET", "amplification")[2]["url"] == "https://www.oncokb.org/gene/MET"
    [e] = build_findings([row(source="CIViC", clinical="Ba/F3 cells with F1174L resisted crizotinib.",
                              source_url="https://civicdb.org/links/variants/8")])[0]["evidence"]
    assert e["source_url"] == "https://civicdb.org/links/variants/8"
    assert e["clinical_text"] == "Ba/F3 cells with F1174L resisted crizotinib."
    [e] = build_findings([row(source="CIViC", source_url="javascript:alert(1)")])[0]["evidence"]
    assert e["source_url"] is None


@pytest.mark.parametrize("note", [
    "Lin2017 Table2 (cancerdiscovery highwire markup 40699; column assignment reconstructed from line-interleaved HTML)",
    "gatekeeper (not retrieved)", "see /home/curator/seeds/000.txt", "from ../shared/data/x.tsv", "Thress 2015 (CIViC line 109)"])
def test_curation_remarks_are_never_clinical_text(note):
    assert clinical_text(note) == ""


def test_driver_shown_and_other_driver_gene_changes():
    """EGFR L858R found among the calls is the driver (tumour DNA seen); an EGFR exon 20 insertion
    among the other variants is listed as another change; a fusion driver says it was not checked."""
    calls = [row("sensitivity_evidence", alteration="L858R", variant="7:55191822:T>G", vaf=0.04, depth=4000,
                 alt_reads=160, mechanism="sensitivity", resists=())]
    other = [{"gene": "EGFR", "variant": "7:55181320:C>CGGT", "change": "A767_V769dup",
              "consequence": "inframe_insertion", "vaf": 0.01}]
    d = driver_evidence(model(calls, other=other))
    assert [(v["change"], v["vaf"], v["depth"], v["vaf_ci"]) for v in d["detected"]] == [
        ("L858R", 0.04, 4000, [0.03414, 0.046543])]
    assert [v["change"] for v in d["other_changes"]] == ["A767_V769dup"]
    assert driver_evidence(model([], driver="ALK fusion", driver_text="EML4-ALK"))["kind"] == "fusion"
    # a driver written without a protein change: each change in the gene is shown as the driver's
    d = driver_evidence(model([], driver_text="EGFR exon 19 deletion", other=[
        {"gene": "EGFR", "variant": "7:55174772:GGAATTAAGAGAAGCA>G", "change": "E746_A750del", "vaf": 0.08}]))
    assert [v["change"] for v in d["detected"]] == ["E746_A750del"]
    # ... also when the deletion matched the catalogue (a sensitivity row), not only an other variant
    sens = row("sensitivity_evidence", alteration="E746_A750del", variant="7:55174772:GGAATTAAGAGAAGCA>G",
               mechanism="sensitivity", resists=())
    d = driver_evidence(model([sens], driver_text="EGFR exon 19 deletion"))
    assert [(v["change"], v["in_catalogue"]) for v in d["detected"]] == [("E746_A750del", True)]


def test_negative_plasma_says_what_was_not_assessed(tmp_path):
    """No ctdna block: the report says absence was not assessed at read level; with one, it shows
    tumour fraction, its source, the sites ruled out with their LoD and the caveat."""
    html = tmp_path / "r.html"
    write_html(model([]), str(html))
    assert "not assessed at read level" in html.read_text()
    assert ('<div class="banner b-neutral" id="verdict">h. Not a confirmed negative: absence was not assessed '
            'at read level (see ctDNA context).</div>') in html.read_text()
    m = model([])
    m["ctdna"] = {"tumor_fraction": 0.004, "tumor_fraction_source": "ichorCNA",
                  "ruled_out": [{"site": "EGFR C797S", "depth": 5200, "lod": 0.0012}],
                  "caveat": "Low tumour fraction: a negative result may be a false negative (low shedding)."}
    write_html(m, str(html))
    text = html.read_text()
    assert "Tumour fraction: 0.004 (source: ichorCNA)" in text
    assert '<td>EGFR C797S</td><td>ruled out to its LoD</td><td>5200</td><td>not reported</td><td>0.12 %</td><td class="small"></td>' in text
    assert "a negative result may be a false negative (low shedding)" in text
    assert "not assessed at read level" not in text
    assert ('<div class="banner b-neutral" id="verdict">h. Not a confirmed negative: Low tumour fraction: a negative '
            'result may be a false negative (low shedding).</div>') in text


def test_ctdna_site_states_from_read_level_evidence(tmp_path):
    """The ctDNA block as ``genotype.site_states``/``per_change`` and ``purity.TumourFraction``
    write it: each site's state in words, its depth, VAF with CI, LoD, and the shedding caveat when
    a negative is not informative."""
    m = model([])
    m["ctdna"] = {
        "tumor_fraction": {"value": 0.01, "method": "ichorCNA", "text": "1.0 % (ichorCNA)", "low": None, "high": None},
        "sites": [
            {"gene": "EGFR", "alteration": "C797S", "state": "not_detected", "depth": 2400, "alt_reads": 0,
             "vaf": 0.0, "ci_low": 0.0, "ci_high": 0.0015, "lod": 0.0026, "informative": False,
             "text": "not detected; 95 % LoD 0.26 % at 2,400x"},
            {"gene": "EGFR", "alteration": "T790M", "state": "read_level_only", "depth": 3000, "alt_reads": 6,
             "vaf": 0.002, "ci_low": 0.0007, "ci_high": 0.0044, "lod": None, "informative": None, "text": "possible"},
            {"gene": "MET", "alteration": "D1228N", "state": "not_assessable", "depth": 40, "alt_reads": 0,
             "vaf": None, "ci_low": None, "ci_high": None, "lod": None, "informative": None, "text": "depth 40"}]}
    html = tmp_path / "r.html"
    write_html(m, str(html))
    text = html.read_text()
    assert "Tumour fraction: 1.0 % (ichorCNA) (source: ichorCNA)" in text
    assert "<td>EGFR C797S</td><td>not detected (not informative)</td><td>2400</td><td>0.00 % (0.00 %&ndash;0.15 %)</td><td>0.26 %</td>" in text
    assert "<td>EGFR T790M</td><td>POSSIBLE, confirm (reads only)</td>" in text
    assert '<b>NOT ASSESSABLE (1 catalogue change):</b> <span class="small">MET D1228N</span>' in text
    assert "Some negative sites are not informative" in text


BIDI = "\u202eRB1\u202c \u2066x\u2069"


def test_bidi_controls_are_neutralised_in_html_and_tsv(tmp_path):
    """#9.13: U+202A-U+202E and U+2066-U+2069 never reach a report; they are shown as code points."""
    assert tsv_cell(BIDI) == "<U+202E>RB1<U+202C> <U+2066>x<U+2069>"
    m = model([row(alteration="T790M", cautions=[BIDI])])
    m["sample"]["therapy_text"] = BIDI
    html, tsv = tmp_path / "r.html", tmp_path / "r.tsv"
    write_html(m, str(html))
    write_tsv(m, str(tsv))
    for text in (html.read_text(), tsv.read_text()):
        assert not any(ch in text for ch in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
    assert "&lt;U+202E&gt;RB1" in html.read_text()


def test_timeline_header_cells_are_neutralised(tmp_path):
    """#9.12: a sample named like a formula, or with a tab/newline, is inert in timeline.tsv's header."""
    reports = []
    for i, (sample, date) in enumerate([("=HYPERLINK(\"x\")", "2024-01-01"), ("S\t2\nx", "2024-02-01")]):
        m = model([row("actionable_resistance", current=["erlotinib"], vaf=0.01 * (i + 1))])
        m["sample"].update(sample=sample, collection_date=date)
        p = tmp_path / f"{i}.json"
        p.write_text(json.dumps(m))
        reports.append(str(p))
    out = tmp_path / "t"
    do_longitudinal(reports, "P1", f"{out}.json", f"{out}.tsv", f"{out}.html")
    rows = [r.split("\t") for r in (tmp_path / "t.tsv").read_text().splitlines()]
    assert rows[0][:4] == ["patient", "alteration", "mechanism", "sample"]  # long form (#12)
    assert [r[3] for r in rows[1:]] == ["'=HYPERLINK(\"x\")", "S 2 x"]
    html = (tmp_path / "t.html").read_text()
    assert "<svg" in html and "<polyline" in html and "<script" not in html


def test_formula_at_header_start_is_quoted():
    """The header goes through the same cell function as the body."""
    assert tsv_cell("=1+1:S") == "'=1+1:S"


def test_render_cli_writes_findings_table(tmp_path):
    """ctresist render of a report-model JSON: one <tbody> per finding in the findings table."""
    calls = [row("actionable_resistance", current=["erlotinib"]),
             row("actionable_resistance", entry="CIVIC_1", source="CIViC", current=["erlotinib"])]
    src = tmp_path / "m.json"
    src.write_text(json.dumps(model(calls)))
    subprocess.run(["ctresist", "render", str(src), "--html", str(tmp_path / "r.html")], check=True)
    html = (tmp_path / "r.html").read_text()
    findings = html.split('<table class="findings" id="findings">')[1].split("ctDNA context and quality")[0]
    assert findings.count('<tbody class="finding') == 1 and "Evidence (2 sources)" in findings


def test_no_resistance_is_never_claimed_when_variants_were_not_interpretable(tmp_path):
    """ALK02's case since the SnpEff reader refuses its 15-field ANN entries: no call, but the page
    says the sample was not fully assessed, names the variants and shows the limitations at the top."""
    m = model([])
    m["not_interpretable"] = [{"gene": "ALK", "variant": "chr2:29445270:A>C", "record": 1,
                               "reason": "malformed SnpEff entry"}]
    m["summary"]["limitations"] = ["1 variant(s) in catalogue genes could not be interpreted (see 'not interpretable')"]
    html = tmp_path / "r.html"
    write_html(m, str(html))
    text = html.read_text()
    assert ("NOT FULLY ASSESSED: 1 variant in catalogue genes could not be interpreted (ALK chr2:29445270:A&gt;C); "
            "resistance among them cannot be excluded.") in text
    top = text.split('id="findings"')[0] if 'id="findings"' in text else text.split("Resistance findings")[0]
    assert "Not examined in this report:" in top and "could not be interpreted (see &#39;not interpretable&#39;)" in top


def test_options_carry_their_weight_and_investigational_agents_stand_apart(tmp_path):
    """Per-option level and drug status from the catalogue's option line; an investigational agent
    is labelled in words (and dashed), an option in doubt says what may resist it."""
    c = row("actionable_resistance", gene="ALK", alteration="G1202R", variant="2:29220747:C>T",
            current=["alectinib"], options=["lorlatinib", "neladalkib"],
            option_evidence="lorlatinib: approved; neladalkib: preclinical (investigational)")
    [f] = build_findings([c])
    assert f["options"] == [
        {"option": "lorlatinib", "evidence": "approved", "regulatory": "approved", "investigational": False,
         "resisted_by": []},
        {"option": "neladalkib", "evidence": "preclinical", "regulatory": "investigational", "investigational": True,
         "resisted_by": []}]
    m = model([c])
    m["summary"].update(drugs_resisted=["alectinib"], remaining_options=["lorlatinib", "neladalkib"],
                        options_in_doubt={"lorlatinib": ["ALK L1196M"]})
    html = tmp_path / "r.html"
    write_html(m, str(html))
    text = html.read_text()
    assert ('<span class="tag">lorlatinib <span class="small">(evidence: approved; in doubt: possibly resisted by '
            'ALK L1196M)</span></span>') in text
    assert ('<span class="tag inv">neladalkib <span class="small">(evidence: preclinical; INVESTIGATIONAL agent)'
            '</span></span>') in text


def test_tp53_rb1_page_names_transformation_risk(tmp_path):
    """TP53 + RB1 inactivated (no drug resisted): the page says transformation risk and re-biopsy, in
    the banner, the status and the meaning; never 'does not affect the current therapy'."""
    calls = [row(gene="RB1", alteration="loss", variant="", mechanism="histologic_transformation", resists=(),
                 options=["platinum-etoposide"], copy_number=0.3, vaf=None, depth=None, alt_reads=None,
                 annotation="CNV", hgvsc=None, transcript=None),
             row(gene="TP53", alteration="R273H", variant="17:7673802:C>T", mechanism="histologic_transformation",
                 resists=(), entry="TP53_loss", hgvsc="ENST00000269305.9:c.818G>A")]
    m = model(calls)
    m["summary"]["transformation_hint"] = ("TP53 and RB1 both inactivated: small-cell transformation is possible; "
                                           "consider a re-biopsy for histology")
    html = tmp_path / "r.html"
    write_html(m, str(html))
    text = html.read_text()
    assert "HISTOLOGIC TRANSFORMATION RISK: TP53 and RB1 both inactivated" in text
    main = text.split('id="findings"')[1].split("ctDNA context and quality")[0]
    assert main.count("Transformation risk under any TKI: consider re-biopsy") == 2
    assert main.count("Histologic transformation risk: consider re-biopsy") == 2
    assert "does not affect the current therapy" not in text and "not the current therapy" not in main


def test_timeline_plot_geometry():
    """#12: ALK01's G1202R (not detected, 0.4 %, 2.11 %) on a log VAF axis (0.01-100 % over 220 px)
    against collection dates (83 and 162 days after baseline over 560 px); copy number not plotted."""
    from ctresist.longitudinal import timeline_plot

    m = {"timepoints": [{"date": d, "sample": s} for d, s in
                        (("2024-01-10", "T0"), ("2024-04-02", "T1"), ("2024-06-20", "T2"))],
         "alterations": [{"alteration": "ALK G1202R", "values": [None, 0.004, 0.0211],
                          "status": [None, "actionable_resistance", "actionable_resistance"]},
                         {"alteration": "MET amplification", "values": [None, None, 12.0],
                          "status": [None, None, "actionable_resistance"]}]}
    [line] = timeline_plot(m)["lines"]
    assert (line["label"], line["path"], line["absent"]) == ("ALK G1202R", "346.9,143.9 620.0,104.2", [60.0])
    m["timepoints"][0]["date"] = ""
    assert timeline_plot(m) is None  # an undated sample: the table alone, no invented axis


def test_an_option_resisted_by_another_finding_does_not_remain(tmp_path):
    """ALK02: ALK L1152R leaves alectinib/brigatinib/lorlatinib, but EGFR L858R (bypass) in the same
    sample resists all three: the L1152R row strikes them out and says why."""
    alk = row("actionable_resistance", gene="ALK", alteration="L1152R", variant="chr2:29445270:A>C",
              resists=["crizotinib", "ceritinib"], current=["crizotinib"],
              options=["alectinib", "brigatinib", "lorlatinib"], option_evidence="")
    egfr = row("actionable_resistance", gene="EGFR", alteration="L858R", variant="chr7:55259515:T>G",
               mechanism="bypass_activation", resists=["alectinib", "brigatinib", "crizotinib", "lorlatinib"],
               current=["crizotinib"], entry="E2")
    found = {f["gene"]: f for f in build_findings([alk, egfr])}
    assert [(o["option"], o["resisted_by"]) for o in found["ALK"]["options"]] == [
        ("alectinib", ["EGFR L858R"]), ("brigatinib", ["EGFR L858R"]), ("lorlatinib", ["EGFR L858R"])]
    html = tmp_path / "r.html"
    write_html(model([alk, egfr]), str(html))
    assert ('<span class="tag gone"><s>lorlatinib</s> <span class="small">(does not remain: resisted by '
            'EGFR L858R in this sample)</span></span>') in html.read_text()


def test_ctdna_block_without_reads_lists_unassessable_changes_compactly(tmp_path):
    """``genotype.ctdna_evidence`` without BAM or coverage: every change 'not assessable'. The page
    says so in one line per change list (not a table of blanks) with the caveat, never 'ruled out'."""
    m = model([])
    m["ctdna"] = {"source": None, "input": None, "tumor_fraction": None,
                  "summary": "2 catalogue changes at 2 known alleles: 2 not assessable; absence not assessable: "
                             "no reads or coverage given",
                  "caveat": "absence not assessable: no reads (bam) or coverage (gVCF, mosdepth, samtools depth) given",
                  "sites": [{"gene": "EGFR", "alteration": "C797S", "state": "not_assessable", "depth": None,
                             "lod": None, "informative": None, "text": "absence not assessable"},
                            {"gene": "EGFR", "alteration": "T790M", "state": "not_assessable", "depth": None,
                             "lod": None, "informative": None, "text": "absence not assessable"}]}
    html = tmp_path / "r.html"
    write_html(m, str(html))
    text = html.read_text()
    assert "Tumour fraction: not known" in text
    assert ("<b>absence not assessable: no reads (bam) or coverage (gVCF, mosdepth, samtools depth) given</b>: "
            "a negative plasma result does not rule resistance out") in text
    assert '<b>NOT ASSESSABLE (2 catalogue changes):</b> <span class="small">EGFR C797S, EGFR T790M</span>' in text
    assert 'id="ctdna-sites"' not in text and "ruled out" not in text


def test_finding_tier_is_the_strongest_declared_level():
    """CIViC rows at levels D, B, B for one alteration: the finding is Tier I (level B)."""
    rows = [row("sensitivity_evidence", entry=f"C{i}", source="CIViC", mechanism="sensitivity", resists=(), level=lv)
            for i, lv in enumerate("DBB")]
    [f] = build_findings(rows)
    assert f["tier"] == "Tier I (level B)" and [e["tier"] for e in f["evidence"]] == [
        "Tier II (level D)", "Tier I (level B)", "Tier I (level B)"]
    assert build_findings([row()])[0]["tier"] is None  # no level declared: no tier claimed


def test_fusion_driver_box_uses_the_fusion_callers_confirmation(tmp_path):
    """A fusion driver: the box shows ``driver_confirmation`` (detected / not detected / not
    assessed) and any fusion that contradicts the sheet's driver."""
    m = model([], driver="ALK fusion", driver_text="EML4-ALK")
    html = tmp_path / "r.html"
    for status, text, want in [
            ("detected", "driver EML4::ALK variant 1 detected: 12 split reads", "driver EML4::ALK variant 1 detected: "
             "12 split reads. The sample's tumour DNA was seen."),
            ("not_detected", "driver not detected: ctDNA may be uninformative",
             "<b>not detected</b>: driver not detected: ctDNA may be uninformative."),
            ("not_assessed", "no fusion/SV file given: the driver fusion and acquired fusions were not looked for",
             "a fusion is not visible in a small-variant VCF (no fusion/SV file given")]:
        m["driver_confirmation"] = {"status": status, "text": text, "fusion": None, "contradicting": [
            {"fusion": "KIF5B::RET", "text": "KIF5B::RET (8 reads) is an active RET fusion that contradicts the "
                                            "sheet's driver 'EML4-ALK': check the driver or the sample"}]}
        write_html(m, str(html))
        box = html.read_text().split('id="driver"')[1].split("</div>")[0]
        assert want in box and "contradicts the sheet&#39;s driver" in box, status
