"""Build small, real, sorted and indexed BAMs over the real GRCh38 EGFR sequence for phasing tests.

The sequence is chr7:55017017-55213628 (1-based inclusive, from the FASTA header) in
``<repo>/../shared/data/transcripts/hartwig_pave_reverse_grch38/EGFR_KIT.GRCh38.locus_sequences.fa``
(hmftools pave-reverse tiny genome; see PROVENANCE.md there).  Reads are 150 bp, CIGAR ``150M``,
with correct MD/NM tags, base qualities 35 and MAPQ 60 unless a group says otherwise.

    build_bam(path, [({T790M: "T", C797S: "A"}, 30), ({}, 60)])          # 30 alt/alt + 60 ref/ref
    build_bam(path, [Reads({T790M: "T"}, 5, covers=(T790M,), avoid=(C797S,))])  # one position only
"""
from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pysam

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
LOCUS_FASTA = (SHARED_DATA / "transcripts" / "hartwig_pave_reverse_grch38"
               / "EGFR_KIT.GRCh38.locus_sequences.fa")
CHR7_LENGTH = 159345973  # GRCh38
T790M = 55181378  # EGFR c.2369C>T, ref C
C797S = 55181398  # EGFR c.2390G>C as T>A on the + strand, ref T
WINDOW = (55181300, 55181480)  # spanning reads start and end inside this window
READ_LENGTH = 150

# SAM flag bits used by tests
DUPLICATE = 0x400
QCFAIL = 0x200
SECONDARY = 0x100
SUPPLEMENTARY = 0x800


@functools.lru_cache(maxsize=1)
def egfr_locus() -> tuple[int, str]:
    """(1-based start, sequence) of the EGFR locus; asserts the header range and both ref bases."""
    header, chunks = None, []
    with open(LOCUS_FASTA) as fh:
        for line in fh:
            line = line.strip()
            if line.startswith(">"):
                if header is not None and header.startswith("chr7:"):
                    break
                header, chunks = line[1:], []
            elif header is not None:
                chunks.append(line)
    assert header is not None and header.startswith("chr7:"), "no chr7 record in locus FASTA"
    start, end = (int(x) for x in header.split()[0].split(":")[1].split("-"))
    assert (start, end) == (55017017, 55213628), header
    seq = "".join(chunks).upper()
    assert len(seq) == end - start + 1, (len(seq), header)
    assert seq[T790M - start] == "C", "T790M ref base is not C"
    assert seq[C797S - start] == "T", "C797S ref base is not T"
    return start, seq


def ref_base(pos: int) -> str:
    start, seq = egfr_locus()
    return seq[pos - start]


@dataclass(frozen=True)
class Reads:
    """A group of ``count`` fragments carrying the same alleles.

    alts       {1-based pos: alt base} applied to every read of the group (mate 1 and mate 2)
    covers     positions every (mate-1) read must overlap; ``avoid``: positions it must not overlap
    mate2      None for single-end reads, else (covers, avoid) for mate 2 (reverse strand)
    mate2_alts alleles of mate 2 when they should differ from mate 1 (to make mates disagree)
    flags      extra SAM flag bits (DUPLICATE, QCFAIL, SECONDARY, SUPPLEMENTARY)
    """

    alts: dict[int, str]
    count: int
    covers: tuple[int, ...] = (T790M, C797S)
    avoid: tuple[int, ...] = ()
    mate2: tuple[tuple[int, ...], tuple[int, ...]] | None = None
    mate2_alts: dict[int, str] | None = None
    mapq: int = 60
    baseq: int = 35
    flags: int = 0


def _starts(covers: tuple[int, ...], avoid: tuple[int, ...]) -> list[int]:
    """1-based read starts (150M) overlapping every ``covers`` and no ``avoid`` position, preferring
    reads inside WINDOW."""
    lo, hi = min(covers), max(covers)
    cands = [s for s in range(hi - READ_LENGTH + 1, lo + 1)
             if not any(s <= p < s + READ_LENGTH for p in avoid)]
    inside = [s for s in cands if WINDOW[0] <= s and s + READ_LENGTH - 1 <= WINDOW[1]]
    chosen = inside or cands
    assert chosen, f"no 150 bp read covers {covers} while avoiding {avoid}"
    return chosen


def _segment(header: pysam.AlignmentHeader, name: str, start: int, alts: dict[int, str],
             mapq: int, baseq: int, flag: int) -> pysam.AlignedSegment:
    locus_start, locus = egfr_locus()
    ref = locus[start - locus_start:start - locus_start + READ_LENGTH]
    read = list(ref)
    md, run, nm = [], 0, 0
    for i, r in enumerate(ref):
        alt = alts.get(start + i)
        if alt is not None and alt != r:
            read[i] = alt
            md.append(f"{run}{r}")
            run, nm = 0, nm + 1
        else:
            run += 1
    md.append(str(run))
    seg = pysam.AlignedSegment(header)
    seg.query_name = name
    seg.flag = flag
    seg.reference_id = 0
    seg.reference_start = start - 1
    seg.mapping_quality = mapq
    seg.cigarstring = f"{READ_LENGTH}M"
    seg.query_sequence = "".join(read)
    seg.query_qualities = pysam.qualitystring_to_array(chr(33 + baseq) * READ_LENGTH)
    seg.set_tag("MD", "".join(md))
    seg.set_tag("NM", nm)
    return seg


def write_reference(path: str | Path, contig: str = "chr7") -> tuple[str, int]:
    """A FASTA (+ .fai) whose ``contig`` is N up to the locus, then the real EGFR locus sequence:
    GRCh38 coordinates hold up to 55213628.  Returns (path, contig length) for CRAM tests."""
    start, seq = egfr_locus()
    width = 1_000_000
    full = "N" * (start - 1) + seq
    with open(path, "w") as fh:
        fh.write(f">{contig}\n")
        for i in range(0, len(full), width):
            fh.write(full[i:i + width] + "\n")
    pysam.faidx(str(path))
    return str(path), len(full)


def build_bam(path: str | Path, haplotypes: Iterable[Reads | tuple[dict[int, str], int]],
              contig: str = "chr7", index: bool = True, contig_length: int = CHR7_LENGTH) -> str:
    """Write a coordinate-sorted BAM (and its .bai unless ``index=False``) and return its path.

    Each haplotype is a :class:`Reads` or a plain ``({pos: alt_base}, count)`` tuple (single-end
    reads spanning T790M and C797S).  The header has one @SQ, ``contig`` (``chr7`` or ``7``) with
    GRCh38 chr7 length (``contig_length`` may shorten it to match a truncated test FASTA).
    """
    path = Path(path)
    header = pysam.AlignmentHeader.from_dict(
        {"HD": {"VN": "1.6", "SO": "unsorted"},
         "SQ": [{"SN": contig, "LN": contig_length}],
         "PG": [{"ID": "bam_builder", "PN": "ctresist-tests"}]})
    unsorted = path.with_name(path.name + ".unsorted.bam")
    with pysam.AlignmentFile(str(unsorted), "wb", header=header) as out:
        for g, hap in enumerate(haplotypes):
            grp = hap if isinstance(hap, Reads) else Reads(alts=hap[0], count=hap[1])
            starts1 = _starts(grp.covers, grp.avoid)
            starts2 = _starts(*grp.mate2) if grp.mate2 is not None else []
            for i in range(grp.count):
                name = f"g{g}r{i}"
                s1 = starts1[(i * 7) % len(starts1)]
                if grp.mate2 is None:
                    flag = grp.flags | (0x10 if i % 2 else 0)
                    out.write(_segment(header, name, s1, grp.alts, grp.mapq, grp.baseq, flag))
                    continue
                s2 = starts2[(i * 5) % len(starts2)]
                alts2 = grp.alts if grp.mate2_alts is None else grp.mate2_alts
                tlen = max(s1, s2) + READ_LENGTH - min(s1, s2)
                m1 = _segment(header, name, s1, grp.alts, grp.mapq, grp.baseq,
                              grp.flags | 0x1 | 0x2 | 0x20 | 0x40)
                m2 = _segment(header, name, s2, alts2, grp.mapq, grp.baseq,
                              grp.flags | 0x1 | 0x2 | 0x10 | 0x80)
                first = 1 if s1 <= s2 else -1  # + for the leftmost mate
                for m, mate_start, sign in ((m1, s2, first), (m2, s1, -first)):
                    m.next_reference_id = 0
                    m.next_reference_start = mate_start - 1
                    m.template_length = sign * tlen
                    out.write(m)
    pysam.sort("-o", str(path), str(unsorted))
    unsorted.unlink()
    if index:
        pysam.index(str(path))
    return str(path)


# --- site genotyping fixtures (ctresist.genotype) -------------------------------------------------
@dataclass(frozen=True)
class SiteReads:
    """``count`` single-end 150 bp reads (alternating strands) that each overlap every position in
    ``covers`` with >= 10 bp to spare. ``alts`` {pos: base} substitutions; ``deletion`` (pos, n)
    deletes n reference bases after 1-based anchor ``pos`` (CIGAR aM nD bM, MD a^XXXb);
    ``tags(i)`` gives extra SAM tags of read i (fgbio MI/RX/cD/cM); ``paired`` writes each
    fragment as two fully overlapping mates (mate 2 reverse), ``mate2_alts`` overriding mate 2;
    ``start`` fixes every read's start instead of spreading them."""

    covers: tuple[int, ...]
    count: int
    alts: dict[int, str] = None  # type: ignore[assignment]
    deletion: tuple[int, int] | None = None
    mapq: int = 60
    baseq: int = 35
    flags: int = 0
    tags: object = None  # callable i -> dict
    paired: bool = False
    mate2_alts: dict[int, str] | None = None
    name: str = ""
    start: int | None = None  # fixed 1-based start of every read (UMI position grouping)


def _site_read(header, name: str, start: int, alts: dict[int, str], deletion, mapq: int,
               baseq: int, flag: int, tags: dict) -> pysam.AlignedSegment:
    """:func:`_segment`, optionally with a deletion after ``deletion[0]`` and extra tags."""
    seg = _segment(header, name, start, alts, mapq, baseq, flag)
    if deletion:
        dpos, dlen = deletion
        locus_start, locus = egfr_locus()
        left = dpos - start + 1  # aligned bases up to and including the anchor
        ref = locus[start - locus_start:start - locus_start + READ_LENGTH + dlen]
        seq = seg.query_sequence[:left] + ref[left + dlen:]
        quals = seg.query_qualities
        seg.cigarstring = f"{left}M{dlen}D{READ_LENGTH - left}M"
        seg.query_sequence = seq
        seg.query_qualities = quals
        assert not alts, "substitutions and a deletion in one read are not modelled"
        seg.set_tag("MD", f"{left}^{ref[left:left + dlen]}{READ_LENGTH - left}")
        seg.set_tag("NM", dlen)
    for k, v in (tags or {}).items():
        seg.set_tag(k, v)
    return seg


def sorted_bam(path: str | Path, write, contig: str = "chr7", contig_length: int = CHR7_LENGTH,
               index: bool = True) -> str:
    """Call ``write(out, header)`` on an unsorted BAM with one @SQ, then sort (and index) it into
    ``path``. (``build_bam`` above predates it and could use it too.)"""
    path = Path(path)
    header = pysam.AlignmentHeader.from_dict(
        {"HD": {"VN": "1.6", "SO": "unsorted"}, "SQ": [{"SN": contig, "LN": contig_length}],
         "PG": [{"ID": "bam_builder", "PN": "ctresist-tests"}]})
    unsorted = path.with_name(path.name + ".unsorted.bam")
    with pysam.AlignmentFile(str(unsorted), "wb", header=header) as out:
        write(out, header)
    pysam.sort("-o", str(path), str(unsorted))
    unsorted.unlink()
    if index:
        pysam.index(str(path))
    return str(path)


def build_site_bam(path: str | Path, groups: Iterable[SiteReads], contig: str = "chr7",
                   contig_length: int = CHR7_LENGTH, index: bool = True) -> str:
    """A sorted, indexed BAM of :class:`SiteReads` groups over the real GRCh38 EGFR locus."""
    return sorted_bam(path, lambda out, header: _write_groups(out, header, list(groups)),
                      contig, contig_length, index)


def _write_groups(out: pysam.AlignmentFile, header, groups: list[SiteReads]) -> None:
    for g, grp in enumerate(groups):
        lo = max(grp.covers) + 10 - READ_LENGTH + 1
        hi = min(grp.covers) - 10
        if grp.deletion:
            hi = min(hi, grp.deletion[0] - 10)
            lo = max(lo, grp.deletion[0] + grp.deletion[1] + 10 - READ_LENGTH + 1)
        starts = [grp.start] if grp.start else list(range(lo, hi + 1))
        assert starts, f"no read start covers {grp.covers}"
        alts = grp.alts or {}
        for i in range(grp.count):
            name = f"{grp.name or 'g'}{g}r{i}"
            s = starts[(i * 7) % len(starts)]
            tags = grp.tags(i) if grp.tags else {}
            if not grp.paired:
                flag = grp.flags | (0x10 if i % 2 else 0)
                out.write(_site_read(header, name, s, alts, grp.deletion, grp.mapq,
                                     grp.baseq, flag, tags))
                continue
            m2_alts = alts if grp.mate2_alts is None else grp.mate2_alts
            for flag, a in ((grp.flags | 0x1 | 0x2 | 0x20 | 0x40, alts),
                            (grp.flags | 0x1 | 0x2 | 0x10 | 0x80, m2_alts)):
                m = _site_read(header, name, s, a, grp.deletion, grp.mapq, grp.baseq, flag, tags)
                m.next_reference_id = 0
                m.next_reference_start = s - 1
                m.template_length = READ_LENGTH if flag & 0x40 else -READ_LENGTH
                out.write(m)
