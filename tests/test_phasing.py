"""Phasing EGFR T790M (chr7:55181378 C>T) and C797S (chr7:55181398 T>A) from real-sequence BAMs.

Rule under test (ctresist.phasing): fragments = reads, or read pairs merged by name (a pair whose
mates disagree is dropped); filtered reads (duplicate, QC-fail, secondary, supplementary,
MAPQ < 20) and bases with quality < 20 are not used.  C = alt/alt, A = alt-a/ref-b,
B = ref-a/alt-b, R = ref/ref; f_a = C/(C+A), f_b = C/(C+B).
  cis   if C >= min_reads and max(f_a, f_b) >= min_fraction (0.8)
  trans if A >= 1 and B >= 1 and A + B >= min_reads and max(f_a, f_b) <= 1 - min_fraction
  otherwise undetermined (note says why).  R never votes.
"""
from __future__ import annotations

import pytest
from bam_builder import (
    C797S,
    DUPLICATE,
    LOCUS_FASTA,
    QCFAIL,
    SECONDARY,
    SUPPLEMENTARY,
    T790M,
    Reads,
    build_bam,
    egfr_locus,
    write_reference,
)

from ctresist.errors import InputError
from ctresist.phasing import PhaseEvidence, phase_from_reads

A = (T790M, "C", "T")
B = (C797S, "T", "A")
ALT_ALT = {T790M: "T", C797S: "A"}
ALT_REF = {T790M: "T"}
REF_ALT = {C797S: "A"}


@pytest.fixture
def bam(tmp_path):
    """bam(groups, name="x.bam", **build_bam kwargs) -> path; skips without the shared data."""
    if not LOCUS_FASTA.is_file():
        pytest.skip(f"shared GRCh38 EGFR locus sequence not available: {LOCUS_FASTA}")

    def _build(groups, name="x.bam", **kw):
        return build_bam(tmp_path / name, groups, **kw)

    return _build


def test_locus_has_grch38_ref_bases(bam):
    """The builder's sequence is the real chr7:55017017-55213628 with C at T790M, T at C797S."""
    start, seq = egfr_locus()
    assert (start, len(seq)) == (55017017, 196612)
    assert seq[T790M - start] + seq[C797S - start] == "CT"


def test_cis_with_wild_type(bam):
    """30 alt/alt + 60 ref/ref: cis (f_a = f_b = 1); wild-type reads do not count against it."""
    ev = phase_from_reads(bam([(ALT_ALT, 30), ({}, 60)]), "chr7", A, B)
    assert (ev.phase, ev.cis_reads, ev.trans_reads, ev.ref_ref_reads, ev.spanning_reads) == \
        ("cis", 30, 0, 60, 90)
    assert (ev.a_only_reads, ev.b_only_reads) == (0, 0)
    assert ev.note == ("cis; 90 spanning fragments: 30 alt/alt, 0 alt-a/ref-b, 0 ref-a/alt-b, "
                       "60 ref/ref (a=chr7:55181378C>T, b=chr7:55181398T>A)")


def test_trans(bam):
    """25 alt/ref + 25 ref/alt + 40 ref/ref: trans (f_a = f_b = 0)."""
    ev = phase_from_reads(bam([(ALT_REF, 25), (REF_ALT, 25), ({}, 40)]), "chr7", A, B)
    assert ev == PhaseEvidence(
        "trans", 0, 50, 40, 90,
        "trans; 90 spanning fragments: 0 alt/alt, 25 alt-a/ref-b, 25 ref-a/alt-b, 40 ref/ref "
        "(a=chr7:55181378C>T, b=chr7:55181398T>A)", 25, 25)


def test_trans_tolerates_a_stray_alt_alt_read(bam):
    """1 alt/alt among 20 + 20 one-alt reads: f = 1/21 <= 0.2 -> trans, the stray read noted."""
    ev = phase_from_reads(bam([(ALT_ALT, 1), (ALT_REF, 20), (REF_ALT, 20)]), "chr7", A, B)
    assert (ev.phase, ev.cis_reads, ev.trans_reads) == ("trans", 1, 40)
    assert ev.note.startswith("trans (1 alt/alt fragments: minor cis population or artefact)")


def test_nested_cis(bam):
    """C797S arose on a T790M subclone: 10 alt/alt, 20 T790M alone, 0 C797S alone.
    f_b = 1 -> cis."""
    ev = phase_from_reads(bam([(ALT_ALT, 10), (ALT_REF, 20), ({}, 60)]), "chr7", A, B)
    assert (ev.phase, ev.cis_reads, ev.a_only_reads, ev.b_only_reads, ev.spanning_reads) == \
        ("cis", 10, 20, 0, 90)
    assert ev.note.startswith("cis (alt-a alone on 20: nested subclone or artefact)")


def test_mixed_evidence_is_undetermined(bam):
    """10 alt/alt, 10 alt-a only, 10 alt-b only: f_a = f_b = 0.5 -> undetermined."""
    ev = phase_from_reads(bam([(ALT_ALT, 10), (ALT_REF, 10), (REF_ALT, 10)]), "chr7", A, B)
    assert (ev.phase, ev.cis_reads, ev.trans_reads) == ("undetermined", 10, 20)
    assert ev.note.startswith("mixed evidence (f_a=0.50, f_b=0.50)")


def test_too_few_spanning_reads(bam):
    """Many reads cover only one position; 1 alt/alt spanning read < min_reads=2 -> undetermined."""
    one_a = Reads(ALT_REF, 20, covers=(T790M,), avoid=(C797S,))
    one_b = Reads(REF_ALT, 20, covers=(C797S,), avoid=(T790M,))
    ev = phase_from_reads(bam([(ALT_ALT, 1), one_a, one_b, ({}, 3)]), "chr7", A, B)
    assert (ev.phase, ev.cis_reads, ev.trans_reads, ev.ref_ref_reads, ev.spanning_reads) == \
        ("undetermined", 1, 0, 3, 4)
    assert ev.note.startswith("fewer than 2 spanning fragments carry an alt allele; 4 spanning")
    assert "40 covering only one position" in ev.note


def test_second_variant_never_seen(bam):
    """T790M alone (20) and wild type: C797S absent, so alt-a/ref-b reads do not prove trans."""
    ev = phase_from_reads(bam([(ALT_REF, 20), ({}, 40)]), "chr7", A, B)
    assert (ev.phase, ev.trans_reads, ev.a_only_reads) == ("undetermined", 20, 20)
    assert ev.note.startswith("alt-b is not seen on any spanning fragment")


def test_filtered_reads_are_ignored(bam):
    """alt/alt reads that are duplicates, QC-fail, secondary, supplementary, MAPQ 10 or base
    quality 10 must not turn the trans case into anything else: counts are exactly the trans
    ones."""
    noise = [Reads(ALT_ALT, 50, flags=DUPLICATE), Reads(ALT_ALT, 10, flags=QCFAIL),
             Reads(ALT_ALT, 10, flags=SECONDARY), Reads(ALT_ALT, 10, flags=SUPPLEMENTARY),
             Reads(ALT_ALT, 50, mapq=10), Reads(ALT_ALT, 50, baseq=10)]
    ev = phase_from_reads(bam([(ALT_REF, 25), (REF_ALT, 25), ({}, 40), *noise]), "chr7", A, B)
    assert (ev.phase, ev.cis_reads, ev.trans_reads, ev.ref_ref_reads, ev.spanning_reads) == \
        ("trans", 0, 50, 40, 90)
    ev = phase_from_reads(bam([Reads(ALT_ALT, 50, mapq=10)], name="lowq.bam"), "chr7", A, B,
                          min_mapq=5)
    assert (ev.phase, ev.cis_reads) == ("cis", 50)


def test_pairs_count_once(bam):
    """12 overlapping pairs (both mates span) count 12; 8 pairs whose mate 1 covers only T790M and
    mate 2 only C797S span as fragments and count 8: 20 cis in all."""
    both = Reads(ALT_ALT, 12, mate2=((T790M, C797S), ()))
    split = Reads(ALT_ALT, 8, covers=(T790M,), avoid=(C797S,), mate2=((C797S,), (T790M,)))
    ev = phase_from_reads(bam([both, split, Reads({}, 5, mate2=((T790M, C797S), ()))]),
                          "chr7", A, B)
    assert (ev.phase, ev.cis_reads, ev.ref_ref_reads, ev.spanning_reads) == ("cis", 20, 5, 25)


def test_disagreeing_mates_dropped(bam):
    """Mate 1 alt/alt but mate 2 alt/ref: the pair is ignored and reported in the note."""
    bad = Reads(ALT_ALT, 6, mate2=((T790M, C797S), ()), mate2_alts=ALT_REF)
    ev = phase_from_reads(bam([bad, (ALT_REF, 4), (REF_ALT, 4)]), "chr7", A, B)
    assert (ev.phase, ev.cis_reads, ev.trans_reads, ev.spanning_reads) == ("trans", 0, 8, 8)
    assert "6 pairs ignored: mates disagree" in ev.note


def test_third_base_not_spanning(bam):
    """A G at T790M is neither ref nor alt: excluded from spanning, reported in the note."""
    ev = phase_from_reads(bam([({T790M: "G", C797S: "A"}, 5), (ALT_ALT, 3)]), "chr7", A, B)
    assert (ev.phase, ev.cis_reads, ev.spanning_reads) == ("cis", 3, 3)
    assert "5 with a third base" in ev.note


def test_mnv(bam):
    """An MNV block (CG>TT at 55181378-9) phases like an SNV."""
    ev = phase_from_reads(bam([({T790M: "T", T790M + 1: "T", C797S: "A"}, 4), ({T790M: "T"}, 3)]),
                          "chr7", (T790M, "CG", "TT"), B)
    assert (ev.phase, ev.cis_reads, ev.spanning_reads, ev.ref_ref_reads) == ("cis", 4, 4, 0)
    assert "3 with a third base" in ev.note  # T then G is neither CG nor TT


@pytest.mark.parametrize("contig,query", [("7", "chr7"), ("chr7", "7"), ("7", "7")])
def test_contig_naming(bam, contig, query):
    """'7' and 'chr7' are interchangeable whichever the header uses."""
    ev = phase_from_reads(bam([(ALT_ALT, 5)], contig=contig), query, A, B)
    assert (ev.phase, ev.cis_reads) == ("cis", 5)
    assert f"a={contig}:55181378C>T" in ev.note


def test_unknown_contig(bam):
    msg = r"contig 'chr12' is not in the BAM/CRAM header \(contigs: chr7\)"
    with pytest.raises(InputError, match=msg):
        phase_from_reads(bam([(ALT_ALT, 5)]), "chr12", A, B)


def test_missing_index(bam):
    path = bam([(ALT_ALT, 5)], index=False)
    with pytest.raises(InputError) as e:
        phase_from_reads(path, "chr7", A, B)
    assert str(e.value) == (f"{path}: no index (.bai/.csi/.crai) found; "
                            f"run `samtools index {path}` (or pysam.index) first")


def test_missing_file(tmp_path):
    missing = str(tmp_path / "nope.bam")
    with pytest.raises(InputError, match=f"^{missing}: alignment file not found$"):
        phase_from_reads(missing, "7", A, B)


def test_bad_arguments(tmp_path):
    missing = str(tmp_path / "nope.bam")
    with pytest.raises(InputError, match=r"min_fraction must be in \(0.5, 1\]"):
        phase_from_reads(missing, "7", A, B, min_fraction=0.5)
    with pytest.raises(InputError, match="variant b"):
        phase_from_reads(missing, "7", A, (C797S, "T", "T"))
    with pytest.raises(InputError, match="overlap"):
        phase_from_reads(missing, "7", A, A)


def test_indel_not_supported(bam):
    ev = phase_from_reads(bam([(ALT_ALT, 5)]), "chr7", A, (C797S, "TG", "T"))
    assert ev.phase == "undetermined" and ev.spanning_reads == 0
    assert ev.note.startswith("indel phasing is not supported")


def test_cram_with_reference_and_ref_check(bam, tmp_path, monkeypatch):
    """CRAM decodes with reference=; without it -> InputError; a wrong ref allele -> InputError."""
    import pysam

    monkeypatch.delenv("REF_PATH", raising=False)
    monkeypatch.delenv("REF_CACHE", raising=False)
    ref, length = write_reference(tmp_path / "ref.fa")
    path = bam([(ALT_REF, 5), (REF_ALT, 5), ({}, 5)], contig_length=length)
    cram = str(tmp_path / "x.cram")
    pysam.view("-C", "-T", ref, "-o", cram, path, catch_stdout=False)
    pysam.index(cram)
    ev = phase_from_reads(cram, "7", A, B, reference=ref)
    assert (ev.phase, ev.trans_reads, ev.ref_ref_reads) == ("trans", 10, 5)
    with pytest.raises(InputError, match="a CRAM needs the reference FASTA"):
        phase_from_reads(cram, "7", A, B)
    with pytest.raises(InputError, match=r"variant a chr7:55181378 ref G: the reference .* has C"):
        phase_from_reads(cram, "7", (T790M, "G", "T"), B, reference=ref)


def test_bam_decides_unphased_egfr_compound(tmp_path, bam):
    """Unphased T790M + C797S in the VCF, a BAM with reads in cis: the report calls the cis entry
    (no EGFR TKI remains); with reads in trans it calls the trans entry (1st + 3rd generation)."""
    from conftest import csq, rec, vcf_text

    from ctresist.annotate import do_annotate
    from ctresist.catalogue import load_catalogue
    from ctresist.interpret import Context

    # annotated on the EGFR canonical transcript, so the VEP path (not the known-allele rescue) is tested
    egfr = "ENST00000275493.7"
    recs = [rec("7", 55181378, "C", "T", "CSQ=" + csq("EGFR", "T", "p.Thr790Met", tx=egfr, hgvsc="c.2369C>T"),
                "0/1:2900,100:3000:0.033"),
            rec("7", 55181398, "T", "A", "CSQ=" + csq("EGFR", "A", "p.Cys797Ser", tx=egfr, hgvsc="c.2389T>A"),
                "0/1:2900,100:3000:0.033")]
    vcf = tmp_path / "u.vcf"
    vcf.write_text(vcf_text(recs, contigs={"7": 159345973}))
    ctx = Context(sample="S", driver_text="EGFR L858R", driver="EGFR mutation", therapy_text="osimertinib",
                  therapy=["osimertinib"], specimen="plasma", build="GRCh38")
    results = {}
    for name, haps in (("cis", [({55181378: "T", 55181398: "A"}, 30), ({}, 60)]),
                       ("trans", [({55181378: "T"}, 25), ({55181398: "A"}, 25), ({}, 40)])):
        path = bam(haps, name=f"{name}.bam", contig="7")
        m = do_annotate(ctx, str(vcf), None, load_catalogue(), bam=str(path))
        assert m["not_interpretable"] == []
        assert "known_site" not in {c["annotation"] for c in m["calls"]}
        results[name] = {c["entry_id"] for c in m["calls"] if c["phase"] == name}, m["summary"]["remaining_options"]
    assert "EGFR_C797S_T790M__EGFR_mutation_cis" in results["cis"][0]
    assert results["cis"][1] == []
    assert "EGFR_C797S_T790M__EGFR_mutation_trans" in results["trans"][0]
    assert "gefitinib+osimertinib" in results["trans"][1]
