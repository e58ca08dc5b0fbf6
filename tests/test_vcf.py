"""The VCF reader: formats, samples, alleles, annotations, region queries, and its error lines."""
from __future__ import annotations

import pytest
from conftest import GRCH37_CONTIGS, csq, rec, vcf_text

from ctresist.errors import InputError
from ctresist.genes import detect_build, genes_for_build
from ctresist.io.vcf import read_variants, vep_allele

GENES = genes_for_build("GRCh38")
G1202R = ("2", 29220747, "C", "T")


def read(path, **kw):
    return list(read_variants(path, GENES, **kw))


def test_vep_csq_prefers_mane_transcript_and_reads_counts(write_vcf):
    """CSQ with two transcripts: the MANE/canonical one gives the protein change; AD/DP/AF read."""
    info = "CSQ=" + ",".join([csq("ALK", "T", "p.Gly999Arg", tx="ENST00000999999.1", canonical="", mane=""),
                              csq("ALK", "T", "p.Gly1202Arg")])
    path = write_vcf("a.vcf", vcf_text([rec(*G1202R, info, "0/1:2988,12:3000:0.004")]))
    [v] = read(path)
    assert (v.gene, v.hgvsp, v.alt_reads, v.depth, v.vaf, v.annotation) == ("ALK", "G1202R", 12, 3000, 0.004, "VEP")


def test_snpeff_ann(write_vcf):
    """SnpEff ANN: gene and HGVS.p read from the allele's first (highest-impact) annotation."""
    fmt = ("Allele | Annotation | Annotation_Impact | Gene_Name | Gene_ID | Feature_Type | Feature_ID | "
           "Transcript_BioType | Rank | HGVS.c | HGVS.p | cDNA.pos / cDNA.length")
    hdr = [f'##INFO=<ID=ANN,Number=.,Type=String,Description="Functional annotations: \'{fmt}\' ">']
    info = "ANN=T|missense_variant|MODERATE|ALK|ALK|transcript|ENST00000389048.8|protein_coding|22/29|c.3604G>A|p.Gly1202Arg|"
    path = write_vcf("a.vcf", vcf_text([rec(*G1202R, info)], csq_format=None, extra_header=hdr))
    [v] = read(path)
    assert (v.gene, v.hgvsp, v.annotation) == ("ALK", "G1202R", "SnpEff")


def test_multiallelic_per_allele_counts_and_annotation(write_vcf):
    """Multi-allelic record: each ALT gets its own AD, AF and CSQ entry."""
    info = "CSQ=" + ",".join([csq("ALK", "T", "p.Gly1202Arg"), csq("ALK", "G", "p.Gly1202Arg", hgvsc="c.3604G>C")])
    path = write_vcf("m.vcf", vcf_text([rec("2", 29220747, "C", "T,G", info, "0/1/2:900,60,40:1000:0.06,0.04")]))
    a, b = read(path)
    assert (a.alt, a.alt_reads, a.vaf) == ("T", 60, 0.06)
    assert (b.alt, b.alt_reads, b.vaf) == ("G", 40, 0.04)


def test_vep_allele_trimming_for_indels():
    """VEP writes a deletion's allele without the shared first base, '-' when empty."""
    assert vep_allele("AGGAATTAAGAGAAGC", ["A"], "A") == "-"
    assert vep_allele("A", ["AT"], "AT") == "T"
    assert vep_allele("C", ["T"], "T") == "T"


def test_multisample_tumour_from_header_and_normal(write_vcf):
    """Mutect2-style ##tumor_sample/##normal_sample headers choose the columns."""
    text = vcf_text([rec(*G1202R, "CSQ=" + csq("ALK", "T", "p.Gly1202Arg"),
                         ["0/0:500,0:500:0", "0/1:950,50:1000:0.05"])],
                    samples=("N1", "T1"), extra_header=["##tumor_sample=T1", "##normal_sample=N1"])
    [v] = read(write_vcf("tn.vcf", text))
    assert (v.alt_reads, v.normal_alt_reads) == (50, 0)


def test_multisample_without_tumour_name_is_an_error(write_vcf):
    """Two unnamed columns: refuse rather than guess which one is the tumour."""
    text = vcf_text([rec(*G1202R, ".", ["0/1:9,1:10:0.1", "0/1:9,1:10:0.1"])], samples=("A", "B"))
    with pytest.raises(InputError, match=r"2 sample columns \(A, B\).*tumor_sample"):
        read(write_vcf("ab.vcf", text))


def test_chr_prefix_and_indexed_region_query_equal_streaming(write_vcf):
    """chr7 and 7 alike; an indexed bgzipped file read by regions gives the same alleles as streaming."""
    recs = [rec("chr1", 1000, "A", "G", "."),
            rec("chr2", 29220747, "C", "T", "CSQ=" + csq("ALK", "T", "p.Gly1202Arg")),
            rec("chr7", 1000, "A", "G", ".")]
    text = vcf_text(recs, chr_prefix=True)
    streamed = read(write_vcf("s.vcf.gz", text, bgzip=True, index=False))
    queried = read(write_vcf("q.vcf.gz", text, bgzip=True, index=True))
    assert [v.key for v in streamed] == [v.key for v in queried] == ["chr2:29220747:C>T"]


def test_missing_hgvsp_is_not_interpretable(write_vcf):
    """A missense consequence without HGVSp is kept with the reason, never silently dropped."""
    path = write_vcf("n.vcf", vcf_text([rec(*G1202R, "CSQ=" + csq("ALK", "T", ""))]))
    [v] = read(path)
    assert v.problem == "VEP consequence missense_variant without a protein change (HGVSp)"


def test_csq_field_order_taken_from_header(write_vcf):
    """CSQ fields in a non-default order are read by name from the header's Format."""
    fmt = "SYMBOL|HGVSp|Allele|Consequence|Feature|CANONICAL"
    info = "CSQ=ALK|ENSP1:p.Gly1202Arg|T|missense_variant|ENST00000389048|YES"
    [v] = read(write_vcf("o.vcf", vcf_text([rec(*G1202R, info)], csq_format=fmt)))
    assert (v.gene, v.hgvsp) == ("ALK", "G1202R")


@pytest.mark.parametrize("sample,match", [
    ("0/1:10,5:12:1.5", r"bad\.vcf: record 1 \(2:29220747\): allele fraction 1.5 outside 0-1"),
    ("0/1:10,50:20:0.5", r"bad\.vcf: record 1 \(2:29220747\): alt reads 50 exceed depth 20"),
])
def test_inconsistent_format_fields(write_vcf, sample, match):
    """Impossible FORMAT values name the file, the record and CHROM:POS."""
    path = write_vcf("bad.vcf", vcf_text([rec(*G1202R, ".", sample)]))
    with pytest.raises(InputError, match=match):
        read(path)


def test_unsorted_and_duplicate_records(write_vcf):
    """Streaming checks order and exact duplicates, with the record number."""
    a = rec("2", 29220747, "C", "T")
    b = rec("2", 29220700, "C", "T")
    with pytest.raises(InputError, match=r"record 2 \(2:29220700\): records are not sorted"):
        read(write_vcf("u.vcf", vcf_text([a, b])))
    with pytest.raises(InputError, match=r"record 2 \(2:29220747\): duplicate of the previous record"):
        read(write_vcf("d.vcf", vcf_text([a, a])))


def test_plain_gzip_is_streamed_and_text_named_gz_refused(tmp_path):
    """Plain gzip (not BGZF) is streamed (only region queries need BGZF); text named .gz gets a fix."""
    import gzip

    g = tmp_path / "g.vcf.gz"
    with gzip.open(g, "wt") as fh:
        fh.write(vcf_text([rec(*G1202R, "CSQ=" + csq("ALK", "T", "p.Gly1202Arg"))]))
    [v] = read(str(g))
    assert (v.key, v.hgvsp, v.alt_reads) == ("2:29220747:C>T", "G1202R", 10)
    t = tmp_path / "t.vcf.gz"
    t.write_text(vcf_text([]))
    with pytest.raises(InputError, match="named .gz but not gzip-compressed"):
        read(str(t))


def test_detect_build_from_contig_lengths():
    """Header contig lengths tell GRCh37 from GRCh38, with or without chr."""
    assert detect_build({"chr1": 249250621, "chr2": 243199373}) == "GRCh37"
    assert detect_build({"1": 248956422}) == "GRCh38"
    assert detect_build({}) is None
    assert detect_build(GRCH37_CONTIGS) == "GRCh37"


def test_empty_vcf_gives_no_variants(write_vcf):
    """A header-only VCF is valid: nothing to report, not an error."""
    assert read(write_vcf("e.vcf", vcf_text([]))) == []


def test_unannotated_vcf_known_site_matching(tmp_path, write_vcf):
    """No CSQ/ANN: an exact known allele (ALK G1202R 2:29220747C>T, GRCh38) is interpreted; any other
    allele in a catalogue gene is 'not interpretable', listed with its position, never dropped."""
    from ctresist.annotate import do_annotate
    from ctresist.catalogue import load_catalogue
    from ctresist.interpret import Context

    recs = [rec("2", 29220747, "C", "T", ".", "0/1:2900,100:3000:0.033"),
            rec("2", 29220750, "G", "A", ".", "0/1:2900,100:3000:0.033")]
    path = write_vcf("raw.vcf", vcf_text(recs, csq_format=None))
    ctx = Context(sample="S", driver_text="EML4-ALK", driver="ALK fusion", therapy_text="alectinib",
                  therapy=["alectinib"], specimen="plasma", build="GRCh38")
    m = do_annotate(ctx, path, None, load_catalogue())
    assert [(c["status"], c["alteration"], c["annotation"]) for c in m["calls"]] == [
        ("actionable_resistance", "G1202R", "known_site")]
    assert m["not_interpretable"] == [{"gene": "ALK", "variant": "2:29220750:G>A", "record": 2,
                                       "reason": "not interpretable without a reference or VEP/SnpEff annotation "
                                                 "(no CSQ/ANN in the VCF and not a known catalogue allele)"}]


def test_preferred_transcript_override(tmp_path, write_vcf):
    """The transcript used for the protein change follows config 'preferred_transcripts'."""
    from ctresist.annotate import do_annotate
    from ctresist.catalogue import load_catalogue
    from ctresist.interpret import Context

    info = "CSQ=" + ",".join([csq("ALK", "T", "p.Gly1202Arg", tx="ENST00000389048.8", mane="", canonical=""),
                              csq("ALK", "T", "p.Gly1100Arg", tx="ENST00000618119.4", mane="", canonical="")])
    path = write_vcf("t.vcf", vcf_text([rec(*G1202R, info, "0/1:2900,100:3000:0.033")]))
    ctx = Context(sample="S", driver_text="EML4-ALK", driver="ALK fusion", therapy_text="alectinib",
                  therapy=["alectinib"], specimen="plasma", build="GRCh38")
    default = do_annotate(ctx, path, None, load_catalogue())
    assert [c["alteration"] for c in default["calls"]] == ["G1202R"]
    other = do_annotate(ctx, path, None, load_catalogue(), transcripts={"ALK": "ENST00000618119"})
    assert other["calls"] == [] and other["other_variants"][0]["change"] == "G1100R"
