"""File-level VCF faults that used to give a silent "No resistance" or a crash (issues 8 and 9):
untrusted indexes, truncation, symbol drift and malformed annotation entries, impossible
positions, header lines among the records, non-regular files, corrupt BCF, copy-number VCFs.

Each test builds the fault from a small VCF that holds the GRCh38 ALK G1202R record
(2:29220747C>T) and asserts either the exact call or the exact one-line error."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import pytest
from conftest import csq, rec, vcf_text

from ctresist.errors import InputError
from ctresist.genes import genes_for_build
from ctresist.io.integrity import BGZF_EOF
from ctresist.io.vcf import read_variants

GENES = genes_for_build("GRCh38")
G1202R = ("2", 29220747, "C", "T")
ALK_INFO = "CSQ=" + csq("ALK", "T", "p.Gly1202Arg")
GOOD = vcf_text([rec("1", 1000, "A", "G"), rec(*G1202R, ALK_INFO, "0/1:2900,100:3000:0.033")])


def read(path, **kw):
    infos = []
    vs = list(read_variants(str(path), GENES, info_out=infos, **kw))
    return vs, infos[0]


def calls(vs):
    return [(v.gene, v.hgvsp) for v in vs if v.hgvsp]


def cli(path, tmp_path):
    """The real CLI on ``path``: (exit status, stderr lines that are not log lines, calls)."""
    out = tmp_path / "out.json"
    proc = subprocess.run([sys.executable, "-m", "ctresist.cli", "annotate", "--sample", "S",
                           "--vcf", str(path), "--driver", "EML4-ALK", "--specimen", "plasma",
                           "--build", "GRCh38", "--therapy", "alectinib", "-o", str(out)],
                          capture_output=True, text=True, timeout=60)
    errs = [ln for ln in proc.stderr.splitlines() if " ctresist " not in ln[:40]]
    return proc.returncode, errs, out


# --- 4. index trouble -----------------------------------------------------------------------------

def _indexed(write_vcf):
    path = write_vcf("i.vcf.gz", GOOD, bgzip=True, index=True)
    return path, path + ".tbi"


@pytest.mark.parametrize("fault,note", [
    ("empty", "index i.vcf.gz.tbi ignored: it is empty (0 bytes); the whole file was read instead"),
    ("garbage", "index i.vcf.gz.tbi ignored: it cannot be loaded (corrupt or not a tabix/CSI index); "
                "the whole file was read instead"),
    ("stale", "index i.vcf.gz.tbi ignored: it is older than the VCF (stale; re-run tabix); the whole "
              "file was read instead"),
    ("other", "index i.vcf.gz.tbi ignored: it names contigs the header does not declare (9); it "
              "belongs to another file; the whole file was read instead"),
])
def test_untrusted_index_is_streamed_with_a_note(write_vcf, fault, note):
    """A 0-byte, garbage, stale or foreign .tbi: the file is streamed, G1202R found, note given."""
    path, tbi = _indexed(write_vcf)
    if fault == "empty":
        with open(tbi, "wb"):
            pass
    elif fault == "garbage":
        with open(tbi, "wb") as fh:
            fh.write(bytes(range(256)) * 4)
    elif fault == "stale":
        t = time.time()
        os.utime(tbi, (t - 100, t - 100))
    else:
        other = write_vcf("o.vcf.gz", vcf_text([rec("9", 1000, "A", "G")], contigs={"9": 138394717}),
                          bgzip=True, index=True)
        shutil.copy(other + ".tbi", tbi)
    vs, info = read(path)
    assert calls(vs) == [("ALK", "G1202R")]
    assert (info.indexed, info.notes) == (False, [note])


def test_index_not_covering_the_last_record_is_streamed(write_vcf):
    """Records appended on a new contig after indexing (index copied, so newer): streamed."""
    path, tbi = _indexed(write_vcf)
    grown = write_vcf("grown.vcf.gz", vcf_text([rec("1", 1000, "A", "G"), rec(*G1202R, ALK_INFO),
                                                rec("12", 5000, "A", "G")]), bgzip=True)
    shutil.copy(tbi, grown + ".tbi")
    vs, info = read(grown)
    assert calls(vs) == [("ALK", "G1202R")]
    assert info.notes == ["index grown.vcf.gz.tbi ignored: it does not cover contig 12 of the last "
                          "record (stale or of another file); the whole file was read instead"]


def test_csi_indexes_of_vcf_gz_and_bcf_are_used(write_vcf, tmp_path):
    from pysam import bcftools, tabix_index

    gz = write_vcf("c.vcf.gz", GOOD, bgzip=True)
    tabix_index(gz, preset="vcf", force=True, csi=True)
    plain = write_vcf("c.vcf", GOOD)
    bcf = str(tmp_path / "c.bcf")
    bcftools.view("-Ob", "-o", bcf, plain, catch_stdout=False)
    bcftools.index(bcf, catch_stdout=False)
    for path in (gz, bcf):
        vs, info = read(path)
        assert calls(vs) == [("ALK", "G1202R")] and info.indexed and info.notes == [], path


def test_valid_index_is_used(write_vcf):
    path, _ = _indexed(write_vcf)
    vs, info = read(path)
    assert calls(vs) == [("ALK", "G1202R")] and info.indexed and info.notes == []


def test_malformed_record_in_indexed_region_gives_the_streaming_error(write_vcf):
    """One bad record inside ALK: the indexed file gives the same error line as the plain file."""
    bad = "2\t29220800\t.\tC\tT\t.\tPASS\t.\tGT:AD:DP:AF\t0/1:1,x:2:0.5"
    text = vcf_text([rec(*G1202R, ALK_INFO), bad])
    msgs = []
    for name, gz in (("m.vcf", False), ("m.vcf.gz", True)):
        with pytest.raises(InputError) as exc:
            read(write_vcf(name, text, bgzip=gz, index=gz))
        msgs.append(str(exc.value).split(": ", 1)[1])
    assert msgs[0] == msgs[1]
    assert msgs[0].startswith("record 2 (2:29220800): cannot parse")


# --- 5. truncation ------------------------------------------------------------------------------

def _bgzf_blocks(data: bytes) -> list[int]:
    """Offsets at which BGZF blocks start (BSIZE at bytes 16-17 of each block header)."""
    offs, i = [], 0
    while i < len(data):
        offs.append(i)
        i += int.from_bytes(data[i + 16:i + 18], "little") + 1
    return offs


def test_bgzf_cut_at_a_block_boundary_is_truncated(write_vcf, tmp_path):
    """Cut after a complete block (no EOF block): one line saying it is truncated."""
    recs = [rec("1", 1000 + i, "A", "G", "X=" + "A" * 200) for i in range(2000)]
    path = write_vcf("big.vcf.gz", vcf_text(recs + [rec(*G1202R, ALK_INFO)]), bgzip=True)
    with open(path, "rb") as fh:
        data = fh.read()
    assert data.endswith(BGZF_EOF)
    blocks = _bgzf_blocks(data)
    cut = tmp_path / "cut.vcf.gz"
    cut.write_bytes(data[:blocks[3]])
    with pytest.raises(InputError, match=r"cut\.vcf\.gz: truncated: the BGZF end-of-file block is "
                                         r"missing, so the file was cut short"):
        read(cut)


def test_plain_vcf_cut_mid_record(write_vcf):
    text = GOOD[:-20]
    with pytest.raises(InputError, match=r"cut\.vcf: record 2:29220747: the last line has no end "
                                         r"of line, so the file was cut in the middle of a record"):
        read(write_vcf("cut.vcf", text))


# --- 6. gene symbol drift and malformed entries --------------------------------------------------

@pytest.mark.parametrize("symbol", ["alk", "ALK\\", "ALK ", "KRAS ", "ALK-AS1"])
def test_symbol_drift_gene_from_mane_transcript(write_vcf, symbol):
    """The ALK MANE transcript (ENST00000389048) decides the gene whatever SYMBOL says."""
    info = "CSQ=" + csq(symbol, "T", "p.Gly1202Arg", canonical="", mane="")
    vs, _ = read(write_vcf("s.vcf", vcf_text([rec(*G1202R, info)])))
    assert calls(vs) == [("ALK", "G1202R")]


def test_catalogue_gene_entry_preferred_over_overlapping_gene(write_vcf):
    """An overlapping gene's MANE/canonical entry comes first: the ALK entry is still chosen."""
    other = csq("OTHER1", "T", "p.Ala5Val", tx="ENST00000777777.1")
    alk = csq("ALK", "T", "p.Gly1202Arg", canonical="", mane="")
    vs, _ = read(write_vcf("o.vcf", vcf_text([rec(*G1202R, "CSQ=" + ",".join([other, alk]))])))
    assert calls(vs) == [("ALK", "G1202R")]


def test_record_in_alk_annotated_only_for_another_gene_is_not_interpretable(write_vcf):
    info = "CSQ=" + csq("OTHER1", "T", "p.Ala5Val", tx="ENST00000777777.1")
    [v], _ = read(write_vcf("o.vcf", vcf_text([rec(*G1202R, info)])))
    assert (v.gene, v.hgvsp) == ("ALK", None)
    assert v.problem == ("the VEP annotation names OTHER1 (ENST00000777777.1), not ALK at this "
                         "position; the protein change on ALK is unknown")


def test_shifted_snpeff_entry_is_listed_not_dropped(write_vcf):
    """EGFR L858R (7:55191822T>G) with one extra '|' in its ANN entry: listed under EGFR with why."""
    fmt = ("Allele | Annotation | Annotation_Impact | Gene_Name | Gene_ID | Feature_Type | Feature_ID | "
           "Transcript_BioType | Rank | HGVS.c | HGVS.p | cDNA.pos / cDNA.length")
    hdr = [f'##INFO=<ID=ANN,Number=.,Type=String,Description="Functional annotations: \'{fmt}\' ">']
    ann = ("ANN=G|missense_variant|MODERATE|EGFR||EGFR|transcript|ENST00000275493.7|protein_coding|"
           "21/28|c.2573T>G|p.Leu858Arg|")
    [v], _ = read(write_vcf("e.vcf", vcf_text([rec("7", 55191822, "T", "G", ann)], csq_format=None,
                                               extra_header=hdr)))
    assert (v.gene, v.hgvsp) == ("EGFR", None)
    assert v.problem.startswith("malformed SnpEff entry (13 fields, the header declares 12): 'G|missense")


def test_snpeff_eff_and_pave(write_vcf):
    """SnpEff's older EFF and Hartwig PAVE_TI give the protein change."""
    eff_hdr = ['##INFO=<ID=EFF,Number=.,Type=String,Description="Predicted effects for this variant.'
               'Format: \'Effect ( Effect_Impact | Functional_Class | Codon_Change | Amino_Acid_Change| '
               'Amino_Acid_Length | Gene_Name | Transcript_BioType | Gene_Coding | Transcript_ID | '
               'Exon_Rank  | Genotype_Number [ | ERRORS | WARNINGS ] )\' ">']
    eff = ("EFF=NON_SYNONYMOUS_CODING(MODERATE|MISSENSE|Ggg/Agg|G1202R|1620|ALK|protein_coding|CODING|"
           "ENST00000389048|23|T)")
    vs, _ = read(write_vcf("f.vcf", vcf_text([rec(*G1202R, eff)], csq_format=None, extra_header=eff_hdr)))
    assert calls(vs) == [("ALK", "G1202R")] and vs[0].consequence == "missense_variant"
    pave_hdr = ['##INFO=<ID=PAVE_TI,Number=.,Type=String,Description="Transcript impact '
                '[Gene|GeneName|Transcript|Effects|SpliceRegion|HGVS.c|HGVS.p]">']
    pave = "PAVE_TI=ENSG00000171094|ALK|ENST00000389048|missense_variant|false|c.3604G>A|p.Gly1202Arg"
    vs, _ = read(write_vcf("p.vcf", vcf_text([rec(*G1202R, pave)], csq_format=None, extra_header=pave_hdr)))
    assert calls(vs) == [("ALK", "G1202R")] and vs[0].annotation == "PAVE"
    impact_hdr = ['##INFO=<ID=IMPACT,Number=10,Type=String,Description="Variant Impact [Gene, Transcript, '
                  'CanonicalEffect, CanonicalCodingEffect, SpliceRegion, HgvsCodingImpact, '
                  'HgvsProteinImpact, OtherReportableEffects, WorstCodingEffect, GenesAffected]">']
    impact = "IMPACT=ALK,ENST00000389048,missense_variant,MISSENSE,false,c.3604G>A,p.Gly1202Arg,,MISSENSE,1"
    vs, _ = read(write_vcf("i.vcf", vcf_text([rec(*G1202R, impact)], csq_format=None, extra_header=impact_hdr)))
    assert calls(vs) == [("ALK", "G1202R")] and vs[0].transcript == "ENST00000389048"


# --- 7. impossible coordinates ------------------------------------------------------------------

def test_position_wrapped_at_2_32_is_refused(write_vcf):
    """POS 4324188043 = 2^32 + 29220747 must not become G1202R."""
    text = GOOD.replace("\t29220747\t", "\t4324188043\t")
    with pytest.raises(InputError, match=r"w\.vcf: record 2 \(2:4324188043\): position 4324188043 is "
                                         r"beyond any chromosome \(read as 29220747 after 32-bit"):
        read(write_vcf("w.vcf", text))


def test_position_beyond_contig_length(write_vcf):
    text = vcf_text([rec("2", 242193530, "C", "T")])  # chr2 of GRCh38 has 242193529 bases
    with pytest.raises(InputError, match=r"b\.vcf: record 1 \(2:242193530\): position beyond the end "
                                         r"of 2 \(length 242193529\)"):
        read(write_vcf("b.vcf", text))


# --- 8. header lines among the records (cyvcf2 used to crash with SIGSEGV) ------------------------

@pytest.mark.parametrize("fault,line", [("chrom_twice", 14), ("meta_in_body", 15), ("cat", 16)])
def test_header_line_among_records_one_line_error(tmp_path, fault, line):
    lines = GOOD.splitlines()
    hdr = [ln for ln in lines if ln.startswith("#")]
    body = [ln for ln in lines if not ln.startswith("#")]
    text = {"chrom_twice": hdr + [hdr[-1]] + body,
            "meta_in_body": hdr + body[:1] + ["##source=other"] + body[1:],
            "cat": hdr + body + hdr + body}[fault]
    path = tmp_path / f"{fault}.vcf"
    path.write_text("\n".join(text) + "\n")
    code, errs, out = cli(path, tmp_path)
    assert code == 1 and len(errs) == 1 and not out.exists()
    assert errs[0].startswith(f"ctresist: error: {path}: line {line}: header line '#")
    assert "among the records" in errs[0]


# --- 9. non-regular files, corrupt BCF, copy-number VCF, no ##fileformat ---------------------------

def test_directory_and_fifo_refused_at_once(tmp_path):
    d = tmp_path / "dir.vcf"
    d.mkdir()
    with pytest.raises(InputError, match=r"dir\.vcf: is a directory, not a VCF file"):
        read(d)
    fifo = tmp_path / "pipe.vcf"
    os.mkfifo(fifo)
    t = time.time()
    with pytest.raises(InputError, match=r"pipe\.vcf: is a FIFO \(named pipe\), not a VCF file"):
        read(fifo)
    assert time.time() - t < 5


def test_corrupt_bcf_error_is_printable(write_vcf, tmp_path):
    """Flipped bytes inside a BCF: one line, no binary bytes in it."""
    src = write_vcf("g.vcf", vcf_text([rec("1", 1000 + i, "A", "G") for i in range(3000)]
                                      + [rec(*G1202R, ALK_INFO)]))
    bcf = tmp_path / "g.bcf"
    from pysam import bcftools

    bcftools.view("-Ob", "-o", str(bcf), src, catch_stdout=False)
    data = bytearray(bcf.read_bytes())
    for i in range(len(data) // 2, len(data) // 2 + 40):
        data[i] ^= 0xFF
    bcf.write_bytes(bytes(data))
    code, errs, _ = cli(bcf, tmp_path)
    assert code == 1 and len(errs) == 1
    assert errs[0].startswith(f"ctresist: error: {bcf}") and errs[0].isprintable()


def test_copy_number_vcf_refused(write_vcf):
    hdr = ['##ALT=<ID=DUP,Description="Duplication">', '##ALT=<ID=DEL,Description="Deletion">',
           '##INFO=<ID=END,Number=1,Type=Integer,Description="End">',
           '##INFO=<ID=SVLEN,Number=1,Type=Integer,Description="Length">',
           '##FORMAT=<ID=CN,Number=1,Type=Integer,Description="Copy number">']
    recs = ["\t".join(["2", "29192774", ".", "N", "<DUP>", ".", "PASS", "END=29921586;SVLEN=728812",
                       "CN", "6"])]
    with pytest.raises(InputError, match=r"c\.vcf: is a copy-number VCF .*give it in the sheet's "
                                         r"cnv column"):
        read(write_vcf("c.vcf", vcf_text(recs, csq_format=None, extra_header=hdr, fmt_tags=())))


def test_no_fileformat_line_is_read_with_a_note(write_vcf):
    """htslib refuses a header without ##fileformat; the records are read anyway, with a note."""
    text = "\n".join(GOOD.splitlines()[1:]) + "\n"
    for name, gz in (("n.vcf", False), ("n.vcf.gz", True)):
        vs, info = read(write_vcf(name, text, bgzip=gz, index=gz))
        assert calls(vs) == [("ALK", "G1202R")]
        assert info.notes == ["the header has no ##fileformat line; read as VCFv4.2"]


def test_data_lines_without_any_header_refused(write_vcf):
    text = "\n".join(GOOD.splitlines()[13:]) + "\n"
    with pytest.raises(InputError, match=r"h\.vcf: line 1: not a readable VCF .*the first line is not "
                                         r"'##fileformat=VCFv4.x'; add it as the first line"):
        read(write_vcf("h.vcf", text))


@pytest.mark.parametrize("line", [
    "chrZ\t100\t.\tC",  # too few columns
    "chrZ\t1x0\t.\tC\tT\t.\tPASS\t.\tGT:AD:DP:AF\t0/1:1,1:2:0.5",  # bad POS
    "chrZ\t100\t.\t\tT\t.\tPASS\t.\tGT:AD:DP:AF\t0/1:1,1:2:0.5",  # empty REF
    "",  # empty line
])
def test_half_parsed_record_on_undeclared_contig(write_vcf, line):
    """htslib hands over the first record of an undeclared contig even when the rest of the line
    failed to parse (reading its REF crashed cyvcf2): one error naming the line."""
    text = vcf_text([rec(*G1202R, ALK_INFO), line])
    with pytest.raises(InputError, match=r"u\.vcf: line 15: record 2 on contig '(chrZ)?': cannot parse "
                                         r"the line"):
        read(write_vcf("u.vcf", text))


@pytest.mark.parametrize("declare,indexed", [(True, False), (False, False), (False, True)])
def test_refseq_contig_names_refused(write_vcf, declare, indexed):
    """Contigs named by RefSeq accession (NC_000002.12): no catalogue gene would ever be found, so
    the file is refused instead of reading as 'no resistance'."""
    contigs = {"NC_000002.12": 242193529} if declare else {}
    text = vcf_text([rec("NC_000002.12", 29220747, "C", "T", ALK_INFO)], contigs=contigs)
    with pytest.raises(InputError, match=r"r\.vcf(\.gz)?: no contig is a chromosome named 1-22, X, Y or MT .*"
                                         r"\(contigs: NC_000002\.12\).*bcftools annotate --rename-chrs"):
        read(write_vcf("r.vcf.gz" if indexed else "r.vcf", text, bgzip=indexed, index=indexed))
