"""The one VCF reader: streams records with cyvcf2 and yields one :class:`Variant` per ALT allele.

It reads bgzipped, plain-gzipped or plain VCF and BCF, single- or multi-sample (tumour column chosen
by name, by the ``##tumor_sample=`` header of Mutect2, or as the only sample), takes VAF/depth/alt
reads by the caller's convention (:mod:`ctresist.io.callers`: one table, from the header's
``##source`` and ``##FORMAT`` declarations), and the protein change from VEP ``CSQ``, SnpEff
``ANN`` (or the older ``EFF``), ``bcftools csq`` ``BCSQ`` or Hartwig PAVE ``PAVE_TI``/``IMPACT``
(in that order of preference; see :func:`bcsq_protein_change` for how BCSQ amino-acid changes
become the one-letter HGVS form). Annotation entries of catalogue genes (by symbol or by their
preferred transcript) win over entries of overlapping genes; a record in a catalogue gene whose
annotation names another gene, or whose entry is malformed, is listed with a ``problem``.

File-level faults are found before or while parsing (:mod:`ctresist.io.integrity`): non-regular
files, truncation (missing BGZF EOF block, last line without newline), untrustworthy indexes
(streamed instead, with a note in :attr:`VcfInfo.notes`), header lines among the records,
positions beyond the contig (including 32-bit wrap-around), and copy-number VCFs given as
small-variant VCFs. When a valid index exists only the catalogue-gene regions are read; otherwise
the file is streamed once, as text: htslib parses only the records that may overlap a catalogue
gene and those the text checks cannot settle (:class:`_TextScan`).

Unknown values stay ``None`` (missing is not zero).
"""
from __future__ import annotations

import logging
import math
import os
import re
import warnings
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np
from cyvcf2 import VCF

from ctresist import protein
from ctresist.errors import InputError
from ctresist.genes import Gene, chrom_lengths, norm_chrom
from ctresist.io import callers, integrity

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
#: symbolic ALT alleles of copy-number callers
CNV_ALLELES = ("<DUP", "<DEL", "<CNV", "<CN", "<GAIN", "<LOSS", "<AMP")
#: SnpEff EFF field order when the header does not give it (SnpEff 3.x/4.0)
EFF_DEFAULT = ["Effect_Impact", "Functional_Class", "Codon_Change", "Amino_Acid_Change",
               "Amino_Acid_Length", "Gene_Name", "Transcript_BioType", "Gene_Coding",
               "Transcript_ID", "Exon_Rank", "Genotype_Number", "ERRORS", "WARNINGS"]
#: old SnpEff effect names -> Sequence Ontology terms
EFF_TERMS = {
    "NON_SYNONYMOUS_CODING": "missense_variant", "SYNONYMOUS_CODING": "synonymous_variant",
    "STOP_GAINED": "stop_gained", "STOP_LOST": "stop_lost", "START_LOST": "start_lost",
    "FRAME_SHIFT": "frameshift_variant", "CODON_INSERTION": "inframe_insertion",
    "CODON_DELETION": "inframe_deletion", "CODON_CHANGE_PLUS_CODON_INSERTION": "inframe_insertion",
    "CODON_CHANGE_PLUS_CODON_DELETION": "inframe_deletion", "NON_SYNONYMOUS_START": "missense_variant",
    "INTRON": "intron_variant", "SPLICE_SITE_ACCEPTOR": "splice_acceptor_variant",
    "SPLICE_SITE_DONOR": "splice_donor_variant", "UTR_5_PRIME": "5_prime_UTR_variant",
    "UTR_3_PRIME": "3_prime_UTR_variant",
}
#: Hartwig PAVE INFO/IMPACT order (Number=10) when PAVE_TI is absent
PAVE_IMPACT = ["GeneName", "Transcript", "Effects", "CodingEffect", "SpliceRegion", "HGVS.c", "HGVS.p",
               "OtherReportableEffects", "WorstCodingEffect", "GenesAffected"]


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
    annotation: str | None = None  # VEP | SnpEff | BCSQ | PAVE | known_site
    vaf: float | None = None
    depth: int | None = None
    alt_reads: int | None = None
    normal_vaf: float | None = None
    normal_alt_reads: int | None = None
    population_af: float | None = None
    genotype: str | None = None
    phase_set: int | None = None
    problem: str | None = None  # why the protein change could not be determined
    exon: str | None = None  # "n/total" from VEP EXON or SnpEff Rank

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
    raw_header: str = ""  # the header text as in the file (##reference/##assembly/##source lines)
    caller: str = "generic"  # the read-count convention used (ctresist.io.callers)
    eff_fields: list[str] | None = None  # SnpEff's older EFF
    pave_fields: list[str] | None = None  # Hartwig PAVE_TI (or IMPACT)
    kind: str = "text"  # bgzf | gzip | bcf-raw | text
    header_lines: int = 0  # number of header lines (data line N is file line header_lines + N)
    #: the largest POS per CHROM over the whole file (set when the file was streamed to its end;
    #: None after region queries), for the genome-build check
    max_pos: dict[str, int] | None = None
    _header: callers.Header | None = field(default=None, repr=False)
    _convention: callers.Convention | None = field(default=None, repr=False)
    _cnv_header: bool = field(default=False, repr=False)
    _symbolic: int = field(default=0, repr=False)  # copy-number alleles seen in gene regions
    _small: int = field(default=0, repr=False)  # other alleles seen in gene regions


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


def _eff_fields(vcf: VCF) -> list[str] | None:
    try:
        desc = vcf.get_header_type("EFF").get("Description", "")
    except KeyError:
        return None
    m = re.search(r"\(([^()]*)\)", desc)
    if not m:
        return list(EFF_DEFAULT)
    return [f.strip(" []") for f in m.group(1).replace("[", "|").split("|") if f.strip(" []")]


def _pave_fields(vcf: VCF) -> list[str] | None:
    for tag in ("PAVE_TI", "IMPACT"):
        try:
            desc = vcf.get_header_type(tag).get("Description", "")
        except KeyError:
            continue
        m = re.search(r"\[([^\]]+)\]", desc)
        if tag == "PAVE_TI" and m:
            return [f.strip() for f in m.group(1).split("|")]
        if tag == "IMPACT" and m and "Gene" in m.group(1):
            return ["IMPACT"]  # fixed order PAVE_IMPACT, comma-separated
    return None


def _header_value(raw_header: str, key: str) -> str | None:
    m = re.search(rf"^##{key}=(.+)$", raw_header, flags=re.M)
    return m.group(1).strip() if m else None


def open_vcf(path: str, tumor: str | None = None, normal: str | None = None) -> tuple[VCF, VcfInfo]:
    """Open ``path`` and resolve the tumour/normal columns; InputError with the file name on failure."""
    integrity.check_regular_file(path)
    kind = integrity.file_kind(path)
    text_header = _text_header(path, kind)
    notes = []
    try:
        if (text_header and text_header[-1].startswith("#CHROM")
                and not text_header[0].startswith("##fileformat")):
            vcf = _without_fileformat(path, kind)
            notes.append("the header has no ##fileformat line; read as VCFv4.2")
            kind = "text"  # a plain copy: streamed, no index
        else:
            vcf = VCF(path, gts012=False, lazy=True)
    except (OSError, Exception) as exc:  # cyvcf2 raises bare Exception for unreadable headers
        first = _first_line(path, kind)
        hint = ("the first line is not '##fileformat=VCFv4.x'; add it as the first line"
                if first is not None and not first.startswith("##fileformat") else
                "check that it has a ##fileformat header and a #CHROM line")
        detail = _clean(exc)
        if "not valid bcf or vcf" in detail:
            detail = "htslib does not recognise the format"
        raise InputError(f"{path}: line 1: not a readable VCF ({detail}); {hint}") from exc
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
    # the header as written in the file (htslib's own copy also lists the contigs of an index)
    info.raw_header = "\n".join(text_header) + "\n" if text_header else raw
    info.kind = kind
    info.header_lines = len(text_header) if text_header is not None else raw.count("\n")
    info.eff_fields = _eff_fields(vcf)
    info.pave_fields = _pave_fields(vcf)
    info._header = callers.Header.parse(raw, len(samples))
    info._convention = callers.identify(info._header)
    info.caller = info._convention.caller
    h = info._header
    info._cnv_header = (any(t in h.infos or t in h.formats for t in ("CN", "FC", "CNQ"))
                        and ("END" in h.infos or "SVLEN" in h.infos)
                        and re.search(r"^##ALT=<ID=(CNV|DUP|DEL)", raw, flags=re.M) is not None)
    info.has_gt = re.search(r"^##FORMAT=<ID=GT,", raw, flags=re.M) is not None
    header_contigs = re.findall(r"^##contig=<ID=([^,>]+)", info.raw_header, flags=re.M)
    info.notes.extend(notes)
    idx, why = integrity.index_status(path, kind, header_contigs) if not notes else (None, None)
    info.indexed = idx is not None
    if why:
        info.notes.append(f"{why}; the whole file was read instead")
        log.warning("%s: %s; the whole file is streamed instead", path, why)
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


def _without_fileformat(path: str, kind: str) -> VCF:
    """htslib refuses a header without ``##fileformat``: read a plain copy that starts with
    ``##fileformat=VCFv4.2`` (removed from disk once opened; the records are unchanged)."""
    import gzip
    import shutil
    import tempfile

    opener = gzip.open if kind in ("bgzf", "gzip") else open
    with tempfile.NamedTemporaryFile("wb", suffix=".vcf", delete=False) as out:
        try:
            out.write(b"##fileformat=VCFv4.2\n")
            with opener(path, "rb") as src:
                shutil.copyfileobj(src, out, 1 << 20)
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
            os.unlink(out.name)
            raise InputError(f"{path}: corrupt compressed data ({_clean(exc)}); copy or compress "
                             "it again") from None
    try:
        return VCF(out.name, gts012=False, lazy=True)
    finally:
        os.unlink(out.name)  # htslib keeps its open descriptor


def _clean(exc: BaseException) -> str:
    """An exception's text without control or non-printable bytes (corrupt BCF)."""
    text = str(exc).replace("\n", " ")
    return re.sub(r"[^\x20-\x7e]", "?", text)[:200]


def _text_header(path: str, kind: str) -> list[str] | None:
    """The header lines as written in the file (through #CHROM); None for BCF or unreadable."""
    import gzip

    if kind not in ("bgzf", "gzip", "text"):
        return None
    lines = []
    try:
        opener = gzip.open if kind != "text" else open
        with opener(path, "rt", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if not line.startswith("#"):
                    break
                lines.append(line.rstrip("\r\n"))
                if line.startswith("#CHROM"):
                    break
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise InputError(f"{path}: line {len(lines) + 1}: corrupt compressed data ({_clean(exc)}); "
                         "the file was damaged: copy or compress it again") from None
    except (OSError, ValueError):
        return None
    return lines


def _first_line(path: str, kind: str) -> str | None:
    import gzip

    try:
        opener = gzip.open if kind in ("bgzf", "gzip") else open
        with opener(path, "rt", encoding="utf-8", errors="replace") as fh:
            return fh.readline()
    except (OSError, EOFError, ValueError, zlib.error):
        return None


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


def _parse_numbers(text: str) -> list[float | None] | None:
    """'21,8' -> [21.0, 8.0]; '2.5%' -> [2.5]; '.' stays None; None when nothing is a number."""
    vals: list[float | None] = []
    for part in text.replace("\x00", "").strip().split(","):
        try:
            vals.append(float(part.strip().rstrip("%")))
        except ValueError:
            vals.append(None)
    return vals if any(v is not None for v in vals) else None


def format_values(v, tag: str, s: int):
    """FORMAT ``tag`` of sample index ``s`` as floats (None for missing values, htslib's missing
    and vector-end markers, NaN); numbers declared Type=String are parsed; None without the tag."""
    try:
        arr = v.format(tag)
    except KeyError:
        return None
    if arr is None:
        return None
    row = arr[s]
    if getattr(row, "dtype", None) is not None and row.dtype.kind in "SU":
        # counts declared Type=String (PCGR's ADT "21,8", VarScan's FREQ "2.5%")
        text = row.tobytes().decode("utf-8", "replace") if row.dtype.kind == "S" else str(row)
        return _parse_numbers(text)
    return [_num(x) for x in row]




def _info_values(v, tag: str):
    try:
        val = v.INFO.get(tag)
    except (KeyError, ValueError):
        return None
    if val is None:
        return None
    if isinstance(val, str):
        return _parse_numbers(val)
    if isinstance(val, (tuple, list)):
        return [_num(x) for x in val]
    if isinstance(val, bool):
        return None
    return [_num(val)]


def _counts(v, info: VcfInfo, s: int | None, ai: int,
            ) -> tuple[float | None, int | None, int | None, str | None, str | None]:
    """(vaf, depth, alt_reads, problem, warning) for sample index ``s`` (None: no sample column)
    and ALT index ``ai`` (0-based), by the caller's convention."""
    conv = info._convention or callers.CONVENTIONS[-1]
    site = callers.Site(ref=v.REF, alts=tuple(v.ALT), ai=ai,
                        fmt=(lambda tag: format_values(v, tag, s)) if s is not None else (lambda tag: None),
                        info=lambda tag: _info_values(v, tag), header=info._header or callers.Header(""))
    c = conv.counts(site)
    vaf, depth, alt_reads = c.vaf, c.depth, c.alt_reads
    problem = warning = None
    ad = format_values(v, "AD", s) if s is not None else None
    if ad and any(x is not None and x < 0 for x in ad):
        problem = f"negative allele depth AD={ad}"
    if vaf is not None:
        vaf = round(vaf, 6)  # FORMAT floats are float32: drop the binary noise
    if vaf is not None and not 0.0 <= vaf <= 1.0:
        problem = f"allele fraction {vaf:g} outside 0-1"
    if alt_reads is not None and depth is not None and alt_reads > depth:
        observed = alt_reads + (c.ref_reads or 0)
        approximate = conv.approximate_dp or callers.dp_is_approximate(site.header)
        if approximate or (v.FILTER or "PASS") != "PASS":
            warning = (f"alt reads {alt_reads} exceed DP {depth} (DP is approximate or the record "
                       f"is filtered); depth taken as {max(depth, observed)}")
            depth = max(depth, observed)
        else:
            problem = f"alt reads {alt_reads} exceed depth {depth}"
    if depth is not None and depth < 0:
        problem = f"negative depth {depth}"
    return vaf, depth, alt_reads, problem, warning


def _locate(path: str, k: int) -> str | None:
    """CHROM:POS of the k-th data record, read as text (error path only); None if unreadable."""
    import gzip

    try:
        with open(path, "rb") as raw:
            gz = raw.read(2) == b"\x1f\x8b"
        opener = gzip.open if gz else open
        with opener(path, "rt", encoding="utf-8", errors="replace") as fh:
            n = 0
            for line in fh:
                if line.startswith("#"):
                    continue
                n += 1
                if n == k:
                    f = line.split("\t", 2)
                    return f"{f[0][:40]}:{f[1][:20]}" if len(f) > 2 else None
    except (OSError, EOFError, ValueError, zlib.error):
        return None
    return None


def regions_for(genes: Iterable[Gene], chr_prefix: bool, pad: int = 0) -> list[str]:
    """htslib region strings for gene spans, in the VCF's contig naming."""
    pre = "chr" if chr_prefix else ""
    return [f"{pre}{g.chrom}:{max(1, g.start - pad)}-{g.end + pad}" for g in genes]


def _contig_limit(info: VcfInfo, chrom: str) -> int | None:
    """Length of ``chrom``: the header's ##contig length, else the longest of GRCh37/GRCh38."""
    if chrom in info.contigs:
        return info.contigs[chrom]
    c = norm_chrom(chrom)
    lengths = [b.get(c) for b in chrom_lengths().values()]
    lengths = [n for n in lengths if n]
    return max(lengths) if lengths else None


def _known_chrom(chrom: str) -> bool:
    """A primary chromosome name (1-22, X, Y, MT, with or without 'chr')."""
    c = norm_chrom(chrom)
    return c == "MT" or c in chrom_lengths()["GRCh38"]


def _unknown_contigs_error(path: str, names: list[str]) -> InputError:
    shown = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
    return InputError(f"{path}: no contig is a chromosome named 1-22, X, Y or MT (with or without "
                      f"'chr') (contigs: {shown}), so no catalogue gene can be found; rename the "
                      "contigs (bcftools annotate --rename-chrs)")


def _header_line_error(info: VcfInfo, v, n: int) -> InputError:
    text = v.CHROM[:40]
    return InputError(f"{info.path}: line {info.header_lines + n}: header line {text!r} among the "
                      f"records (after record {n - 1}); the file may be two VCFs concatenated "
                      "('cat a.vcf b.vcf'): merge them with 'bcftools concat'")


def _beyond_error(info: VcfInfo, chrom: str, pos: int, limit: int, n: int | str) -> InputError:
    return InputError(f"{info.path}: record {n} ({chrom}:{pos}): position beyond the end of "
                      f"{chrom} (length {limit}); the record is corrupt")


def iter_records(vcf: VCF, info: VcfInfo, genes: list[Gene] | None) -> Iterator:
    """Records in catalogue-gene regions: region queries when a valid index exists, one streaming
    pass otherwise.

    All regions are read before the first record is yielded: when a region query fails (a corrupt
    block, a malformed record) the file is streamed instead, which names the bad record exactly as
    streaming always does. Only a contig absent from the index yields nothing for its regions.
    Streaming also checks order, duplicates, header lines among the records and positions beyond
    the contig's length.
    """
    if info.indexed and genes:
        records = None
        try:
            records = _query_regions(vcf, info, genes)
        except InputError:
            raise
        except Exception as exc:  # htslib/cyvcf2 errors inside a region: stream to name the record
            info.notes.append(f"a region query failed ({_clean(exc)}); the whole file was read instead")
            info.indexed = False
        if records is not None:
            yield from records
            return
        vcf.close()
        again = VCF(info.path, gts012=False, lazy=True)
        try:
            yield from _stream(again, info, genes)
        finally:
            again.close()
        return
    yield from _stream(vcf, info, genes)


def _query_regions(vcf: VCF, info: VcfInfo, genes: list[Gene]) -> list:
    seen: set[tuple[str, int, str, str]] = set()
    out = []
    for region in regions_for(genes, info.chr_prefix):
        with warnings.catch_warnings():  # htslib: "no intervals found" for contigs without records
            warnings.simplefilter("ignore", UserWarning)
            records = list(vcf(region))
        for v in records:
            k = (v.CHROM, v.POS, v.REF, ",".join(v.ALT))
            if k in seen:
                continue
            seen.add(k)
            limit = _contig_limit(info, v.CHROM)
            if limit is not None and v.POS > limit:
                raise _beyond_error(info, v.CHROM, v.POS, limit, f"in {region}")
            out.append(v)
    return out


class _Checks:
    """The per-record checks of a streamed file (order, duplicates, header lines among the records,
    undeclared contigs that failed to parse, positions beyond the contig) and the gene-overlap
    test, on cyvcf2 records. Used record by record by the cyvcf2 loop, and by the text scan
    (:class:`_TextScan`) for every record it does not settle from the text alone."""

    def __init__(self, info: VcfInfo, genes: list[Gene] | None):
        self.info, self.genes = info, genes
        self.last_chrom: str | None = None
        self.last_pos = 0
        self.done_chroms: set[str] = set()
        self.last_key: tuple | None = None
        self.limit: int | None = None
        self.max_pos: dict[str, int] = {}
        self.header_contigs = set(re.findall(r"^##contig=<ID=([^,>]+)", info.raw_header, flags=re.M))
        self.spans_chrom: str | None = None
        self.spans: list[tuple[int, int]] = []
        self.lo, self.hi = 0, -1

    def record(self, v, n: int) -> None:
        """Check record ``n`` (1-based); InputError naming it when it breaks a rule."""
        info = self.info
        info.records_seen = n
        if n % PROGRESS_EVERY == 0:
            log.info("%s: %d records streamed (at %s:%d)", info.path, n, v.CHROM, v.POS)
        chrom = v.CHROM
        if chrom != self.last_chrom:
            if chrom.startswith("#"):  # before touching REF: cyvcf2 crashes on such half-parsed records
                raise _header_line_error(info, v, n)
            if chrom not in self.header_contigs:
                _check_parsed(info, v, n)
            self.new_chrom(chrom, v.POS, n)
        pos = v.POS
        if self.limit is not None and pos > self.limit:
            raise _beyond_error(info, chrom, pos, self.limit, n)
        if pos < self.last_pos:
            raise InputError(f"{info.path}: record {n} ({chrom}:{pos}): records are not sorted "
                             f"(after {chrom}:{self.last_pos}); sort with 'bcftools sort'")
        key = (chrom, pos, v.REF, tuple(v.ALT))
        if key == self.last_key:
            raise InputError(f"{info.path}: record {n} ({chrom}:{pos}): duplicate of the "
                             "previous record; remove duplicates with 'bcftools norm -d exact'")
        self.last_key, self.last_pos = key, pos

    def new_chrom(self, chrom: str, pos: int, n: int) -> None:
        if chrom in self.done_chroms:
            raise InputError(f"{self.info.path}: record {n} ({chrom}:{pos}): records are not "
                             "sorted (chromosome seen before); sort with 'bcftools sort'")
        if self.last_chrom is not None:
            self.done_chroms.add(self.last_chrom)
            self.max_pos[self.last_chrom] = self.last_pos
        self.last_chrom, self.last_pos = chrom, 0
        self.limit = _contig_limit(self.info, chrom)

    def set_spans(self, chrom: str) -> None:
        """Gene spans of ``chrom`` and their bounds, looked up once per chromosome."""
        if chrom != self.spans_chrom:
            self.spans_chrom = chrom
            self.spans = [(g.start, g.end) for g in self.genes or () if g.chrom == norm_chrom(chrom)]
            self.lo = min((s for s, _ in self.spans), default=0)
            self.hi = max((e for _, e in self.spans), default=-1)

    def wanted(self, v) -> bool:
        """Whether record ``v`` overlaps a gene span (its end as htslib has it, INFO/END included)."""
        self.set_spans(v.CHROM)
        if v.POS <= self.hi:  # cheap bounds of all spans first: most records are outside them
            pos, end = v.POS, v.end
            return end >= self.lo and any(pos <= e and end >= s for s, e in self.spans)
        return False

    def finish(self) -> None:
        info = self.info
        if self.last_chrom is not None:
            self.max_pos[self.last_chrom] = self.last_pos
        info.max_pos = self.max_pos
        if self.genes and self.max_pos and not any(_known_chrom(c) for c in self.max_pos):
            raise _unknown_contigs_error(info.path, list(self.max_pos))


def _stream(vcf: VCF, info: VcfInfo, genes: list[Gene] | None) -> Iterator:
    """Every record (``genes`` None) or those overlapping ``genes``, in one pass, checked by
    :class:`_Checks`. With genes, a VCF text file (plain, gzip or BGZF) is scanned as text
    (:class:`_TextScan`) and only the records that may overlap a gene are parsed by htslib."""
    checks = _Checks(info, genes)
    if genes:
        scan = _TextScan.open(info.path, checks)
        if scan is not None:
            yield from scan.records()
            checks.finish()
            return
    n = 0
    for v in vcf:
        n += 1
        checks.record(v, n)
        if genes is None or checks.wanted(v):
            yield v
    checks.finish()


class _TextScan:
    """One pass over a VCF's text, parsing with htslib only what matters (issue #14: htslib's full
    parse of every record was most of the streaming time).

    The text is read in ~0.5 MB pieces of whole lines and each piece is checked with numpy: column
    count (the #CHROM line's), CHROM, POS (1-9 digits), order and contig length. A run of lines
    that pass (same CHROM as the line before, POS increasing) is settled from the text: the
    record count, the last position, and which lines may overlap a gene span: POS + the line's
    length reaches the span (the REF is shorter than the line), or the line has INFO/END (or
    SVLEN) and POS is before the last span end. Only those lines are parsed, by a cyvcf2 reader
    on the file's header and these lines, and go through the exact overlap test of
    :meth:`_Checks.wanted`, as when every record was parsed. Every other line (a new CHROM not
    declared in the header, an equal or smaller POS, a header line, a wrong column count, an
    unreadable POS, a position beyond the contig) starts a window of ``WINDOW`` lines (twice as
    many after each window that is followed by another such line, up to ``MAX_WINDOW``) that
    are parsed by htslib and checked record by record by :meth:`_Checks.record`, as before; so
    every error message is the same. The one check that no longer sees every record: values
    that htslib cannot parse (``AD=1,x``) in a record outside the gene spans no longer stop the
    run; inside them they still do.
    """

    PIECE = 1 << 16  # bytes per read (about one BGZF block): a corrupt block loses no earlier line
    CHUNK = 1 << 19  # bytes of whole lines checked together
    WINDOW = 64  # lines parsed by htslib after a line the text check does not settle
    MAX_WINDOW = 1 << 14  # the window doubles while the text check settles no line after it
    MAX_CHROM = 64  # longer CHROM names are left to htslib
    MAX_HEADER = 1 << 26  # a longer header is left to htslib

    def __init__(self, path: str, fh, header: bytes, first: bytes, checks: _Checks):
        self.path, self.fh, self.checks, self.info = path, fh, checks, checks.info
        if not header.startswith(b"##fileformat"):
            header = b"##fileformat=VCFv4.2\n" + header  # as open_vcf reads such a file
        self.header = header
        chrom_line = header.rstrip(b"\n").rsplit(b"\n", 1)[-1]
        self.want_tabs = chrom_line.count(b"\t")
        self.rest = first
        self.n = 0
        self.key_line: tuple[bytes, int] | None = None  # (chunk, start) of the last settled line
        self.window = self.WINDOW

    @classmethod
    def open(cls, path: str, checks: _Checks) -> _TextScan | None:
        """A scan of ``path``, positioned at its first data line; None for BCF or anything whose
        header cannot be split off as text (then cyvcf2 reads every record)."""
        import gzip

        with open(path, "rb") as raw:
            head = raw.read(18)
        if head[:2] == b"\x1f\x8b":
            if len(head) >= 16 and head[12:14] == b"BC":
                from pysam.libcbgzf import BGZFile  # htslib's BGZF reader, faster than gzip

                fh = BGZFile(path, "rb")
            else:
                fh = gzip.open(path, "rb")
        else:
            fh = open(path, "rb")
        try:
            data = bytearray(fh.read(cls.PIECE))
            seen = 0  # bytes of data already searched for the #CHROM line
            while data.startswith(b"#") and len(data) < cls.MAX_HEADER:
                # the header htslib reads: the lines up to the first #CHROM line
                at = 0 if data.startswith(b"#CHROM") else data.find(b"\n#CHROM", max(0, seen - 7)) + 1
                end = data.find(b"\n", at) if at or data.startswith(b"#CHROM") else -1
                if end >= 0:
                    header = bytes(data[:end + 1])
                    if all(ln.startswith(b"#") for ln in header.split(b"\n")[:-1]):
                        return cls(path, fh, header, bytes(data[end + 1:]), checks)
                    break
                seen = len(data)
                more = fh.read(cls.PIECE)
                if not more:
                    break
                data += more
            fh.close()  # BCF, or no #CHROM line: htslib's reading decides
            return None
        except BaseException:
            fh.close()
            raise

    def records(self) -> Iterator:
        """The records that overlap the gene spans, checked as described in the class doc."""
        try:
            pending = self.rest
            eof = False
            while not eof:
                parts = [pending]
                size = len(pending)
                whole = b"\n" in pending  # at least one whole line (a line may be longer than CHUNK)
                error = None
                while size < self.CHUNK or not whole:
                    try:
                        more = self.fh.read(self.PIECE)
                    except Exception as exc:  # corrupt compressed data: check the lines before it
                        error = exc
                        more = b""
                    if not more:
                        eof = True
                        break
                    parts.append(more)
                    size += len(more)
                    whole = whole or b"\n" in more
                data = b"".join(parts)
                cut = data.rfind(b"\n") + 1
                cut_short = eof and error is None and cut < len(data)
                if cut_short:  # a last line without end of line: htslib reads it (may fail)
                    data, cut = data + b"\n", len(data) + 1
                pending = data[cut:]
                if cut:
                    yield from self._chunk(data[:cut], cut_short)
                if error is not None:
                    raise error
        finally:
            self.fh.close()

    # --- one chunk of whole lines ---------------------------------------------------------------

    def _chunk(self, data: bytes, cut_short: bool = False) -> Iterator:
        """The records of ``data`` (whole lines) that overlap the gene spans; cut_short: its last
        line had no end of line (it is left to htslib)."""

        a = np.frombuffer(data, dtype=np.uint8)
        ends = np.flatnonzero(a == 10)
        n_lines = len(ends)
        starts = np.empty(n_lines, dtype=np.int64)
        starts[0] = 0
        starts[1:] = ends[:-1] + 1
        tabs = np.flatnonzero(a == 9)
        ok = np.zeros(n_lines, dtype=bool)
        pos = np.zeros(n_lines, dtype=np.int64)
        t1 = np.zeros(n_lines, dtype=np.int64)
        if len(tabs) >= 2 and self.want_tabs >= 7:
            first_tab = np.searchsorted(tabs, starts)
            ok = (np.searchsorted(tabs, ends) - first_tab == self.want_tabs) & (a[starts] != 35)
            first_tab = np.minimum(first_tab, len(tabs) - 2)
            t1 = tabs[first_tab]
            digits = tabs[first_tab + 1] - t1 - 1
            clen = t1 - starts
            ok &= (digits >= 1) & (digits <= 9) & (clen <= self.MAX_CHROM)
            for k in range(int(digits[ok].max()) if ok.any() else 0):
                use = ok & (digits > k)
                d = a[np.minimum(t1 + 1 + k, len(a) - 1)].astype(np.int64) - 48
                ok &= ~(use & ((d < 0) | (d > 9)))
                pos = np.where(use, pos * 10 + d, pos)
            ok &= pos >= 1
            # CHROM equal to the line before's, POS increasing: the run continues
            same = np.zeros(n_lines, dtype=bool)
            same[1:] = clen[1:] == clen[:-1]
            for k in range(int(clen[ok].max()) if ok.any() else 0):
                use = same[1:] & (clen[1:] > k)
                same[1:] &= ~use | (a[np.minimum(starts[1:] + k, len(a) - 1)] == a[starts[:-1] + k])
            good = ok.copy()
            good[0] = False
            good[1:] &= same[1:] & ok[:-1] & (pos[1:] > pos[:-1])
        else:
            good = ok
        if cut_short:
            ok[-1] = good[-1] = False
        breaks = np.flatnonzero(~good)
        wide = None  # lines with END= or SVLEN= (htslib's record end may be past REF), when needed
        length = ends - starts
        checks = self.checks
        i = 0
        while i < n_lines:
            if not (ok[i] and self._settle(data, i, starts, t1, pos)):
                stop = min(n_lines, i + self.window)
                yield from self._parse(data[starts[i]:ends[stop - 1] + 1], stop - i, check=True)
                # a file whose lines the text check never settles: fewer, longer windows
                self.window = min(2 * self.window, self.MAX_WINDOW)
                i = stop
                continue
            self.window = self.WINDOW
            nb = np.searchsorted(breaks, i + 1)
            j = int(breaks[nb]) if nb < len(breaks) else n_lines
            if checks.limit is not None and pos[j - 1] > checks.limit:
                j = i + int(np.searchsorted(pos[i:j], checks.limit, side="right"))
            # lines i..j-1 are records of checks.last_chrom in increasing order within the contig
            n0 = self.n
            self.n += j - i
            if self.n // PROGRESS_EVERY > n0 // PROGRESS_EVERY:
                k = i + (self.n // PROGRESS_EVERY) * PROGRESS_EVERY - n0 - 1
                log.info("%s: %d records streamed (at %s:%d)", self.info.path,
                         (self.n // PROGRESS_EVERY) * PROGRESS_EVERY, checks.last_chrom, int(pos[k]))
            self.info.records_seen = self.n
            checks.last_pos = int(pos[j - 1])
            checks.last_key = None  # the text key of line j-1, made when needed (_settle)
            self.key_line = (data, int(starts[j - 1]))
            checks.set_spans(checks.last_chrom)
            if checks.spans and pos[i] <= checks.hi:
                if wide is None:
                    wide = self._wide(a, ends)
                p, ln = pos[i:j], length[i:j]
                maybe = (p <= checks.hi) & wide[i:j]
                for s, e in checks.spans:
                    maybe |= (p <= e) & (p + ln >= s)
                hits = np.flatnonzero(maybe)
                if len(hits):
                    lines = b"".join(data[starts[i + h]:ends[i + h] + 1] for h in hits)
                    yield from self._parse(lines, len(hits), check=False,
                                           numbers=[n0 + int(h) + 1 for h in hits])
            i = j

    @staticmethod
    def _wide(a, ends):
        """Lines that contain ``END=`` or ``SVLEN=`` (INFO/END sets the end htslib gives a record)."""
        wide = np.zeros(len(ends), dtype=bool)
        eq = np.flatnonzero(a == 61)  # '='
        for tag in (b"END", b"SVLEN"):
            at = eq[eq >= len(tag)]
            hit = np.ones(len(at), dtype=bool)
            for k, byte in enumerate(reversed(tag), start=1):
                hit &= a[at - k] == byte
            wide[np.searchsorted(ends, at[hit])] = True
        return wide

    @staticmethod
    def _text_key(data: bytes, start: int) -> tuple:
        """(CHROM, POS, REF, ALT tuple) of the line at ``start`` as cyvcf2 gives them."""
        f = data[start:data.index(b"\n", start)].split(b"\t", 5)
        alt = f[4].decode("utf-8", "replace")
        return (f[0].decode("utf-8", "replace"), int(f[1]), f[3].decode("utf-8", "replace"),
                tuple(alt.split(",")) if alt != "." else ())

    def _settle(self, data: bytes, i: int, starts, t1, pos) -> bool:
        """Whether line ``i`` (columns and POS readable) passes the checks from its text alone;
        if so the state is updated for it (a new contig). False: htslib must read it."""
        checks = self.checks
        try:
            chrom = data[starts[i]:t1[i]].decode("utf-8")
        except UnicodeDecodeError:
            return False
        p = int(pos[i])
        if chrom != checks.last_chrom:
            if chrom not in checks.header_contigs or chrom in checks.done_chroms:
                return False  # htslib and _Checks.record decide (and name the record)
            limit = _contig_limit(self.info, chrom)
            if limit is not None and p > limit:
                return False
            checks.new_chrom(chrom, p, self.n + 1)
            return True
        if checks.limit is not None and p > checks.limit:
            return False
        if p > checks.last_pos:
            return True
        if p < checks.last_pos:
            return False
        # same position as the record before: a duplicate only if REF and ALT are the same too
        if checks.last_key is None:
            checks.last_key = self._text_key(*self.key_line)
        key = self._text_key(data, int(starts[i]))
        if key == checks.last_key:
            return False
        checks.last_key = key
        return True

    def _reader(self, lines: bytes) -> VCF:
        """A cyvcf2 reader of the header followed by ``lines``: an in-memory file (Linux memfd),
        else a temporary file removed once htslib has opened it."""
        import tempfile

        payload = self.header + lines
        if hasattr(os, "memfd_create") and os.path.isdir("/proc/self/fd"):
            fd = os.memfd_create("ctresist-vcf")
            try:
                view = memoryview(payload)
                while view:
                    view = view[os.write(fd, view):]
                return VCF(f"/proc/self/fd/{fd}", gts012=False, lazy=True)
            finally:
                os.close(fd)  # htslib has its own descriptor
        with tempfile.NamedTemporaryFile("wb", suffix=".vcf", delete=False) as out:
            out.write(payload)
        try:
            return VCF(out.name, gts012=False, lazy=True)
        finally:
            os.unlink(out.name)

    def _parse(self, lines: bytes, count: int, check: bool, numbers: list[int] | None = None
               ) -> Iterator:
        """Parse ``count`` lines with htslib. check: they follow the lines read so far and are
        checked by _Checks.record; else they are the gene-span candidates numbered ``numbers``,
        already checked as text."""
        checks, info = self.checks, self.info
        vcf = self._reader(lines)
        before = vcf.raw_header
        try:
            k = 0  # records read from this reader
            while True:
                # a record htslib cannot parse is named by records_seen + 1 (read_variants)
                info.records_seen = self.n if check else numbers[min(k, count - 1)] - 1
                v = next(vcf, None)
                if v is None:
                    break
                k += 1
                if check:
                    self.n += 1
                    checks.record(v, self.n)
                    self.key_line = None
                else:
                    info.records_seen = numbers[min(k, count) - 1]
                if checks.wanted(v):
                    yield v
            info.records_seen = self.n
        finally:
            # htslib adds the contigs, INFO, FORMAT and FILTER tags it did not find in the header
            # (with one warning each); the next reader starts from that header, as one reader of
            # the whole file would, so the warnings are not repeated
            after = vcf.raw_header
            if after != before:
                self.header = after.encode("utf-8")
            vcf.close()


def _check_parsed(info: VcfInfo, v, n: int) -> None:
    """The first record of a contig the header does not declare: htslib hands it over even when
    the rest of the line failed to parse, and reading its REF would crash. Check it as text."""
    parts = str(v).rstrip("\n").split("\t")
    short = info.samples and len(parts) < 9 + len(info.samples)
    if len(parts) < 8 or parts[3] in (".", "") or not parts[1].isdigit() or short:
        raise InputError(f"{info.path}: line {info.header_lines + n}: record {n} on contig "
                         f"{v.CHROM[:40]!r}: cannot parse the line (bad POS or REF, or too few "
                         "columns); fix or remove the record")


def read_variants(path: str, genes: list[Gene] | None, tumor: str | None = None,
                  normal: str | None = None, transcripts: dict[str, set[str]] | None = None,
                  info_out: list[VcfInfo] | None = None) -> Iterator[Variant]:
    """Yield one :class:`Variant` per ALT allele in the catalogue-gene regions of ``path``.

    Parameters
    ----------
    genes : the gene spans to read (None: every record).
    tumor, normal : sample column names (None: resolved from the header, see module doc).
    transcripts : preferred transcript IDs per catalogue gene (MANE Select / canonical),
        unversioned ENST (None: the MANE/MSK transcripts of ``genes``).
    info_out : if given, the :class:`VcfInfo` is appended to it before the first variant.

    A record whose position lies in one of ``genes`` but whose annotation names another gene (or
    is malformed) is yielded with ``gene`` set to the gene at its position and ``problem`` saying
    why its protein change is unknown; it is never dropped.
    """
    vcf, info = open_vcf(path, tumor, normal)
    if info_out is not None:
        info_out.append(info)
    if not transcripts:
        transcripts = {g.name: {g.mane_enst, g.msk_enst} - {""} for g in genes or []}
    ti = info.samples.index(info.tumor) if info.tumor else None
    ni = info.samples.index(info.normal) if info.normal else None
    # the contigs declared in the header, else (indexed) those of the index; streaming checks the
    # records' own contigs at the end
    names = (re.findall(r"^##contig=<ID=([^,>]+)", info.raw_header, flags=re.M)
             or (list(vcf.seqnames or []) if info.indexed else []))
    if genes and names and not any(_known_chrom(c) for c in names):
        vcf.close()
        raise _unknown_contigs_error(path, names)
    by_chrom: dict[str, list[Gene]] = {}
    for g in genes or []:
        by_chrom.setdefault(g.chrom, []).append(g)
    try:
        for v in iter_records(vcf, info, genes):
            info.records_read += 1
            for var in _alleles(v, info, ti, ni, transcripts):
                if genes:
                    _gene_at_position(var, by_chrom.get(norm_chrom(var.chrom), ()))
                yield var
    except InputError:
        raise
    except Exception as exc:  # htslib read errors surface as OSError/Exception from cyvcf2
        k = info.records_seen + 1
        at = _locate(path, k)
        where = f"record {k} ({at})" if at else f"after record {info.records_seen}"
        raise InputError(f"{path}: {where}: cannot parse ({_clean(exc)}); the file may be "
                         "truncated or corrupt") from exc
    finally:
        vcf.close()
    if info._small == 0 and (info._symbolic or info._cnv_header):
        raise InputError(f"{path}: is a copy-number VCF (only symbolic <DUP>/<DEL>/<CNV> alleles "
                         "with CN/END); give it in the sheet's cnv column, and the small-variant "
                         "VCF in the vcf column")


def _gene_at_position(var: Variant, genes: Iterable[Gene]) -> None:
    """A record inside a catalogue gene whose annotation names another gene is kept under the gene
    at its position, as not interpretable (its protein change belongs to the other gene).
    ``genes``: the genes of the record's chromosome."""
    end = var.pos + max(len(var.ref), 1) - 1
    here = [g.name for g in genes if var.pos <= g.end and end >= g.start]
    if not here or var.gene in here:
        return
    if var.gene is None:
        var.gene = here[0]
        return
    if var.annotation in (None, "known_site"):
        return
    named = var.gene
    var.problem = var.problem or (
        f"the {var.annotation} annotation names {named}"
        f"{f' ({var.transcript})' if var.transcript else ''}, not {here[0]} at this position; "
        f"the protein change on {here[0]} is unknown")
    var.gene, var.hgvsp = here[0], None


def _record_text(v) -> str | None:
    """The record as htslib writes it (None when its bytes are not UTF-8, e.g. Latin-1 INFO)."""
    try:
        return str(v)
    except UnicodeDecodeError:
        return None


def _text_pos(text: str | None) -> int | None:
    try:
        return int(text.split("\t", 2)[1]) if text else None
    except (ValueError, IndexError):
        return None


def _alleles(v, info: VcfInfo, ti: int | None, ni: int | None,
             transcripts: dict[str, set[str]]) -> Iterator[Variant]:
    alts = list(v.ALT)
    text = _record_text(v)
    text_pos = _text_pos(text)
    if text_pos is not None and text_pos != v.POS:
        raise InputError(f"{info.path}: record {info.records_seen or info.records_read} "
                         f"({v.CHROM}:{text_pos}): position {text_pos} is beyond any chromosome "
                         f"(read as {v.POS} after 32-bit wrap-around); the record is corrupt")
    if alts and all(a.upper().startswith(CNV_ALLELES) for a in alts):
        info._symbolic += 1
        return
    info._small += 1
    filters = v.FILTER or "PASS"
    gts = None
    if ti is not None and info.has_gt:  # Strelka writes no GT; cyvcf2 cannot parse what is absent
        try:
            gts = v.genotypes
        except Exception:  # a record without GT in a file that declares it
            gts = None
    if info.samples:
        # Latin-1 bytes in INFO: the column count cannot be read this way
        ncols = text.count("\t") + 1 if text is not None else 9 + len(info.samples)
        if ncols < 9 + len(info.samples):
            raise InputError(f"{info.path}: record {info.records_seen or info.records_read} "
                             f"({v.CHROM}:{v.POS}): {max(0, ncols - 9)} sample column(s), the header "
                             f"has {len(info.samples)}; the record is truncated")
    for ai, alt in enumerate(alts):
        if alt in ("*", "<NON_REF>", ".") or alt.startswith("<"):
            continue
        var = Variant(chrom=v.CHROM, pos=v.POS, ref=v.REF, alt=alt, record=info.records_read,
                      filters=filters)
        if ti is not None or not info.samples:
            var.vaf, var.depth, var.alt_reads, prob, warn = _counts(v, info, ti, ai)
            if prob:
                raise InputError(f"{info.path}: record {info.records_read} ({v.CHROM}:{v.POS}): "
                                 f"{prob}; fix the caller's FORMAT fields")
            if warn:
                log.warning("%s: record %d (%s:%d): %s", info.path, info.records_read, v.CHROM, v.POS, warn)
                info.notes.append(f"{v.CHROM}:{v.POS}: {warn}")
            gt = gts[ti] if gts and ti is not None else None
            if gt is not None and len(gt) >= 2:
                sep = "|" if gt[-1] else "/"
                var.genotype = sep.join("." if a < 0 else str(a) for a in gt[:-1])
                ps = format_values(v, "PS", ti)
                var.phase_set = int(ps[0]) if ps and ps[0] is not None else None
        if ni is not None:
            var.normal_vaf, _, var.normal_alt_reads, _, _ = _counts(v, info, ni, ai)
        if info.csq_fields:
            _apply_csq(var, v, info.csq_fields, alts, ai, transcripts)
        elif info.ann_fields:
            _apply_ann(var, v, info.ann_fields, transcripts)
        elif info.bcsq:
            _apply_bcsq(var, v, transcripts, info.proteins)
        elif info.eff_fields:
            _apply_eff(var, v, info.eff_fields, ai, transcripts)
        elif info.pave_fields:
            _apply_pave(var, v, info.pave_fields, len(alts), transcripts)
        yield var


def norm_symbol(symbol: str) -> str:
    """A gene symbol as written by annotators, cleaned: ``alk``, ``ALK\\``, ``KRAS `` -> upper case
    without whitespace, quotes or backslashes."""
    return symbol.strip().strip("\\'\" ").upper()


def _catalogue_gene(e: dict[str, str], gene_key: str, tx_key: str,
                    transcripts: dict[str, set[str]]) -> str | None:
    """The catalogue gene an annotation entry belongs to: by its transcript (a preferred
    transcript of the gene), else by its (cleaned) symbol; None for other genes."""
    tx = (e.get(tx_key) or "").split(".")[0].strip()
    if tx:
        for gene, txs in transcripts.items():
            if tx in txs:
                return gene
    sym = norm_symbol(e.get(gene_key) or "")
    return sym if sym in transcripts else None


def _choose(entries: list[dict[str, str]], gene_key: str, tx_key: str,
            transcripts: dict[str, set[str]]) -> dict[str, str] | None:
    """Pick one transcript annotation: an entry of a catalogue gene before entries of other genes,
    then the preferred (catalogue-numbering) transcript, MANE Select, VEP CANONICAL/PICK, an entry
    with a protein change, the first entry."""
    if not entries:
        return None

    def rank(e: dict[str, str]) -> tuple[int, ...]:
        gene = _catalogue_gene(e, gene_key, tx_key, transcripts)
        tx = (e.get(tx_key) or "").split(".")[0].strip()
        return (
            0 if gene else 1,
            # the catalogue's numbering transcript before VEP's MANE flag (ROS1's MANE protein is
            # another isoform); where they are the same transcript the order does not matter
            0 if gene and tx in transcripts.get(gene, set()) else 1,
            0 if e.get("MANE_SELECT") else 1,
            0 if e.get("CANONICAL") == "YES" else 1,
            0 if e.get("PICK") == "1" else 1,
            0 if e.get("HGVSp") or e.get("HGVS.p") else 1,
        )

    return min(entries, key=rank)


def _apply_common(var: Variant, e: dict[str, str] | None, gene_key: str, tx_key: str,
                  cons_key: str, c_key: str, p_key: str, source: str,
                  transcripts: dict[str, set[str]] | None = None) -> None:
    if e is None:
        var.problem = f"no {source} annotation for allele {var.alt}"
        return
    var.annotation = source
    symbol = (e.get(gene_key) or "").strip() or None
    var.gene = _catalogue_gene(e, gene_key, tx_key, transcripts or {}) or symbol
    var.transcript = (e.get(tx_key) or "").strip() or None
    var.consequence = e.get(cons_key) or None
    var.hgvsc = e.get(c_key) or None
    # exon as "n/total": VEP EXON, SnpEff Rank (of an exon), PAVE has none
    var.exon = (e.get("EXON") or (e.get("Rank") if "intron" not in (var.consequence or "") else "")
                or "").strip() or None
    hgvsp = (e.get(p_key) or "").strip()
    terms = set((var.consequence or "").split("&"))
    if hgvsp:
        var.hgvsp = protein.to_one_letter(hgvsp)
        if protein.parse(var.hgvsp) is None:
            var.problem = f"unrecognised protein change {hgvsp!r}"
            var.hgvsp = None
    elif terms & CODING_TERMS - {"synonymous_variant"}:
        var.problem = f"{source} consequence {var.consequence} without a protein change (HGVSp)"


def _malformed(var: Variant, bad: list[str], n_fields: int, source: str) -> None:
    """Entries of this allele whose field count differs from the header: the protein change cannot
    be trusted, so the variant is listed as not interpretable (the gene comes from its position)."""
    item = bad[0]
    var.annotation = source
    var.gene = var.transcript = var.hgvsp = var.hgvsc = var.consequence = None
    var.problem = (f"malformed {source} entry ({item.count('|') + 1} fields, the header declares "
                   f"{n_fields}): {item[:80]!r}")


def _apply_csq(var: Variant, v, fields: list[str], alts: list[str], ai: int,
               transcripts: dict[str, set[str]]) -> None:
    raw = v.INFO.get("CSQ")
    entries, bad = [], []
    want = vep_allele(v.REF, alts, alts[ai])
    for item in (raw.split(",") if raw else []):
        parts = item.split("|")
        e = dict(zip(fields, parts))
        if "ALLELE_NUM" in e and e["ALLELE_NUM"]:
            if e["ALLELE_NUM"] != str(ai + 1):
                continue
        elif e.get("Allele") not in (want, alts[ai]):
            continue
        if len(parts) != len(fields):
            bad.append(item)
            continue
        if e.get("Feature_type", "Transcript") not in ("Transcript", ""):
            continue
        entries.append(e)
    e = _choose(entries, "SYMBOL", "Feature", transcripts)
    if bad and (e is None or not _catalogue_gene(e, "SYMBOL", "Feature", transcripts)):
        _malformed(var, bad, len(fields), "VEP")
        return
    _apply_common(var, e, "SYMBOL", "Feature", "Consequence", "HGVSc", "HGVSp", "VEP", transcripts)
    if e is not None:
        afs = [_safe_float(e.get(k)) for k in POPULATION_AF_FIELDS if e.get(k)]
        afs = [a for a in afs if a is not None]
        var.population_af = max(afs) if afs else None


def _apply_ann(var: Variant, v, fields: list[str], transcripts: dict[str, set[str]]) -> None:
    raw = v.INFO.get("ANN")
    entries, bad = [], []
    for item in (raw.split(",") if raw else []):
        parts = item.split("|")
        e = dict(zip(fields, parts))
        if e.get("Allele") not in (var.alt, f"{var.alt}-{var.ref}"):
            continue
        if len(parts) != len(fields):
            bad.append(item)
            continue
        entries.append(e)
    e = _choose(entries, "Gene_Name", "Feature_ID", transcripts)
    if bad and (e is None or not _catalogue_gene(e, "Gene_Name", "Feature_ID", transcripts)):
        _malformed(var, bad, len(fields), "SnpEff")
        return
    _apply_common(var, e, "Gene_Name", "Feature_ID", "Annotation", "HGVS.c", "HGVS.p", "SnpEff",
                  transcripts)


def _apply_eff(var: Variant, v, fields: list[str], ai: int, transcripts: dict[str, set[str]]) -> None:
    """SnpEff's older ``EFF``: ``Effect(Impact|Class|Codon|AA change|...|Gene|...|Transcript|...)``;
    the amino-acid change is ``T790M`` or ``p.Thr790Met/c.2369C>T``."""
    raw = v.INFO.get("EFF")
    entries, bad = [], []
    for item in (raw.split(",") if raw else []):
        m = re.match(r"^([^(]+)\((.*)\)$", item.strip())
        if not m:
            bad.append(item)
            continue
        parts = m.group(2).split("|")
        n_required = len([f for f in fields if f not in ("ERRORS", "WARNINGS")])
        if not n_required <= len(parts) <= len(fields):
            bad.append(item)
            continue
        e = dict(zip(fields, parts))
        allele = e.get("Genotype_Number") or e.get("Genotype") or ""
        if allele and allele not in (var.alt, str(ai + 1)):
            continue
        effect = m.group(1).strip()
        e["Effect"] = EFF_TERMS.get(effect, effect)
        e["HGVS.p"] = (e.get("Amino_Acid_Change") or e.get("Amino_Acid_change") or "").split("/")[0]
        entries.append(e)
    e = _choose(entries, "Gene_Name", "Transcript_ID", transcripts)
    if bad and (e is None or not _catalogue_gene(e, "Gene_Name", "Transcript_ID", transcripts)):
        _malformed(var, bad, len(fields), "SnpEff EFF")
        return
    _apply_common(var, e, "Gene_Name", "Transcript_ID", "Effect", "Codon_Change", "HGVS.p",
                  "SnpEff", transcripts)


def _apply_pave(var: Variant, v, fields: list[str], n_alts: int,
                transcripts: dict[str, set[str]]) -> None:
    """Hartwig PAVE: ``PAVE_TI`` (one ``Gene|GeneName|Transcript|Effects|SpliceRegion|HGVS.c|HGVS.p``
    per transcript) or the canonical-transcript ``IMPACT`` (10 comma-separated values)."""
    if n_alts > 1:
        var.annotation = "PAVE"
        var.problem = "PAVE annotation of a multi-allelic record cannot be assigned to one ALT"
        return
    entries, bad = [], []
    if fields == ["IMPACT"]:
        raw = v.INFO.get("IMPACT")
        parts = list(raw) if isinstance(raw, (tuple, list)) else (raw or "").split(",")
        if raw:
            if len(parts) != len(PAVE_IMPACT):
                bad.append(",".join(map(str, parts)).replace(",", "|"))
            else:
                entries.append(dict(zip(PAVE_IMPACT, map(str, parts))))
        n_fields = len(PAVE_IMPACT)
    else:
        raw = v.INFO.get("PAVE_TI")
        items = list(raw) if isinstance(raw, (tuple, list)) else (raw.split(",") if raw else [])
        for item in items:
            parts = item.split("|")
            (entries if len(parts) == len(fields) else bad).append(
                dict(zip(fields, parts)) if len(parts) == len(fields) else item)
        n_fields = len(fields)
    e = _choose(entries, "GeneName", "Transcript", transcripts)
    if bad and (e is None or not _catalogue_gene(e, "GeneName", "Transcript", transcripts)):
        _malformed(var, bad, n_fields, "PAVE")
        return
    _apply_common(var, e, "GeneName", "Transcript", "Effects", "HGVS.c", "HGVS.p", "PAVE", transcripts)


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
