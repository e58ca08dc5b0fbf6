"""Protein consequences for unannotated VCFs from a reference FASTA + GFF3 (pysam's bcftools csq).

:func:`annotate_with_csq` writes a bgzipped, tabix-indexed VCF whose INFO/BCSQ the VCF reader
(:mod:`ctresist.io.vcf`) turns into the same protein changes VEP gives. Steps, all in ``workdir``:

1. restrict to the catalogue-gene spans (``bcftools view -R`` when the VCF is indexed, ``-T``
   streaming otherwise), with regions written in the VCF's contig naming (``chr7`` or ``7``);
2. if the VCF's naming differs from the FASTA's, rename the contigs to the FASTA's (renamed back
   at the end, so the output keeps the input's naming);
3. ``bcftools norm -m -any -f FASTA``: split multi-allelic records, left-align and trim indels
   (a REF that disagrees with the FASTA is an error: wrong build or reference);
4. ``bcftools csq -f FASTA -g GFF3``. Phasing rule: when no genotype in the catalogue regions is
   phased, every record is annotated on its own (``-l``, "local", as VEP does); two subclonal
   SNVs in one codon (C797S by c.2389T>A in one clone and c.2390G>C in another) then each give
   C797S, where haplotype mode would wrongly merge them into one codon (C797T). When phased GTs
   (``0|1``) are present, csq runs haplotype-aware with ``-p a`` so that variants in cis in one
   codon give their combined change (reported at the first of them; the others carry
   ``@<pos>``); unphased het GTs in such a file are taken as ``0|1`` (on the same haplotype as
   the phased ALT alleles), and phase sets (PS) are not used by bcftools;
5. add ``##ctresist_protein=<ID=ENST...,Gene=...,Sequence=...>`` header lines with the reference
   protein of each catalogue gene's preferred transcript (translated from the FASTA and the GFF3
   CDS lines), which the reader needs to name in-frame indels like HGVS/VEP (3' rule, flanking
   residues of insertions, ``dup``), and index the result.

The GFF3 must be Ensembl style (``ID=transcript:ENST...``, ``Parent=transcript:...``), as
bcftools csq requires; a GFF3 whose naming (``chr7``/``7``) differs from the FASTA's is handled
with ``--unify-chr-names``.
"""
from __future__ import annotations

import gzip
import os
import re
import subprocess
import sys
from collections import defaultdict

import pysam
import pysam.bcftools
import pysam.utils
from cyvcf2 import VCF

from ctresist.errors import InputError
from ctresist.genes import Gene

_AMINO = "FFLLSSSSYY**CC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG"  # TCAG order
_CODON = {a + b + c: _AMINO[16 * i + 4 * j + k]
          for i, a in enumerate("TCAG") for j, b in enumerate("TCAG") for k, c in enumerate("TCAG")}
_COMPLEMENT = str.maketrans("ACGTNacgtn", "TGCANtgcan")


_PROGRESS = re.compile(r"^(Parsing |Indexed |Calling\.\.\.|Warning:|\[W::|Note:)")


def _stderr_line(exc: Exception | str) -> str:
    """The telling line of bcftools' stderr (from a SamtoolsError): the first line that is not
    progress or a warning (``Parsing ...``, ``Warning: ...``), without a ``[file.c:123 func]``
    source prefix; a line ending in ``:`` gets the next line (the offending input) appended."""
    text = str(exc)
    if "stderr=" in text:
        text = text.split("stderr=", 1)[1]
    text = text.replace("\\n", "\n").replace("\\t", " ")
    lines = [ln.strip() for ln in text.splitlines()]
    lines = [ln for ln in lines if ln.strip("'\"")]  # the closing quote of a repr'd message
    useful = [i for i, ln in enumerate(lines) if not _PROGRESS.match(ln)]
    if not useful:
        return lines[0] if lines else text.strip()
    i = useful[0]
    line = re.sub(r"^\[[^\]]*\.c[^\]]*\]\s*", "", lines[i])
    if line.endswith(":") and i + 1 < len(lines):
        line = f"{line} {lines[i + 1]}"
    return line


def _bcftools(step: str, vcf: str, *args: str) -> None:
    """Run ``bcftools <step> args`` in this process; a failure becomes InputError naming ``vcf``."""
    try:
        getattr(pysam.bcftools, step)(*args, catch_stdout=False)
    except pysam.utils.SamtoolsError as exc:
        raise InputError(f"{vcf}: bcftools {step} failed: {_stderr_line(exc)}") from exc


_CSQ_CHILD = """
import sys, pysam.bcftools, pysam.utils
try:
    pysam.bcftools.csq(*sys.argv[1:], catch_stdout=False)
except pysam.utils.SamtoolsError as exc:
    sys.stderr.write(str(exc))
    sys.exit(3)
"""


def _csq(vcf: str, *args: str) -> None:
    """``bcftools csq`` in a fresh Python process: bcftools' csq keeps a static "previous record"
    position between in-process runs (pysam calls it as a library), so a second run whose first
    record lies before the last record of the previous run fails with "The file is not sorted"."""
    proc = subprocess.run([sys.executable, "-c", _CSQ_CHILD, *args], capture_output=True,
                          text=True, check=False)
    if proc.returncode != 0:
        raise InputError(f"{vcf}: bcftools csq failed: {_stderr_line(proc.stderr)}")


def _ensure_fai(fasta: str) -> None:
    need = [fasta + ".fai"] + ([fasta + ".gzi"] if fasta.endswith((".gz", ".bgz")) else [])
    if all(os.path.exists(p) for p in need):
        return
    folder = os.path.dirname(os.path.abspath(fasta))
    if not os.access(folder, os.W_OK):
        raise InputError(f"{fasta}: no FASTA index ({need[0]}) and its directory {folder} is not "
                         f"writable; index it with 'samtools faidx {fasta}' where it can be "
                         "written, or copy the FASTA to a writable directory")
    try:
        pysam.faidx(fasta)
    except pysam.utils.SamtoolsError as exc:
        raise InputError(f"{fasta}: cannot index the FASTA: {_stderr_line(exc)} (a compressed "
                         "FASTA must be bgzip-compressed)") from exc


def _fasta_contigs(fasta: str) -> list[str]:
    with open(fasta + ".fai") as fh:
        return [line.split("\t", 1)[0] for line in fh if line.strip()]


def _open_text(path: str):
    with open(path, "rb") as fh:
        gz = fh.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rt") if gz else open(path)


def _gff_chr_prefix(gff3: str) -> bool | None:
    """Does the GFF3 name contigs ``chr7`` (True) or ``7`` (False)? None when it has no features."""
    try:
        with _open_text(gff3) as fh:
            for line in fh:
                if line.startswith("#") or not line.strip():
                    continue
                return line.lower().startswith("chr")
    except (OSError, UnicodeDecodeError, EOFError) as exc:
        raise InputError(f"{gff3}: cannot read the GFF3 ({exc})") from exc
    return None


def _vcf_naming(vcf: str) -> tuple[bool, bool]:
    """(chr_prefix, indexed) of the VCF: naming from its ##contig lines, else its first record;
    indexed when it is bgzipped/BCF with a .tbi/.csi next to it."""
    try:
        reader = VCF(vcf, lazy=True)
    except Exception as exc:  # cyvcf2 raises bare Exception for unreadable files
        raise InputError(f"{vcf}: not a readable VCF ({exc})") from exc
    try:
        names = re.findall(r"^##contig=<ID=([^,>]+)", reader.raw_header, flags=re.M)
        if not names:
            names = [v.CHROM for v, _ in zip(reader, range(1))]
    finally:
        reader.close()
    indexed = vcf.endswith((".gz", ".bgz", ".bcf")) and any(
        os.path.exists(vcf + ext) for ext in (".tbi", ".csi"))
    return any(n.lower().startswith("chr") for n in names), indexed


def _has_phased_het(vcf: str) -> bool:
    """Is any heterozygous genotype (any sample) phased (``0|1``)?"""
    reader = VCF(vcf, lazy=True)
    try:
        if not reader.samples:
            return False
        for v in reader:
            for gt in v.genotypes or []:
                alleles = {a for a in gt[:-1] if a is not None and a >= 0}
                if gt[-1] and len(alleles) > 1:
                    return True
    finally:
        reader.close()
    return False


def _stem(vcf: str) -> str:
    name = os.path.basename(vcf)
    for ext in (".vcf.gz", ".vcf.bgz", ".vcf", ".bcf"):
        if name.endswith(ext):
            return name[: -len(ext)]
    return name


def reference_proteins(fasta: str, gff3: str, transcripts: dict[str, str]) -> dict[str, str]:
    """{transcript: protein} translated from the GFF3 CDS lines and the FASTA, for
    ``transcripts`` ({unversioned ENST: gene name}); proteins with an internal stop or a length
    that is not a multiple of 3 are left out (the GFF3 and FASTA do not agree)."""
    cds: dict[str, list[tuple[str, int, int, str, int]]] = defaultdict(list)
    with _open_text(gff3) as fh:
        for line in fh:
            if "\tCDS\t" not in line or line.startswith("#"):
                continue
            f = line.rstrip("\n").split("\t")
            if len(f) < 9:
                continue
            m = re.search(r"Parent=(?:transcript:)?([^;,]+)", f[8])
            if not m:
                continue
            tx = m.group(1).split(".")[0]
            if tx in transcripts:
                phase = int(f[7]) if f[7].isdigit() else 0
                cds[tx].append((f[0], int(f[3]), int(f[4]), f[6], phase))
    out: dict[str, str] = {}
    with pysam.FastaFile(fasta) as fa:
        names = set(fa.references)
        for tx, parts in cds.items():
            chrom = parts[0][0]
            chrom = next((c for c in (chrom, f"chr{chrom}", chrom[3:]) if c in names), None)
            if chrom is None:
                continue
            minus = parts[0][3] == "-"
            parts.sort(key=lambda p: p[1], reverse=minus)
            seq = []
            for _, start, end, _, _ in parts:
                s = fa.fetch(chrom, start - 1, end).upper()
                seq.append(s.translate(_COMPLEMENT)[::-1] if minus else s)
            dna = "".join(seq)[parts[0][4]:]
            prot = "".join(_CODON.get(dna[i:i + 3], "X") for i in range(0, len(dna) - 2, 3))
            prot = prot[:-1] if prot.endswith("*") else prot
            if "*" not in prot and len(dna) % 3 == 0 and prot:
                out[tx] = prot
    return out


def annotate_with_csq(vcf: str, fasta: str, gff3: str, genes: list[Gene], workdir: str) -> str:
    """Annotate the catalogue-gene records of ``vcf`` with ``bcftools csq``; returns the path of
    the bgzipped, indexed output VCF (``<workdir>/<name>.bcsq.vcf.gz``). See the module doc.

    Raises InputError for a missing VCF/FASTA/GFF3 (naming the file), a FASTA that cannot be
    indexed, and any bcftools failure: ``"<vcf>: bcftools <step> failed: <bcftools' error line>"``
    (step is view, annotate, norm or csq).
    """
    for path, what in ((vcf, "VCF"), (fasta, "reference FASTA"), (gff3, "GFF3 annotation")):
        if not os.path.isfile(path):
            raise InputError(f"{path}: {what} file not found")
    if not genes:
        raise InputError(f"{vcf}: no genes to annotate")
    os.makedirs(workdir, exist_ok=True)
    _ensure_fai(fasta)
    fa_names = _fasta_contigs(fasta)
    fa_chr = any(n.lower().startswith("chr") for n in fa_names)
    gff_chr = _gff_chr_prefix(gff3)
    if gff_chr is None:
        raise InputError(f"{gff3}: the GFF3 has no features")
    vcf_chr, indexed = _vcf_naming(vcf)
    stem = os.path.join(workdir, _stem(vcf))

    # 1. catalogue-gene regions, in the VCF's naming (1-based inclusive, tab-separated)
    regions = stem + ".regions.tsv"
    pre = "chr" if vcf_chr else ""
    with open(regions, "w") as fh:
        for g in genes:
            fh.write(f"{pre}{g.chrom}\t{g.start}\t{g.end}\n")
    restricted = stem + ".regions.vcf.gz"
    _bcftools("view", vcf, "-R" if indexed else "-T", regions, "-Oz", "-o", restricted, vcf)

    # 2. contig names as in the FASTA
    current = restricted
    rename_back = None
    if vcf_chr != fa_chr:
        to_fa, back = stem + ".to_fasta_names.txt", stem + ".to_vcf_names.txt"
        with open(to_fa, "w") as a, open(back, "w") as b:
            for g in {g.chrom for g in genes}:
                vname, fname = (f"chr{g}", g) if vcf_chr else (g, f"chr{g}")
                a.write(f"{vname}\t{fname}\n")
                b.write(f"{fname}\t{vname}\n")
        renamed = stem + ".renamed.vcf.gz"
        _bcftools("annotate", vcf, "--rename-chrs", to_fa, "-Oz", "-o", renamed, current)
        current, rename_back = renamed, back

    # 3. split multi-allelics, left-align and trim
    normed = stem + ".norm.vcf.gz"
    _bcftools("norm", vcf, "-m", "-any", "-f", fasta, "-Oz", "-o", normed, current)

    # 4. consequences
    csq = stem + ".csq.vcf.gz"
    args = ["-f", fasta, "-g", gff3, "-p", "a"]
    if not _has_phased_het(normed):
        args.append("-l")
    if gff_chr != fa_chr:
        strip = ["chr" if x else "-" for x in (fa_chr, gff_chr, fa_chr)]  # VCF, GFF3, FASTA
        args += ["--unify-chr-names", ",".join(strip)]
    _csq(vcf, *args, "-Oz", "-o", csq, normed)

    # 5. reference proteins in the header, original contig names, index
    wanted = {tx: g.name for g in genes for tx in (g.mane_enst, g.msk_enst) if tx}
    proteins = reference_proteins(fasta, gff3, wanted)
    header = stem + ".proteins.hdr"
    with open(header, "w") as fh:
        for tx, prot in sorted(proteins.items()):
            fh.write(f"##ctresist_protein=<ID={tx},Gene={wanted[tx]},Sequence={prot}>\n")
    out = stem + ".bcsq.vcf.gz"
    extra = ["--rename-chrs", rename_back] if rename_back else []
    _bcftools("annotate", vcf, "-h", header, *extra, "-Oz", "-o", out, csq)
    try:
        pysam.tabix_index(out, preset="vcf", force=True)
    except (OSError, ValueError) as exc:
        raise InputError(f"{vcf}: cannot index the annotated VCF {out} ({exc})") from exc
    for tmp in {restricted, current, normed, csq}:
        if os.path.exists(tmp):
            os.remove(tmp)
    return out
