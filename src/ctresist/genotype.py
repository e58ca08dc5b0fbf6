"""Read-level evidence at catalogue sites (ctDNA): genotype every known allele from the BAM/CRAM,
then give each site one state.

**Counting** (:func:`genotype_sites`). The unit is a *fragment*: one read, or both mates of a pair
merged by name, exactly as in :mod:`ctresist.phasing`, with the one read filter and base call of
:mod:`ctresist.reads` (mapped, primary, not duplicate, not QC-fail, MAPQ >= ``min_mapq``; the read
base(s) aligned to the site with base quality >= ``min_baseq``, an ``N`` or a deletion is no call). SNVs and same-length MNVs
use the phasing caller; simple deletions and insertions (VCF style, shared first base) are read
from the alignment: alt when the read has exactly that indel right after the anchor base, ref
when it aligns through the site without one. Mates that disagree are dropped. Each fragment has
a strand (that of read 1, or of the single read), so ``alt_fwd``/``alt_rev`` show strand bias.

**UMI families**, when reads carry them: a consensus read (fgbio ``cD``/``cM`` tags) is one
family of ``cD`` raw reads; otherwise reads sharing fgbio ``MI`` (``12/A`` and ``12/B`` are the two
strands of one duplex molecule) or, without ``MI``, the same ``RX`` UMI and fragment position form
a family. A family's call is the strict majority of its fragments (no majority: dropped).
Families smaller than ``min_family_size`` are not counted. Duplicate-flagged reads are always
skipped, so run UMI grouping on a BAM that is not duplicate-marked.

**States** (:func:`site_states`), for each site, in this order:

* ``detected_by_caller``: the caller's VCF has the allele (its own counts are shown);
* ``read_level_only``: not called, but the reads carry ``k >= k*`` alt reads (families), where
  ``k*`` is the call threshold above background error (:func:`ctresist.stats.call_threshold`):
  "possible, confirm", never promoted to a call;
* ``not_detected``: assessable depth and fewer than ``k*`` alt reads, with the 95 % LoD at
  this depth (:func:`ctresist.stats.lod`);
* ``not_assessable``: depth below ``min_depth``, contig absent, or nothing to look at.

Without reads, :mod:`ctresist.io.coverage` gives depths (gVCF reference blocks, mosdepth,
``samtools depth``) and the same states follow, with the caller's threshold as ``k*``.
"""
from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import pysam

from ctresist import stats
from ctresist.errors import InputError
from ctresist.genes import norm_chrom
from ctresist.hotspots import Site
from ctresist.reads import base_call, filter_reason, open_alignment, resolve_contig

STATES = ("detected_by_caller", "read_level_only", "not_detected", "not_assessable")
#: Sites closer than this share one BAM query.
CLUSTER_GAP = 500


@dataclass
class SiteEvidence:
    """Read counts at one site (fragments; ``families``/``alt_families`` when UMIs are present)."""

    site: Site
    depth: int = 0  # fragments with a ref, alt or other call
    ref_reads: int = 0
    alt_reads: int = 0
    other_reads: int = 0
    alt_fwd: int = 0
    alt_rev: int = 0
    ref_fwd: int = 0
    ref_rev: int = 0
    umi: str = ""  # "" | consensus (cD) | MI | RX
    families: int | None = None
    alt_families: int | None = None
    #: reason -> reads skipped in the site's query region (shared by sites < CLUSTER_GAP apart)
    filtered: dict[str, int] = field(default_factory=dict)
    problem: str | None = None  # why the site could not be looked at (e.g. contig absent)

    @property
    def n(self) -> int:
        """The counting unit used for statistics: families when UMIs are present, else fragments."""
        return self.families if self.families is not None else self.depth

    @property
    def k(self) -> int:
        return self.alt_families if self.alt_families is not None else self.alt_reads


def _indel_call(pairs: list[tuple[int | None, int | None]], index: dict[int, int],
                read: pysam.AlignedSegment, site: Site, min_baseq: int) -> str | None:
    """alt / ref / other / None for a VCF-style simple deletion or insertion at ``site``."""
    anchor = site.pos - 1  # 0-based anchor base
    i = index.get(anchor)
    if i is None or pairs[i][0] is None:
        return None
    quals = read.query_qualities
    if quals is None or quals[pairs[i][0]] < min_baseq:
        return None
    seq = read.query_sequence or ""
    dlen, ins = len(site.ref) - len(site.alt), site.alt[1:] if len(site.alt) > 1 else ""
    j = i + 1
    gap_ref, gap_ins = [], []
    while j < len(pairs) and (pairs[j][0] is None or pairs[j][1] is None):
        q, r = pairs[j]
        if r is None and q is None:  # padding
            j += 1
            continue
        if q is None:
            gap_ref.append(r)
        else:
            gap_ins.append(seq[q])
        j += 1
    if j >= len(pairs):
        return None  # the read ends inside or at the event: cannot tell
    nxt_q, nxt_r = pairs[j]
    if quals[nxt_q] < min_baseq:
        return None
    if not gap_ref and not gap_ins:
        # no indel right after the anchor: ref if the read aligns over the whole ref allele
        last = anchor + len(site.ref)  # one base past a deletion's deleted bases
        k = index.get(last if dlen > 0 else anchor + 1)
        if k is None or pairs[k][0] is None:
            return None
        if any(pairs[x][0] is None or pairs[x][1] is None for x in range(i, k + 1)):
            return "other"
        return "ref"
    if dlen > 0 and not gap_ins and len(gap_ref) == dlen and nxt_r == anchor + dlen + 1:
        return "alt"
    if dlen < 0 and not gap_ref and "".join(gap_ins).upper() == ins:
        return "alt"
    return "other"


def _site_call(read, pairs, index, site: Site, min_baseq: int) -> str | None:
    if len(site.ref) == len(site.alt):
        qpos = {}
        for r in range(site.pos - 1, site.pos - 1 + len(site.ref)):
            x = index.get(r)
            if x is None or pairs[x][0] is None:
                return None
            qpos[r] = pairs[x][0]
        return base_call(read, qpos, (site.pos, site.ref, site.alt), min_baseq)
    return _indel_call(pairs, index, read, site, min_baseq)


def _ungapped_call(start: int, end: int, seq: str | None, quals, site: Site,
                   min_baseq: int) -> str | None:
    """The same call as :func:`_site_call` for a read aligned without gaps or clips over
    [start, end) (0-based): no per-base alignment needed."""
    if seq is None or quals is None:
        return None
    r0 = site.pos - 1
    if len(site.ref) == len(site.alt):
        r1 = r0 + len(site.ref)
        if r0 < start or r1 > end:
            return None
        q0, q1 = r0 - start, r1 - start
        if min(quals[q0:q1]) < min_baseq:
            return None
        observed = seq[q0:q1].upper()
        if "N" in observed:
            return None
        return "alt" if observed == site.alt else "ref" if observed == site.ref else "other"
    # an indel: a gapless read is ref when it covers the anchor and the base after the event
    last = r0 + len(site.ref) if len(site.ref) > len(site.alt) else r0 + 1
    if r0 < start or last >= end or quals[r0 - start] < min_baseq or \
            quals[r0 + 1 - start] < min_baseq:
        return None
    return "ref"


def _family_key(read: pysam.AlignedSegment) -> tuple[str, object] | None:
    if read.has_tag("cD"):
        return ("consensus", None)
    if read.has_tag("MI"):
        return ("MI", str(read.get_tag("MI")).split("/")[0])
    if read.has_tag("RX"):
        left = min(read.reference_start, read.next_reference_start) if read.is_paired \
            else read.reference_start
        return ("RX", (str(read.get_tag("RX")), left, abs(read.template_length)))
    return None


def _clusters(sites: list[Site]) -> list[list[Site]]:
    out: list[list[Site]] = []
    for s in sorted(sites, key=lambda s: (s.chrom, s.pos)):
        if out and out[-1][0].chrom == s.chrom and \
                s.pos - max(x.pos + len(x.ref) for x in out[-1]) <= CLUSTER_GAP:
            out[-1].append(s)
        else:
            out.append([s])
    return out


def _check_build(aln: pysam.AlignmentFile, contig: str, chrom: str, build: str | None,
                 bam: str) -> None:
    if build is None:
        return
    from ctresist.hotspots import _lengths

    other = "GRCh37" if build == "GRCh38" else "GRCh38"
    if aln.get_reference_length(contig) == _lengths(other).get(chrom):
        raise InputError(f"{bam}: contig {contig} has the {other} length "
                         f"{aln.get_reference_length(contig)}, but the sites are {build}; "
                         "give the sites of the BAM's build (the sheet's genome_build)")


def genotype_sites(bam: str, sites: Iterable[Site], reference: str | None = None,
                   build: str | None = None, min_mapq: int = 20, min_baseq: int = 20,
                   min_family_size: int = 1) -> list[SiteEvidence]:
    """Count ref/alt fragments (and UMI families) at every site; see the module doc.

    ``reference`` is needed for a CRAM; when given, each site's ref allele is checked against it
    (a mismatch means the wrong build or coordinates: InputError). ``build`` (the sites' build)
    lets a BAM of the other build be refused by its contig lengths. A site on a contig absent
    from the header gets ``problem`` set (it is reported not assessable, never "not detected").
    Returns one :class:`SiteEvidence` per site, in input order.
    """
    sites = list(sites)
    results = {id(s): SiteEvidence(s) for s in sites}
    if min_family_size < 1:
        raise InputError(f"min_family_size must be >= 1, got {min_family_size!r}")
    with open_alignment(bam, reference) as aln:
        if not aln.has_index():
            raise InputError(f"{bam}: no index (.bai/.csi/.crai) found; run `samtools index "
                             f"{bam}` (or pysam.index) first")
        fasta = pysam.FastaFile(reference) if reference else None
        try:
            for group in _clusters(sites):
                try:
                    contig = resolve_contig(group[0].chrom, tuple(aln.references), bam)
                except InputError:
                    for s in group:
                        results[id(s)].problem = (f"contig {group[0].chrom} is not in the "
                                                  "BAM/CRAM header")
                    continue
                _check_build(aln, contig, norm_chrom(group[0].chrom), build, bam)
                length = aln.get_reference_length(contig)
                inside = []
                for s in group:
                    if s.pos + len(s.ref) - 1 > length:
                        results[id(s)].problem = f"{contig}:{s.pos} is beyond the contig length"
                    else:
                        inside.append(s)
                if fasta is not None:
                    _check_reference(fasta, contig, inside, reference)
                if inside:
                    _count(aln, contig, inside, results, min_mapq, min_baseq, min_family_size)
        finally:
            if fasta is not None:
                fasta.close()
    return [results[id(s)] for s in sites]


def _check_reference(fasta: pysam.FastaFile, contig: str, sites: list[Site], path) -> None:
    name = next((n for n in (contig, contig.removeprefix("chr"), "chr" + contig)
                 if n in fasta.references), None)
    if name is None:
        return
    for s in sites:
        seen = fasta.fetch(name, s.pos - 1, s.pos - 1 + len(s.ref)).upper()
        if seen != s.ref.upper() and set(seen) != {"N"}:
            raise InputError(f"{path}: {contig}:{s.pos}: the reference has {seen or 'nothing'} "
                             f"where {s.label} expects {s.ref} (wrong genome build?)")


def _count(aln, contig: str, group: list[Site], results, min_mapq: int, min_baseq: int,
           min_family_size: int) -> None:
    lo = min(s.pos for s in group) - 1
    hi = max(s.pos + len(s.ref) for s in group) + 1
    filtered: Counter = Counter()
    # fragment name -> {site index: [call, strand, conflict]}, plus family key
    frags: dict[str, dict[int, list]] = {}
    fam_of: dict[str, tuple[str, object] | None] = {}
    fam_size: dict[str, int] = {}
    for read in aln.fetch(contig, lo, hi):
        why = filter_reason(read, min_mapq)
        if why:
            filtered[why] += 1
            continue
        strand = "-" if read.is_reverse != (read.is_paired and read.is_read2) else "+"
        calls = {}
        cig = read.cigartuples
        if cig and len(cig) == 1 and cig[0][0] in (0, 7, 8):  # e.g. 150M: no indel, no clip
            start, seq, quals = read.reference_start, read.query_sequence, read.query_qualities
            for si, s in enumerate(group):
                c = _ungapped_call(start, start + cig[0][1], seq, quals, s, min_baseq)
                if c is not None:
                    calls[si] = c
        else:
            pairs = read.get_aligned_pairs()
            index = {r: i for i, (_, r) in enumerate(pairs) if r is not None and lo <= r <= hi}
            for si, s in enumerate(group):
                c = _site_call(read, pairs, index, s, min_baseq)
                if c is not None:
                    calls[si] = c
        if not calls:
            filtered["no_base_call"] += 1
            continue
        name = read.query_name
        frag = frags.setdefault(name, {})
        if name not in fam_of:
            fam_of[name] = _family_key(read)
            if read.has_tag("cD"):
                fam_size[name] = int(read.get_tag("cD"))
        for si, c in calls.items():
            old = frag.get(si)
            if old is None:
                frag[si] = [c, strand, False]
            elif old[0] != c:
                old[2] = True
    umi = next((k[0] for k in fam_of.values() if k is not None), "")
    for si, s in enumerate(group):
        ev = results[id(s)]
        ev.umi = umi
        ev.filtered = dict(filtered)
        fam_calls: dict[object, Counter] = {}
        for name, frag in frags.items():
            got = frag.get(si)
            if got is None:
                continue
            call, strand, conflict = got
            if conflict:
                ev.filtered["mates_disagree"] = ev.filtered.get("mates_disagree", 0) + 1
                continue
            ev.depth += 1
            if call == "alt":
                ev.alt_reads += 1
                ev.alt_fwd += strand == "+"
                ev.alt_rev += strand == "-"
            elif call == "ref":
                ev.ref_reads += 1
                ev.ref_fwd += strand == "+"
                ev.ref_rev += strand == "-"
            else:
                ev.other_reads += 1
            if umi:
                key = fam_of.get(name)
                if key is None:
                    continue  # a read without UMI tags in a UMI BAM is not a family
                fkey = ("c", name) if key[0] == "consensus" else key
                size = fam_size.get(name, 1)
                fam_calls.setdefault(fkey, Counter())[call] += size if key[0] == "consensus" \
                    else 1
        if umi:
            ev.families = ev.alt_families = 0
            for counts in fam_calls.values():
                total = sum(counts.values())
                if total < min_family_size:
                    continue
                call, top = counts.most_common(1)[0]
                if top * 2 <= total:
                    continue  # no strict majority
                ev.families += 1
                ev.alt_families += call == "alt"


def _pct(x: float | None) -> str:
    if x is None:
        return "n/a"
    if x == 0:
        return "0 %"
    digits = max(2, 1 - math.floor(math.log10(x * 100))) if x * 100 < 10 else 1
    return f"{x * 100:.{digits}f} %"


def _key(chrom: str, pos: int, ref: str, alt: str) -> tuple[str, int, str, str]:
    return (norm_chrom(str(chrom)), int(pos), ref.upper(), alt.upper())


def site_states(sites: Iterable[Site], caller_variants: Iterable = (),
                evidence: Iterable[SiteEvidence] | None = None,
                coverage: Mapping | None = None, min_depth: int = 100,
                min_alt_reads: int = 3, min_vaf: float = 0.0,
                background: float | Mapping[tuple[str, int, str, str], float] =
                stats.DEFAULT_BACKGROUND, alpha: float = stats.DEFAULT_ALPHA_CALL,
                tumor_fraction: float | None = None, plasma: bool = True,
                dispersion: float = 0.0) -> list[dict]:
    """One JSON-ready dict per site (see the module doc for the states).

    caller_variants: objects with ``chrom, pos, ref, alt`` and optional ``vaf, depth, alt_reads``
    (e.g. ``ctresist.io.vcf.Variant``) that the caller reported (after normalisation).
    evidence: from :func:`genotype_sites`; coverage: ``{site.key: io.coverage.Coverage}`` used
    for sites without read evidence. min_depth applies to fragments (families with UMIs).
    min_alt_reads/min_vaf: the caller's own threshold (for coverage-only LoD) and the floor of the
    read-level call threshold. background: per-base error, one value or ``{site.key: value}``
    (panel of normals); dispersion > 0 makes it beta-binomial. tumor_fraction: when a clonal heterozygous mutation (VAF ~ TF/2) would sit
    below a site's LoD, the negative is marked ``informative: False``.
    """
    called = {}
    for v in caller_variants:
        called[_key(v.chrom, v.pos, v.ref, v.alt)] = v
    by_site = {id(e.site): e for e in (evidence or [])}
    by_key = {e.site.key: e for e in (evidence or [])}
    coverage = coverage or {}
    rows = []
    for s in sites:
        bg = background.get(s.key, stats.DEFAULT_BACKGROUND) if isinstance(background, Mapping) \
            else background
        ev = by_site.get(id(s)) or by_key.get(s.key)
        row = {"gene": s.gene, "alteration": s.alteration, "role": s.role, "chrom": s.chrom,
               "pos": s.pos, "ref": s.ref, "alt": s.alt, "hgvsc": s.hgvsc, "state": None,
               "source": None, "depth": None, "alt_reads": None, "families": None,
               "alt_families": None, "alt_fwd": None, "alt_rev": None, "vaf": None,
               "ci_low": None, "ci_high": None, "lod": None, "k_call": None,
               "informative": None, "text": ""}
        if ev is not None and ev.problem is None:  # a site not looked at has no depth (not 0)
            row.update(depth=ev.depth, alt_reads=ev.alt_reads, families=ev.families,
                       alt_families=ev.alt_families, alt_fwd=ev.alt_fwd, alt_rev=ev.alt_rev)
        v = called.get(_key(s.chrom, s.pos, s.ref, s.alt))
        if v is not None:
            _detected(row, v, ev)
        elif ev is not None and ev.problem is None:
            _from_reads(row, ev, min_depth, bg, alpha, min_alt_reads, dispersion)
        elif ev is not None:
            row.update(state="not_assessable", source="reads",
                       text=f"not assessable: {ev.problem}")
        elif s.key in coverage:
            _from_coverage(row, coverage[s.key], min_depth, min_alt_reads, min_vaf)
        else:
            row.update(state="not_assessable", source=None,
                       text="absence not assessable: no reads or coverage given")
        if row["state"] == "not_detected" and plasma:
            _shedding(row, tumor_fraction)
        rows.append(row)
    return rows


def _detected(row: dict, v, ev: SiteEvidence | None) -> None:
    depth, alt = getattr(v, "depth", None), getattr(v, "alt_reads", None)
    vaf = getattr(v, "vaf", None)
    row.update(state="detected_by_caller", source="caller")
    filters = getattr(v, "filters", "PASS") or "PASS"
    text = "detected by the caller" + (f" (FILTER={filters})" if filters not in ("PASS", ".")
                                       else "")
    if depth and alt is not None and 0 <= alt <= depth:
        lo, hi = stats.vaf_ci(int(alt), int(depth))
        row.update(depth=int(depth), alt_reads=int(alt), ci_low=lo, ci_high=hi,
                   vaf=vaf if vaf is not None else alt / depth)
        text += f": {alt:,} of {depth:,} reads ({_pct(row['vaf'])}, 95 % CI {_pct(lo)}-{_pct(hi)})"
    elif vaf is not None:
        row["vaf"] = vaf
        text += f" at VAF {_pct(vaf)} (no read counts in the VCF)"
    if ev is not None and ev.problem is None and ev.n:
        text += f"; reads here: {ev.k:,} alt of {ev.n:,}" + (" families" if ev.umi else "")
    row["text"] = text


def _from_reads(row: dict, ev: SiteEvidence, min_depth: int, bg: float, alpha: float,
                min_alt: int, dispersion: float) -> None:
    n, k = ev.n, ev.k
    unit = "families" if ev.umi else "reads"
    row["source"] = "reads" + (f" (UMI {ev.umi})" if ev.umi else "")
    if n < min_depth:
        row.update(state="not_assessable",
                   text=f"not assessable: depth {n:,} {unit} is below the minimum {min_depth:,}")
        if k:
            row["text"] += f" ({k:,} alt {unit} seen: confirm with deeper sequencing)"
        return
    k_call = stats.call_threshold(n, bg, alpha, min_alt, min_vaf=0.0, dispersion=dispersion)
    lo, hi = stats.vaf_ci(k, n)
    row.update(vaf=k / n, ci_low=lo, ci_high=hi, k_call=k_call)
    if k >= k_call:
        row.update(state="read_level_only",
                   text=f"possible, confirm: {k:,} alt {unit} of {n:,} ({_pct(k / n)}, 95 % CI "
                        f"{_pct(lo)}-{_pct(hi)}; {ev.alt_fwd} forward, {ev.alt_rev} reverse) "
                        "in the reads only, not called by the caller")
        if ev.alt_reads >= 4 and 0 in (ev.alt_fwd, ev.alt_rev):
            row["text"] += "; all alt reads on one strand: possible artefact"
        return
    lod = stats.lod(n, k_call)
    row.update(state="not_detected", lod=lod,
               text=f"not detected; 95 % LoD {_pct(lod)} at {n:,}x"
                    + (f" ({unit})" if ev.umi else "")
                    + (f" ({k} alt {unit}, within background error {bg:g})" if k else ""))


def _from_coverage(row: dict, cov, min_depth: int, min_alt: int, min_vaf: float) -> None:
    row["source"] = cov.source
    if cov.depth is None:
        row.update(state="not_assessable", text=f"absence not assessable: {cov.note}")
        return
    row["depth"] = cov.depth
    if cov.depth < min_depth:
        row.update(state="not_assessable",
                   text=f"not assessable: depth {cov.depth:,} ({cov.source}) is below the "
                        f"minimum {min_depth:,}")
        return
    k_call = max(int(min_alt), math.ceil(min_vaf * cov.depth - 1e-9), 1)
    if cov.alt_reads:
        lo, hi = stats.vaf_ci(min(cov.alt_reads, cov.depth), cov.depth)
        row.update(state="read_level_only", alt_reads=cov.alt_reads, k_call=k_call,
                   vaf=cov.alt_reads / cov.depth, ci_low=lo, ci_high=hi,
                   text=f"possible, confirm: {cov.note} lists this allele with {cov.alt_reads:,} "
                        f"alt reads of {cov.depth:,}, but the caller did not report it")
        return
    lod = stats.lod(cov.depth, k_call)
    row.update(state="not_detected", lod=lod, k_call=k_call,
               text=f"not detected; 95 % LoD {_pct(lod)} at {cov.depth:,}x ({cov.note}; LoD for "
                    f"the caller's threshold of {k_call} alt reads)")


def _shedding(row: dict, tf: float | None) -> None:
    lod = row["lod"]
    if tf is None:
        row["informative"] = None
        row["text"] += ("; tumour fraction unknown: low ctDNA shedding cannot be excluded")
    elif lod is not None and tf / 2 < lod:
        row["informative"] = False
        row["text"] += (f"; at tumour fraction {_pct(tf)} a clonal heterozygous mutation would be "
                        f"near {_pct(tf / 2)} VAF, below this LoD: ctDNA shedding may be too low "
                        "to rule resistance out")
    else:
        row["informative"] = True


_RANK = {s: i for i, s in enumerate(STATES)}


def per_change(rows: list[dict]) -> list[dict]:
    """One row per (gene, alteration): the most informative allele (detected, then read-level,
    then not detected with the lowest LoD, then not assessable), keeping ``alleles`` = how many
    alleles of that change were looked at."""
    best: dict[tuple[str, str], dict] = {}
    count: Counter = Counter()
    for r in rows:
        key = (r["gene"], r["alteration"])
        count[key] += 1
        old = best.get(key)
        rank = (_RANK[r["state"]], r["lod"] if r["lod"] is not None else 1.0)
        if old is None or rank < (_RANK[old["state"]], old["lod"] if old["lod"] is not None
                                  else 1.0):
            best[key] = r
    return [{**r, "alleles": count[k]} for k, r in best.items()]


def ctdna_evidence(sites: list[Site], caller_variants: Iterable = (), bam: str | None = None,
                   coverage: str | None = None, reference: str | None = None,
                   build: str | None = None, min_depth: int = 100, min_alt_reads: int = 3,
                   min_vaf: float = 0.0, tumour_fraction=None, plasma: bool = True,
                   background: float | Mapping = stats.DEFAULT_BACKGROUND,
                   dispersion: float = 0.0, min_mapq: int = 20, min_baseq: int = 20,
                   min_family_size: int = 1, not_genotypable: Iterable[str] = ()) -> dict:
    """The report-model block for one sample: reads (``bam``) first, else ``coverage`` (gVCF /
    mosdepth / samtools depth), else nothing (every site "absence not assessable").
    ``tumour_fraction`` is an ``io.purity.TumourFraction`` (or None). Returns
    ``{source, input, tumor_fraction, summary, counts, not_genotypable, caveat, sites (one per
    change), alleles}``: the report's ``ctdna`` block (templates/report.html.j2 reads
    ``tumor_fraction``, ``sites`` and ``caveat``)."""
    import os

    evidence = cov = None
    source = None
    if bam:
        evidence = genotype_sites(bam, sites, reference=reference, build=build,
                                  min_mapq=min_mapq, min_baseq=min_baseq,
                                  min_family_size=min_family_size)
        source = "reads"
    elif coverage:
        from ctresist.io.coverage import site_coverage

        cov = site_coverage(coverage, sites)
        source = "coverage"
    tf = tumour_fraction.value if tumour_fraction is not None else None
    rows = site_states(sites, caller_variants, evidence, cov, min_depth=min_depth,
                       min_alt_reads=min_alt_reads, min_vaf=min_vaf, background=background,
                       tumor_fraction=tf, plasma=plasma, dispersion=dispersion)
    changes = per_change(rows)
    counts = {s: sum(1 for r in changes if r["state"] == s) for s in STATES}
    words = {"detected_by_caller": "detected by the caller",
             "read_level_only": "in the reads only (possible, confirm)",
             "not_detected": "not detected (with LoD)", "not_assessable": "not assessable"}
    summary = (f"{len(changes)} catalogue changes at {len(rows)} known alleles: "
               + ", ".join(f"{n} {words[s]}" for s, n in counts.items() if n))
    if source is None:
        summary += "; absence not assessable: no reads or coverage given"
    missing = list(not_genotypable)
    if missing:
        summary += f"; no known allele to look at for {', '.join(missing)}"
    return {"source": source, "input": os.path.basename(bam or coverage or "") or None,
            "tumor_fraction": tumour_fraction.as_dict() if tumour_fraction else None,
            "summary": summary, "counts": counts, "not_genotypable": missing,
            "caveat": ("absence not assessable: no reads (bam) or coverage (gVCF, mosdepth, "
                       "samtools depth) given" if source is None else None),
            "sites": changes, "alleles": rows}
