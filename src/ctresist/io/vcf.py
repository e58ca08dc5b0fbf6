"""The one VCF reader: streams records with cyvcf2 and yields one :class:`Variant` per ALT allele.

It reads bgzipped or plain VCF/BCF, single- or multi-sample (tumour column chosen by name, by the
``##tumor_sample=`` header of Mutect2, or as the only sample), takes VAF/depth/alt reads from the
caller's FORMAT fields (AD/DP/AF of GATK and VarDict, ADT/DPT, Strelka's tier-1 ``{A,C,G,T}U`` and
``TAR``/``TIR``), and the protein change from VEP ``CSQ`` or SnpEff ``ANN``. When an index exists
only the catalogue-gene regions are read; otherwise the file is streamed once.

Unknown values stay ``None`` (missing is not zero).
"""
from __future__ import annotations

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
    tumor: str | None = None
    normal: str | None = None
    indexed: bool = False
    records_read: int = 0
    chr_prefix: bool = False
    has_gt: bool = False
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
    n = 0
    for v in vcf:
        n += 1
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
        if genes is None or any(g.overlaps(v.CHROM, v.POS, v.end) for g in genes):
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
        raise InputError(f"{path}: cannot read record after {info.records_read} records ({exc}); "
                         "the file may be truncated or corrupt") from exc
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
