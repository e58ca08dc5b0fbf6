"""Are two variants in cis or in trans?  Count the reads (read pairs) that span both positions.

Clinical use: EGFR T790M (GRCh38 7:55181378 C>T) with C797S (7:55181398 T>A) in *cis* resists
all current EGFR TKIs, in *trans* it can respond to a first- plus third-generation combination;
ALK compound mutations (e.g. G1202R + L1196M) are read the same way.

Counting unit: a *fragment* = one read, or both mates of a pair merged by ``query_name``.  Each
alignment is used only if it passes the one read filter of :mod:`ctresist.reads` (mapped, primary
(not secondary/supplementary), not a duplicate, not QC-fail, MAPQ >= ``min_mapq``).  At each variant the alignment's call is the read base
aligned to the position (``get_aligned_pairs(matches_only=True)``, so a deletion or an unaligned
position is "no call") with base quality >= ``min_baseq`` (an ``N`` is no call); for an MNV every
base of the block must be aligned and pass.  The call is ``alt``, ``ref`` or ``other``.  Mates are
merged position by position; if the two mates both call a position and disagree, the whole pair is
ignored.  A fragment *spans* when it has a ref-or-alt call at both variants:

* ``C`` = cis_reads      alt at a and alt at b
* ``A`` = a_only_reads   alt at a, ref at b     } trans_reads = A + B
* ``B`` = b_only_reads   ref at a, alt at b     }
* ``R`` = ref_ref_reads  ref at both
* spanning_reads = C + A + B + R (fragments with an ``other`` base are reported in the note only)

Decision (``min_fraction`` must be in (0.5, 1]), with ``f_a = C/(C+A)`` = share of the alt-a
fragments that also carry alt-b, and ``f_b = C/(C+B)`` likewise (undefined when 0/0):

* **cis**   if ``C >= min_reads`` and ``max(f_a, f_b) >= min_fraction``: (nearly) every fragment
  with one of the variants also carries the other.  This covers plain cis (A = B = 0) and the
  common *nested* case where b arose on an a-allele in a subclone, so a is also seen alone
  (A > 0, B ~ 0).  Wild-type molecules (R) never count against cis.
* **trans** if ``A >= 1`` and ``B >= 1`` and ``A + B >= min_reads`` and
  ``max(f_a, f_b) <= 1 - min_fraction``: both alt alleles are seen on spanning fragments, and
  (nearly) always without the other.  Both one-alt configurations are required: alt-a fragments
  with ref-b alone only show that b is absent/undetectable, not that it sits on the other allele.
* **undetermined** otherwise, with the reason in ``note``: fewer than ``min_reads`` informative
  fragments, one alt never seen on a spanning fragment, mixed evidence (both variants often seen
  alone *and* together: several clones or artefacts), or an indel (not supported).
"""
from __future__ import annotations

from dataclasses import dataclass

import pysam

from ctresist.errors import InputError
from ctresist.reads import BASES, base_call, filter_reason, open_alignment, resolve_contig


@dataclass
class PhaseEvidence:
    """Outcome of :func:`phase_from_reads` (counts are fragments: a read pair counts once)."""

    phase: str  # cis | trans | undetermined
    cis_reads: int
    trans_reads: int  # a_only_reads + b_only_reads
    ref_ref_reads: int
    spanning_reads: int
    note: str
    a_only_reads: int = 0  # alt at a, ref at b
    b_only_reads: int = 0  # ref at a, alt at b


def _variant(label: str, v: tuple[int, str, str]) -> tuple[int, str, str]:
    try:
        pos, ref, alt = v
        pos = int(pos)
    except (TypeError, ValueError) as e:
        raise InputError(f"variant {label}: expected (pos, ref, alt), got {v!r}") from e
    ref, alt = str(ref).upper(), str(alt).upper()
    if pos < 1:
        raise InputError(f"variant {label}: position {pos} must be >= 1 (1-based)")
    if not ref or not alt or not set(ref) <= BASES or not set(alt) <= BASES or ref == alt:
        raise InputError(f"variant {label} ({pos}:{ref}>{alt}): ref and alt must be different "
                         "non-empty A/C/G/T strings")
    return pos, ref, alt


def _check_ref(reference: str, contig: str, variants) -> None:
    """The ref alleles must match the reference FASTA (catches a GRCh37/GRCh38 mix-up)."""
    seen: dict[str, str] = {}
    try:
        with pysam.FastaFile(reference) as fa:
            name = next((n for n in (contig, contig.removeprefix("chr"), "chr" + contig)
                         if n in fa.references), None)
            if name is None:
                return
            for label, (pos, ref, _) in zip("ab", variants):
                seen[label] = fa.fetch(name, pos - 1, pos - 1 + len(ref)).upper()
    except (OSError, ValueError) as e:
        raise InputError(f"{reference}: cannot read reference FASTA ({e})") from e
    for label, (pos, ref, _) in zip("ab", variants):
        if seen[label] != ref:
            raise InputError(f"variant {label} {contig}:{pos} ref {ref}: the reference "
                             f"{reference} has {seen[label] or 'nothing'} there (wrong genome "
                             "build or coordinates?)")


def phase_from_reads(bam: str, chrom: str, a: tuple[int, str, str], b: tuple[int, str, str],
                     reference: str | None = None, min_reads: int = 2, min_fraction: float = 0.8,
                     min_mapq: int = 20, min_baseq: int = 20) -> PhaseEvidence:
    """Phase SNV/MNV ``a`` and ``b`` (each ``(1-based pos, ref, alt)``) on ``chrom`` from ``bam``.

    Counting and the decision rule are described in this module's docstring.  In short, with
    C = alt/alt, A = alt-a/ref-b, B = ref-a/alt-b fragments, f_a = C/(C+A), f_b = C/(C+B):
    cis if C >= min_reads and max(f_a, f_b) >= min_fraction; trans if A >= 1, B >= 1,
    A + B >= min_reads and max(f_a, f_b) <= 1 - min_fraction; otherwise undetermined.

    ``chrom`` may be spelled '7' or 'chr7' whatever the header uses.  ``reference`` is needed
    to decode a CRAM; when given, the ref alleles are also checked against it.  Indels are not
    phased (undetermined, with a note).  Raises :class:`ctresist.errors.InputError` for a
    missing file, a missing index, an unknown contig or malformed variants.
    """
    va, vb = _variant("a", a), _variant("b", b)
    if not isinstance(min_reads, int) or min_reads < 1:
        raise InputError(f"min_reads must be a positive integer, got {min_reads!r}")
    if not 0.5 < min_fraction <= 1:
        raise InputError(f"min_fraction must be in (0.5, 1], got {min_fraction!r}")
    span_a = range(va[0], va[0] + len(va[1]))
    span_b = range(vb[0], vb[0] + len(vb[1]))
    if set(span_a) & set(span_b):
        raise InputError(f"variants a ({va[0]}) and b ({vb[0]}) overlap: nothing to phase")

    with open_alignment(bam, reference) as aln:
        if not aln.has_index():
            raise InputError(f"{bam}: no index (.bai/.csi/.crai) found; run `samtools index "
                             f"{bam}` (or pysam.index) first")
        contig = resolve_contig(chrom, tuple(aln.references), bam)
        length = aln.get_reference_length(contig)
        for label, var in (("a", va), ("b", vb)):
            if var[0] + len(var[1]) - 1 > length:
                raise InputError(f"variant {label}: {contig}:{var[0]} is beyond the contig "
                                 f"length {length} in {bam} (wrong genome build?)")
        if reference is not None:
            _check_ref(reference, contig, (va, vb))
        if len(va[1]) != len(va[2]) or len(vb[1]) != len(vb[2]):
            return PhaseEvidence("undetermined", 0, 0, 0, 0,
                                 "indel phasing is not supported (only SNVs and same-length "
                                 "MNVs); inspect the reads in a genome browser")

        targets = set(span_a) | set(span_b)
        # fragment name -> [call at a, call at b, mates disagree]
        frags: dict[str, list] = {}
        for read in aln.fetch(contig, min(targets) - 1, max(targets)):
            if filter_reason(read, min_mapq):
                continue
            qpos = {r: q for q, r in read.get_aligned_pairs(matches_only=True)
                    if r is not None and r + 1 in targets}
            ca, cb = base_call(read, qpos, va, min_baseq), base_call(read, qpos, vb, min_baseq)
            if ca is None and cb is None:
                continue
            frag = frags.get(read.query_name)
            if frag is None:
                frags[read.query_name] = [ca, cb, False]
                continue
            for i, c in ((0, ca), (1, cb)):
                if c is None:
                    continue
                if frag[i] is None:
                    frag[i] = c
                elif frag[i] != c:
                    frag[2] = True

    cis = a_only = b_only = rr = other = conflicting = one_side = 0
    for ca, cb, conflict in frags.values():
        if conflict:
            conflicting += 1
        elif ca is None or cb is None:
            one_side += 1
        elif "other" in (ca, cb):
            other += 1
        elif ca == "alt":
            if cb == "alt":
                cis += 1
            else:
                a_only += 1
        elif cb == "alt":
            b_only += 1
        else:
            rr += 1
    trans = a_only + b_only
    span = cis + trans + rr
    name_a = f"{contig}:{va[0]}{va[1]}>{va[2]}"
    name_b = f"{contig}:{vb[0]}{vb[1]}>{vb[2]}"
    counts = (f"{span} spanning fragments: {cis} alt/alt, {a_only} alt-a/ref-b, {b_only} "
              f"ref-a/alt-b, {rr} ref/ref (a={name_a}, b={name_b})")
    extras = []
    if one_side:
        extras.append(f"{one_side} covering only one position")
    if other:
        extras.append(f"{other} with a third base")
    if conflicting:
        extras.append(f"{conflicting} pairs ignored: mates disagree")
    if extras:
        counts += "; " + ", ".join(extras)
    if other > span:
        counts += "; most fragments carry neither ref nor alt: check the ref allele/genome build"

    f_a = cis / (cis + a_only) if cis + a_only else None
    f_b = cis / (cis + b_only) if cis + b_only else None
    defined = [f for f in (f_a, f_b) if f is not None]
    best = max(defined) if defined else None

    def result(phase: str, why: str) -> PhaseEvidence:
        return PhaseEvidence(phase=phase, cis_reads=cis, trans_reads=trans, ref_ref_reads=rr,
                             spanning_reads=span, note=f"{why}; {counts}",
                             a_only_reads=a_only, b_only_reads=b_only)

    if best is not None and cis >= min_reads and best >= min_fraction:
        alone = [f"{label} alone on {n}"
                 for label, n in (("alt-a", a_only), ("alt-b", b_only)) if n]
        return result("cis", "cis" + (f" ({', '.join(alone)}: nested subclone or artefact)"
                                      if alone else ""))
    if a_only >= 1 and b_only >= 1 and trans >= min_reads and best is not None \
            and best <= 1 - min_fraction:
        return result("trans", "trans" + (f" ({cis} alt/alt fragments: minor cis population or "
                                           "artefact)" if cis else ""))
    if cis + trans < min_reads:
        why = f"fewer than {min_reads} spanning fragments carry an alt allele"
    elif cis + a_only == 0 or cis + b_only == 0:
        missing = "a" if cis + a_only == 0 else "b"
        why = (f"alt-{missing} is not seen on any spanning fragment (absent or below detection "
               "here); cannot phase")
    else:  # both alts seen, together and apart, in proportions that fit neither rule
        why = (f"mixed evidence (f_a={f_a:.2f}, f_b={f_b:.2f}): variants seen both together and "
               "apart (several clones or artefacts)")
    return result("undetermined", why)
