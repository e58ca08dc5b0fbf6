"""Read-level genotyping of catalogue sites (ctresist.genotype) on real BAM/CRAM files built over
the real GRCh38 EGFR sequence (tests/bam_builder.py; skipped when ../shared/data is absent).

The plasma fixture, per site (GRCh38; fragments are single-end 150 bp reads unless said):

* T790M 7:55181378C>T: 4,990 ref + 10 alt reads (0.2 %), plus 50 duplicate-flagged and 7
  secondary alt reads and 30 alt reads with base quality 10 (all three must not count);
* C797S 7:55181398T>A: the same 5,000 fragments, none alt (a covered negative);
* L858R 7:55191822T>G: 2,700 ref + 300 alt reads + 10 concordant ref pairs + 5 pairs whose mates
  disagree (alt/ref), and the caller's VCF has it;
* G719S 7:55174014G>A: 40 ref reads at MAPQ 60 and 400 alt reads at MAPQ 5;
* E746_A750del 7:55174771 AGGAATTAAGAGAAGC>A: 180 ref + 20 reads with the 15 bp deletion;
* P546S 7:55163737C>T: no reads; KIT sites: contig 4 is not in the BAM header.
"""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pysam
import pytest
from bam_builder import (
    CHR7_LENGTH,
    DUPLICATE,
    LOCUS_FASTA,
    SECONDARY,
    SiteReads,
    build_site_bam,
    write_reference,
)

from ctresist import stats
from ctresist.errors import InputError
from ctresist.genotype import filter_reason, genotype_sites, per_change, site_states
from ctresist.hotspots import Site
from ctresist.knownsites import load_known_alleles

pytestmark = pytest.mark.skipif(not LOCUS_FASTA.exists(),
                                reason=f"real GRCh38 EGFR sequence not found at {LOCUS_FASTA}")

T790M, C797S, L858R, G719S, P546S = 55181378, 55181398, 55191822, 55174014, 55163737
DEL = 55174771  # EGFR c.2235_2249del anchor; deleted bases 55174772-55174786


def site(chrom: str, pos: int, ref: str, alt: str, build: str = "GRCh38") -> Site:
    """A catalogue site exactly as annotations/known_alleles.tsv has it (fails if absent)."""
    gene, change, hgvsc = load_known_alleles(build)[(chrom, pos, ref, alt)]
    return Site(gene, change, chrom, pos, ref, alt, hgvsc)


S_T790M = site("7", T790M, "C", "T")
S_C797S = site("7", C797S, "T", "A")
S_L858R = site("7", L858R, "T", "G")
S_G719S = site("7", G719S, "G", "A")
S_P546S = site("7", P546S, "C", "T")
S_DEL1 = site("7", DEL, "AGGAATTAAGAGAAGC", "A")
S_DEL2 = site("7", DEL + 1, "GGAATTAAGAGAAGCA", "G")
S_KIT = site("4", 54733155, "A", "T")  # KIT D816V: no chr4 in the BAM
ALL = [S_T790M, S_C797S, S_L858R, S_G719S, S_P546S, S_DEL1, S_DEL2, S_KIT]


def plasma_groups() -> list[SiteReads]:
    both = (T790M, C797S)
    return [
        SiteReads(both, 4990),
        SiteReads(both, 10, alts={T790M: "T"}),
        SiteReads(both, 50, alts={T790M: "T"}, flags=DUPLICATE),
        SiteReads(both, 7, alts={T790M: "T"}, flags=SECONDARY),
        SiteReads(both, 30, alts={T790M: "T"}, baseq=10),
        SiteReads((L858R,), 2700),
        SiteReads((L858R,), 300, alts={L858R: "G"}),
        SiteReads((L858R,), 10, paired=True, name="pair"),
        SiteReads((L858R,), 5, alts={L858R: "G"}, paired=True, mate2_alts={}, name="disagree"),
        SiteReads((G719S,), 40),
        SiteReads((G719S,), 400, alts={G719S: "A"}, mapq=5),
        SiteReads((DEL, DEL + 16), 180),
        SiteReads((DEL, DEL + 16), 20, deletion=(DEL, 15)),
    ]


@pytest.fixture(scope="module")
def plasma_bam(tmp_path_factory) -> str:
    return build_site_bam(tmp_path_factory.mktemp("ctdna") / "plasma.bam", plasma_groups())


@pytest.fixture(scope="module")
def evidence(plasma_bam):
    return {e.site.key: e for e in genotype_sites(plasma_bam, ALL, build="GRCh38")}


# the caller's VCF record for L858R (what ctresist.io.vcf.Variant carries)
CALLED = [SimpleNamespace(chrom="chr7", pos=L858R, ref="T", alt="G", vaf=0.0997, depth=3010,
                          alt_reads=300)]


def test_counts_after_read_filters(evidence):
    t = evidence[S_T790M.key]
    assert (t.depth, t.ref_reads, t.alt_reads, t.other_reads) == (5000, 4990, 10, 0)
    assert (t.alt_fwd, t.alt_rev) == (5, 5)
    assert t.filtered == {"duplicate": 50, "secondary_or_supplementary": 7, "no_base_call": 30}
    c = evidence[S_C797S.key]
    assert (c.depth, c.ref_reads, c.alt_reads) == (5000, 5000, 0)
    assert c.umi == "" and c.families is None


def test_mates_count_once_and_disagreeing_pairs_are_dropped(evidence):
    e = evidence[S_L858R.key]
    assert (e.depth, e.ref_reads, e.alt_reads) == (3010, 2710, 300)
    assert e.filtered["mates_disagree"] == 5


def test_low_mapping_quality_reads_never_count(evidence):
    e = evidence[S_G719S.key]
    assert (e.depth, e.alt_reads) == (40, 0)
    assert e.filtered["low_mapq"] == 400


def test_deletion_alleles(evidence):
    d1, d2 = evidence[S_DEL1.key], evidence[S_DEL2.key]
    assert (d1.depth, d1.ref_reads, d1.alt_reads, d1.other_reads) == (200, 180, 20, 0)
    # the other c.2236_2250del allele: its anchor base is deleted in the 20 alt reads (no call)
    assert (d2.depth, d2.ref_reads, d2.alt_reads) == (180, 180, 0)


def test_uncovered_and_absent_contig(evidence):
    assert evidence[S_P546S.key].depth == 0 and evidence[S_P546S.key].problem is None
    assert evidence[S_KIT.key].problem == "contig 4 is not in the BAM/CRAM header"


def test_states_on_the_plasma_fixture(plasma_bam, evidence):
    rows = {(r["gene"], r["alteration"], r["pos"]): r for r in site_states(
        ALL, CALLED, list(evidence.values()), min_depth=100, min_alt_reads=3,
        tumor_fraction=0.2)}
    t790m = rows[("EGFR", "T790M", T790M)]
    assert t790m["state"] == "read_level_only"  # 0.2 %: below the caller, never promoted
    assert (t790m["alt_reads"], t790m["depth"], t790m["k_call"]) == (10, 5000, 8)
    assert t790m["vaf"] == 0.002
    assert round(t790m["ci_low"], 6) == 0.000959 and round(t790m["ci_high"], 6) == 0.003675
    assert t790m["text"].startswith("possible, confirm: 10 alt reads of 5,000 (0.20 %, 95 % CI "
                                    "0.096 %-0.37 %; 5 forward, 5 reverse)")
    c797s = rows[("EGFR", "C797S", C797S)]
    assert c797s["state"] == "not_detected" and c797s["k_call"] == 8
    assert round(c797s["lod"], 6) == round(stats.lod(5000, 8), 6) == 0.002628
    assert c797s["text"] == "not detected; 95 % LoD 0.26 % at 5,000x"
    assert c797s["informative"] is True
    l858r = rows[("EGFR", "L858R", L858R)]
    assert l858r["state"] == "detected_by_caller"
    assert l858r["text"] == ("detected by the caller: 300 of 3,010 reads (9.97 %, 95 % CI "
                             "8.92 %-11.1 %); reads here: 300 alt of 3,010")
    g719s = rows[("EGFR", "G719S", G719S)]
    assert g719s["state"] == "not_assessable"
    assert g719s["text"] == "not assessable: depth 40 reads is below the minimum 100"
    assert rows[("EGFR", "P546S", P546S)]["state"] == "not_assessable"
    kit = rows[("KIT", "D816V", 54733155)]
    assert (kit["state"], kit["text"]) == (
        "not_assessable", "not assessable: contig 4 is not in the BAM/CRAM header")
    d1 = rows[("EGFR", "E746_A750del", DEL)]
    assert (d1["state"], d1["alt_reads"], d1["depth"], d1["k_call"]) == (
        "read_level_only", 20, 200, 3)
    d2 = rows[("EGFR", "E746_A750del", DEL + 1)]
    assert d2["state"] == "not_detected" and d2["depth"] == 180
    # per protein change: the deletion is read-level (its best allele)
    by_change = {(r["gene"], r["alteration"]): r for r in per_change(list(rows.values()))}
    assert by_change[("EGFR", "E746_A750del")]["state"] == "read_level_only"
    assert by_change[("EGFR", "E746_A750del")]["alleles"] == 2


def test_low_tumour_fraction_makes_a_negative_uninformative(evidence):
    (row,) = site_states([S_C797S], [], list(evidence.values()), tumor_fraction=0.004)
    assert row["state"] == "not_detected" and row["informative"] is False
    assert row["text"] == ("not detected; 95 % LoD 0.26 % at 5,000x; at tumour fraction 0.40 % a "
                           "clonal heterozygous mutation would be near 0.20 % VAF, below this "
                           "LoD: ctDNA shedding may be too low to rule resistance out")
    (row,) = site_states([S_C797S], [], list(evidence.values()))
    assert row["informative"] is None and "tumour fraction unknown" in row["text"]


def test_background_per_site_changes_the_call(evidence):
    # a panel-of-normals error of 0.3 % at T790M makes 10/5,000 background noise
    (row,) = site_states([S_T790M], [], list(evidence.values()),
                         background={S_T790M.key: 0.003})
    assert row["state"] == "not_detected"
    assert row["k_call"] == stats.call_threshold(5000, 0.003, min_alt=3) == 26
    assert "(10 alt reads, within background error 0.003)" in row["text"]


def test_no_evidence_is_never_a_negative():
    (row,) = site_states([S_C797S], [])
    assert (row["state"], row["text"]) == (
        "not_assessable", "absence not assessable: no reads or coverage given")


def test_cram_gives_the_same_counts(plasma_bam, tmp_path):
    fasta, length = write_reference(tmp_path / "ref.fa")
    assert length < CHR7_LENGTH
    bam = build_site_bam(tmp_path / "short.bam", plasma_groups()[:2], contig_length=length)
    cram = str(tmp_path / "plasma.cram")
    pysam.view("-C", "-T", fasta, "-o", cram, bam, catch_stdout=False)
    pysam.index(cram)
    (t,) = genotype_sites(cram, [S_T790M], reference=fasta)
    assert (t.depth, t.alt_reads, t.alt_fwd, t.alt_rev) == (5000, 10, 5, 5)
    with pytest.raises(InputError, match="needs the reference FASTA"):
        genotype_sites(cram, [S_T790M])
    wrong = Site("EGFR", "T790M", "7", T790M, "G", "T", "x")
    with pytest.raises(InputError, match=r"reference has C where EGFR T790M 7:55181378G>T"):
        genotype_sites(cram, [wrong], reference=fasta)


def test_bad_inputs(plasma_bam, tmp_path):
    with pytest.raises(InputError, match="alignment file not found"):
        genotype_sites(str(tmp_path / "none.bam"), [S_T790M])
    unindexed = build_site_bam(tmp_path / "noindex.bam", [SiteReads((T790M,), 3)], index=False)
    with pytest.raises(InputError, match="no index"):
        genotype_sites(unindexed, [S_T790M])
    # GRCh37 sites against a BAM whose chr7 has the GRCh38 length
    t37 = site("7", 55249071, "C", "T", build="GRCh37")
    with pytest.raises(InputError, match="has the GRCh38 length 159345973, but the sites are GRCh37"):
        genotype_sites(plasma_bam, [t37], build="GRCh37")


def _umi_bam(path, groups):
    return build_site_bam(path, groups)


def test_fgbio_mi_families(tmp_path):
    both = (T790M, C797S)
    bam = _umi_bam(tmp_path / "mi.bam", [
        # 25 ref duplex molecules of 4 reads (2 per strand: MI r0/A, r0/B ...)
        SiteReads(both, 100, tags=lambda i: {"MI": f"r{i // 4}/{'AB'[i % 2]}", "RX": "AAAA-CCCC"}),
        SiteReads(both, 15, alts={T790M: "T"}, tags=lambda i: {"MI": f"a{i // 3}"}),
        SiteReads(both, 2, alts={T790M: "T"}, tags=lambda i: {"MI": "m0"}, name="mixA"),
        SiteReads(both, 2, tags=lambda i: {"MI": "m0"}, name="mixR"),
    ])
    (e,) = genotype_sites(bam, [S_T790M])
    assert (e.umi, e.depth, e.alt_reads, e.families, e.alt_families) == ("MI", 119, 17, 30, 5)
    (e4,) = genotype_sites(bam, [S_T790M], min_family_size=4)
    assert (e4.families, e4.alt_families) == (25, 0)
    (row,) = site_states([S_T790M], [], [e], min_depth=20, background=1e-4)
    assert row["state"] == "read_level_only" and row["source"] == "reads (UMI MI)"
    assert (row["alt_families"], row["families"]) == (5, 30)
    assert row["text"].startswith("possible, confirm: 5 alt families of 30 (16.7 %, 95 % CI 5.64 %-34.7 %")


def test_consensus_reads_cd_tags(tmp_path):
    both = (T790M, C797S)
    bam = _umi_bam(tmp_path / "cons.bam", [
        SiteReads(both, 200, tags=lambda i: {"cD": 3, "cM": 2}),
        SiteReads(both, 3, alts={T790M: "T"}, tags=lambda i: {"cD": 5, "cM": 4}),
    ])
    (e,) = genotype_sites(bam, [S_T790M])
    assert (e.umi, e.depth, e.alt_reads, e.families, e.alt_families) == (
        "consensus", 203, 3, 203, 3)
    (e4,) = genotype_sites(bam, [S_T790M], min_family_size=4)
    assert (e4.families, e4.alt_families) == (3, 3)


def test_rx_umis_group_by_position(tmp_path):
    start = T790M - 50
    bam = _umi_bam(tmp_path / "rx.bam", [
        SiteReads((T790M,), 6, alts={T790M: "T"}, start=start, tags=lambda i: {"RX": "AAAA"}),
        SiteReads((T790M,), 4, start=start, tags=lambda i: {"RX": "CCCC"}),
        SiteReads((T790M,), 3, start=start + 1, tags=lambda i: {"RX": "CCCC"}),
    ])
    (e,) = genotype_sites(bam, [S_T790M])
    assert (e.umi, e.depth, e.families, e.alt_families) == ("RX", 13, 3, 1)


def test_filter_reason_names_each_flag(plasma_bam):
    seen = set()
    with pysam.AlignmentFile(plasma_bam) as aln:
        for read in aln.fetch("chr7", T790M - 1, T790M):
            seen.add(filter_reason(read, 20))
    assert seen == {None, "duplicate", "secondary_or_supplementary"}


def test_a_filtered_caller_record_is_detected_with_its_filter(evidence):
    weak = [SimpleNamespace(chrom="7", pos=T790M, ref="C", alt="T", vaf=0.002, depth=5000,
                            alt_reads=10, filters="weak_evidence")]
    (row,) = site_states([S_T790M], weak, list(evidence.values()))
    assert row["state"] == "detected_by_caller"
    assert row["text"].startswith("detected by the caller (FILTER=weak_evidence): 10 of 5,000 "
                                  "reads (0.20 %")


def test_ungapped_fast_path_equals_the_aligned_pairs_call(plasma_bam):
    from ctresist.genotype import _site_call, _ungapped_call

    compared = 0
    with pysam.AlignmentFile(plasma_bam) as aln:
        for read in aln.fetch("chr7"):
            if len(read.cigartuples) != 1:
                continue
            pairs = read.get_aligned_pairs()
            index = {r: i for i, (_, r) in enumerate(pairs) if r is not None}
            start = read.reference_start
            for s in ALL[:-1]:
                fast = _ungapped_call(start, read.reference_end, read.query_sequence,
                                      read.query_qualities, s, 20)
                assert fast == _site_call(read, pairs, index, s, 20), (read.query_name, s.label)
                compared += fast is not None
    # (read, site) pairs with a call, duplicate/secondary/low-MAPQ reads included: T790M and
    # C797S 2 x 5,057 (not the 30 BQ-10 reads), L858R 3,030 reads, G719S 440, deletions 2 x 180
    assert compared == 2 * 5057 + 3030 + 440 + 2 * 180 == 13_944


def test_report_block_for_the_egfr_context(plasma_bam):
    from ctresist.genotype import ctdna_evidence
    from ctresist.hotspots import missing_alleles, sites_for
    from ctresist.io.purity import read_tumour_fraction

    fixtures = Path(__file__).resolve().parent / "fixtures" / "ctdna"
    tf = read_tumour_fraction(str(fixtures / "PLASMA_T2.params.txt"))  # 4.12 %
    sites = sites_for("GRCh38", "EGFR mutation")
    block = ctdna_evidence(sites, CALLED, bam=plasma_bam, build="GRCh38", tumour_fraction=tf,
                           not_genotypable=missing_alleles("GRCh38", "EGFR mutation"))
    by = {(r["gene"], r["alteration"]): r for r in block["sites"]}
    assert block["source"] == "reads" and block["input"] == "plasma.bam"
    assert by[("EGFR", "T790M")]["state"] == "read_level_only"
    assert by[("EGFR", "L858R")]["state"] == "detected_by_caller"
    assert by[("EGFR", "L858R")]["role"] == "driver"
    c797s = by[("EGFR", "C797S")]
    assert (c797s["state"], c797s["informative"]) == ("not_detected", True)  # 2.06 % > 0.26 %
    assert by[("KRAS", "G12C")]["state"] == "not_assessable"  # no chr12 in this BAM
    assert block["tumor_fraction"]["method"] == "ichorCNA" and block["caveat"] is None
    assert sum(block["counts"].values()) == len(block["sites"])
    assert block["counts"]["detected_by_caller"] == 1
    assert block["summary"].startswith(f"{len(block['sites'])} catalogue changes at "
                                       f"{len(sites)} known alleles: 1 detected by the caller")
    empty = ctdna_evidence(sites[:2], [])
    assert empty["source"] is None
    assert empty["summary"].endswith("; absence not assessable: no reads or coverage given")
    assert empty["caveat"].startswith("absence not assessable: no reads (bam) or coverage")
    assert {r["state"] for r in empty["sites"]} == {"not_assessable"}


def test_statistics_against_independent_values():
    # Clopper-Pearson: 0/n upper bound is 1 - (alpha/2)^(1/n); 10/5,000 as SciPy's exact CI
    lo, hi = stats.vaf_ci(0, 2400)
    assert lo == 0.0 and hi == pytest.approx(1 - 0.025 ** (1 / 2400), rel=1e-9)
    lo, hi = stats.vaf_ci(10, 5000)
    assert (round(lo, 7), round(hi, 7)) == (0.0009595, 0.003675)
    # LoD with k* = 3 at 2,400x: P(X >= 3 | 2,400, f) = 0.95 -> f = 0.262 % (about 6.3 / n)
    assert round(stats.lod(2400, 3), 5) == 0.00262
    assert stats.binom_sf(3, 2400, stats.lod(2400, 3)) == pytest.approx(0.95, abs=1e-9)
    # beta-binomial background raises the threshold: 8 -> 19 -> 56 alt reads at 5,000x
    assert [stats.call_threshold(5000, 5e-4, 0.01, 3, dispersion=d) for d in (0, 1e-3, 1e-2)] \
        == [8, 19, 56]
    assert stats.betabinom_sf(8, 5000, 5e-4, 0.01) == pytest.approx(0.0722668, rel=1e-5)
    with pytest.raises(InputError, match="need 0 <= alt"):
        stats.vaf_ci(6, 5)


def test_dispersion_and_strand_bias_in_states(tmp_path, evidence):
    (row,) = site_states([S_T790M], [], list(evidence.values()), dispersion=1e-3)
    assert (row["state"], row["k_call"]) == ("not_detected", 19)  # 10 reads: now background
    both = (T790M, C797S)
    bam = build_site_bam(tmp_path / "bias.bam", [
        SiteReads(both, 995), SiteReads(both, 5, alts={T790M: "T"}, flags=0x10)])
    (ev,) = genotype_sites(bam, [S_T790M])
    assert (ev.alt_fwd, ev.alt_rev) == (0, 5)
    (row,) = site_states([S_T790M], [], [ev])
    assert row["state"] == "read_level_only"
    assert row["text"].endswith("; all alt reads on one strand: possible artefact")


def test_bam_without_chr_prefix(tmp_path):
    bam = build_site_bam(tmp_path / "nochr.bam", plasma_groups()[:2], contig="7")
    (t,) = genotype_sites(bam, [S_T790M], build="GRCh38")
    assert (t.depth, t.alt_reads) == (5000, 10)
