"""Reports cannot be subverted by hostile strings; the CLI turns user errors into one line."""
from __future__ import annotations

import json
import subprocess
from html.parser import HTMLParser

import pytest
from conftest import csq, rec, vcf_text

from ctresist.report import TSV_COLUMNS, tsv_cell

HOSTILE = '"><img src=x onerror=alert(1)><script>alert(2)</script>{{ 7*7 }}{% raw %}'


class Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def cli(*args, cwd=None):
    return subprocess.run(["ctresist", *args], capture_output=True, text=True, cwd=cwd)


def annotate(tmp_path, vcf, driver="EML4-ALK", therapy="alectinib", sample="S1", extra=()):
    out = tmp_path / f"{sample}.json"
    p = cli("annotate", "--sample", sample, "--vcf", vcf, "--driver", driver, "--therapy", therapy,
            "--specimen", "plasma", "--build", "GRCh38", "-o", str(out), *extra)
    return p, out


@pytest.mark.parametrize("value,expected", [("=HYPERLINK(1)", "'=HYPERLINK(1)"), ("+1+1", "'+1+1"),
                                            ("@SUM(A1)", "'@SUM(A1)"), ("-0.5", "-0.5"), ("a\tb", "a b"),
                                            (None, ""), (["x", "y"], "x;y")])
def test_tsv_cells_are_inert(value, expected):
    """Formula prefixes are neutralised; numbers, lists and missing values are written plainly."""
    assert tsv_cell(value) == expected


def test_hostile_strings_are_inert_in_html_and_tsv(tmp_path, write_vcf):
    """Hostile text in INFO/CSQ strings and the sample name: no injected element in the HTML."""
    info = "CSQ=" + csq("ALK", "T", "p.Gly1202Arg", tx=HOSTILE.replace(",", " ").replace("|", " ").replace(";", " "))
    vcf = write_vcf("h.vcf", vcf_text([rec("2", 29220747, "C", "T", info, "0/1:2900,100:3000:0.033")]))
    p, out = annotate(tmp_path, vcf, sample="=cmd|' /C calc'!A0")
    assert p.returncode == 0, p.stderr
    model = json.loads(out.read_text())
    model["sample"]["therapy_text"] = HOSTILE
    out.write_text(json.dumps(model))
    html, tsv = tmp_path / "r.html", tmp_path / "r.tsv"
    assert cli("render", str(out), "--html", str(html), "--tsv", str(tsv)).returncode == 0
    parser = Tags()
    parser.feed(html.read_text())
    assert not [t for t, _ in parser.tags if t in ("script", "img", "iframe")]
    assert not [a for _, a in parser.tags if any(k.startswith("on") for k in a)]
    assert "{{ 7*7 }}" in html.read_text() and "49" not in html.read_text().split("{{ 7*7 }}")[0][-5:]
    lines = tsv.read_text().splitlines()
    assert lines[0].split("\t") == TSV_COLUMNS
    rows = [dict(zip(TSV_COLUMNS, r.split("\t"))) for r in lines[1:]]
    assert all(r["sample"] == "'=cmd|' /C calc'!A0" for r in rows)
    # G1202R is the one finding; every catalogue change of the ctDNA block follows as a site row
    # (no BAM or coverage given: each says so, never "not detected")
    assert [(r["row_type"], r["status"], r["finding"]) for r in rows if r["row_type"] == "finding"] == [
        ("finding", "actionable_resistance", "ALK G1202R")]
    sites = [r for r in rows if r["row_type"] == "ctdna_site"]
    assert [r["finding"] for r in sites] == [f"{s['gene']} {s['alteration']}" for s in model["ctdna"]["sites"]]
    assert {(r["status"], r["support"]) for r in sites if r["finding"] != "ALK G1202R"} == {
        ("not_assessable", "absence not assessable: no reads or coverage given")}
    [g1202r] = [r for r in sites if r["finding"] == "ALK G1202R"]
    assert (g1202r["status"], g1202r["depth"], g1202r["alt_reads"], g1202r["vaf"]) == (
        "detected_by_caller", "3000", "100", "0.033")


def test_error_is_one_line_without_traceback(tmp_path, write_vcf):
    """A user error: exit 1, one stderr line naming file and record, no traceback, no output."""
    vcf = write_vcf("bad.vcf", vcf_text([rec("2", 29220747, "C", "T", ".", "0/1:10,5:12:1.5")]))
    p, out = annotate(tmp_path, vcf)
    assert p.returncode == 1
    errors = [ln for ln in p.stderr.splitlines() if "error" in ln]
    assert errors == [f"ctresist: error: {vcf}: record 1 (2:29220747): allele fraction 1.5 outside 0-1; "
                      "fix the caller's FORMAT fields"]
    assert "Traceback" not in p.stderr
    assert not out.exists() and not list(tmp_path.glob(".S1.json*"))


def test_build_mismatch_is_refused(tmp_path, write_vcf):
    """A GRCh37 VCF declared GRCh38: one clear line."""
    from conftest import GRCH37_CONTIGS

    vcf = write_vcf("b37.vcf", vcf_text([rec("2", 29443613, "C", "T", ".")], contigs=GRCH37_CONTIGS))
    p, _ = annotate(tmp_path, vcf)
    assert p.returncode == 1
    assert f"{vcf}: header contig lengths are GRCh37, but the sample sheet says genome_build GRCh38" in p.stderr


def test_unknown_drug_suggests_closest(tmp_path, write_vcf):
    vcf = write_vcf("e.vcf", vcf_text([]))
    p, _ = annotate(tmp_path, vcf, therapy="lorlatinb")
    assert "unknown drug 'lorlatinb'; did you mean lorlatinib" in p.stderr and p.returncode == 1


def test_deterministic_outputs(tmp_path, write_vcf, monkeypatch):
    """Two runs give byte-identical JSON/TSV, and identical HTML with SOURCE_DATE_EPOCH set."""
    vcf = write_vcf("d.vcf", vcf_text([rec("2", 29220747, "C", "T", "CSQ=" + csq("ALK", "T", "p.Gly1202Arg"))]))
    outs = []
    for i in range(2):
        d = tmp_path / str(i)
        d.mkdir()
        p, out = annotate(d, vcf)
        assert p.returncode == 0
        subprocess.run(["ctresist", "render", str(out), "--html", str(d / "r.html"), "--tsv", str(d / "r.tsv")],
                       check=True, env={**__import__("os").environ, "SOURCE_DATE_EPOCH": "1700000000"})
        outs.append([(d / n).read_bytes() for n in ("S1.json", "r.tsv", "r.html")])
    assert outs[0] == outs[1]


def test_help_explains(tmp_path):
    p = cli("--help")
    assert "which resistance to targeted therapy has appeared" in p.stdout
    assert cli("catalogue", "validate").stdout.startswith("catalogue ")


def test_batch_summary_order_patients_mechanisms_and_links(tmp_path, write_vcf):
    """Actionable samples first, then the rest, failures last with their patient (from the sheet);
    one count per mechanism across the batch; each sample links to its own report."""
    from ctresist.longitudinal import do_batch_summary

    hit = write_vcf("hit.vcf", vcf_text([rec("2", 29220747, "C", "T", "CSQ=" + csq("ALK", "T", "p.Gly1202Arg"),
                                             "0/1:2900,100:3000:0.033")]))
    empty = write_vcf("empty.vcf", vcf_text([]))
    paths = []
    for sample, vcf in (("A_none", empty), ("Z_hit", hit)):
        d = tmp_path / "results" / sample
        d.mkdir(parents=True)
        p, out = annotate(d, vcf, sample=sample, extra=("--patient", f"P_{sample}"))
        assert p.returncode == 0, p.stderr
        out.rename(d / "report.json")
        paths.append(str(d / "report.json"))
    batch = tmp_path / "results" / "_batch"
    batch.mkdir()
    do_batch_summary(paths, ["B1: test_data/missing.vcf.gz: file not found"], str(batch / "summary.tsv"),
                     str(batch / "summary.html"), patients={"B1": "PB"})
    rows = [ln.split("\t") for ln in (batch / "summary.tsv").read_text().splitlines()]
    assert rows[0] == ["sample", "patient", "outcome", "actionable", "headline", "mechanisms", "report"]
    assert [(r[0], r[1], r[2], r[3], r[5], r[6]) for r in rows[1:]] == [
        ("Z_hit", "P_Z_hit", "ok", "ALK G1202R", "On-target kinase mutation (solvent front)", "../Z_hit/report.html"),
        ("A_none", "P_A_none", "ok", "", "", "../A_none/report.html"),
        ("B1", "PB", "failed", "", "", "")]
    html = (batch / "summary.html").read_text()
    assert '<a href="../Z_hit/report.html" rel="noopener noreferrer">Z_hit</a>' in html
    assert "<td>On-target kinase mutation (solvent front)</td><td>1</td>" in html
    assert "<td>B1</td><td>PB</td><td>FAILED</td>" in html


@pytest.mark.parametrize("content,message", [
    ("{}", "$: 'ctresist_version' is a required property"),
    ('{"calls": "x"}', "$: 'ctresist_version' is a required property"),
])
def test_render_refuses_what_is_not_a_report_model(tmp_path, content, message):
    """A JSON that is not a report model: one line naming the file, exit 1, no traceback, nothing
    written."""
    src = tmp_path / "x.json"
    src.write_text(content)
    p = cli("render", str(src), "--html", str(tmp_path / "r.html"), "--tsv", str(tmp_path / "r.tsv"))
    assert p.returncode == 1 and "Traceback" not in p.stderr
    assert p.stderr.strip() == (f"ctresist: error: {src}: not a ctresist report model: {message}; "
                                "give a report.json written by 'ctresist annotate'")
    assert list(tmp_path.iterdir()) == [src]


def test_render_names_the_broken_call(tmp_path, write_vcf):
    """A report whose call lost its gene: the error points at that call."""
    vcf = write_vcf("d.vcf", vcf_text([rec("2", 29220747, "C", "T", "CSQ=" + csq("ALK", "T", "p.Gly1202Arg"))]))
    p, out = annotate(tmp_path, vcf)
    assert p.returncode == 0, p.stderr
    model = json.loads(out.read_text())
    del model["calls"][0]["gene"]
    out.write_text(json.dumps(model))
    p = cli("render", str(out), "--html", str(tmp_path / "r.html"))
    assert p.returncode == 1 and "$.calls[0]: 'gene' is a required property" in p.stderr


def test_timeline_and_summary_name_the_file_that_is_not_a_report(tmp_path):
    bad = tmp_path / "other.json"
    bad.write_text('{"patient": "P1"}')
    for args in (("longitudinal", str(bad), "--patient", "P1", "--json", str(tmp_path / "t.json"), "--tsv",
                  str(tmp_path / "t.tsv"), "--html", str(tmp_path / "t.html")),
                 ("summary", str(bad), "--tsv", str(tmp_path / "s.tsv"), "--html", str(tmp_path / "s.html"))):
        p = cli(*args)
        assert p.returncode == 1 and "Traceback" not in p.stderr
        assert p.stderr.startswith(f"ctresist: error: {bad}: not a ctresist report model: $: ")
    assert list(tmp_path.iterdir()) == [bad]
