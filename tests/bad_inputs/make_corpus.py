#!/usr/bin/env python3
"""Write the bad-input corpus: tiny VCF / CNV / sample-sheet / catalogue-edit files in ``cases/``
and the manifest ``cases.tsv`` saying what the real CLI must do with each.

    python tests/bad_inputs/make_corpus.py [--out DIR]

Output is deterministic (no timestamps; gzip/BGZF written with stored deflate blocks), so the committed corpus can be
compared byte for byte with a fresh generation (``tests/test_bad_inputs.py`` does that).

Manifest columns (tab-separated, one case per line):

case
    unique name; the case's input files start with it.
kind
    vcf | cnv | sheet | catalogue (which reader the case exercises).
args
    ``ctresist`` arguments, shell-quoted (split with :func:`shlex.split`), run with the working
    directory set to ``tests/bad_inputs/`` so input paths are ``cases/<file>``. Placeholders:
    ``{out}`` an empty output folder of the case, ``{annotations}`` a copy of ``annotations/`` with
    the case's catalogue edit applied (catalogue cases).
expected_exit
    0 (valid input) or 1 (user error).
expected_stderr_regex
    exit 1: a regex that the one ``ctresist: error:`` line on stderr must match (``re.search``).
    exit 0: a regex that the outcome must match: for ``annotate -o`` the one-line summary of the
    report JSON built by :func:`outcome_line` below, otherwise the command's stdout.
    ``{annotations}`` and ``{line}`` (line of the edited catalogue row) are substituted, escaped.
names
    exit 1: the file (path as given on the command line or in the sheet) that the error line must
    name; empty when the error is about the command line itself.
description
    what the case is and why the expected outcome is the right one.

Catalogue cases have a JSON edit file ``cases/<case>.json``: ``{"file": <path under
annotations/>, "row_id": <id of the row to edit>, "op": "set" | "drop_last_field" |
"set_id_of", "column": ..., "value": ...}``; the test applies it to a copy of ``annotations/``.
"""
from __future__ import annotations

import argparse
import json
import re
import shlex
import struct
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent

# ---------------------------------------------------------------- VCF text helpers (as in conftest)
CSQ_FORMAT = ("Allele|Consequence|IMPACT|SYMBOL|Gene|Feature_type|Feature|BIOTYPE|EXON|HGVSc|HGVSp|"
              "CANONICAL|MANE_SELECT|gnomADe_AF")
GRCH38 = {"1": 248956422, "2": 242193529, "7": 159345973, "10": 133797422, "12": 133275309}
GRCH37 = {"1": 249250621, "2": 243199373, "7": 159138663, "10": 135534747, "12": 133851895}
G1202R = ("2", 29220747, "C", "T")  # ALK G1202R, GRCh38
G1202R_37 = ("2", 29443613, "C", "T")
SUPPORT = "0/1:2900,100:3000:0.033"  # well supported in plasma: depth 3000, 100 alt reads


def csq(gene: str, allele: str, hgvsp: str, cons: str = "missense_variant",
        tx: str = "ENST00000389048.8", extra: list[str] | None = None) -> str:
    return "|".join([allele, cons, "MODERATE", gene, "ENSG00000171094", "Transcript", tx,
                     "protein_coding", "22/29", f"{tx}:c.3604G>A",
                     f"ENSP00000373700.3:{hgvsp}" if hgvsp else "", "YES", "NM_004304.5", "",
                     *(extra or [])])


G1202R_CSQ = "CSQ=" + csq("ALK", "T", "p.Gly1202Arg")


def header(samples=("TUMOR",), contigs=GRCH38, chr_prefix=False, csq_format: str | None = CSQ_FORMAT,
           fmt_tags=("GT", "AD", "DP", "AF"), extra: list[str] | None = None,
           fileformat: bool = True, chrom_line: bool = True) -> list[str]:
    pre = "chr" if chr_prefix else ""
    h = ["##fileformat=VCFv4.2"] if fileformat else []
    h += [f"##contig=<ID={pre}{c},length={n}>" for c, n in contigs.items()]
    types = {"GT": ("1", "String"), "AD": ("R", "Integer"), "DP": ("1", "Integer"),
             "AF": ("A", "Float"), "PS": ("1", "Integer")}
    h += [f'##FORMAT=<ID={t},Number={types[t][0]},Type={types[t][1]},Description="{t}">'
          for t in fmt_tags]
    if csq_format:
        h.append('##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence annotations from '
                 f'Ensembl VEP. Format: {csq_format}">')
    h += extra or []
    if chrom_line:
        h.append("\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT",
                            *samples]))
    return h


def rec(chrom, pos, ref, alt, info=".", sample=SUPPORT, fmt="GT:AD:DP:AF", filt="PASS") -> str:
    cols = [str(chrom), str(pos), ".", ref, alt, ".", filt, info]
    if fmt is not None:
        cols.append(fmt)
    if sample is not None:
        cols += [sample] if isinstance(sample, str) else list(sample)
    return "\t".join(cols)


def vcf(records: list[str], **kw) -> bytes:
    return ("\n".join(header(**kw) + records) + "\n").encode("utf-8")


def _stored(data: bytes) -> bytes:
    """Raw deflate of ``data`` as one stored (uncompressed) block: the same bytes with every zlib
    version and implementation, so the corpus regenerates identically everywhere."""
    assert len(data) <= 0xFFFF
    return struct.pack("<BHH", 1, len(data), len(data) ^ 0xFFFF) + data


def _trailer(data: bytes) -> bytes:
    return struct.pack("<II", zlib.crc32(data) & 0xFFFFFFFF, len(data))


def bgzf(data: bytes, block: int = 65280) -> bytes:
    """BGZF (block gzip, as bgzip writes it; stored blocks, so deterministic) plus the EOF block."""
    out = bytearray()
    for i in range(0, len(data), block):
        chunk = data[i:i + block]
        comp = _stored(chunk)
        out += struct.pack("<4BI2BH2BHH", 31, 139, 8, 4, 0, 0, 255, 6, 66, 67, 2, len(comp) + 25)
        out += comp + _trailer(chunk)
    out += bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")  # EOF block
    return bytes(out)


def plain_gzip(data: bytes) -> bytes:
    """Ordinary gzip (no BGZF extra field), mtime 0, OS unknown: deterministic."""
    return struct.pack("<4BI2B", 31, 139, 8, 0, 0, 0, 255) + _stored(data) + _trailer(data)


# ---------------------------------------------------------------- sample sheet helpers
SHEET_COLS = ["sample", "patient", "collection_date", "specimen", "vcf", "cnv", "driver", "therapy",
              "genome_build"]
GOOD_ROW = {"sample": "S1", "patient": "P1", "collection_date": "2024-01-10", "specimen": "plasma",
            "vcf": "cases/vcf_g1202r.vcf", "cnv": "", "driver": "EML4-ALK", "therapy": "alectinib",
            "genome_build": "GRCh38"}


def sheet(*rows: dict, cols=SHEET_COLS) -> bytes:
    lines = ["\t".join(cols)]
    for r in rows:
        lines.append("\t".join({**GOOD_ROW, **r}.get(c, "") for c in cols))
    return ("\n".join(lines) + "\n").encode("utf-8")


# ---------------------------------------------------------------- the cases
CASES: list[dict] = []
FILES: dict[str, bytes] = {}


def annotate_args(vcf_path: str, sample: str = "S1", therapy: str = "alectinib", build: str = "GRCh38",
                  cnv: str | None = None, extra: tuple[str, ...] = ()) -> str:
    a = ["annotate", "--sample", sample, "--vcf", vcf_path, "--driver", "EML4-ALK", "--therapy",
         therapy, "--specimen", "plasma", "--build", build]
    if cnv:
        a += ["--cnv", cnv]
    a += [*extra, "-o", "{out}/report.json"]
    return shlex.join(a)


def sheet_args(sheet_path: str, sample: str) -> str:
    return shlex.join(["annotate", "--sheet", sheet_path, "--sample", sample, "-o", "{out}/report.json"])


def case(name: str, kind: str, args: str, exit_: int, expect: str, names: str, description: str,
         files: dict[str, bytes] | None = None) -> None:
    assert not any(c["case"] == name for c in CASES), name
    for k, v in (files or {}).items():
        assert k not in FILES or FILES[k] == v, k
        FILES[k] = v
    for field in (args, expect, names, description):
        assert "\t" not in field and "\n" not in field, (name, field)
    CASES.append({"case": name, "kind": kind, "args": args, "expected_exit": str(exit_),
                  "expected_stderr_regex": expect, "names": names, "description": description})


def vcf_case(name: str, data: bytes, exit_: int, expect: str, description: str, ext: str = ".vcf",
             build: str = "GRCh38", names: str | None = None) -> None:
    path = f"cases/{name}{ext}"
    case(name, "vcf", annotate_args(path, build=build), exit_, expect,
         path if names is None else names, description, {f"{name}{ext}": data})


def esc(path: str) -> str:
    return path.replace(".", r"\.")


ACTIONABLE = (r"headline=Resistance to alectinib detected: ALK G1202R \| "
              r"calls=ALK G1202R actionable_resistance vaf=0\.033 depth=3000 alt=100 ")
NO_RESISTANCE = r"headline=No resistance to the current therapy detected among the examined alterations"
E = "^ctresist: error: "


def build_cases() -> None:
    CASES.clear()
    FILES.clear()
    ok = vcf([rec(*G1202R, G1202R_CSQ)])
    FILES["vcf_g1202r.vcf"] = ok  # shared by sheet cases
    FILES["vcf_empty.vcf"] = vcf([])  # shared by CNV cases

    # ---- compression
    many = [rec("2", 29200000 + 7 * i, "C", "T", G1202R_CSQ.replace("Gly1202Arg", "Gly1200Arg"))
            for i in range(120)]
    whole = bgzf(vcf(many), block=2000)
    vcf_case("vcf_truncated_bgzip", whole[: len(whole) // 2], 1,
             E + r"cases/vcf_truncated_bgzip\.vcf\.gz: .*truncated",
             "BGZF file cut in the middle of a data block (an interrupted copy): one line saying it "
             "is truncated, no partial report", ext=".vcf.gz")
    vcf_case("vcf_gzip_not_bgzip", plain_gzip(ok), 0, ACTIONABLE,
             "plain gzip instead of bgzip: streamed like any VCF (only region queries need BGZF)",
             ext=".vcf.gz")
    vcf_case("vcf_bgzip_cut_at_block_boundary", whole[:whole.index(b"\x1f\x8b", 40)], 1,
             E + r"cases/vcf_bgzip_cut_at_block_boundary\.vcf\.gz: truncated: the BGZF end-of-file "
                 r"block is missing",
             "BGZF file cut exactly after a complete block (no EOF block): htslib only warns; refused",
             ext=".vcf.gz")
    vcf_case("vcf_cut_mid_record", ok[:-30], 1,
             E + r"cases/vcf_cut_mid_record\.vcf: record 2:29220747: the last line has no end of line",
             "plain VCF cut in the middle of the last record (no final newline): refused, not read "
             "as complete")
    vcf_case("vcf_plain_named_gz", ok, 1,
             E + r"cases/vcf_plain_named_gz\.vcf\.gz: named \.gz but not gzip-compressed",
             "uncompressed text with a .gz suffix", ext=".vcf.gz")
    vcf_case("vcf_bgzip_ok", bgzf(ok), 0, ACTIONABLE,
             "control: the same records bgzipped (no index) are read by streaming", ext=".vcf.gz")

    # ---- header problems
    vcf_case("vcf_no_header", (rec(*G1202R, G1202R_CSQ) + "\n").encode(), 1,
             E + r"cases/vcf_no_header\.vcf: .*(##fileformat|header)",
             "data lines only, no ## meta lines and no #CHROM line: not a VCF, say which header is "
             "missing")
    vcf_case("vcf_no_chrom_line", vcf([rec(*G1202R, G1202R_CSQ)], chrom_line=False), 1,
             E + r"cases/vcf_no_chrom_line\.vcf: .*#CHROM",
             "meta lines but no #CHROM column header: the sample columns are unknown")
    vcf_case("vcf_not_a_vcf", b"this is a readme, not a variant file\n", 1,
             E + r"cases/vcf_not_a_vcf\.vcf: line 1: not a readable VCF",
             "any other text file given as --vcf")
    vcf_case("vcf_zero_bytes", b"", 1, E + r"cases/vcf_zero_bytes\.vcf: .*(empty|not a readable VCF)",
             "a 0-byte file (failed upstream job): an error, never an empty report")
    hdr_lines = [ln for ln in ok.decode().splitlines() if ln.startswith("#")]
    vcf_case("vcf_chrom_line_twice", vcf([hdr_lines[-1], rec(*G1202R, G1202R_CSQ)]), 1,
             E + r"cases/vcf_chrom_line_twice\.vcf: line \d+: header line '#CHROM' among the records",
             "a second #CHROM line among the records (concatenated VCFs): used to crash cyvcf2 "
             "(SIGSEGV); one line naming the line")
    vcf_case("vcf_pos_wraps_32bit",
             vcf([rec("2", 4324188043, "C", "T", G1202R_CSQ)]), 1,
             E + r"cases/vcf_pos_wraps_32bit\.vcf: record 1 \(2:4324188043\): position 4324188043 is "
                 r"beyond any chromosome",
             "POS 2^32 + 29220747 wraps to the G1202R position in cyvcf2: refused, never a call")
    vcf_case("vcf_no_contig_lines", vcf([rec(*G1202R, G1202R_CSQ)], contigs={}), 0, ACTIONABLE,
             "no ##contig lines (many callers omit them): the build cannot be checked but the records "
             "are read")

    # ---- record layout
    vcf_case("vcf_missing_sample_column",
             vcf([rec(*G1202R, G1202R_CSQ, sample=None)]), 1,
             E + r"cases/vcf_missing_sample_column\.vcf: record 1 \(2:29220747\): .*(column|sample)",
             "header names sample TUMOR but the record has only 9 columns (FORMAT without the sample "
             "value): must be refused naming the record, not read as a sample without data")
    vcf_case("vcf_duplicate_records", vcf([rec(*G1202R, G1202R_CSQ)] * 2), 1,
             E + r"cases/vcf_duplicate_records\.vcf: record 2 \(2:29220747\): duplicate of the "
                 r"previous record",
             "the same record twice (concatenated shards): would double-count the call")
    vcf_case("vcf_unsorted", vcf([rec(*G1202R, G1202R_CSQ), rec("2", 29220700, "C", "T")]), 1,
             E + r"cases/vcf_unsorted\.vcf: record 2 \(2:29220700\): records are not sorted",
             "positions going backwards within a chromosome")
    vcf_case("vcf_unsorted_chromosomes",
             vcf([rec("2", 29220747, "C", "T", G1202R_CSQ), rec("7", 1000, "A", "G"),
                  rec("2", 29220800, "C", "T")]), 1,
             E + r"cases/vcf_unsorted_chromosomes\.vcf: record 3 \(2:29220800\): records are not "
                 r"sorted \(chromosome seen before\)",
             "a chromosome that comes back after another one")

    # ---- FORMAT fields
    vcf_case("vcf_no_AD", vcf([rec(*G1202R, G1202R_CSQ, "0/1:3000:0.033", "GT:DP:AF")],
                               fmt_tags=("GT", "DP", "AF")), 0,
             r"calls=ALK G1202R resistance_low_support vaf=0\.033 depth=3000 alt=None ",
             "no AD: VAF from AF and depth from DP, alt reads unknown -> low support (never "
             "actionable on an unknown read count)")
    vcf_case("vcf_no_DP", vcf([rec(*G1202R, G1202R_CSQ, "0/1:2900,100:0.033", "GT:AD:AF")],
                               fmt_tags=("GT", "AD", "AF")), 0, ACTIONABLE,
             "no DP: depth is the sum of AD")
    vcf_case("vcf_no_AF", vcf([rec(*G1202R, G1202R_CSQ, "0/1:2900,100:3000", "GT:AD:DP")],
                               fmt_tags=("GT", "AD", "DP")), 0,
             r"calls=ALK G1202R actionable_resistance vaf=0\.033333 depth=3000 alt=100 ",
             "no AF: VAF = alt reads / DP")
    vcf_case("vcf_no_AD_DP_AF", vcf([rec(*G1202R, G1202R_CSQ, "0/1", "GT")], fmt_tags=("GT",)), 0,
             r"headline=Possible resistance with low read support: confirm before acting \| "
             r"calls=ALK G1202R resistance_low_support vaf=None depth=None alt=None ",
             "GT only: still a valid VCF, VAF unknown -> low support, not dropped")
    vcf_case("vcf_AD_not_numeric", vcf([rec(*G1202R, G1202R_CSQ, "0/1:abc,100:3000:0.033")]), 1,
             E + r"cases/vcf_AD_not_numeric\.vcf: record 1 \(2:29220747\): .*AD",
             "AD declared Integer holds 'abc': refuse naming the record and the field")
    vcf_case("vcf_AD_sum_exceeds_DP", vcf([rec(*G1202R, G1202R_CSQ, "0/1:2950,100:3000:0.033")]), 0,
             r"calls=ALK G1202R actionable_resistance vaf=0\.033 depth=3000 alt=100 ",
             "AD sums to 3050 > DP 3000: callers count AD and DP on differently filtered reads, so "
             "this is accepted; DP is the depth")
    vcf_case("vcf_AF_above_1", vcf([rec(*G1202R, G1202R_CSQ, "0/1:2900,100:3000:1.5")]), 1,
             E + r"cases/vcf_AF_above_1\.vcf: record 1 \(2:29220747\): allele fraction 1\.5 outside "
                 r"0-1",
             "AF 1.5 (percent written as fraction or a broken caller)")
    vcf_case("vcf_alt_reads_exceed_depth", vcf([rec(*G1202R, G1202R_CSQ, "0/1:10,50:20", "GT:AD:DP")],
                                                fmt_tags=("GT", "AD", "DP")), 1,
             E + r"cases/vcf_alt_reads_exceed_depth\.vcf: record 1 \(2:29220747\): alt reads 50 "
                 r"exceed depth 20",
             "more alt reads than depth")
    vcf_case("vcf_negative_AD", vcf([rec(*G1202R, G1202R_CSQ, "0/1:-5,100:3000:0.033")]), 1,
             E + r"cases/vcf_negative_AD\.vcf: record 1 \(2:29220747\): negative allele depth",
             "a negative read count")
    multi = ("CSQ=" + csq("ALK", "T", "p.Gly1202Arg") + ","
             + csq("ALK", "G", "p.Gly1202Ala").replace("c.3604G>A", "c.3605G>C"))
    vcf_case("vcf_multiallelic", vcf([rec("2", 29220747, "C", "T,G", multi,
                                          "1/2:2840,100,60:3000:0.033,0.02")]), 0,
             ACTIONABLE.replace(r"\| calls=", r"\| calls=.*"),
             "two ALTs in one record with per-allele AD/AF and CSQ: G1202R gets its own 100 reads "
             "and 0.033, not the other allele's")

    # ---- contigs and build
    vcf_case("vcf_chr_contigs", vcf([rec("chr2", *G1202R[1:], G1202R_CSQ)], chr_prefix=True), 0,
             ACTIONABLE, "UCSC-style chr2")
    vcf_case("vcf_nochr_contigs", ok, 0, ACTIONABLE, "Ensembl-style 2")
    vcf_case("vcf_grch37_declared_grch38", vcf([rec(*G1202R_37, G1202R_CSQ)], contigs=GRCH37), 1,
             E + r"cases/vcf_grch37_declared_grch38\.vcf: header contig lengths are GRCh37, but the "
                 r"sample sheet says genome_build GRCh38",
             "GRCh37 contig lengths with --build GRCh38: positions would be misread")

    # ---- annotation
    fmt = "SYMBOL|HGVSp|Allele|Consequence|Feature|CANONICAL"
    vcf_case("vcf_csq_other_order",
             vcf([rec(*G1202R, "CSQ=ALK|ENSP00000373700.3:p.Gly1202Arg|T|missense_variant|"
                                "ENST00000389048.8|YES")], csq_format=fmt), 0, ACTIONABLE,
             "CSQ fields in another order than VEP's default: read by name from the header")
    vcf_case("vcf_csq_missing_hgvsp", vcf([rec(*G1202R, "CSQ=" + csq("ALK", "T", ""))]), 0, ACTIONABLE,
             "missense without HGVSp on the exact catalogue allele: read as the known allele "
             "(with a warning), never dropped")
    vcf_case("vcf_csq_missing_hgvsp_other_allele",
             vcf([rec("2", 29220750, "G", "A", "CSQ=" + csq("ALK", "A", ""))]), 0,
             r"headline=No catalogue resistance found among the interpretable variants, but 1 "
             r"variant\(s\) in catalogue genes could not be interpreted.* \| "
             r"not_interpretable=ALK 2:29220750:G>A: VEP consequence "
             r"missense_variant without a protein change \(HGVSp\)",
             "missense without HGVSp on another allele: kept as not interpretable with the reason")

    # ---- bytes
    vcf_case("vcf_crlf", ok.replace(b"\n", b"\r\n"), 0, ACTIONABLE,
             "Windows line endings: read as if LF (values of the last column must not keep the CR)")
    note_hdr = ['##INFO=<ID=NOTE,Number=1,Type=String,Description="free text">']
    fmt_note = CSQ_FORMAT + "|NOTE"
    utf8 = ("NOTE=Patient Müller ✓;CSQ=" + csq("ALK", "T", "p.Gly1202Arg", extra=["Müller"]))
    vcf_case("vcf_utf8_info", vcf([rec(*G1202R, utf8)], csq_format=fmt_note, extra=note_hdr), 0,
             ACTIONABLE, "UTF-8 text in INFO and CSQ strings")
    latin = "NOTE=Patient Müller;CSQ=" + csq("ALK", "T", "p.Gly1202Arg", extra=["Müller"])
    latin1 = (("\n".join(header(csq_format=fmt_note, extra=note_hdr)) + "\n").encode()
              + rec(*G1202R, latin).encode("latin-1") + b"\n")
    vcf_case("vcf_latin1_info", latin1, 0, ACTIONABLE,
             "Latin-1 byte (0xFC) in free-text INFO/CSQ fields that ctresist does not interpret: "
             "read the record, do not fail the sample on a note's encoding")

    # ---- valid but nothing to report
    vcf_case("vcf_empty", FILES["vcf_empty.vcf"], 0,
             NO_RESISTANCE + r" \| calls= \| not_interpretable= \| cn= \| records=0 in_genes=0$",
             "header only: valid, 'No resistance', not an error")
    vcf_case("vcf_no_catalogue_genes",
             vcf([rec("1", 1000000, "A", "G", "CSQ=" + csq("SKI", "G", "p.Lys10Glu")),
                  rec("10", 5000000, "G", "A")]), 0,
             NO_RESISTANCE + r" \| calls= \| not_interpretable= \| cn= \| records=0 in_genes=0$",
             "variants only outside the catalogue genes: valid, nothing examined in catalogue genes")

    # ---- command-line level
    case("cli_vcf_not_found", "vcf", annotate_args("cases/does_not_exist.vcf"), 1,
         E + r"cases/does_not_exist\.vcf: file not found", "cases/does_not_exist.vcf",
         "--vcf names a file that does not exist")
    case("cli_unknown_drug", "vcf", annotate_args("cases/vcf_empty.vcf", therapy="lorlatinb"), 1,
         E + r"command line: column 'therapy': unknown drug 'lorlatinb'; did you mean lorlatinib",
         "", "misspelt drug: suggest the closest vocabulary name")
    case("cli_sample_shell_metacharacters", "vcf",
         annotate_args("cases/vcf_g1202r.vcf", sample="S1;touch pwned $(id) `id` ../x"), 0,
         r"^sample=S1;touch pwned \$\(id\) `id` \.\./x \| headline=Resistance to alectinib", "",
         "on the command line the sample ID is only a label (the output path is -o): kept "
         "literally, never run by a shell, no file created")

    # ---- CNV
    def cnv_case(name: str, text: str, exit_: int, expect: str, description: str,
                 data: bytes | None = None, build: str = "GRCh38") -> None:
        path = f"cases/{name}.cns"
        case(name, "cnv", annotate_args("cases/vcf_empty.vcf", cnv=path, build=build), exit_, expect,
             path, description, {f"{name}.cns": data if data is not None else text.encode()})

    hdr = "chromosome\tstart\tend\tgene\tlog2\n"
    cnv_case("cnv_missing_columns", "chromosome\tstart\tgene\tlog2\n7\t116000000\tMET\t2.5\n", 1,
             E + r"cases/cnv_missing_columns\.cns:1: missing column\(s\) end",
             "no end column: say which column is missing, at line 1")
    cnv_case("cnv_no_value_column", "chromosome\tstart\tend\tgene\n7\t116000000\t117000000\tMET\n", 1,
             E + r"cases/cnv_no_value_column\.cns:1: missing column\(s\) log2 or copy number",
             "neither log2 nor copy number")
    cnv_case("cnv_nonnumeric_log2", hdr + "2\t10000\t242000000\t-\t0.0\n7\t116000000\t117000000\tMET\thigh\n", 1,
             E + r"cases/cnv_nonnumeric_log2\.cns:3: column 'log2': expected a number, got 'high'",
             "log2 'high'")
    cnv_case("cnv_short_row", hdr + "7\t116000000\t117000000\n", 1,
             E + r"cases/cnv_short_row\.cns:2: 3 columns, header has 5", "a row with fewer fields")
    cnv_case("cnv_overlapping", hdr + "7\t10000\t116800000\t-\t0.0\n7\t116000000\t159000000\tMET\t2.5\n", 1,
             E + r"cases/cnv_overlapping\.cns:3: segment 7:116000000-159000000 overlaps line 2",
             "overlapping segments make the gene copy number ambiguous")
    cnv_case("cnv_unsorted_nonoverlapping",
             hdr + "7\t116000000\t117000000\tMET\t2.5\n2\t10000\t242000000\t-\t0.0\n"
                   "7\t10000\t115999999\t-\t0.0\n7\t117000001\t159000000\t-\t0.0\n", 0,
             r"headline=Resistance to alectinib detected: MET amplification \| calls=MET amplification "
             r"actionable_resistance .*\| cn=ALK:2;.*MET:11\.314 ",
             "segments out of order but not overlapping: the reader sorts per chromosome, so this "
             "is accepted and MET is amplified")
    cnv_case("cnv_unknown_contig", hdr + "2\t10000\t242000000\t-\t0.0\nchrZ\t1\t1000\t-\t0.0\n", 1,
             E + r"cases/cnv_unknown_contig\.cns:3: unknown contig 'chrZ' for GRCh38",
             "a contig that is not a chromosome of the build")
    cnv_case("cnv_infinite_log2", hdr + "7\t116000000\t117000000\tMET\tinf\n", 1,
             E + r"cases/cnv_infinite_log2\.cns:2: column 'log2': infinite value 'inf'",
             "log2 = inf")
    cnv_case("cnv_end_before_start",
             hdr + "1\t1000000\t2000000\tX1\t0.0\n7\t117000000\t116000000\tMET\t2.5\n", 0,
             NO_RESISTANCE + r".* \| cn= \|",
             "an inverted segment (CNVkit writes zero-probe ones) among valid ones: skipped with a "
             "warning, valid")
    cnv_case("cnv_only_inverted_segments", hdr + "7\t117000000\t116000000\tMET\t2.5\n", 1,
             E + r"cases/cnv_only_inverted_segments\.cns: CNV file has no segments",
             "every segment inverted: nothing is covered, so 'no amplification' cannot be said; refused")
    cnv_case("cnv_binary", "", 1, E + r"cases/cnv_binary\.cns: not a text segment file",
             "a gzip file named .cns", data=plain_gzip(hdr.encode()))
    case("cnv_not_found", "cnv", annotate_args("cases/vcf_empty.vcf", cnv="cases/does_not_exist.cns"),
         1, E + r"cases/does_not_exist\.cns: file not found", "cases/does_not_exist.cns",
         "--cnv names a file that does not exist")

    # ---- sample sheet
    def sheet_case(name: str, data: bytes, sample: str, exit_: int, expect: str, description: str,
                   names: str | None = None) -> None:
        path = f"cases/{name}.tsv"
        case(name, "sheet", sheet_args(path, sample), exit_, expect, path if names is None else names,
             description, {f"{name}.tsv": data})

    sheet_case("sheet_ok", sheet({}), "S1", 0, ACTIONABLE, "control: a good sheet row")
    sheet_case("sheet_duplicate_ids", sheet({}, {"collection_date": "2024-02-01"}), "S1", 1,
               E + r"cases/sheet_duplicate_ids\.tsv:3: column 'sample': duplicate sample ID 'S1' "
                   r"\(also on line 2\)",
               "two rows with sample S1")
    sheet_case("sheet_vcf_not_found", sheet({"vcf": "cases/does_not_exist.vcf"}), "S1", 1,
               E + r"cases/does_not_exist\.vcf: file not found",
               "the sheet's vcf does not exist (checked when this sample is read)",
               names="cases/does_not_exist.vcf")
    sheet_case("sheet_bad_date", sheet({"collection_date": "2024-13-45"}), "S1", 1,
               E + r"cases/sheet_bad_date\.tsv:2: column 'collection_date': '2024-13-45' is not a "
                   r"real date",
               "month 13, day 45")
    sheet_case("sheet_date_format", sheet({"collection_date": "10/01/2024"}), "S1", 1,
               E + r"cases/sheet_date_format\.tsv:2: column 'collection_date': invalid value "
                   r"'10/01/2024'",
               "a date not in YYYY-MM-DD")
    sheet_case("sheet_unknown_specimen", sheet({"specimen": "blood"}), "S1", 1,
               E + r"cases/sheet_unknown_specimen\.tsv:2: column 'specimen': invalid value 'blood' "
                   r"\(plasma \(ctDNA\) or tissue\)",
               "specimen must be plasma or tissue")
    sheet_case("sheet_unknown_drug", sheet({"therapy": "alectnib"}), "S1", 1,
               E + r"cases/sheet_unknown_drug\.tsv:2: column 'therapy': unknown drug 'alectnib'; "
                   r"did you mean alectinib",
               "misspelt drug: suggest the closest name")
    sheet_case("sheet_brand_name", sheet({"therapy": "Alecensa"}), "S1", 0, ACTIONABLE,
               "a brand name is resolved to its generic drug")
    sheet_case("sheet_unknown_driver", sheet({"driver": "EML4-XYZ"}), "S1", 1,
               E + r"cases/sheet_unknown_driver\.tsv:2: column 'driver': cannot read driver "
                   r"'EML4-XYZ'",
               "a driver that is neither a known fusion nor EGFR")
    sheet_case("sheet_bad_build", sheet({"genome_build": "hg19"}), "S1", 1,
               E + r"cases/sheet_bad_build\.tsv:2: column 'genome_build': invalid value 'hg19'",
               "hg19 instead of GRCh37")
    sheet_case("sheet_bad_tumor_fraction",
               sheet({"tumor_fraction": "35%"}, cols=SHEET_COLS + ["tumor_fraction"]), "S1", 1,
               E + r"cases/sheet_bad_tumor_fraction\.tsv:2: column 'tumor_fraction': invalid value "
                   r"'35%'",
               "tumour fraction written as a percentage")
    sheet_case("sheet_missing_column", sheet({}, cols=[c for c in SHEET_COLS if c != "genome_build"]),
               "S1", 1, E + r"cases/sheet_missing_column\.tsv:1: missing column\(s\) genome_build",
               "a required column is absent")
    sheet_case("sheet_sample_not_in_sheet", sheet({}), "S2", 1,
               E + r"cases/sheet_sample_not_in_sheet\.tsv: no sample 'S2'",
               "--sample names a sample the sheet does not have")
    sheet_case("sheet_crlf", sheet({}).replace(b"\n", b"\r\n"), "S1", 0, ACTIONABLE,
               "sheet saved with Windows line endings")
    sheet_case("sheet_utf8_bom", b"\xef\xbb\xbf" + sheet({}), "S1", 0, ACTIONABLE,
               "sheet saved by Excel as 'UTF-8 with BOM': the first column is still 'sample'")
    for suffix, sid in (("slash", "a/b"), ("dotdot", ".."), ("space", "S 1"),
                        ("semicolon", "S1;rm -rf x"), ("dollar", "$(id)"), ("backtick", "`id`")):
        sheet_case(f"sheet_id_{suffix}", sheet({"sample": sid}), sid, 1,
                   E + rf"cases/sheet_id_{suffix}\.tsv:2: column 'sample': invalid value "
                       + re.escape(repr(sid)),
                   f"sample ID {sid!r} would become a path or shell text under results/: refused by "
                   "the sheet schema")

    # ---- catalogue (edits applied by the test to a copy of annotations/)
    def cat_case(name: str, edit: dict | None, exit_: int, expect: str, description: str) -> None:
        files = {}
        if edit is not None:
            files[f"{name}.json"] = (json.dumps(edit, indent=1, sort_keys=True) + "\n").encode()
        case(name, "catalogue", "--annotations {annotations} catalogue validate", exit_, expect,
             "" if exit_ == 0 else "{annotations}/catalogue/resistance.tsv", description, files)

    where = r"{annotations}/catalogue/resistance\.tsv:{line}: "
    row = "ALK_G1202R__ALK_fusion"
    cat_case("catalogue_ok", None, 0, r"^catalogue \S+ OK: \d+ entries",
             "control: the unmodified copy validates")
    cat_case("catalogue_malformed_alteration",
             {"file": "catalogue/resistance.tsv", "row_id": row, "op": "set", "column": "alteration",
              "value": "G1202"}, 1,
             E + where + r"column 'alteration': malformed protein change 'G1202'",
             "alteration without the new residue")
    cat_case("catalogue_unknown_drug",
             {"file": "catalogue/resistance.tsv", "row_id": row, "op": "set", "column": "resists",
              "value": "crizotinib;alectnib"}, 1,
             E + where + r"column 'resists': drug 'alectnib' is not in annotations/drugs\.tsv "
                         r"\(closest: alectinib",
             "a drug missing from the vocabulary, with the closest name")
    with open(HERE.parents[1] / "annotations" / "catalogue" / "resistance.tsv", encoding="utf-8") as fh:
        n_cols = len(fh.readline().rstrip("\n").split("\t"))
    cat_case("catalogue_missing_field",
             {"file": "catalogue/resistance.tsv", "row_id": row, "op": "drop_last_field"}, 1,
             E + where + rf"{n_cols - 1} columns, header has {n_cols}",
             "a row with one tab-separated field too few")
    cat_case("catalogue_unknown_gene",
             {"file": "catalogue/resistance.tsv", "row_id": row, "op": "set", "column": "gene",
              "value": "ALKK"}, 1,
             E + where + r"column 'gene': unknown gene 'ALKK'", "a gene outside catalogue.yaml")
    cat_case("catalogue_bad_citation",
             {"file": "catalogue/resistance.tsv", "row_id": row, "op": "set", "column": "citations",
              "value": "Lin et al. 2017"}, 1,
             E + where + r"column 'citations': ", "a citation that is not PMID:/DOI:")
    cat_case("catalogue_compound_without_phase",
             {"file": "catalogue/resistance.tsv", "row_id": row, "op": "set", "column": "alteration",
              "value": "G1202R+L1196M"}, 1,
             E + where + r"column 'phase': required for compound alterations",
             "a compound alteration needs cis/trans/any")
    cat_case("catalogue_duplicate_id",
             {"file": "catalogue/resistance.tsv", "row_id": "ALK_L1196M__ALK_fusion", "op": "set",
              "column": "id", "value": row}, 1,
             E + where + r"column 'id': duplicate id 'ALK_G1202R__ALK_fusion'",
             "two rows with the same id")


def outcome_line(model: dict) -> str:
    """One line summarising a report JSON, matched by the regex of valid cases."""
    def num(x):
        return "None" if x is None else f"{x:g}" if isinstance(x, float) else str(x)

    calls = "; ".join(f"{c['gene']} {c['alteration']} {c['status']} vaf={num(c.get('vaf'))} "
                      f"depth={num(c.get('depth'))} alt={num(c.get('alt_reads'))}"
                      for c in model.get("calls", []))
    ni = "; ".join(f"{x['gene']} {x['variant']}: {x['reason']}" for x in model.get("not_interpretable", []))
    cn = ";".join(f"{c['gene']}:{num(c['copy_number'])}" for c in model.get("copy_number", [])
                  if c.get("copy_number") is not None)
    ex = model.get("examined", {})
    return (f"sample={model.get('sample', {}).get('sample')} | "
            f"headline={model.get('summary', {}).get('headline')} | calls={calls} | "
            f"not_interpretable={ni} | cn={cn} | records={ex.get('vcf_records_read')} "
            f"in_genes={ex.get('variants_in_catalogue_genes')}")


MANIFEST_COLS = ["case", "kind", "args", "expected_exit", "expected_stderr_regex", "names", "description"]


def write(out: Path) -> None:
    build_cases()
    cases_dir = out / "cases"
    cases_dir.mkdir(parents=True, exist_ok=True)
    for old in cases_dir.iterdir():  # stale files of removed cases
        if old.name not in FILES:
            old.unlink()
    for name, data in sorted(FILES.items()):
        (cases_dir / name).write_bytes(data)
    lines = ["\t".join(MANIFEST_COLS)] + ["\t".join(c[k] for k in MANIFEST_COLS) for c in CASES]
    (out / "cases.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8", newline="\n")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default=str(HERE), help="folder to write cases/ and cases.tsv into")
    args = p.parse_args(argv)
    write(Path(args.out))
    print(f"{len(CASES)} cases, {len(FILES)} files -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
