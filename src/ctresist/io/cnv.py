"""The one CNV reader: copy-number segment files (tables or copy-number VCFs) to gene-level copy number.

Two kinds of copy number are read, and they are treated differently (see :data:`FORMATS`):

* **absolute** tumour copy number from purity/ploidy-fitting callers (PURPLE ``copyNumber``,
  allele-specific ``nMajor``+``nMinor`` of ASCAT/PCGR, PURPLE major+minor allele copy number,
  Battenberg ``nMaj1_A``+``nMin1_A``, FACETS ``tcn.em``/``tcn``, Sequenza ``CNt``, ichorCNA
  ``Corrected_Copy_Number``). It already is the tumour cells' own copy number and is never
  corrected for tumour fraction.
* **relative** copy number of the sequenced DNA mixture (CNVkit ``log2`` and ``cn``, IGV/GISTIC
  ``seg.mean``, GATK ``MEAN_LOG2_COPY_RATIO``, copy-number VCFs: DRAGEN/CRAFT ``SM``/``FC``, CNVkit
  ``FOLD_CHANGE_LOG``, GATK gCNV ``CN``). Normal DNA dilutes it, so it is corrected once with the
  tumour fraction when one is given. CNVkit documents that it "initially reports only the
  estimated log2 copy ratio" and that ``call`` rescales for purity only when it is given
  ``--purity`` (CNVkit doc/calling.rst and ``cnvlib/call.py``); a ``cn`` column made with
  ``--purity`` is already corrected, so leave ``tumor_fraction`` empty for such a file.

Copy number from a log2 ratio assumes a diploid baseline: CN = 2 * 2**log2. Every value is checked
on reading; a bad file gives one :class:`InputError` naming the file, the line (or VCF record) and
the fix.
"""
from __future__ import annotations

import gzip
import logging
import math
import os
import re
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from ctresist.errors import InputError
from ctresist.genes import BUILDS, Gene, chrom_lengths, norm_chrom
from ctresist.io.integrity import check_regular_file
from ctresist.io.vcf import CNV_ALLELES, format_values, open_vcf

log = logging.getLogger("ctresist")

CHROM_COLS = ("chromosome", "chrom", "chr", "Chromosome", "CHROM", "chromosome_name", "contig", "CONTIG")
START_COLS = ("start", "Start", "loc.start", "start.pos", "START", "startpos")
END_COLS = ("end", "End", "loc.end", "end.pos", "END", "endpos")
#: sample-name column of multi-sample segment files (IGV/GISTIC .seg, ichorCNA, ASCAT)
ID_COLS = ("ID", "Sample", "sample", "SAMPLE", "Tumor_Sample_Barcode", "sample_id")

#: value columns in order of preference: (columns, how to combine, absolute tumour CN?, source).
#: The first whose columns are all in the header is used.
FORMATS: tuple[tuple[tuple[str, ...], str, bool, str], ...] = (
    (("copyNumber",), "cn", True, "PURPLE copyNumber"),
    (("nMajor", "nMinor"), "sum", True, "allele-specific nMajor+nMinor (ASCAT/PCGR)"),
    (("majorAlleleCopyNumber", "minorAlleleCopyNumber"), "sum", True, "PURPLE major+minor allele CN"),
    (("nMaj1_A", "nMin1_A"), "sum", True, "Battenberg nMaj1_A+nMin1_A"),
    (("tcn.em",), "cn", True, "FACETS tcn.em"),
    (("tcn",), "cn", True, "FACETS tcn"),
    (("CNt",), "cn", True, "Sequenza CNt"),
    (("Corrected_Copy_Number",), "cn", True, "ichorCNA Corrected_Copy_Number"),
    (("total_cn",), "cn", True, "total_cn"),
    (("cn",), "cn", False, "CNVkit cn"),
    (("copy_number",), "cn", False, "copy_number"),
    (("CN",), "cn", False, "CN"),
    (("log2",), "log2", False, "CNVkit log2"),
    (("seg.mean",), "log2", False, "SEG seg.mean (log2)"),
    (("Segment_Mean",), "log2", False, "SEG Segment_Mean (log2)"),
    (("MEAN_LOG2_COPY_RATIO",), "log2", False, "GATK MEAN_LOG2_COPY_RATIO"),
    (("LOG2_COPY_RATIO_POSTERIOR_50",), "log2", False, "GATK LOG2_COPY_RATIO_POSTERIOR_50"),
    (("log2_ratio",), "log2", False, "log2_ratio"),
    (("log2ratio",), "log2", False, "log2ratio"),
    (("seg.median.logR",), "log2", False, "seg.median.logR (log2)"),
)
#: log2 columns kept alongside a copy-number column (for display only)
LOG2_COLS = ("log2", "seg.mean", "Segment_Mean", "MEAN_LOG2_COPY_RATIO", "log2_ratio", "log2ratio",
             "seg.median.logR", "cnlr.median")

#: A log2 ratio above 20 means more than two million copies: not a copy ratio (and 2**1024
#: overflows). CNVkit writes -20 for bins without coverage, so the bound is on the gain side only.
MAX_LOG2 = 20.0
#: Purity-fitted absolute copy number can be slightly negative at a deletion (PURPLE writes
#: -0.0117 at a homozygous deletion in its own test run); down to this value it is read as 0.
ABSOLUTE_CN_NEGATIVE_TOLERANCE = -0.5
#: Memory bounds: a longer line or a bigger file is not a segment file.
MAX_LINE_BYTES = 1 << 20
MAX_FILE_BYTES = 1 << 30

#: Focal versus broad (arm-level) gain. GISTIC 2.0 tests "whether it results primarily from
#: broad events (longer than half a chromosome arm), focal events, or significant levels of
#: both" (GISTIC 2.0 documentation, https://broadinstitute.github.io/gistic2 ; Mermel et al.,
#: Genome Biology 2011;12:R41, doi:10.1186/gb-2011-12-4-r41, which calls events over 98 % of an
#: arm arm-level). A gain is focal here when its contiguous run of segments covers less than
#: half of the gene's chromosome arm.
FOCAL_MAX_ARM_FRACTION = 0.5
#: The FISH analogue of "relative to the chromosome baseline": MET amplification is MET/CEP7
#: >= 2 or MET copy number >= 5 (Fang et al., Oncotarget 2018;9:12959-12970,
#: doi:10.18632/oncotarget.24430, PMID 29560123). ``baseline_ratio`` is the gene's copy number
#: over the rest of its chromosome, reported so the report can show it.
BASELINE_RATIO_AMPLIFIED = 2.0

#: p/q boundary (0-based start of the first q band = end of band p11) per build, from the UCSC
#: cytoBand tables (hg19: as in pughlab/ConsensusCruncher cytoBand.txt @3236a87; hg38: as in
#: AnnBeny/LYNX cytoBand_hg38.txt @7e4364f); only these 48 numbers were taken.
CENTROMERE = {
    "GRCh37": {"1": 125000000, "2": 93300000, "3": 91000000, "4": 50400000, "5": 48400000,
               "6": 61000000, "7": 59900000, "8": 45600000, "9": 49000000, "10": 40200000,
               "11": 53700000, "12": 35800000, "13": 17900000, "14": 17600000, "15": 19000000,
               "16": 36600000, "17": 24000000, "18": 17200000, "19": 26500000, "20": 27500000,
               "21": 13200000, "22": 14700000, "X": 60600000, "Y": 12500000},
    "GRCh38": {"1": 123400000, "2": 93900000, "3": 90900000, "4": 50000000, "5": 48800000,
               "6": 59800000, "7": 60100000, "8": 45200000, "9": 43000000, "10": 39800000,
               "11": 53400000, "12": 35500000, "13": 17700000, "14": 17200000, "15": 19000000,
               "16": 36800000, "17": 25100000, "18": 18500000, "19": 26200000, "20": 28100000,
               "21": 12000000, "22": 15000000, "X": 61000000, "Y": 10400000},
}

#: DNAcopy-style segment files number X and Y as 23 and 24 (CNVkit's own cw-tr-log2.seg test file
#: writes chromosome 23); a human genome has no chromosome 23, so they are read as X and Y
NUMERIC_SEX_CHROMS = {"23": "X", "24": "Y"}

#: symbolic ALT alleles of copy-number VCFs: the VCF reader's list, plus DRAGEN's ASCN <LOH>
CNV_ALTS = (*CNV_ALLELES, "<LOH")
_BASES = re.compile(r"^[ACGTNacgtn*]+$")


@dataclass(frozen=True)
class Segment:
    """A copy-number segment; start/end as in the file (1-based closed is assumed).

    cn: total copies (None unknown), absolute when ``tumour_cn`` else relative to the sample;
    log2: the file's log2 ratio, if any; line: file line (tables) or record number (VCF).
    """

    chrom: str
    start: int
    end: int
    cn: float | None
    log2: float | None
    line: int
    tumour_cn: bool = False  # cn is the tumour's own absolute copy number (never TF-corrected)
    source: str = ""  # format and column the value came from, e.g. "PURPLE copyNumber"
    filters: str = ""  # VCF FILTER when not PASS
    in_vcf: bool = False  # line is a VCF record number

    def where(self, path: str) -> str:
        """``file:line`` or ``file: record N (CHROM:POS)`` for error messages."""
        if self.in_vcf:
            return f"{path}: record {self.line} ({self.chrom}:{self.start})"
        return f"{path}:{self.line}"


@dataclass
class GeneCopyNumber:
    """Gene-level copy number.

    copy_number: length-weighted mean CN over the segments overlapping the gene, as in the file;
    adjusted_cn: the tumour's copy number: equal to copy_number for absolute input, corrected for
    tumour fraction for relative input (None when relative and no fraction is known);
    amplified_span_fraction: the contiguous run of segments at >= the gene's CN level, clipped to
    the gene's chromosome arm, divided by the arm length (>= FOCAL_MAX_ARM_FRACTION = broad).
    """

    gene: str
    chrom: str
    copy_number: float | None
    log2: float | None
    adjusted_cn: float | None = None
    amplified_span: int | None = None
    amplified_span_fraction: float | None = None
    segments: int = 0
    source: str = ""  # e.g. "CNVkit log2", "PURPLE copyNumber"
    cn_kind: str = ""  # "absolute" (tumour's own CN) or "relative" (diluted by normal DNA)
    tf_corrected: bool = False  # adjusted_cn was computed with the tumour fraction
    arm: str | None = None  # "7q"
    focal: bool | None = None  # amplified run < FOCAL_MAX_ARM_FRACTION of the arm
    baseline_cn: float | None = None  # CN of the rest of the chromosome (same scale as adjusted)
    baseline_ratio: float | None = None  # gene CN / baseline_cn (MET/CEP7 analogue)
    filters: str = ""  # non-PASS VCF filters of the overlapping segments


# --- opening --------------------------------------------------------------------------------


def _check_file(path: str) -> int:
    """Refuse what is not a regular, non-empty, bounded file before opening it; return its size."""
    check_regular_file(path, "CNV file", "give the segment file (for example <sample>.cns or "
                       "<sample>.purple.cnv.somatic.tsv) or a copy-number VCF")
    st = os.stat(path)
    if st.st_size == 0:
        raise InputError(f"{path}: CNV file has no segments (the file is empty); give the caller's "
                         "segment file, or leave the cnv column empty if there is none")
    if st.st_size > MAX_FILE_BYTES:
        raise InputError(f"{path}: {st.st_size} bytes, more than the {MAX_FILE_BYTES} a segment file "
                         "can have; give segments (.cns, .seg), not bins or reads")
    return st.st_size


def _sniff(path: str) -> str:
    """'vcf' for VCF/BCF (plain, gzip or BGZF), 'text' for a text table; InputError otherwise."""
    with open(path, "rb") as fh:
        head = fh.read(65536)
    if head[:2] == b"\x1f\x8b":
        try:
            with gzip.open(path, "rb") as fh:
                inner = fh.read(65536)
        except (OSError, EOFError, zlib.error) as exc:
            raise InputError(f"{path}: not a text segment file (corrupt gzip: {exc})") from None
        if inner.startswith((b"##fileformat=VCF", b"BCF\x02")):
            return "vcf"
        raise InputError(f"{path}: not a text segment file (gzip-compressed data); decompress it "
                         "with 'gunzip' first")
    if head.startswith((b"##fileformat=VCF", b"BCF\x02")):
        return "vcf"
    if b"\x00" in head:
        raise InputError(f"{path}: not a text segment file (binary data: NUL bytes); give a "
                         "tab-separated segment file or a copy-number VCF")
    return "text"


def _lines(path: str) -> Iterator[tuple[int, str]]:
    """(line number, text without newline), each line bounded by MAX_LINE_BYTES."""
    with open(path, "rb") as fh:
        n = 0
        while True:
            raw = fh.readline(MAX_LINE_BYTES + 1)
            if not raw:
                return
            n += 1
            if len(raw) > MAX_LINE_BYTES:
                raise InputError(f"{path}:{n}: line longer than {MAX_LINE_BYTES} bytes; not a "
                                 "segment file")
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise InputError(f"{path}:{n}: not a text segment file (byte {exc.start + 1} is "
                                 "not UTF-8)") from None
            yield n, (text.lstrip("\ufeff") if n == 1 else text).rstrip("\r\n")


# --- reading --------------------------------------------------------------------------------


def read_segments(path: str, build: str | None = None,
                  sample: str | Sequence[str | None] | None = None) -> list[Segment]:
    """Read a segment table or copy-number VCF.

    Parameters
    ----------
    path : the CNV file.
    build : the declared genome build (GRCh37/GRCh38); when given, ``@SQ``/``##contig`` lengths
        in the header are checked against it (segment ends are checked by
        :func:`gene_copy_numbers`).
    sample : name(s) of the sample to take from a multi-sample file (IGV/GISTIC .seg with an
        ``ID`` column, multi-sample VCF), in order of preference (tumour_sample, then sample).
        A file with several samples and none of these names is refused.
    """
    _check_file(path)
    names = [sample] if isinstance(sample, str) else [s for s in (sample or []) if s]
    if _sniff(path) == "vcf":
        segs, contigs = _read_vcf(path, names)
    else:
        segs, contigs = _read_table(path, names)
    if build:
        _check_header_contigs(path, contigs, build)
    _check_order(path, segs)
    return segs


def _pick(header: list[str], names: tuple[str, ...]) -> str | None:
    for n in names:
        if n in header:
            return n
    return None


def _read_table(path: str, names: list[str]) -> tuple[list[Segment], dict[str, int]]:
    lines = _lines(path)
    contigs: dict[str, int] = {}
    header: list[str] | None = None
    hline = 0
    for n, text in lines:
        if not text.strip() or text.startswith("#"):
            continue
        if text.startswith("@"):  # GATK ModelSegments/CallCopyRatioSegments SAM-style header
            if text.startswith("@SQ"):
                f = dict(x.split(":", 1) for x in text.split("\t")[1:] if ":" in x)
                if f.get("SN") and f.get("LN", "").isdigit():
                    contigs[f["SN"]] = int(f["LN"])
            continue
        header, hline = [h.strip() for h in text.split("\t")], n
        break
    if header is None:
        raise InputError(f"{path}: CNV file has no segments (no header line, no data); give the "
                         "caller's segment file")
    c_chrom, c_start, c_end = (_pick(header, CHROM_COLS), _pick(header, START_COLS),
                               _pick(header, END_COLS))
    fmt = next((f for f in FORMATS if all(c in header for c in f[0])), None)
    missing = [n for n, c in (("chromosome", c_chrom), ("start", c_start), ("end", c_end)) if c is None]
    if fmt is None:
        missing.append("log2 or copy number (cn)")
    if missing:
        hint = ""
        if len(header) == 1:
            hint = "; the header has one column: CNV files must be tab-separated"
        elif {"Hugo_Symbol", "Gene Symbol"} & set(header) or "Copy_Number_Alteration" in header:
            hint = ("; this is a gene-level CNA table (discrete GISTIC/OncoKB calls), which has no "
                    "segments or copy number: give the segment file it was made from")
        raise InputError(f"{path}:{hline}: missing column(s) {', '.join(missing)}; header has "
                         f"{', '.join(header)}{hint}")
    cols, combine, absolute, source = fmt
    c_log2 = _pick(header, LOG2_COLS)
    c_id = _pick(header, ID_COLS)
    idx = {h: i for i, h in enumerate(header)}
    by_id: dict[str, list[Segment]] = {}
    ids: list[str] = []
    first_id: str | None = None
    skipped = 0
    for lineno, text in lines:
        if not text.strip() or text.startswith("#"):
            continue
        row = text.split("\t")
        if len(row) < len(header):
            raise InputError(f"{path}:{lineno}: {len(row)} columns, header has {len(header)}")
        sid = row[idx[c_id]].strip() if c_id else ""
        if sid not in by_id:
            by_id[sid] = []
            ids.append(sid)
            first_id = sid if first_id is None else first_id
        if sid not in names and sid != first_id:
            continue  # rows kept: the wanted samples' and the first sample's (if it is the only one)

        def num(col: str | None, kind: type = float, row: list[str] = row, lineno: int = lineno):
            return _number(path, lineno, row, idx, col, kind)

        start, end = num(c_start, int), num(c_end, int)
        if start is None or end is None:
            raise InputError(f"{path}:{lineno}: start/end missing")
        if start < 0:
            raise InputError(f"{path}:{lineno}: negative start {start}; coordinates start at 0 or 1")
        if end < start:
            # CNVkit writes such inverted zero-probe segments in real output (see its amplicon.cns
            # example): they carry no coverage, so they are skipped with a warning, not fatal.
            log.warning("%s:%d: end %d before start %d: segment skipped", path, lineno, end, start)
            skipped += 1
            continue
        log2 = num(c_log2)
        if log2 is not None and log2 > MAX_LOG2:
            raise InputError(f"{path}:{lineno}: column {c_log2!r}: log2 ratio {log2:g} is not "
                             f"plausible (above {MAX_LOG2:g}, over two million copies); check that "
                             "the column holds log2 copy ratios")
        vals = [num(c) for c in cols]
        if combine == "log2":
            cn = 2.0 * 2.0 ** vals[0] if vals[0] is not None else None
            log2 = vals[0]
        elif combine == "sum":
            cn = vals[0] + vals[1] if None not in vals else None
        else:
            cn = vals[0]
        cn = _check_cn(path, lineno, cn, absolute, cols)
        chrom = row[idx[c_chrom]].strip()
        chrom = NUMERIC_SEX_CHROMS.get(chrom, chrom)
        by_id[sid].append(Segment(chrom, start, end, cn, log2, lineno,
                                  tumour_cn=absolute, source=source))
    sid = _choose_sample(path, c_id, ids, names)
    segs = by_id.get(sid, [])
    if not segs:
        why = f" ({skipped} inverted segment(s) with end before start skipped)" if skipped else ""
        raise InputError(f"{path}: CNV file has no segments{why}; a CNV file that covers nothing "
                         "cannot show that no gene is amplified or deleted")
    return segs, contigs


def _choose_sample(path: str, c_id: str | None, ids: list[str], names: list[str]) -> str:
    if not c_id:
        return ""
    for n in names:
        if n in ids:
            return n
    shown = ", ".join(ids[:20]) + (f", ... ({len(ids)} in all)" if len(ids) > 20 else "")
    if names:
        if len(ids) == 1:
            log.warning("%s: sample %r in column %r is not named %s; using it as the only sample",
                        path, ids[0], c_id, " or ".join(repr(n) for n in names))
            return ids[0]
        raise InputError(f"{path}: none of the samples in column {c_id!r} ({shown}) is named "
                         f"{' or '.join(repr(n) for n in names)}; set 'tumor_sample' in the sample "
                         "sheet to the one to use")
    if len(ids) > 1:
        raise InputError(f"{path}: {len(ids)} samples in column {c_id!r} ({shown}); set "
                         "'tumor_sample' in the sample sheet to the one to use")
    return ids[0] if ids else ""


def _check_cn(path: str, where: int | str, cn: float | None, absolute: bool,
              cols: tuple[str, ...]) -> float | None:
    if cn is None or cn >= 0:
        return cn
    if absolute and cn >= ABSOLUTE_CN_NEGATIVE_TOLERANCE:
        return 0.0  # fitting noise at a deletion (PURPLE -0.0117): zero copies
    raise InputError(f"{path}:{where}: negative copy number {cn:g} in {'+'.join(cols)}; copy "
                     "number cannot be below 0")


def _number(path: str, lineno: int, row: list[str], idx: dict[str, int], col: str | None,
            kind: type = float) -> float | int | None:
    """One numeric cell; '', NA, nan and '.' are missing (None), anything else non-numeric is an error."""
    if col is None:
        return None
    raw = row[idx[col]].strip()
    if raw in ("", "NA", "nan", "NaN", "."):
        return None
    try:
        val = kind(raw)
    except ValueError:
        raise InputError(f"{path}:{lineno}: column {col!r}: expected a number, got {raw!r}") from None
    if kind is float and math.isinf(val):
        raise InputError(f"{path}:{lineno}: column {col!r}: infinite value {raw!r}")
    return val


# --- copy-number VCF ------------------------------------------------------------------------


def _open_cnv_vcf(path: str, names: list[str]):
    for n in names:
        try:
            return open_vcf(path, tumor=n)
        except InputError as exc:
            if "is not a column of the VCF" not in str(exc):
                raise
    return open_vcf(path)


def _read_vcf(path: str, names: list[str]) -> tuple[list[Segment], dict[str, int]]:
    """Records of a copy-number VCF as segments.

    Value per record, first present: FORMAT ``FC`` (CRAFT fold change) or ``SM`` (DRAGEN linear
    copy ratio) -> CN = 2 * ratio; INFO ``FOLD_CHANGE_LOG`` (CNVkit export) -> log2; FORMAT ``CN``
    (GATK gCNV, DRAGEN) -> CN. All are the sequenced mixture's copy number (relative).
    Segment = POS..END (INFO/END, else POS + |SVLEN| - 1).
    """
    vcf, info = _open_cnv_vcf(path, names)
    s = info.samples.index(info.tumor) if info.tumor in info.samples else None
    segs: list[Segment] = []
    n = 0
    for v in vcf:
        n += 1
        where = f" record {n} ({v.CHROM}:{v.POS})"
        alts = list(v.ALT)
        cnv_alts = [a for a in alts if a.upper().startswith(CNV_ALTS)]
        if alts and not cnv_alts:
            if all(_BASES.match(a) for a in alts):
                raise InputError(f"{path}:{where}: this is a small-variant VCF (ALT {','.join(alts)} "
                                 "is a sequence, not <DEL>/<DUP>/<CNV>); it belongs in the vcf "
                                 "column, the cnv column takes copy-number segments")
            raise InputError(f"{path}:{where}: ALT {','.join(alts)} is not a copy-number allele; "
                             "give a copy-number VCF (<DEL>/<DUP>/<CNV> with END and CN/FC/SM)")
        end = v.INFO.get("END")
        if end is None:
            svlen = v.INFO.get("SVLEN")
            if isinstance(svlen, tuple):
                svlen = svlen[0] if svlen else None
            if svlen is None:
                raise InputError(f"{path}:{where}: copy-number record without INFO/END or SVLEN; "
                                 "its extent is unknown")
            end = v.POS + abs(int(svlen)) - 1
        end = int(end)
        cn = log2 = None
        source = ""
        for tag, name in (("FC", "CRAFT FC (fold change)"), ("SM", "DRAGEN SM (copy ratio)")):
            ratio = _fmt_value(path, v, tag, s)
            if ratio is not None:
                if ratio <= 0:
                    raise InputError(f"{path}:{where}: FORMAT/{tag} {ratio:g} is not a positive "
                                     "fold change")
                cn, log2, source = 2.0 * ratio, math.log2(ratio), name
                break
        if cn is None and v.INFO.get("FOLD_CHANGE_LOG") is not None:
            log2 = float(v.INFO.get("FOLD_CHANGE_LOG"))
            source = "CNVkit VCF FOLD_CHANGE_LOG"
            cn = None if math.isnan(log2) else 2.0 * 2.0 ** min(log2, MAX_LOG2 + 1)
        if cn is None:
            cn = _fmt_value(path, v, "CN", s)
            source = "VCF FORMAT/CN"
        if cn is None:
            raise InputError(f"{path}:{where}: no copy-number value (FORMAT CN, FC or SM, or INFO "
                             "FOLD_CHANGE_LOG); is this a structural-variant VCF?")
        if log2 is not None and log2 > MAX_LOG2:
            raise InputError(f"{path}:{where}: log2 ratio {log2:g} is not plausible (above "
                             f"{MAX_LOG2:g})")
        cn = _check_cn(path, where, cn, False, (source,))
        filt = v.FILTER or ""
        segs.append(Segment(v.CHROM, v.POS, end, cn, log2, n, tumour_cn=False, source=source,
                            filters=filt, in_vcf=True))
    if not segs:
        raise InputError(f"{path}: CNV file has no segments (a VCF header without records); a CNV "
                         "file that covers nothing cannot show that no gene is amplified or "
                         "deleted")
    return segs, info.contigs


def _fmt_value(path: str, v, tag: str, s: int | None) -> float | None:
    """The first value of FORMAT ``tag`` (the VCF reader's one FORMAT parser), None if missing."""
    vals = format_values(v, tag, s) if s is not None else None
    x = vals[0] if vals else None
    if x is None:
        return None
    if math.isinf(x):
        raise InputError(f"{path}: {v.CHROM}:{v.POS}: FORMAT/{tag} is infinite")
    return x


# --- checks ---------------------------------------------------------------------------------


def _other_build(build: str) -> str:
    return next(b for b in BUILDS if b != build)


def _check_header_contigs(path: str, contigs: dict[str, int], build: str) -> None:
    """A header (``@SQ`` / ``##contig``) with chromosome lengths of another build is refused."""
    lengths = chrom_lengths()
    for name, length in contigs.items():
        c = norm_chrom(name)
        if c in lengths[build] and length != lengths[build][c]:
            other = _other_build(build)
            guess = f"; it is the {other} length" if lengths[other].get(c) == length else ""
            raise InputError(f"{path}: header gives {name} length {length}, but {build} {c} is "
                             f"{lengths[build][c]}{guess}; the CNV file is not {build}: fix "
                             "genome_build in the sample sheet or give a CNV file of that build")


def _check_build(path: str, segs: list[Segment], build: str) -> None:
    """Every segment on a chromosome of ``build`` and ending within it."""
    lengths = chrom_lengths()
    known = set(lengths[build]) | {"MT"}
    other = _other_build(build)
    for s in segs:
        c = norm_chrom(s.chrom)
        if c not in known:
            if any(x in s.chrom for x in ("_", "EBV", "hs37d5")):
                continue
            raise InputError(f"{s.where(path)}: unknown contig {s.chrom!r} for {build}; expected "
                             "1-22, X, Y (with or without 'chr')")
        n = lengths[build].get(c)
        if n is not None and s.end > n:
            fits = s.end <= lengths[other].get(c, 0)
            raise InputError(
                f"{s.where(path)}: segment {s.chrom}:{s.start}-{s.end} ends beyond {s.chrom} of "
                f"{build} ({n} bp)" + (f"; it fits {other} ({lengths[other][c]} bp): the CNV file "
                                       f"looks like {other}" if fits else "")
                + f"; the sample sheet declares {build}: fix genome_build or give a CNV file of "
                "that build")


def _check_order(path: str, segs: list[Segment]) -> None:
    """Overlapping segments make gene copy number ambiguous: refuse them, naming both lines."""
    by_chrom: dict[str, list[Segment]] = {}
    for s in segs:
        by_chrom.setdefault(norm_chrom(s.chrom), []).append(s)
    for chrom_segs in by_chrom.values():
        ordered = sorted(chrom_segs, key=lambda s: (s.start, s.end))
        for a, b in zip(ordered, ordered[1:]):
            if b.start < a.end:
                raise InputError(f"{b.where(path)}: segment {b.chrom}:{b.start}-{b.end} overlaps "
                                 f"line {a.line} ({a.chrom}:{a.start}-{a.end}); segments must not "
                                 "overlap")


# --- gene level -----------------------------------------------------------------------------


def _weighted_median(pairs: list[tuple[float, int]]) -> float | None:
    pairs = sorted(pairs)
    total = sum(w for _, w in pairs)
    if total <= 0:
        return None
    acc = 0
    for v, w in pairs:
        acc += w
        if acc * 2 >= total:
            return v
    return pairs[-1][0]


def gene_copy_numbers(path: str, segs: list[Segment], genes: list[Gene], build: str,
                      tumor_fraction: float | None, ploidy: float = 2.0) -> dict[str, GeneCopyNumber]:
    """Gene-level copy number for each gene overlapped by at least one segment.

    Absolute tumour copy number (``Segment.tumour_cn``) is used as it is. Relative copy number is
    corrected for dilution by normal DNA when ``tumor_fraction`` (0-1, plasma ctDNA fraction or
    tissue purity) is given: adjusted = ploidy + (observed - ploidy) / tumor_fraction, at least 0.
    Segments must lie within the chromosomes of ``build`` (InputError otherwise).
    """
    _check_build(path, segs, build)
    lengths = chrom_lengths()[build]
    out: dict[str, GeneCopyNumber] = {}
    for g in genes:
        chrom_segs = sorted((s for s in segs if norm_chrom(s.chrom) == g.chrom and s.cn is not None),
                            key=lambda s: s.start)
        over = [s for s in chrom_segs if s.start <= g.end and s.end >= g.start]
        if not over:
            continue
        weights = [min(s.end, g.end) - max(s.start, g.start) + 1 for s in over]
        cn = sum(w * s.cn for w, s in zip(weights, over)) / sum(weights)
        l2 = [s.log2 for s in over if s.log2 is not None]
        absolute = over[0].tumour_cn

        def tumour(x: float, absolute: bool = absolute) -> float | None:
            if absolute:
                return x
            if tumor_fraction:
                return max(0.0, ploidy + (x - ploidy) / tumor_fraction)
            return None

        adj = tumour(cn)
        gcn = GeneCopyNumber(
            g.name, g.chrom, round(cn, 3), round(sum(l2) / len(l2), 4) if l2 else None,
            adjusted_cn=round(adj, 3) if adj is not None else None, segments=len(over),
            source=over[0].source, cn_kind="absolute" if absolute else "relative",
            tf_corrected=not absolute and bool(tumor_fraction),
            filters=";".join(sorted({s.filters for s in over if s.filters not in ("", "PASS")})))
        # contiguous run of segments around the gene whose CN is at least the gene's lowest segment CN
        level = min(s.cn for s in over)
        i0, i1 = chrom_segs.index(over[0]), chrom_segs.index(over[-1])
        while i0 > 0 and chrom_segs[i0 - 1].cn >= level:
            i0 -= 1
        while i1 < len(chrom_segs) - 1 and chrom_segs[i1 + 1].cn >= level:
            i1 += 1
        run_start, run_end = chrom_segs[i0].start, chrom_segs[i1].end
        gcn.amplified_span = run_end - run_start + 1
        cen, n = CENTROMERE[build].get(g.chrom), lengths.get(g.chrom)
        if cen is not None and n is not None:
            mid = (g.start + g.end) // 2
            lo, hi, arm = (1, cen, "p") if mid <= cen else (cen + 1, n, "q")
            inside = max(0, min(run_end, hi) - max(run_start, lo) + 1)
            gcn.arm = f"{g.chrom}{arm}"
            gcn.amplified_span_fraction = round(inside / (hi - lo + 1), 4)
            gcn.focal = gcn.amplified_span_fraction < FOCAL_MAX_ARM_FRACTION
        rest = [(s.cn, s.end - s.start + 1) for i, s in enumerate(chrom_segs) if not i0 <= i <= i1]
        base = _weighted_median(rest) if rest else None
        if base is not None:
            base_t = tumour(base) if adj is not None else base
            gene_t = adj if adj is not None else cn
            gcn.baseline_cn = round(base_t, 3) if base_t is not None else None
            if base_t:
                gcn.baseline_ratio = round(gene_t / base_t, 3)
        out[g.name] = gcn
    return out
