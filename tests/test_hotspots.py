"""Catalogue hotspot sites per driver and build (ctresist.hotspots) and their BED/VCF export for
force-calling upstream; exported EGFR coordinates are checked against the real GRCh38 sequence."""
from __future__ import annotations

import pysam
import pytest
from bam_builder import LOCUS_FASTA, egfr_locus

from ctresist.errors import InputError
from ctresist.hotspots import export_hotspots, missing_alleles, sites_for


def by_label(sites):
    return {s.label: s for s in sites}


def test_egfr_context_sites():
    sites = by_label(sites_for("GRCh38", "EGFR mutation"))
    t790m = sites["EGFR T790M 7:55181378C>T"]
    assert (t790m.role, t790m.hgvsc) == ("resistance", "ENST00000275493:c.2369C>T")
    assert "EGFR_T790M__EGFR_mutation" in t790m.entries
    assert sites["EGFR C797S 7:55181398T>A"].role == "resistance"
    assert sites["EGFR C797S 7:55181399G>C"].role == "resistance"  # the second codon change
    l858r = sites["EGFR L858R 7:55191822T>G"]
    assert l858r.role == "driver"  # the driver itself (shedding), even where CIViC lists it
    assert "EGFR E746_A750del 7:55174771AGGAATTAAGAGAAGC>A" in sites
    assert not any(s.startswith("ALK ") for s in sites)
    # KRAS activating_mutation entry: KRAS G12 alleles in GRCh38
    assert "KRAS G12C 12:25245351C>A" in sites


def test_builds_have_the_same_sites():
    s37, s38 = sites_for("GRCh37", "EGFR mutation"), sites_for("GRCh38", "EGFR mutation")
    assert [(s.gene, s.alteration, s.ref, s.alt) for s in s37] == \
        [(s.gene, s.alteration, s.ref, s.alt) for s in s38]
    assert by_label(s37)["EGFR T790M 7:55249071C>T"].hgvsc == "ENST00000275493:c.2369C>T"


def test_drug_filter():
    osi = {s.alteration for s in sites_for("GRCh38", "EGFR mutation", drugs=["osimertinib"])}
    roci = {s.alteration for s in sites_for("GRCh38", "EGFR mutation", drugs=["rociletinib"])}
    assert {"C797S", "G724S", "T790M"} <= osi  # T790M through the C797S+T790M compounds
    assert "D761Y" not in osi and "G724S" not in roci and "L798I" in roci


def test_alk_context_and_missing_alleles():
    sites = by_label(sites_for("GRCh38", "ALK fusion"))
    assert sites["ALK G1202R 2:29220747C>T"].hgvsc == "ENST00000389048:c.3604G>A"
    missing = missing_alleles("GRCh38", "ALK fusion")
    assert "ALK T1151dup" in missing  # an insertion: no known allele, cannot be genotyped
    assert all(" fusion" not in m and " amplification" not in m for m in missing)
    # catalogue 1.1.0 rows (OncoKB R2) without a derived genomic allele yet: listed, so an
    # unannotated VCF reports them as not genotypable instead of ruling them out
    assert sorted(missing_alleles("GRCh38", "EGFR mutation")) == [
        "EGFR G796S", "EGFR L718V", "EGFR L792F", "EGFR T854A"]


def test_export_bed(tmp_path):
    out = tmp_path / "egfr.bed"
    n = export_hotspots("GRCh38", "EGFR mutation", "bed", out)
    lines = out.read_text().splitlines()
    assert lines[0] == ('track name=ctresist_hotspots description="ctresist catalogue sites, '
                        'EGFR mutation, GRCh38"')
    assert len(lines) == n + 1 == len(sites_for("GRCh38", "EGFR mutation")) + 1
    assert "chr7\t55181377\t55181378\tEGFR:T790M:c.2369C>T:C>T" in lines
    assert "chr7\t55174770\t55174786\tEGFR:E746_A750del:c.2235_2249del:AGGAATTAAGAGAAGC>A" in lines
    export_hotspots("GRCh37", "EGFR mutation", "bed", tmp_path / "b37.bed")
    assert "7\t55249070\t55249071\tEGFR:T790M:c.2369C>T:C>T" in \
        (tmp_path / "b37.bed").read_text().splitlines()


@pytest.mark.skipif(not LOCUS_FASTA.exists(), reason=f"{LOCUS_FASTA} not found")
def test_exported_egfr_positions_hold_the_ref_allele(tmp_path):
    out = tmp_path / "egfr.bed"
    export_hotspots("GRCh38", "EGFR mutation", "bed", out)
    start, seq = egfr_locus()
    checked = 0
    for line in out.read_text().splitlines()[1:]:
        chrom, s, e, name = line.split("\t")
        ref = name.rsplit(":", 1)[1].split(">")[0]
        if name.startswith("EGFR:"):
            assert seq[int(s) - start + 1:int(e) - start + 1] == ref, line
            checked += 1
    assert checked >= 40


def test_export_vcf_gz_is_indexed_and_readable(tmp_path):
    out = tmp_path / "egfr.vcf.gz"
    n = export_hotspots("GRCh38", "EGFR mutation", "vcf", out)
    assert (tmp_path / "egfr.vcf.gz.tbi").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["egfr.vcf.gz", "egfr.vcf.gz.tbi"]
    with pysam.VariantFile(str(out)) as vf:
        assert vf.header.contigs["chr7"].length == 159345973
        recs = list(vf.fetch("chr7", 55181377, 55181378))
        assert [(r.pos, r.ref, r.alts, r.id, r.info["PROTEIN"], r.info["ROLE"]) for r in recs] \
            == [(55181378, "C", ("T",), "EGFR_T790M", "T790M", "resistance")]
        assert sum(1 for _ in vf.fetch()) == n


def test_export_errors(tmp_path):
    with pytest.raises(InputError, match="export format 'json': expected bed or vcf"):
        export_hotspots("GRCh38", "EGFR mutation", "json", tmp_path / "x")
    with pytest.raises(InputError, match="genome build 'hg19'"):
        export_hotspots("hg19", "EGFR mutation", "bed", tmp_path / "x.bed")
    with pytest.raises(InputError, match="driver 'EGFR' is not a catalogue driver context"):
        sites_for("GRCh38", "EGFR")
    with pytest.raises(InputError, match="write the BED uncompressed"):
        export_hotspots("GRCh38", "EGFR mutation", "bed", tmp_path / "x.bed.gz")
    assert not any(tmp_path.iterdir())
