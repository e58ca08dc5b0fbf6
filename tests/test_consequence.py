"""Protein consequences for unannotated VCFs: ``bcftools csq`` (pysam) on a real GRCh38 reference,
read back through the one VCF reader (INFO/BCSQ) into the same one-letter forms VEP gives.

Tests that need the real EGFR/KIT reference (built from ../shared/data, see egfr_reference.py)
skip when that data is absent; the BCSQ parsing tests at the end need nothing.
"""
from __future__ import annotations

import csv
import os

import pysam
import pysam.bcftools
import pytest
from egfr_reference import (  # noqa: F401  (fixtures are used by name)
    EGFR_TX,
    codon_start,
    egfr_reference,
    egfr_reference_nochr,
    mutated_protein,
    protein_sequence,
)

from ctresist.consequence import annotate_with_csq
from ctresist.errors import InputError
from ctresist.genes import annotations_dir, genes_for_build
from ctresist.io.vcf import VcfInfo, bcsq_protein_change, read_variants

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GENES = genes_for_build("GRCh38")
EGFR = [g for g in GENES if g.name == "EGFR"]
EGFR_KIT = [g for g in GENES if g.name in ("EGFR", "KIT")]
PREFERRED = {g.name: {g.mane_enst, g.msk_enst} - {""} for g in GENES}
CONTIGS = {"1": 248956422, "4": 190214555, "7": 159345973}


def raw_vcf(path, records, chrom_prefix="chr", gt="0/1", bgzip=False, index=False) -> str:
    """An unannotated single-sample VCF; records are (chrom, pos, ref, alt) or with a GT."""
    lines = ["##fileformat=VCFv4.2"]
    lines += [f"##contig=<ID={chrom_prefix}{c},length={n}>" for c, n in CONTIGS.items()]
    lines += ['##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
              '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">',
              "\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT",
                         "TUMOR"])]
    for r in records:
        chrom, pos, ref, alt = r[:4]
        g = r[4] if len(r) > 4 else gt
        ad = ",".join(["990"] + ["10"] * len(alt.split(",")))
        lines.append("\t".join([f"{chrom_prefix}{chrom}", str(pos), ".", ref, alt, ".", "PASS", ".",
                                "GT:AD", f"{g}:{ad}"]))
    text = "\n".join(lines) + "\n"
    if not bgzip:
        path.write_text(text)
        return str(path)
    plain = path.with_suffix(".plain")
    plain.write_text(text)
    pysam.tabix_compress(str(plain), str(path), force=True)
    plain.unlink()
    if index:
        pysam.tabix_index(str(path), preset="vcf", force=True)
    return str(path)


def run(vcf, ref, tmp_path, genes=EGFR, info=None):
    out = annotate_with_csq(vcf, ref.fasta, ref.gff3, genes, str(tmp_path / "csq"))
    return list(read_variants(out, genes, transcripts=PREFERRED, info_out=info))


def changes(variants):
    return {(v.pos, v.ref, v.alt): v.hgvsp for v in variants}


# --- real reference: catalogue alleles ------------------------------------------------------------

def test_known_egfr_and_kit_alleles_give_their_catalogue_change(egfr_reference, tmp_path):
    """Every GRCh38 EGFR and KIT allele in annotations/known_alleles.tsv (SNVs, MNVs, the two
    exon 19 deletions; 194 alleles including T790M, C797S, L858R, L718Q, G724S) gets exactly its
    catalogue protein change from bcftools csq on the real reference, annotation source BCSQ."""
    rows = []
    with open(annotations_dir() / "known_alleles.tsv") as fh:
        body = (ln for ln in fh if not ln.startswith("#"))
        for r in csv.DictReader(body, delimiter="\t"):
            if r["build"] == "GRCh38" and r["gene"] in ("EGFR", "KIT"):
                rows.append(r)
    expected = {(int(r["pos"]), r["ref"], r["alt"]): r["protein"].removeprefix("p.") for r in rows}
    for must in ("T790M", "C797S", "L858R", "L718Q", "G724S", "E746_A750del"):
        assert must in expected.values()
    chrom = {"EGFR": "7", "KIT": "4"}
    recs = sorted({(chrom[r["gene"]], int(r["pos"]), r["ref"], r["alt"]) for r in rows},
                  key=lambda x: (x[0] != "4", x[1], x[2], x[3]))
    got = run(raw_vcf(tmp_path / "known.vcf", recs), egfr_reference, tmp_path, genes=EGFR_KIT)
    assert changes(got) == expected
    assert len(got) == len(expected) == 194
    assert {v.annotation for v in got} == {"BCSQ"} and {v.problem for v in got} == {None}
    t790m = next(v for v in got if v.hgvsp == "T790M")
    assert (t790m.gene, t790m.transcript, t790m.consequence) == ("EGFR", EGFR_TX,
                                                                 "missense_variant")


def test_exon19_deletion_and_exon20_insertions(egfr_reference, tmp_path):
    """In-frame indels are named like VEP (HGVS 3' rule, dup when the inserted residues repeat the
    preceding ones); each expected protein is checked by translating the mutated CDS:
    7:55174771 AGGAATTAAGAGAAGC>A = E746_A750del; C>CGGT after codon 770 = D770_N771insG;
    inserting AGCGTGGAC after codon 770 adds SVD after S768-V769-D770, which VEP calls
    S768_D770dup (the 'D770_N771insSVD' of the literature); ACG after codon 790 = T790dup
    (left-aligned by norm into codon 789, still named at the 3' residue)."""
    p = protein_sequence(EGFR_TX)
    d770 = codon_start(770) + 2  # last base of codon 770
    t790 = codon_start(790) + 2
    cases = {
        (55174771, "AGGAATTAAGAGAAGC", "A"): ("E746_A750del", p[:745] + p[750:]),
        (d770, "C", "CGGT"): ("D770_N771insG", p[:770] + "G" + p[770:]),
        (d770, "C", "CAGCGTGGAC"): ("S768_D770dup", p[:770] + "SVD" + p[770:]),
        (t790, "G", "GACG"): ("T790dup", p[:790] + "T" + p[790:]),
    }
    for (pos, ref, alt), (_, prot) in cases.items():
        assert mutated_protein(egfr_reference, pos, ref, alt) == prot
    got = run(raw_vcf(tmp_path / "indels.vcf", [("7", *k) for k in sorted(cases)]),
              egfr_reference, tmp_path)
    by_change = {v.hgvsp: v for v in got}
    assert sorted(by_change) == sorted(c for c, _ in cases.values())
    assert by_change["T790dup"].pos == codon_start(790) - 1  # left-aligned by bcftools norm
    assert by_change["E746_A750del"].consequence == "inframe_deletion"
    assert by_change["D770_N771insG"].consequence == "inframe_insertion"


def test_frameshift_nonsense_synonymous_delins(egfr_reference, tmp_path):
    """bcftools' frameshift (whole rest of the protein printed) becomes the first changed residue +
    fs (VEP: p.Asn771IlefsTer.. -> N771fs); MNV ACG>TAG at codon 790 is T790*; ACG>ACA is T790=;
    replacing codons 747-753 by TCC is L747_P753delinsS."""
    p = protein_sequence(EGFR_TX)
    anchor = codon_start(747) - 1
    ref = egfr_reference.fetch(anchor, codon_start(753) + 2)
    assert mutated_protein(egfr_reference, anchor, ref, ref[0] + "TCC") == p[:746] + "S" + p[753:]
    recs = [("7", anchor, ref, ref[0] + "TCC"), ("7", codon_start(771), "A", "AT"),
            ("7", 55181377, "AC", "TA"), ("7", 55181379, "G", "A")]
    got = run(raw_vcf(tmp_path / "misc.vcf", recs), egfr_reference, tmp_path)
    assert [v.hgvsp for v in got] == ["L747_P753delinsS", "N771fs", "T790*", "T790="]
    assert [v.consequence.split("&")[0] for v in got] == [
        "protein_altering_variant", "frameshift_variant", "stop_gained", "synonymous_variant"]


def test_multiallelic_record_is_split(egfr_reference, tmp_path):
    """One record T>G,C at 7:55191822 becomes two alleles after norm -m -any: L858R and L858P,
    each with its own read count."""
    got = run(raw_vcf(tmp_path / "multi.vcf", [("7", 55191822, "T", "G,C", "0/1/2")]),
              egfr_reference, tmp_path)
    assert [(v.pos, v.alt, v.hgvsp) for v in got] == [(55191822, "G", "L858R"),
                                                      (55191822, "C", "L858P")]
    assert {v.alt_reads for v in got} == {10}


def test_deletion_not_left_aligned_is_normalised(egfr_reference, tmp_path):
    """The exon 19 deletion written right-anchored (7:55174772 GGAATTAAGAGAAGCA>A, the same
    deleted bases as 55174771 AGGAATTAAGAGAAGC>A) is moved to its left-aligned, trimmed
    form by bcftools norm and still gives E746_A750del."""
    got = run(raw_vcf(tmp_path / "right.vcf", [("7", 55174772, "GGAATTAAGAGAAGCA", "A")]),
              egfr_reference, tmp_path)
    assert [(v.pos, v.ref, v.alt, v.hgvsp) for v in got] == [
        (55174771, "AGGAATTAAGAGAAGC", "A", "E746_A750del")]


@pytest.mark.parametrize("vcf_prefix", ["chr", ""])
@pytest.mark.parametrize("ref_naming", ["chr7", "7"])
def test_contig_naming_chr7_and_7(egfr_reference, egfr_reference_nochr, tmp_path, vcf_prefix,
                                  ref_naming):
    """'chr7' and '7' VCFs both work against 'chr7' and '7' references; the output keeps the
    VCF's own naming."""
    ref = egfr_reference if ref_naming == "chr7" else egfr_reference_nochr
    vcf = raw_vcf(tmp_path / "n.vcf", [("7", 55181378, "C", "T"), ("7", 55191822, "T", "G")],
                  chrom_prefix=vcf_prefix)
    got = run(vcf, ref, tmp_path)
    assert [(v.chrom, v.hgvsp) for v in got] == [(f"{vcf_prefix}7", "T790M"),
                                                 (f"{vcf_prefix}7", "L858R")]


def test_gff_naming_differs_from_fasta(egfr_reference, tmp_path):
    """A GFF3 with '7' while the FASTA says 'chr7' is handled (--unify-chr-names), and the
    reference proteins still reach the header."""
    gff = tmp_path / "ensembl.gff3"
    with open(egfr_reference.gff3) as fh:
        gff.write_text("".join(ln.removeprefix("chr") for ln in fh))
    vcf = raw_vcf(tmp_path / "g.vcf", [("7", codon_start(770) + 2, "C", "CGGT")])
    info: list[VcfInfo] = []
    out = annotate_with_csq(vcf, egfr_reference.fasta, str(gff), EGFR, str(tmp_path / "w"))
    got = list(read_variants(out, EGFR, transcripts=PREFERRED, info_out=info))
    assert [v.hgvsp for v in got] == ["D770_N771insG"]
    assert info[0].bcsq and info[0].proteins[EGFR_TX] == protein_sequence(EGFR_TX)


def test_two_snvs_in_one_codon_phase_rule(egfr_reference, tmp_path):
    """Rule: unphased GTs -> each record on its own (csq -l). C797S by c.2389T>A and by c.2390G>C
    (often in different clones) stay C797S + C797S instead of a merged C797T. Phased in cis
    (0|1, 0|1) -> haplotype-aware: the codon change is combined (TGC>ACC = C797T) and reported at
    the first record; the second record has no change of its own and says where it went."""
    recs = [("7", 55181398, "T", "A"), ("7", 55181399, "G", "C")]
    got = run(raw_vcf(tmp_path / "u.vcf", recs), egfr_reference, tmp_path / "u")
    assert [v.hgvsp for v in got] == ["C797S", "C797S"]
    got = run(raw_vcf(tmp_path / "p.vcf", recs, gt="0|1"), egfr_reference, tmp_path / "p")
    assert [v.hgvsp for v in got] == ["C797T", None]
    assert "combined with the variant at chr7:55181398" in got[1].problem


@pytest.mark.parametrize("indexed", [True, False])
def test_only_catalogue_regions_are_annotated(egfr_reference, tmp_path, indexed):
    """Records outside the genes (here chr1, absent from the test FASTA, which would make
    norm fail) are dropped first: view -R with an index, -T streaming without one."""
    recs = [("1", 1000000, "A", "G"), ("7", 1000000, "A", "G"), ("7", 55181378, "C", "T")]
    vcf = raw_vcf(tmp_path / "r.vcf.gz", recs, bgzip=True, index=indexed)
    got = run(vcf, egfr_reference, tmp_path)
    assert [(v.chrom, v.pos, v.hgvsp) for v in got] == [("chr7", 55181378, "T790M")]


# --- agreement with VEP on the shipped test data ------------------------------------------------

def test_matches_vep_on_test_data(egfr_reference, tmp_path):
    """For EGFR01/EGFR02_plasma (VEP CSQ, GRCh38, '7' naming; EGFR02 has phased T790M + C797S):
    CSQ removed, the raw path gives exactly the VEP protein change for every EGFR coding variant."""
    agree = 0
    for name in ("EGFR01_plasma", "EGFR02_plasma"):
        src = os.path.join(ROOT, "test_data", f"{name}.vcf.gz")
        vep = {v.key: v.hgvsp for v in read_variants(src, EGFR, transcripts=PREFERRED)
               if v.gene == "EGFR" and v.hgvsp}
        raw = str(tmp_path / f"{name}.raw.vcf.gz")
        pysam.bcftools.annotate("-x", "INFO/CSQ", "-Oz", "-o", raw, src, catch_stdout=False)
        info: list[VcfInfo] = []
        got = run(raw, egfr_reference, tmp_path / name, info=info)
        assert info[0].csq_fields is None and info[0].bcsq
        bcsq = {v.key: v.hgvsp for v in got if v.gene == "EGFR" and v.hgvsp}
        assert vep and bcsq == vep, name
        agree += sum(bcsq[k] == vep[k] for k in vep)
    print(f"BCSQ agrees with VEP CSQ on {agree}/{agree} EGFR coding variants")
    assert agree == 4  # L858R (EGFR01); T790M, C797S, L858R (EGFR02)


# --- errors ------------------------------------------------------------------------------------

def test_missing_reference_files_name_the_file(egfr_reference, tmp_path):
    """A missing FASTA or GFF3 is an InputError naming that file."""
    vcf = raw_vcf(tmp_path / "e.vcf", [("7", 55181378, "C", "T")])
    for fasta, gff, missing in ((str(tmp_path / "no.fa"), egfr_reference.gff3, "no.fa"),
                                (egfr_reference.fasta, str(tmp_path / "no.gff3"), "no.gff3")):
        with pytest.raises(InputError, match=rf"{missing}: .*not found"):
            annotate_with_csq(vcf, fasta, gff, EGFR, str(tmp_path / "w"))


def test_bcftools_failures_become_input_errors(egfr_reference, tmp_path):
    """A REF that disagrees with the FASTA (wrong build) -> '<vcf>: bcftools norm failed: <line>';
    an unparseable GFF3 -> '<vcf>: bcftools csq failed: <line>'."""
    vcf = raw_vcf(tmp_path / "bad.vcf", [("7", 55181378, "G", "T")])
    with pytest.raises(InputError, match=r"bad\.vcf: bcftools norm failed: Reference allele "
                       r"mismatch at chr7:55181378 \.\. REF_SEQ:'C' vs VCF:'G'$"):
        annotate_with_csq(vcf, egfr_reference.fasta, egfr_reference.gff3, EGFR, str(tmp_path / "w"))
    gff = tmp_path / "broken.gff3"
    gff.write_text("chr7\tensembl\tCDS\tnot-a-number\n")
    vcf = raw_vcf(tmp_path / "ok.vcf", [("7", 55181378, "C", "T")])
    with pytest.raises(InputError, match=r"ok\.vcf: bcftools csq failed: Could not parse the "
                       r"line: chr7 ensembl CDS not-a-number$"):
        annotate_with_csq(vcf, egfr_reference.fasta, str(gff), EGFR, str(tmp_path / "w"))


def test_unindexed_fasta_in_readonly_dir(egfr_reference, tmp_path, monkeypatch):
    """Without a .fai the FASTA is indexed in place; when its directory is not writable the
    error says so (os.access is patched: the tests may run as root)."""
    fa = tmp_path / "ref" / "small.fa"
    fa.parent.mkdir()
    fa.write_text(">chr7\nACGT\n")
    vcf = raw_vcf(tmp_path / "x.vcf", [("7", 55181378, "C", "T")])
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, m: False if str(p) == str(fa.parent) else
                        real_access(p, m))
    with pytest.raises(InputError, match=r"small\.fa: no FASTA index .* not writable"):
        annotate_with_csq(vcf, str(fa), egfr_reference.gff3, EGFR, str(tmp_path / "w"))
    monkeypatch.undo()
    with pytest.raises(InputError):  # indexed now, then norm fails: chr7 is only 4 bases long
        annotate_with_csq(vcf, str(fa), egfr_reference.gff3, EGFR, str(tmp_path / "w"))
    assert (fa.parent / "small.fa.fai").exists()


# --- BCSQ parsing without a reference -----------------------------------------------------------

@pytest.mark.parametrize("aa,cons,expected", [
    ("790T>790M", "missense", "T790M"),
    ("790T", "synonymous", "T790="),
    ("790T>790*", "stop_gained", "T790*"),
    ("745KELREA>745K", "inframe_deletion", "E746_A750del"),
    ("11LL>11L", "inframe_deletion", "L12del"),
    ("747LREATSP>747S", "inframe_altering", "L747_P753delinsS"),
    ("770DN>770DSVDN", "inframe_insertion", "D770_N771insSVD"),  # no context: dup not seen
    ("770D>770DG", "inframe_insertion", None),  # no context: the residue after D770 is unknown
    ("771NPHV*>771NPTC*", "frameshift", "H773fs"),
    ("771NPHV*>771N*", "frameshift", "P772*"),
    ("1211*>1211R", "stop_lost", "*1211Rext"),
    ("1M>1T", "start_lost", "M1?"),
    ("garbage", "missense", None),
])
def test_bcsq_amino_acid_forms_without_protein(aa, cons, expected):
    """Without the reference protein only the residues bcftools printed are known: the rules
    still give the VEP form where those suffice, and None (-> problem) where they do not."""
    assert bcsq_protein_change(aa, cons) == expected


def test_bcsq_with_protein_context_uses_3prime_rule():
    """With the protein, deletions/insertions shift 3' and repeats become dup (EGFR K28-K29)."""
    p = "MRPSGTAGAALLALLAALCPASRALEEKKVCQGTSN"
    assert bcsq_protein_change("27EK>27E", "inframe_deletion", p) == "K29del"
    assert bcsq_protein_change("27E>27EK", "inframe_insertion", p) == "K29dup"
    assert bcsq_protein_change("27E>27EQ", "inframe_insertion", p) == "E27_K28insQ"
    assert bcsq_protein_change("27EK>27E", "inframe_deletion", "M" * 40) == "K28del"  # mismatch


def test_bcsq_reader_picks_allele_transcript_and_handles_backrefs(write_vcf):
    """The reader takes the BCSQ entry whose DNA change is this allele, prefers the MANE transcript
    over another one, skips '@pos' back-references (problem names the carrying record) and keeps
    an unparseable amino-acid change as a problem with the raw text."""
    hdr = ['##INFO=<ID=BCSQ,Number=.,Type=String,Description="Haplotype-aware consequence '
           'annotation from BCFtools. Format: Consequence|gene|transcript|biotype|strand|'
           'amino_acid_change|dna_change">']
    from conftest import rec, vcf_text
    other = "missense|EGFR|ENST00000999999|protein_coding|+|700T>700M|55181378C>T"
    recs = [
        rec(7, 55181378, "C", "T,A", "BCSQ=" + other + ",missense|EGFR|ENST00000275493|"
            "protein_coding|+|790T>790M|55181378C>T,missense|EGFR|ENST00000275493|protein_coding"
            "|+|790T>790K|55181378C>A", "0/1/2:980,10,10:1000:0.01,0.01"),
        rec(7, 55181399, "G", "C", "BCSQ=@55181398"),
        rec(7, 55191822, "T", "G", "BCSQ=missense|EGFR|ENST00000275493|protein_coding|+|858L>>858R"
            "|55191822T>G"),
    ]
    path = write_vcf("b.vcf", vcf_text(recs, csq_format=None, extra_header=hdr))
    got = list(read_variants(path, EGFR, transcripts=PREFERRED))
    assert [(v.alt, v.hgvsp, v.transcript, v.annotation) for v in got] == [
        ("T", "T790M", "ENST00000275493", "BCSQ"), ("A", "T790K", "ENST00000275493", "BCSQ"),
        ("C", None, None, "BCSQ"), ("G", None, "ENST00000275493", "BCSQ")]
    assert "combined with the variant at 7:55181398" in got[2].problem
    assert "858L>>858R" in got[3].problem


@pytest.mark.parametrize("gts,entry,options", [
    (("0|1", "0|1"), "EGFR_C797S_T790M__EGFR_mutation_cis", []),
    (("0|1", "1|0"), "EGFR_C797S_T790M__EGFR_mutation_trans", ["gefitinib+osimertinib", "erlotinib+osimertinib"]),
])
def test_raw_vcf_end_to_end_cis_and_trans(egfr_reference, tmp_path, gts, entry, options):
    """A raw (unannotated) VCF + reference + GFF3 through do_annotate: T790M and C797S get their
    protein changes from bcftools csq, and phased cis vs trans give opposite recommendations."""
    from ctresist.annotate import do_annotate
    from ctresist.catalogue import load_catalogue
    from ctresist.interpret import Context

    vcf = raw_vcf(tmp_path / "raw.vcf", [("7", 55181378, "C", "T", gts[0]), ("7", 55181398, "T", "A", gts[1])])
    ctx = Context(sample="S", driver_text="EGFR L858R", driver="EGFR mutation", therapy_text="osimertinib",
                  therapy=["osimertinib"], specimen="plasma", build="GRCh38")
    m = do_annotate(ctx, vcf, None, load_catalogue(), reference=egfr_reference.fasta, gff3=egfr_reference.gff3)
    assert m["examined"]["annotation"] == "bcftools csq (BCSQ)"
    compound = [c for c in m["calls"] if c["alteration"] == "T790M+C797S" and c["entry_id"] == entry]
    assert compound and compound[0]["status"] == "actionable_resistance"
    assert m["summary"]["remaining_options"] == options
