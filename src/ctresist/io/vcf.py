"""The one VCF reader: streams records with cyvcf2 and yields one :class:`Variant` per ALT allele.

It reads bgzipped or plain VCF/BCF, single- or multi-sample (tumour column chosen by name, by the
``##tumor_sample=`` header of Mutect2, or as the only sample), takes VAF/depth/alt reads from the
caller's FORMAT fields (AD/DP/AF of GATK and VarDict, ADT/DPT, Strelka's tier-1 ``{A,C,G,T}U`` and
``TAR``/``TIR``), and the protein change from VEP ``CSQ``, SnpEff ``ANN`` or ``bcftools csq``
``BCSQ`` (in that order of preference; see :func:`bcsq_protein_change` for how BCSQ amino-acid
changes become the one-letter HGVS form). When an index exists only the catalogue-gene regions
are read; otherwise the file is streamed once.

Unknown values stay ``None`` (missing is not zero).
"""
from __future__ import annotations

import logging
import math
import os
import re
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from cyvcf2 import VCF

from ctresist import protein
from ctresist.errors import InputError
from ctresist.genes import Gene, norm_chrom

log = logging.getLogger("ctresist")

#: VEP CSQ fields holding population allele frequencies (max over them is used for germline flags)
POPULATION_AF_FIELDS = ("MAX_AF", "gnomADe_AF", "gnomADg_AF", "gnomAD_AF", "AF", "EXAC_AF")
#: consequence terms for which a protein change is expected; a missing HGVSp for them is an error
#: of the annotation, reported as "not interpretable"
CODING_TERMS = {
    "missense_variant", "inframe_insertion", "inframe_deletion", "stop_gained", "frameshift_variant",
    "protein_altering_variant", "start_lost", "stop_lost", "synonymous_variant",
    "conservative_inframe_insertion", "conservative_inframe_deletion",
    "disruptive_inframe_insertion", "disruptive_inframe_deletion",
}
PROGRESS_EVERY = 1_000_000  # a progress log line per this many streamed records
INT_MISSING = -2147483648  # htslib's bcf_int32_missing as cyvcf2 returns it
INT_VECTOR_END = -2147483647


@dataclass
class Variant:
    """One ALT allele of one VCF record, in the tumour sample.

    pos is 1-based; vaf is 0-1; depth and alt_reads are read counts; None means unknown.
    """

    chrom: str
    pos: int
    ref: str
    alt: str
    record: int
    filters: str = "PASS"
    gene: str | None = None
    transcript: str | None = None
    consequence: str | None = None
    hgvsc: str | None = None
    hgvsp: str | None = None
    annotation: str | None = None  # VEP | SnpEff | BCSQ | known_site
    vaf: float | None = None
    depth: int | None = None
    alt_reads: int | None = None
    normal_vaf: float | None = None
    normal_alt_reads: int | None = None
    population_af: float | None = None
    genotype: str | None = None
    phase_set: int | None = None
    problem: str | None = None  # why the protein change could not be determined

    @property
    def key(self) -> str:
        return f"{self.chrom}:{self.pos}:{self.ref}>{self.alt}"

    @property
    def change(self) -> protein.ProteinChange | None:
        return protein.parse(self.hgvsp) if self.hgvsp else None


@dataclass
class VcfInfo:
    """What the header says: sample names, contig lengths, annotation formats."""

    path: str
    samples: list[str]
    contigs: dict[str, int]
    csq_fields: list[str] | None = None
    ann_fields: list[str] | None = None
    bcsq: bool = False  # header declares INFO/BCSQ (bcftools csq)
    #: reference protein per unversioned transcript ID, from ``##ctresist_protein`` header lines
    #: (written by :func:`ctresist.consequence.annotate_with_csq`); used to name BCSQ in-frame
    #: indels with HGVS' 3' rule, flanking residues and dup detection
    proteins: dict[str, str] = field(default_factory=dict)
    tumor: str | None = None
    normal: str | None = None
    indexed: bool = False
    records_read: int = 0
    chr_prefix: bool = False
    has_gt: bool = False
    records_seen: int = 0  # records streamed so far (all contigs), for error messages
    notes: list[str] = field(default_factory=list)


def _annotation_fields(vcf: VCF, tag: str) -> list[str] | None:
    try:
        desc = vcf.get_header_type(tag).get("Description", "")
    except KeyError:
        return None
    desc = desc.strip('"')
    m = re.search(r"Format:\s*(.+)$", desc) or re.search(r"'(.+)'", desc)
    if not m:
        return None
    return [f.strip().strip("'\" ") for f in m.group(1).split("|")]


def _header_value(raw_header: str, key: str) -> str | None:
    m = re.search(rf"^##{key}=(.+)$", raw_header, flags=re.M)
    return m.group(1).strip() if m else None


def open_vcf(path: str, tumor: str | None = None, normal: str | None = None) -> tuple[VCF, VcfInfo]:
    """Open ``path`` and resolve the tumour/normal columns; InputError with the file name on failure."""
    if not os.path.exists(path):
        raise InputError(f"{path}: file not found")
    _check_compression(path)
    try:
        vcf = VCF(path, gts012=False, lazy=True)
    except (OSError, Exception) as exc:  # cyvcf2 raises bare Exception for unreadable headers
        raise InputError(f"{path}: not a readable VCF ({exc}); check that it has a ##fileformat "
                         "header and a #CHROM line") from exc
    raw = vcf.raw_header
    if "#CHROM" not in raw:
        raise InputError(f"{path}: no #CHROM header line; the file is not a complete VCF")
    contigs: dict[str, int] = {}
    for m in re.finditer(r"^##contig=<(.+)>$", raw, flags=re.M):
        fields = dict(re.findall(r"(\w+)=([^,>]+)", m.group(1)))
        if "ID" in fields and fields.get("length", "").isdigit():
            contigs[fields["ID"]] = int(fields["length"])
    samples = list(vcf.samples)
    info = VcfInfo(path=path, samples=samples, contigs=contigs,
                   csq_fields=_annotation_fields(vcf, "CSQ"), ann_fields=_annotation_fields(vcf, "ANN"))
    info.has_gt = re.search(r"^##FORMAT=<ID=GT,", raw, flags=re.M) is not None
    info.indexed = any(os.path.exists(path + ext) for ext in (".tbi", ".csi"))
    info.bcsq = re.search(r"^##INFO=<ID=BCSQ,", raw, flags=re.M) is not None
    for m in re.finditer(r"^##ctresist_protein=<ID=([^,>]+),.*?Sequence=([A-Z*]+)", raw, flags=re.M):
        info.proteins[m.group(1).split(".")[0]] = m.group(2)
    info.tumor = _pick_sample(path, samples, tumor, _header_value(raw, "tumor_sample"), ("TUMOR", "TUMOUR"), "tumour")
    normal_hint = _header_value(raw, "normal_sample")
    if normal or normal_hint or any(s in ("NORMAL",) for s in samples):
        if len(samples) > 1:
            info.normal = _pick_sample(path, samples, normal, normal_hint, ("NORMAL",), "normal")
    names = list(vcf.seqnames) if vcf.seqnames else list(contigs)
    info.chr_prefix = any(n.lower().startswith("chr") for n in names)
    return vcf, info


def _check_compression(path: str) -> None:
    """Refuse gzip that is not BGZF, and text named .gz, with a message that says how to fix it."""
    with open(path, "rb") as fh:
        head = fh.read(18)
    if path.endswith((".gz", ".bgz")):
        if head[:2] != b"\x1f\x8b":
            raise InputError(f"{path}: named .gz but not gzip-compressed; compress it with "
                             "'bgzip' or drop the .gz suffix")
        if len(head) < 16 or head[12:14] != b"BC":
            raise InputError(f"{path}: gzip but not BGZF (block gzip); recompress with "
                             "'gunzip -c | bgzip' so it can be indexed and streamed")


def _pick_sample(path: str, samples: list[str], wanted: str | None, hint: str | None,
                 names: tuple[str, ...], role: str) -> str | None:
    if not samples:
        return None
    if wanted:
        if wanted not in samples:
            raise InputError(f"{path}: {role} sample {wanted!r} is not a column of the VCF "
                             f"(columns: {', '.join(samples)}); fix the sample sheet")
        return wanted
    if hint and hint in samples:
        return hint
    for n in names:
        if n in samples:
            return n
    if len(samples) == 1 and role == "tumour":
        return samples[0]
    if role == "tumour":
        raise InputError(f"{path}: {len(samples)} sample columns ({', '.join(samples)}) and none "
                         "marked as tumour; set 'tumor_sample' in the sample sheet")
    return None


def vep_allele(ref: str, alts: list[str], alt: str) -> str:
    """The allele string VEP writes in CSQ for ``alt``: a first base shared by REF and every ALT is
    trimmed, and an empty allele becomes ``-``."""
    if all(a and a[0] == ref[0] for a in alts) and len(ref) > 0 and any(len(a) != len(ref) for a in alts):
        trimmed = alt[1:]
        return trimmed or "-"
    return alt


def _num(x: float | int | None) -> float | None:
    if x is None:
        return None
    x = float(x)
    if math.isnan(x) or x in (INT_MISSING, INT_VECTOR_END):
        return None
    return x


def _fmt(v, tag: str, s: int):
    try:
        arr = v.format(tag)
    except KeyError:
        return None
    if arr is None:
        return None
    row = arr[s]
    if getattr(row, "dtype", None) is not None and row.dtype.kind in "SU":
        # counts declared Type=String (PCGR's ADT "21,8"): parse the numbers, '.' stays missing
        text = row.tobytes().decode("utf-8", "replace") if row.dtype.kind == "S" else str(row)
        text = text.replace("\x00", "").strip()
        vals = []
        for part in text.split(","):
            try:
                vals.append(float(part))
            except ValueError:
                vals.append(None)
        return vals if any(v is not None for v in vals) else None
    return [_num(x) for x in row]


def _counts(v, s: int, ai: int, n_alts: int) -> tuple[float | None, int | None, int | None, str | None]:
    """(vaf, depth, alt_reads, problem) for sample index ``s`` and ALT index ``ai`` (0-based)."""
    ad = _fmt(v, "AD", s) or _fmt(v, "ADT", s)
    dp = _fmt(v, "DP", s) or _fmt(v, "DPT", s)
    af = _fmt(v, "AF", s) or _fmt(v, "VAF", s) or _fmt(v, "FA", s)
    depth = int(dp[0]) if dp and dp[0] is not None else None
    alt_reads = None
    problem = None
    if ad and len(ad) >= ai + 2 and ad[ai + 1] is not None:
        alt_reads = int(ad[ai + 1])
        if any(x is not None and x < 0 for x in ad):
            problem = f"negative allele depth AD={ad}"
        if depth is None:
            depth = int(sum(x for x in ad if x is not None))
    elif ad is None:  # Strelka: tier-1 counts per base, TIR/TAR for indels
        base = v.ALT[ai].upper()
        if len(v.REF) == 1 and len(base) == 1:
            alt_c = _fmt(v, f"{base}U", s)
            if alt_c:
                alt_reads = int(alt_c[0])
        else:
            tir = _fmt(v, "TIR", s)
            if tir:
                alt_reads = int(tir[0])
    vaf: float | None = None
    if af and len(af) > ai and af[ai] is not None:
        vaf = af[ai]
    elif alt_reads is not None and depth:
        vaf = alt_reads / depth
    if vaf is not None:
        vaf = round(vaf, 6)  # FORMAT floats are float32: drop the binary noise
    if vaf is not None and not 0.0 <= vaf <= 1.0:
        problem = f"allele fraction {vaf:g} outside 0-1"
    if alt_reads is not None and depth is not None and alt_reads > depth:
        problem = f"alt reads {alt_reads} exceed depth {depth}"
    if depth is not None and depth < 0:
        problem = f"negative depth {depth}"
    return vaf, depth, alt_reads, problem


def _locate(path: str, k: int) -> str | None:
    """CHROM:POS of the k-th data record, read as text (error path only); None if unreadable."""
    import gzip

    try:
        opener = gzip.open if path.endswith((".gz", ".bgz")) else open
        with opener(path, "rt", encoding="utf-8", errors="replace") as fh:
            n = 0
            for line in fh:
                if line.startswith("#"):
                    continue
                n += 1
                if n == k:
                    f = line.split("\t", 2)
                    return f"{f[0]}:{f[1]}" if len(f) > 2 else None
    except (OSError, EOFError, ValueError):
        return None
    return None


def regions_for(genes: Iterable[Gene], chr_prefix: bool, pad: int = 0) -> list[str]:
    """htslib region strings for gene spans, in the VCF's contig naming."""
    pre = "chr" if chr_prefix else ""
    return [f"{pre}{g.chrom}:{max(1, g.start - pad)}-{g.end + pad}" for g in genes]


def iter_records(vcf: VCF, info: VcfInfo, genes: list[Gene] | None) -> Iterator:
    """Records in catalogue-gene regions: region queries when indexed, one streaming pass otherwise.

    Also checks order and duplicates while streaming (the index path relies on tabix' own order).
    """
    if info.indexed and genes:
        seen: set[tuple[str, int, str, str]] = set()
        for region in regions_for(genes, info.chr_prefix):
            with warnings.catch_warnings():  # htslib: "no intervals found" for contigs without records
                warnings.simplefilter("ignore", UserWarning)
                try:
                    records = list(vcf(region))
                except Exception:  # contig missing in this VCF: nothing to read there
                    continue
            for v in records:
                k = (v.CHROM, v.POS, v.REF, ",".join(v.ALT))
                if k in seen:
                    continue
                seen.add(k)
                yield v
        return
    last_chrom, last_pos, done_chroms = None, 0, set()
    last_key = None
    spans_chrom: str | None = None
    spans: list[tuple[int, int]] = []
    n = 0
    for v in vcf:
        n += 1
        info.records_seen = n
        if n % PROGRESS_EVERY == 0:
            log.info("%s: %d records streamed (at %s:%d)", info.path, n, v.CHROM, v.POS)
        if v.CHROM != last_chrom:
            if v.CHROM in done_chroms:
                raise InputError(f"{info.path}: record {n} ({v.CHROM}:{v.POS}): records are not "
                                 "sorted (chromosome seen before); sort with 'bcftools sort'")
            if last_chrom is not None:
                done_chroms.add(last_chrom)
            last_chrom, last_pos = v.CHROM, 0
        if v.POS < last_pos:
            raise InputError(f"{info.path}: record {n} ({v.CHROM}:{v.POS}): records are not sorted "
                             f"(after {v.CHROM}:{last_pos}); sort with 'bcftools sort'")
        key = (v.CHROM, v.POS, v.REF, tuple(v.ALT))
        if key == last_key:
            raise InputError(f"{info.path}: record {n} ({v.CHROM}:{v.POS}): duplicate of the "
                             "previous record; remove duplicates with 'bcftools norm -d exact'")
        last_key, last_pos = key, v.POS
        if genes is None:
            yield v
            continue
        if v.CHROM != spans_chrom:  # gene spans of this chromosome, looked up once per chromosome
            spans_chrom = v.CHROM
            spans = [(g.start, g.end) for g in genes if g.chrom == norm_chrom(v.CHROM)]
        if spans:
            pos, end = v.POS, v.end
            if any(pos <= e and end >= s for s, e in spans):
                yield v


def read_variants(path: str, genes: list[Gene] | None, tumor: str | None = None,
                  normal: str | None = None, transcripts: dict[str, set[str]] | None = None,
                  info_out: list[VcfInfo] | None = None) -> Iterator[Variant]:
    """Yield one :class:`Variant` per ALT allele in the catalogue-gene regions of ``path``.

    Parameters
    ----------
    genes : the gene spans to read (None: every record).
    tumor, normal : sample column names (None: resolved from the header, see module doc).
    transcripts : preferred transcript IDs per gene (MANE Select / canonical), unversioned ENST.
    info_out : if given, the :class:`VcfInfo` is appended to it before the first variant.
    """
    vcf, info = open_vcf(path, tumor, normal)
    if info_out is not None:
        info_out.append(info)
    ti = info.samples.index(info.tumor) if info.tumor else None
    ni = info.samples.index(info.normal) if info.normal else None
    try:
        for v in iter_records(vcf, info, genes):
            info.records_read += 1
            yield from _alleles(v, info, ti, ni, transcripts or {})
    except InputError:
        raise
    except Exception as exc:  # htslib read errors surface as OSError/Exception from cyvcf2
        k = info.records_seen + 1
        at = None if info.indexed else _locate(path, k)
        where = f"record {k} ({at})" if at else f"after record {info.records_seen}"
        raise InputError(f"{path}: {where}: cannot parse ({exc}); the file may be truncated or "
                         "corrupt") from exc
    finally:
        vcf.close()


def _alleles(v, info: VcfInfo, ti: int | None, ni: int | None,
             transcripts: dict[str, set[str]]) -> Iterator[Variant]:
    alts = list(v.ALT)
    filters = v.FILTER or "PASS"
    gts = None
    if ti is not None and info.has_gt:  # Strelka writes no GT; cyvcf2 cannot parse what is absent
        try:
            gts = v.genotypes
        except Exception:  # a record without GT in a file that declares it
            gts = None
    if info.samples:
        try:
            ncols = str(v).count("\t") + 1
        except UnicodeDecodeError:  # Latin-1 bytes in INFO: the column count cannot be read this way
            ncols = 9 + len(info.samples)
        if ncols < 9 + len(info.samples):
            raise InputError(f"{info.path}: record {info.records_seen or info.records_read} "
                             f"({v.CHROM}:{v.POS}): {max(0, ncols - 9)} sample column(s), the header "
                             f"has {len(info.samples)}; the record is truncated")
    for ai, alt in enumerate(alts):
        if alt in ("*", "<NON_REF>", ".") or alt.startswith("<"):
            continue
        var = Variant(chrom=v.CHROM, pos=v.POS, ref=v.REF, alt=alt, record=info.records_read,
                      filters=filters)
        if ti is not None:
            var.vaf, var.depth, var.alt_reads, prob = _counts(v, ti, ai, len(alts))
            if prob:
                raise InputError(f"{info.path}: record {info.records_read} ({v.CHROM}:{v.POS}): "
                                 f"{prob}; fix the caller's FORMAT fields")
            gt = gts[ti] if gts else None
            if gt is not None and len(gt) >= 2:
                sep = "|" if gt[-1] else "/"
                var.genotype = sep.join("." if a < 0 else str(a) for a in gt[:-1])
                ps = _fmt(v, "PS", ti)
                var.phase_set = int(ps[0]) if ps and ps[0] is not None else None
        if ni is not None:
            var.normal_vaf, _, var.normal_alt_reads, _ = _counts(v, ni, ai, len(alts))
        if info.csq_fields:
            _apply_csq(var, v, info.csq_fields, alts, ai, transcripts)
        elif info.ann_fields:
            _apply_ann(var, v, info.ann_fields, transcripts)
        elif info.bcsq:
            _apply_bcsq(var, v, transcripts, info.proteins)
        yield var


def _choose(entries: list[dict[str, str]], gene_key: str, tx_key: str,
            transcripts: dict[str, set[str]]) -> dict[str, str] | None:
    """Pick one transcript annotation: MANE Select, then the shipped preferred transcript, then
    VEP CANONICAL/PICK, then the first entry with a protein change, then the first entry."""
    if not entries:
        return None

    def rank(e: dict[str, str]) -> tuple[int, ...]:
        tx = e.get(tx_key, "").split(".")[0]
        return (
            0 if e.get("MANE_SELECT") else 1,
            0 if tx in transcripts.get(e.get(gene_key, ""), set()) else 1,
            0 if e.get("CANONICAL") == "YES" else 1,
            0 if e.get("PICK") == "1" else 1,
            0 if e.get("HGVSp") or e.get("HGVS.p") else 1,
        )

    return min(entries, key=rank)


def _apply_common(var: Variant, e: dict[str, str] | None, gene_key: str, tx_key: str,
                  cons_key: str, c_key: str, p_key: str, source: str) -> None:
    if e is None:
        var.problem = f"no {source} annotation for allele {var.alt}"
        return
    var.annotation = source
    var.gene = e.get(gene_key) or None
    var.transcript = e.get(tx_key) or None
    var.consequence = e.get(cons_key) or None
    var.hgvsc = e.get(c_key) or None
    hgvsp = e.get(p_key) or ""
    terms = set((var.consequence or "").split("&"))
    if hgvsp:
        var.hgvsp = protein.to_one_letter(hgvsp)
        if protein.parse(var.hgvsp) is None:
            var.problem = f"unrecognised protein change {hgvsp!r}"
    elif terms & CODING_TERMS - {"synonymous_variant"}:
        var.problem = f"{source} consequence {var.consequence} without a protein change (HGVSp)"


def _apply_csq(var: Variant, v, fields: list[str], alts: list[str], ai: int,
               transcripts: dict[str, set[str]]) -> None:
    raw = v.INFO.get("CSQ")
    entries = []
    want = vep_allele(v.REF, alts, alts[ai])
    for item in (raw.split(",") if raw else []):
        parts = item.split("|")
        e = dict(zip(fields, parts))
        if "ALLELE_NUM" in e and e["ALLELE_NUM"]:
            if e["ALLELE_NUM"] != str(ai + 1):
                continue
        elif e.get("Allele") not in (want, alts[ai]):
            continue
        if e.get("Feature_type", "Transcript") not in ("Transcript", ""):
            continue
        entries.append(e)
    e = _choose(entries, "SYMBOL", "Feature", transcripts)
    _apply_common(var, e, "SYMBOL", "Feature", "Consequence", "HGVSc", "HGVSp", "VEP")
    if e is not None:
        afs = [_safe_float(e.get(k)) for k in POPULATION_AF_FIELDS if e.get(k)]
        afs = [a for a in afs if a is not None]
        var.population_af = max(afs) if afs else None


def _apply_ann(var: Variant, v, fields: list[str], transcripts: dict[str, set[str]]) -> None:
    raw = v.INFO.get("ANN")
    entries = []
    for item in (raw.split(",") if raw else []):
        e = dict(zip(fields, item.split("|")))
        if e.get("Allele") not in (var.alt, f"{var.alt}-{var.ref}"):
            continue
        entries.append(e)
    e = _choose(entries, "Gene_Name", "Feature_ID", transcripts)
    _apply_common(var, e, "Gene_Name", "Feature_ID", "Annotation", "HGVS.c", "HGVS.p", "SnpEff")


def _safe_float(x: str | None) -> float | None:
    try:
        return float(x.split("&")[0]) if x else None
    except ValueError:
        return None


# --- bcftools csq (INFO/BCSQ) -------------------------------------------------------------------

#: bcftools csq consequence names -> the Sequence Ontology terms VEP writes
BCSQ_TERMS = {
    "missense": "missense_variant", "synonymous": "synonymous_variant",
    "frameshift": "frameshift_variant", "inframe_deletion": "inframe_deletion",
    "inframe_insertion": "inframe_insertion", "inframe_altering": "protein_altering_variant",
    "stop_gained": "stop_gained", "stop_lost": "stop_lost",
    "stop_retained": "stop_retained_variant",
    "start_lost": "start_lost", "start_retained": "start_retained_variant",
    "splice_acceptor": "splice_acceptor_variant", "splice_donor": "splice_donor_variant",
    "splice_region": "splice_region_variant", "intron": "intron_variant",
    "5_prime_utr": "5_prime_UTR_variant", "3_prime_utr": "3_prime_UTR_variant",
    "non_coding": "non_coding_transcript_variant", "coding_sequence": "coding_sequence_variant",
    "feature_elongation": "feature_elongation", "feature_truncation": "feature_truncation",
}
_BCSQ_AA = re.compile(r"^(\d+)([A-Z*.]+)(?:>(\d+)([A-Z*.]*))?$")


def _apply_bcsq(var: Variant, v, transcripts: dict[str, set[str]],
                proteins: dict[str, str] | None = None) -> None:
    """Fill ``var`` from INFO/BCSQ of bcftools csq.

    BCSQ is a comma-separated list of
    ``consequence|gene|transcript|biotype|strand|amino_acid_change|dna_change`` (non-coding
    consequences stop after biotype). Rules:

    * an entry belongs to this allele when one of its ``+``-joined DNA changes is
      ``<pos><REF>><ALT>`` of this allele (``55181378C>T``); entries without a DNA change
      (splice/intron/UTR) belong to every allele of the record;
    * ``@<pos>`` entries are back-references: in haplotype-aware mode bcftools reports a compound
      consequence (several variants on one haplotype, e.g. two SNVs in one codon) only at the
      first variant and writes ``@<first pos>`` at the others. Such an allele gets no protein
      change of its own; when it has nothing else, ``problem`` names the record carrying the
      combined change (its protein change is attributed to that first record);
    * entries prefixed ``*`` (downstream of a stop on the same haplotype) are used only when
      nothing else is there;
    * among the entries the preferred transcript (``transcripts[gene]``, unversioned) wins, then
      one with an amino-acid change, then the first;
    * the amino-acid change is converted by :func:`bcsq_protein_change`; a change that cannot be
      converted leaves ``hgvsp`` empty and sets ``problem`` with the raw BCSQ text.
    """
    raw = v.INFO.get("BCSQ")
    items = [x for x in (raw.split(",") if raw else []) if x]
    allele = f"{var.pos}{var.ref}>{var.alt}"
    entries: list[list[str]] = []
    backrefs: list[str] = []
    for item in items:
        if item.startswith("@"):
            backrefs.append(item[1:])
            continue
        parts = item.split("|")
        if len(parts) >= 7 and parts[6]:
            if allele not in parts[6].split("+"):
                continue
        entries.append(parts)
    main = [e for e in entries if not e[0].startswith("*")]
    entries = main or entries
    if not entries:
        var.annotation = "BCSQ" if raw else None
        if backrefs:
            var.problem = (f"bcftools csq reports the protein change of this allele combined with "
                           f"the variant at {var.chrom}:{backrefs[0]} (same haplotype); see that "
                           "record")
        else:
            var.problem = f"no BCSQ annotation for allele {var.alt}"
        return

    def rank(e: list[str]) -> tuple[int, int]:
        gene, tx = (e[1] if len(e) > 1 else ""), (e[2].split(".")[0] if len(e) > 2 else "")
        return (0 if tx in transcripts.get(gene, set()) else 1,
                0 if len(e) >= 6 and e[5] else 1)

    e = min(entries, key=rank)
    var.annotation = "BCSQ"
    terms = [t.lstrip("*") for t in e[0].split("&")]
    var.consequence = "&".join(BCSQ_TERMS.get(t, t) for t in terms)
    var.gene = e[1] if len(e) > 1 and e[1] else None
    var.transcript = e[2] if len(e) > 2 and e[2] else None
    aa = e[5] if len(e) > 5 else ""
    coding = set(var.consequence.split("&")) & (CODING_TERMS - {"synonymous_variant"})
    if aa:
        tx = (var.transcript or "").split(".")[0]
        change = bcsq_protein_change(aa, e[0], (proteins or {}).get(tx))
        if change is None:
            var.problem = f"unrecognised BCSQ amino-acid change {'|'.join(e)!r}"
        else:
            var.hgvsp = change
            # bcftools calls some in-frame changes only feature_truncation/_elongation
            kind = getattr(protein.parse(change), "kind", None)
            term = {"del": "inframe_deletion", "ins": "inframe_insertion",
                    "dup": "inframe_insertion", "delins": "protein_altering_variant"}.get(kind or "")
            if term and not set(var.consequence.split("&")) & CODING_TERMS:
                var.consequence = f"{term}&{var.consequence}"
    elif coding:
        var.problem = f"BCSQ consequence {e[0]} without an amino-acid change ({'|'.join(e)!r})"


def bcsq_protein_change(aa: str, consequence: str = "", protein: str | None = None) -> str | None:
    """One-letter HGVS form (as :func:`ctresist.protein.to_one_letter` gives for VEP) of a BCSQ
    amino-acid change; None when it cannot be converted.

    bcftools prints the residues of the affected codons before and after the change, starting at
    the first affected residue: ``790T>790M``, ``745KELREA>745K``, ``770D>770DG``, a frameshift
    as the whole rest of the protein (``771NPHV...*>771IPPR...*``) and a synonymous change as
    ``790T``. The common prefix and then the common suffix of the two residue strings are
    removed, and what remains is named like VEP/HGVS does:

    * one residue for one: ``T790M``, ``T790*`` (nonsense), ``*1211Rext`` (stop lost), ``M1?``
      (start lost); nothing left: ``T790=``;
    * deletion: ``E746_A750del``, ``G1202del``; insertion: ``D770_N771insG``, or ``dup`` when the
      inserted residues repeat those just before (``T790dup``, ``S768_D770dup``); both: delins
      ``L747_P753delinsS``. Deletions and insertions are first shifted to the most C-terminal
      position (HGVS 3' rule) as far as the residues are known;
    * frameshift: first residue that differs, ``H773fs``, or ``P772*`` when that residue is a stop.

    ``protein`` is the reference protein of the transcript (from the ``##ctresist_protein`` header
    that :func:`ctresist.consequence.annotate_with_csq` writes). Without it only the residues
    bcftools printed are known: the 3' shift stops at the end of them, a ``dup`` is recognised
    only inside them, and an insertion whose C-terminal flanking residue was not printed cannot
    be named (None). A ``protein`` that disagrees with the printed residues is ignored.
    """
    m = _BCSQ_AA.match(aa.strip())
    if not m:
        return None
    pos = int(m.group(1))
    ref = m.group(2).replace(".", "")
    if m.group(3) is None:  # synonymous: only the reference residues
        if len(ref) == 1:
            return f"{ref}{pos}="
        return f"{ref[0]}{pos}_{ref[-1]}{pos + len(ref) - 1}="
    alt = m.group(4).replace(".", "")
    if int(m.group(3)) != pos or not ref:
        return None
    if protein is not None and protein[pos - 1:pos - 1 + len(ref)].ljust(len(ref), "*") != ref:
        protein = None  # not the same reference/transcript: use only what bcftools printed

    def res(n: int) -> str | None:
        """Residue n (1-based) of the reference protein, or None when unknown."""
        if protein is not None:
            if 1 <= n <= len(protein):
                return protein[n - 1]
            return "*" if n == len(protein) + 1 else None
        i = n - pos
        return ref[i] if 0 <= i < len(ref) else None

    terms = set(consequence.lstrip("*").split("&"))
    if "frameshift" in terms:
        n = min(len(ref), len(alt))
        i = next((k for k in range(n) if ref[k] != alt[k]), None)
        if i is None:
            return f"{ref[0]}{pos}fs"
        return f"{ref[i]}{pos + i}*" if alt[i] == "*" else f"{ref[i]}{pos + i}fs"
    if "start_lost" in terms and pos == 1 and ref[0] == "M":
        return "M1?"
    k = 0
    while k < min(len(ref), len(alt)) and ref[k] == alt[k]:
        k += 1
    j = 0
    while j < min(len(ref), len(alt)) - k and ref[-1 - j] == alt[-1 - j]:
        j += 1
    dele, ins = ref[k:len(ref) - j], alt[k:len(alt) - j]
    s = pos + k  # first deleted residue, or the residue after the insertion point
    if "*" in ins:  # stop gained inside the change: residues after the stop do not exist
        ins = ins[:ins.index("*") + 1]
        if dele and ins == "*":
            return f"{dele[0]}{s}*"
    if not dele and not ins:
        return f"{ref[0]}{pos}="
    if len(dele) == 1 and len(ins) == 1:
        if dele == "*":
            return f"*{s}{ins}ext"
        return f"{dele}{s}{ins}"
    if dele and not ins:
        e = s + len(dele) - 1
        while res(e + 1) is not None and res(e + 1) == res(s) and res(s) != "*":
            s, e = s + 1, e + 1
        return f"{res(s)}{s}del" if s == e else f"{res(s)}{s}_{res(e)}{e}del"
    if ins and not dele:
        while res(s) is not None and res(s) == ins[0] and ins[0] != "*":
            ins, s = ins[1:] + ins[0], s + 1
        n = len(ins)
        before = [res(x) for x in range(s - n, s)]
        if all(b is not None for b in before) and "".join(before) == ins:
            return f"{ins}{s - 1}dup" if n == 1 else f"{ins[0]}{s - n}_{ins[-1]}{s - 1}dup"
        left, right = res(s - 1), res(s)
        if left is None or right is None:
            return None
        return f"{left}{s - 1}_{right}{s}ins{ins}"
    e = s + len(dele) - 1
    return f"{dele}{s}delins{ins}" if s == e else f"{dele[0]}{s}_{dele[-1]}{e}delins{ins}"
