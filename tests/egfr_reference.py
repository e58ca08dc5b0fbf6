"""A real GRCh38 EGFR (and optionally KIT) reference for ``bcftools csq`` tests, built at test time.

Source: ``../shared/data/transcripts/hartwig_pave_reverse_grch38/`` (see its PROVENANCE.md): the
real GRCh38 sequence of the EGFR locus (chr7:55017017-55213628) and KIT locus
(chr4:54655267-54742783), and the Ensembl exon table with CodingStart/CodingEnd.

What is written (nothing is committed; a pytest tmp dir holds it):

* a FASTA with one contig per locus (``chr7``/``7``, ``chr4``/``4``), padded with ``N`` from
  position 1 up to the locus, so that FASTA coordinates are the real GRCh38 coordinates. The
  contig ends at the end of the locus (shorter than the real chromosome; positions before the end
  are unaffected). EGFR alone is 55 MB uncompressed; it is written in large chunks (< 1 s).
* its ``.fai`` (``pysam.faidx``),
* an Ensembl-style GFF3 (``gene``/``mRNA``/``exon``/``CDS`` with phases computed from the coding
  start) for the requested transcripts (default: canonical EGFR ENST00000275493).

``egfr_reference`` is a session fixture (built once); tests skip when the shared data is absent.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import pysam
import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCE_DIR = ROOT.parent / "shared" / "data" / "transcripts" / "hartwig_pave_reverse_grch38"
LOCUS_FASTA = SOURCE_DIR / "EGFR_KIT.GRCh38.locus_sequences.fa"
EXON_TABLE = SOURCE_DIR / "ensembl_trans_exon_data.target_genes.csv"
GENE_TABLE = SOURCE_DIR / "ensembl_gene_data.target_genes.csv"
PROTEIN_TABLE = SOURCE_DIR / "ensembl_trans_amino_acids.target_genes.csv"

EGFR_TX = "ENST00000275493"
KIT_TX = "ENST00000288135"
LINE = 60  # FASTA line width


def available() -> bool:
    return LOCUS_FASTA.exists() and EXON_TABLE.exists() and GENE_TABLE.exists()


SKIP_REASON = f"real GRCh38 EGFR reference data not found at {SOURCE_DIR} (../shared/data absent)"


@dataclass
class Reference:
    fasta: str
    gff3: str
    contig: str  # the contig of the first gene as written ("chr7" or "7" for EGFR)
    chr_prefix: bool

    def fetch(self, start: int, end: int, contig: str | None = None) -> str:
        """Reference bases start..end (1-based, inclusive)."""
        with pysam.FastaFile(self.fasta) as fa:
            return fa.fetch(contig or self.contig, start - 1, end).upper()


def read_loci() -> dict[str, tuple[str, int, str]]:
    """{gene: (chrom without chr, 1-based start, sequence)} from the locus FASTA."""
    loci: dict[str, tuple[str, int, str]] = {}
    name = None
    chunks: list[str] = []

    def flush():
        if name:
            region, gene = name.split()[:2]
            chrom, span = region.split(":")
            start = int(span.split("-")[0])
            loci[gene] = (chrom.removeprefix("chr"), start, "".join(chunks).upper())

    with open(LOCUS_FASTA) as fh:
        for line in fh:
            line = line.strip()
            if line.startswith(">"):
                flush()
                name, chunks = line[1:], []
            elif line:
                chunks.append(line)
    flush()
    return loci


def exon_rows(transcript: str) -> list[dict[str, str]]:
    with open(EXON_TABLE) as fh:
        rows = [r for r in csv.DictReader(fh) if r["TransName"] == transcript]
    if not rows:
        raise KeyError(f"{transcript} not in {EXON_TABLE}")
    return sorted(rows, key=lambda r: int(r["ExonRank"]))


def gene_rows() -> dict[str, dict[str, str]]:
    with open(GENE_TABLE) as fh:
        return {r["GeneId"]: r for r in csv.DictReader(fh)}


def protein_sequence(transcript: str) -> str:
    """The Ensembl protein of ``transcript`` (without the trailing stop)."""
    with open(PROTEIN_TABLE) as fh:
        for r in csv.DictReader(fh):
            if r["TransName"] == transcript:
                return r["AminoAcids"].rstrip("X")
    raise KeyError(transcript)


def write_fasta(path: Path, contigs: list[tuple[str, int, str]]) -> None:
    """contigs: (name, 1-based start of seq, seq); N-padded before ``start``; 60-base lines."""
    with open(path, "wb") as fh:
        for name, start, seq in contigs:
            fh.write(f">{name}\n".encode())
            full_len = start - 1 + len(seq)
            pad = start - 1
            # whole lines of N first, written in big chunks
            n_lines = pad // LINE
            block = (b"N" * LINE + b"\n") * 100_000
            for _ in range(n_lines // 100_000):
                fh.write(block)
            fh.write((b"N" * LINE + b"\n") * (n_lines % 100_000))
            rest = b"N" * (pad - n_lines * LINE) + seq.encode()
            for i in range(0, len(rest), LINE):
                fh.write(rest[i:i + LINE] + b"\n")
            assert full_len == n_lines * LINE + len(rest)


def gff3_lines(transcript: str, contig: str) -> list[str]:
    """Ensembl-style GFF3 records (gene, mRNA, exon, CDS) of one transcript from the exon table."""
    rows = exon_rows(transcript)
    r0 = rows[0]
    gene_id = r0["GeneId"]
    gene = gene_rows().get(gene_id, {})
    name = gene.get("GeneName", gene_id)
    strand = "+" if r0["Strand"] == "1" else "-"
    t_start, t_end = int(r0["TransStart"]), int(r0["TransEnd"])
    cds_start, cds_end = int(r0["CodingStart"]), int(r0["CodingEnd"])
    g_start = min(t_start, int(gene.get("GeneStart", t_start)))
    g_end = max(t_end, int(gene.get("GeneEnd", t_end)))
    out = [
        f"{contig}\tensembl\tgene\t{g_start}\t{g_end}\t.\t{strand}\t.\t"
        f"ID=gene:{gene_id};Name={name};biotype=protein_coding;gene_id={gene_id}",
        f"{contig}\tensembl\tmRNA\t{t_start}\t{t_end}\t.\t{strand}\t.\t"
        f"ID=transcript:{transcript};Parent=gene:{gene_id};Name={name}-201;"
        f"biotype=protein_coding;transcript_id={transcript}",
    ]
    coding_done = 0  # coding bases before the current CDS piece, in transcript order
    for r in rows:  # rows are in transcript (rank) order
        es, ee = int(r["ExonStart"]), int(r["ExonEnd"])
        out.append(f"{contig}\tensembl\texon\t{es}\t{ee}\t.\t{strand}\t.\t"
                   f"Parent=transcript:{transcript};rank={r['ExonRank']}")
        cs, ce = max(es, cds_start), min(ee, cds_end)
        if cs > ce:
            continue
        phase = (3 - coding_done % 3) % 3
        out.append(f"{contig}\tensembl\tCDS\t{cs}\t{ce}\t.\t{strand}\t{phase}\t"
                   f"ID=CDS:{transcript};Parent=transcript:{transcript}")
        coding_done += ce - cs + 1
    return out


def build_reference(outdir: Path, chr_prefix: bool = True, genes: tuple[str, ...] = ("EGFR",),
                    transcripts: tuple[str, ...] | None = None) -> Reference:
    """Write ``ref.fa`` (+ .fai) and ``ref.gff3`` in ``outdir``; see the module doc."""
    outdir.mkdir(parents=True, exist_ok=True)
    loci = read_loci()
    pre = "chr" if chr_prefix else ""
    tx_for = {"EGFR": EGFR_TX, "KIT": KIT_TX}
    transcripts = transcripts or tuple(tx_for[g] for g in genes)
    fasta = outdir / "ref.fa"
    write_fasta(fasta, [(f"{pre}{loci[g][0]}", loci[g][1], loci[g][2]) for g in genes])
    pysam.faidx(str(fasta))
    chrom_of_gene = {gid: r["Chromosome"] for gid, r in gene_rows().items()}
    lines = ["##gff-version 3"]
    for tx in transcripts:
        lines += gff3_lines(tx, pre + chrom_of_gene[exon_rows(tx)[0]["GeneId"]])
    gff = outdir / "ref.gff3"
    gff.write_text("\n".join(lines) + "\n")
    return Reference(str(fasta), str(gff), f"{pre}{loci[genes[0]][0]}", chr_prefix)


@pytest.fixture(scope="session")
def egfr_reference(tmp_path_factory) -> Reference:
    """The real GRCh38 EGFR + KIT reference with ``chr7``/``chr4`` naming (canonical transcripts
    ENST00000275493 and ENST00000288135), built once per test session."""
    if not available():
        pytest.skip(SKIP_REASON)
    return build_reference(tmp_path_factory.mktemp("egfr_ref"), chr_prefix=True,
                           genes=("EGFR", "KIT"))


@pytest.fixture(scope="session")
def egfr_reference_nochr(tmp_path_factory) -> Reference:
    """The same EGFR reference with Ensembl naming (``7``), built once per test session."""
    if not available():
        pytest.skip(SKIP_REASON)
    return build_reference(tmp_path_factory.mktemp("egfr_ref_nochr"), chr_prefix=False)


_BASES = "TCAG"
_AMINO = "FFLLSSSSYY**CC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG"
CODON = {a + b + c: _AMINO[16 * i + 4 * j + k] for i, a in enumerate(_BASES)
         for j, b in enumerate(_BASES) for k, c in enumerate(_BASES)}


def translate(cds: str) -> str:
    return "".join(CODON.get(cds[i:i + 3], "X") for i in range(0, len(cds) - 2, 3))


def cds_coordinates(transcript: str = EGFR_TX) -> list[int]:
    """Genomic position of every coding base of a + strand transcript, in order."""
    rows = exon_rows(transcript)
    assert rows[0]["Strand"] == "1", "only + strand transcripts are modelled here"
    cs, ce = int(rows[0]["CodingStart"]), int(rows[0]["CodingEnd"])
    pos: list[int] = []
    for r in rows:
        pos += range(max(int(r["ExonStart"]), cs), min(int(r["ExonEnd"]), ce) + 1)
    return pos


def codon_start(residue: int, transcript: str = EGFR_TX) -> int:
    """Genomic position of the first base of codon ``residue`` (1-based)."""
    return cds_coordinates(transcript)[3 * (residue - 1)]


def mutated_protein(ref: Reference, pos: int, ref_allele: str, alt: str,
                    transcript: str = EGFR_TX) -> str:
    """The protein (up to the first stop) after applying one VCF allele that lies inside the
    coding sequence of a + strand transcript: an independent check of what csq reports."""
    coding = cds_coordinates(transcript)
    span = set(range(pos, pos + len(ref_allele)))
    assert span <= set(coding), "the allele must lie inside the CDS"
    chrom = gene_rows()[exon_rows(transcript)[0]["GeneId"]]["Chromosome"]
    with pysam.FastaFile(ref.fasta) as fa:
        genomic = fa.fetch(("chr" if ref.chr_prefix else "") + chrom, coding[0] - 1,
                           coding[-1]).upper()
    assert genomic[pos - coding[0]:pos - coding[0] + len(ref_allele)] == ref_allele.upper()
    out = []
    for p in coding:
        if p == pos:
            out.append(alt.upper())
        elif p not in span:
            out.append(genomic[p - coding[0]])
    prot = translate("".join(out))
    return prot.split("*")[0]
