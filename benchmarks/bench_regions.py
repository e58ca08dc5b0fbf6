#!/usr/bin/env python
"""Benchmark ctresist's VCF reader against ``bcftools view`` on a large synthetic GRCh38 VCF.

Usage::

    python benchmarks/bench_regions.py --records 1000000 [--keep] [--repeats 3]

Two cases, on the same bgzipped VCF:

(a) indexed    ``read_variants(vcf, genes_for_build("GRCh38"))`` with a ``.tbi`` next to the file
               (one tabix region query per catalogue gene) vs ``bcftools view -R genes.bed``
               (index jumps).
(b) streaming  the same call on a copy without an index (one pass over the text: CHROM/POS
               checks with numpy, htslib parses only the lines that may overlap a gene) vs
               ``bcftools view -T genes.bed --targets-overlap 1`` (one pass, htslib target filter).

Every measured command runs in its own child ``python`` process (ctresist through
``ctresist.io.vcf``; bcftools through ``pysam.bcftools``, which is bcftools linked into pysam),
so wall time (``time.perf_counter`` around the child) and peak RSS (``os.wait4`` rusage of that
one child) cover the same things for both. A baseline child (``import cyvcf2, pysam``) gives the
interpreter + import overhead that every row contains.

Both tools must report the same records, and both must equal the count the generator knows to
overlap the catalogue genes; the script stops with an error otherwise.

Results: a markdown table on stdout and ``benchmarks/results.md`` (figures, date, machine).
Generated data goes to ``benchmarks/data/`` (git-ignored) and is deleted unless ``--keep``;
with ``--keep`` a later run with the same ``--records``/``--seed`` reuses it.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
BUILD = "GRCh38"
CHROMS = [str(i) for i in range(1, 23)]
SAMPLE = "TUMOR"
GENERATOR_VERSION = 2  # bump when the generated file changes, so kept data is not reused

CSQ_FORMAT = ("Allele|Consequence|IMPACT|SYMBOL|Gene|Feature_type|Feature|BIOTYPE|EXON|INTRON|"
              "HGVSc|HGVSp|CANONICAL|MANE_SELECT|gnomADe_AF")
AA3 = ["Ala", "Arg", "Asn", "Asp", "Cys", "Gln", "Glu", "Gly", "His", "Ile", "Leu", "Lys", "Met",
       "Phe", "Pro", "Ser", "Thr", "Trp", "Tyr", "Val"]
BASES = np.array(list("ACGT"))


# --------------------------------------------------------------------------------------------
# synthetic data
# --------------------------------------------------------------------------------------------

def grch38_lengths() -> dict[str, int]:
    out = {}
    with open(REPO / "annotations" / "chromosomes.tsv", encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("#") or line.startswith("chrom\t"):
                continue
            chrom, _g37, g38 = line.rstrip("\n").split("\t")
            out[chrom] = int(g38)
    return out


def catalogue_genes():
    from ctresist.genes import genes_for_build
    return genes_for_build(BUILD)


def write_bed(path: Path, prefix: str) -> int:
    """Catalogue gene spans as BED (0-based half-open; Gene is 1-based closed)."""
    genes = catalogue_genes()
    with open(path, "w", encoding="utf-8") as fh:
        for g in genes:
            fh.write(f"{prefix}{g.chrom}\t{g.start - 1}\t{g.end}\t{g.name}\n")
    return len(genes)


def _unique_positions(rng: np.random.Generator, n: int, length: int) -> np.ndarray:
    """n distinct sorted positions in [1, length - 20] (room for the longest REF)."""
    pos = np.unique(rng.integers(1, length - 20, size=n))
    while pos.size < n:
        pos = np.unique(np.concatenate([pos, rng.integers(1, length - 20, size=n - pos.size)]))
    return pos


def generate_vcf(path: Path, n_records: int, seed: int, prefix: str) -> dict:
    """Write a sorted single-sample VCF (GT:AD:DP:AF, VEP-like CSQ) with ``n_records`` records.

    Returns facts the benchmark checks against: records overlapping catalogue genes, etc.
    """
    rng = np.random.default_rng(seed)
    lengths = grch38_lengths()
    genes = catalogue_genes()
    sizes = np.array([lengths[c] for c in CHROMS], dtype=float)
    per_chrom = rng.multinomial(n_records, sizes / sizes.sum())

    header = ["##fileformat=VCFv4.2",
              "##FILTER=<ID=PASS,Description=\"All filters passed\">",
              "##FILTER=<ID=weak_evidence,Description=\"Mutation does not meet likelihood threshold\">"]
    header += [f"##contig=<ID={prefix}{c},length={lengths[c]},assembly=GRCh38>" for c in lengths]
    header += [
        "##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">",
        "##FORMAT=<ID=AD,Number=R,Type=Integer,Description=\"Allelic depths for the ref and alt alleles\">",
        "##FORMAT=<ID=DP,Number=1,Type=Integer,Description=\"Approximate read depth\">",
        "##FORMAT=<ID=AF,Number=A,Type=Float,Description=\"Allele fractions of alternate alleles\">",
        f"##INFO=<ID=CSQ,Number=.,Type=String,Description=\"Consequence annotations from Ensembl VEP. Format: {CSQ_FORMAT}\">",
        "##VEP=\"v110\" cache=\"homo_sapiens/110_GRCh38\"",
        f"##tumor_sample={SAMPLE}",
        f"#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t{SAMPLE}",
    ]

    in_genes = 0
    n_alleles = 0
    info_chars = 0
    with open(path, "w", encoding="ascii", buffering=1 << 22) as fh:
        fh.write("\n".join(header) + "\n")
        for chrom, n in zip(CHROMS, per_chrom):
            n = int(n)
            if n == 0:
                continue
            pos = _unique_positions(rng, n, lengths[chrom])
            # variant kind: 0 SNV, 1 deletion, 2 insertion, 3 multi-allelic SNV
            kind = rng.choice(4, size=n, p=[0.86, 0.07, 0.05, 0.02])
            indel_len = rng.integers(1, 12, size=n)
            ref_base = rng.integers(0, 4, size=n)
            alt_shift = rng.integers(1, 4, size=n)
            seq = rng.integers(0, 4, size=(n, 12))
            depth = rng.integers(30, 3000, size=n)
            vaf = np.clip(rng.beta(0.6, 12, size=n), 0.002, 0.99)
            vaf2 = np.clip(rng.beta(0.6, 30, size=n), 0.001, 0.5)
            csq_pick = rng.integers(0, 10, size=n)
            prot_pos = rng.integers(2, 2000, size=n)
            cdna_pos = prot_pos * 3 - rng.integers(0, 3, size=n)
            exon = rng.integers(1, 25, size=n)
            enst = rng.integers(200000, 700000, size=n)
            aa_a = rng.integers(0, 20, size=n)
            aa_b = rng.integers(0, 20, size=n)
            gnomad = rng.random(size=n)
            weak = rng.random(size=n) < 0.05
            # gene symbol for records inside a catalogue gene span (1-based closed)
            ref_len = np.where(kind == 1, indel_len + 1, 1)
            end = pos + ref_len - 1
            symbol = np.full(n, "", dtype=object)
            in_any = np.zeros(n, dtype=bool)
            for g in genes:
                if g.chrom != chrom:
                    continue
                hit = (pos <= g.end) & (end >= g.start)
                symbol[hit] = g.name
                in_any |= hit
            in_genes += int(in_any.sum())
            lines = []
            for i in range(n):
                r = BASES[ref_base[i]]
                k = kind[i]
                if k == 0:
                    ref, alts = r, [BASES[(ref_base[i] + alt_shift[i]) % 4]]
                elif k == 1:
                    ref, alts = r + "".join(BASES[seq[i, :indel_len[i]]]), [r]
                elif k == 2:
                    ref, alts = r, [r + "".join(BASES[seq[i, :indel_len[i]]])]
                else:
                    ref = r
                    alts = [BASES[(ref_base[i] + alt_shift[i]) % 4],
                            BASES[(ref_base[i] + alt_shift[i] % 3 + 1) % 4]]
                dp = int(depth[i])
                afs = [vaf[i]] if len(alts) == 1 else [vaf[i], vaf2[i]]
                alt_reads = [max(1, int(round(a * dp))) for a in afs]
                ref_reads = dp - sum(alt_reads)
                if ref_reads < 0:
                    ref_reads = 0
                    dp = sum(alt_reads)
                af_txt = ",".join(f"{a / dp:.4f}" for a in alt_reads)
                ad_txt = ",".join(str(x) for x in [ref_reads] + alt_reads)
                gt = "0/1" if len(alts) == 1 else "1/2"
                sym = symbol[i] or f"GENE{enst[i] % 9000 + 1000}"
                tx = f"ENST00000{enst[i]}.{exon[i] % 9 + 1}"
                ensg = f"ENSG00000{enst[i] - 100000}"
                af_pop = f"{gnomad[i] ** 6:.3g}" if csq_pick[i] < 7 else ""
                entries = []
                for a in alts:
                    if k == 1:
                        allele, c_txt = "-", f"c.{cdna_pos[i]}_{cdna_pos[i] + indel_len[i] - 1}del"
                    elif k == 2:
                        allele, c_txt = a[1:], f"c.{cdna_pos[i]}_{cdna_pos[i] + 1}ins{a[1:]}"
                    else:
                        allele, c_txt = a, f"c.{cdna_pos[i]}{ref}>{a}"
                    p = csq_pick[i]
                    if k == 0 and p < 3:
                        cons, impact, p_txt = "missense_variant", "MODERATE", \
                            f"ENSP00000{enst[i]}.2:p.{AA3[aa_a[i]]}{prot_pos[i]}{AA3[aa_b[i] if aa_b[i] != aa_a[i] else (aa_a[i] + 1) % 20]}"
                        intron, exon_txt = "", f"{exon[i]}/25"
                    elif k == 0 and p < 4:
                        cons, impact, p_txt = "synonymous_variant", "LOW", \
                            f"ENSP00000{enst[i]}.2:p.{AA3[aa_a[i]]}{prot_pos[i]}="
                        intron, exon_txt = "", f"{exon[i]}/25"
                    elif k in (1, 2) and p < 2:
                        cons, impact, p_txt = "frameshift_variant", "HIGH", \
                            f"ENSP00000{enst[i]}.2:p.{AA3[aa_a[i]]}{prot_pos[i]}{AA3[aa_b[i]]}fsTer{exon[i]}"
                        intron, exon_txt = "", f"{exon[i]}/25"
                    else:  # intronic: HGVSc offset into the intron
                        cons, impact, p_txt = "intron_variant", "MODIFIER", ""
                        intron, exon_txt = f"{exon[i]}/24", ""
                        off = int(exon[i]) * 37
                        c = int(cdna_pos[i])
                        if k == 1:
                            c_txt = f"c.{c}+{off}_{c}+{off + indel_len[i] - 1}del"
                        elif k == 2:
                            c_txt = f"c.{c}+{off}_{c}+{off + 1}ins{allele}"
                        else:
                            c_txt = f"c.{c}+{off}{ref}>{a}"
                    entries.append(
                        f"{allele}|{cons}|{impact}|{sym}|{ensg}|Transcript|{tx}|protein_coding|"
                        f"{exon_txt}|{intron}|{tx}:{c_txt}|{p_txt}|YES|NM_{enst[i] % 100000:06d}.{exon[i] % 5 + 1}|{af_pop}")
                n_alleles += len(alts)
                csq = ",".join(entries)
                info_chars += len(csq) + 4
                lines.append(
                    f"{prefix}{chrom}\t{pos[i]}\t.\t{ref}\t{','.join(alts)}\t.\t"
                    f"{'weak_evidence' if weak[i] else 'PASS'}\tCSQ={csq}\t"
                    f"GT:AD:DP:AF\t{gt}:{ad_txt}:{dp}:{af_txt}\n")
            fh.write("".join(lines))
    return {"records": n_records, "alleles": n_alleles, "in_gene_records": in_genes,
            "mean_info_chars": round(info_chars / max(n_records, 1), 1),
            "genes": len(genes), "seed": seed, "prefix": prefix, "generator": GENERATOR_VERSION}


def prepare_data(data_dir: Path, n_records: int, seed: int, prefix: str, log) -> dict:
    """Plain VCF -> bgzip (pysam.tabix_compress) -> tabix index; plus an unindexed copy."""
    import pysam

    data_dir.mkdir(parents=True, exist_ok=True)
    stem = data_dir / f"synthetic_{BUILD}_{n_records}_s{seed}"
    files = {
        "vcf_gz": Path(f"{stem}.vcf.gz"),
        "vcf_gz_noindex": Path(f"{stem}.noindex.vcf.gz"),
        "bed": Path(f"{stem}.genes.bed"),
        "meta": Path(f"{stem}.json"),
    }
    files["tbi"] = Path(f"{files['vcf_gz']}.tbi")
    if all(p.exists() for p in files.values()):
        meta = json.loads(files["meta"].read_text())
        if meta.get("generator") == GENERATOR_VERSION and meta.get("prefix") == prefix:
            log(f"reusing kept data {stem}.*")
            meta["reused"] = True
            return {**meta, **{k: str(v) for k, v in files.items()}}
    plain = Path(f"{stem}.vcf")
    t0 = time.perf_counter()
    meta = generate_vcf(plain, n_records, seed, prefix)
    t1 = time.perf_counter()
    pysam.tabix_compress(str(plain), str(files["vcf_gz"]), force=True)
    t2 = time.perf_counter()
    pysam.tabix_index(str(files["vcf_gz"]), preset="vcf", force=True)
    t3 = time.perf_counter()
    meta["plain_bytes"] = plain.stat().st_size
    meta["bgzip_bytes"] = files["vcf_gz"].stat().st_size
    plain.unlink()
    if files["vcf_gz_noindex"].exists():
        files["vcf_gz_noindex"].unlink()
    try:  # same bytes, no index next to it: the streaming path
        os.link(files["vcf_gz"], files["vcf_gz_noindex"])
    except OSError:
        shutil.copyfile(files["vcf_gz"], files["vcf_gz_noindex"])
    write_bed(files["bed"], prefix)
    meta["seconds"] = {"generate": round(t1 - t0, 1), "bgzip": round(t2 - t1, 1),
                       "tabix": round(t3 - t2, 1)}
    files["meta"].write_text(json.dumps(meta, indent=1))
    log(f"generated {n_records:,} records ({meta['plain_bytes'] / 1e6:.0f} MB plain, "
        f"{meta['bgzip_bytes'] / 1e6:.0f} MB bgzipped) in {t1 - t0:.1f}s + bgzip {t2 - t1:.1f}s "
        f"+ tabix {t3 - t2:.1f}s; {meta['in_gene_records']} records overlap the "
        f"{meta['genes']} catalogue genes")
    meta["reused"] = False
    return {**meta, **{k: str(v) for k, v in files.items()}}


# --------------------------------------------------------------------------------------------
# measurement
# --------------------------------------------------------------------------------------------

BASELINE_CODE = "import cyvcf2, pysam"
# the imports each measured command does before reading: subtracted for the net ratios
CTRESIST_IMPORT_CODE = ("from ctresist.io.vcf import read_variants\n"
                        "from ctresist.genes import genes_for_build\n"
                        "genes_for_build('GRCh38')")
BCFTOOLS_IMPORT_CODE = "import pysam.bcftools"

# prints the number of distinct records (and alleles) read, and writes their keys to argv[2]
CTRESIST_CODE = """
import sys
from ctresist.io.vcf import read_variants
from ctresist.genes import genes_for_build
keys = set()
n = 0
for v in read_variants(sys.argv[1], genes_for_build("GRCh38")):
    n += 1
    keys.add((v.chrom, v.pos, v.ref))
with open(sys.argv[2], "w") as fh:
    fh.write("".join(f"{c}\\t{p}\\t{r}\\n" for c, p, r in sorted(keys)))
print(len(keys), n)
"""

# catch_stdout=False: with pysam's default (True) "-o FILE" is ignored and the whole output is
# captured into a Python string instead
BCFTOOLS_CODE = """
import sys
import pysam.bcftools as b
b.view(*sys.argv[1:], catch_stdout=False)
"""


@dataclass
class Run:
    wall: float
    cpu: float
    maxrss_kb: int
    stdout: str


@dataclass
class Case:
    label: str
    tool: str
    runs: list[Run] = field(default_factory=list)
    records: int | None = None

    @property
    def wall(self) -> float:
        return statistics.median(r.wall for r in self.runs)

    @property
    def cpu(self) -> float:
        return statistics.median(r.cpu for r in self.runs)

    @property
    def rss_mb(self) -> float:
        return max(r.maxrss_kb for r in self.runs) / 1024


TIME_BIN = shutil.which("time", path="/usr/bin:/bin")  # GNU time, for the child's own rusage
# without GNU time: a small Python launcher forks the command and reports its rusage
LAUNCHER_CODE = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
_, status, ru = os.wait4(pid, 0)
with open(sys.argv[1], "w") as fh:
    fh.write(f"{ru.ru_utime} {ru.ru_stime} {ru.ru_maxrss}\\n")
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_child(argv: list[str], cwd: Path) -> Run:
    """Run one command in a child process: wall time via perf_counter, CPU and peak RSS from
    the command's own rusage.

    The rusage comes from GNU ``time`` (or a small launcher), not from this process' wait4:
    Linux carries a process' peak RSS across fork+exec, so a child forked directly from this
    (large, data-generating) Python process would report at least this process' RSS.
    """
    with tempfile.TemporaryDirectory(prefix="ctresist-run-") as d:
        ru_file = Path(d) / "rusage"
        if TIME_BIN:
            full = [TIME_BIN, "-o", str(ru_file), "-f", "%U %S %M"] + argv
        else:
            full = [sys.executable, "-c", LAUNCHER_CODE, str(ru_file)] + argv
        out_path, err_path = Path(d) / "stdout", Path(d) / "stderr"
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        with open(out_path, "w") as out, open(err_path, "w") as err:
            t0 = time.perf_counter()
            proc = subprocess.run(full, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                  cwd=cwd, env=env)
            wall = time.perf_counter() - t0
        stdout, stderr = out_path.read_text(), err_path.read_text()
        fields = ru_file.read_text().split() if ru_file.exists() else []
    if proc.returncode != 0:
        raise SystemExit(f"command failed ({proc.returncode}): {' '.join(argv)}\n{stderr[-3000:]}")
    try:  # GNU time writes "Command exited with non-zero status" lines first on failure
        utime, stime, maxrss = float(fields[-3]), float(fields[-2]), int(fields[-1])
    except (IndexError, ValueError):
        raise SystemExit(f"no resource usage for {' '.join(argv)}: {fields}") from None
    return Run(wall=wall, cpu=utime + stime, maxrss_kb=maxrss, stdout=stdout)


def bcftools_keys(path: Path) -> tuple[int, set]:
    """Records in a bcftools VCF output (lines without header) and their (chrom, pos, ref) keys."""
    n = 0
    keys = set()
    with open(path, encoding="ascii") as fh:
        for line in fh:
            if line.startswith("#"):
                continue
            n += 1
            f = line.split("\t", 5)
            c = f[0][3:] if f[0].startswith("chr") else f[0]
            keys.add((c, int(f[1]), f[3]))
    return n, keys


def ctresist_keys(path: Path) -> set:
    keys = set()
    with open(path, encoding="ascii") as fh:
        for line in fh:
            c, p, r = line.rstrip("\n").split("\t")
            keys.add((c[3:] if c.startswith("chr") else c, int(p), r))
    return keys


def measure(data: dict, repeats: int, log) -> tuple[dict[str, Case], list[Case]]:
    py = sys.executable
    work = Path(tempfile.mkdtemp(prefix="ctresist-bench-"))
    try:
        baselines = {}
        for key, label, code in (("python", 'python -c "import cyvcf2, pysam"', BASELINE_CODE),
                                 ("ctresist", "imports of the ctresist command", CTRESIST_IMPORT_CODE),
                                 ("bcftools", "imports of the bcftools command", BCFTOOLS_IMPORT_CODE)):
            b = Case("baseline", label)
            for _ in range(repeats):
                b.runs.append(run_child([py, "-c", code], REPO))
            baselines[key] = b
            log(f"baseline {label}: {b.wall:.2f}s wall, {b.rss_mb:.0f} MB peak RSS")

        bed = data["bed"]
        specs = [
            ("indexed", "ctresist", [py, "-c", CTRESIST_CODE, data["vcf_gz"]]),
            ("indexed", "bcftools view -R",
             [py, "-c", BCFTOOLS_CODE, "-R", bed, "-Ov"]),
            ("streaming", "ctresist", [py, "-c", CTRESIST_CODE, data["vcf_gz_noindex"]]),
            ("streaming", "bcftools view -T",
             [py, "-c", BCFTOOLS_CODE, "-T", bed, "--targets-overlap", "1", "-Ov"]),
        ]
        cases = []
        expected = data["in_gene_records"]
        reference_keys = None
        for label, tool, argv in specs:
            case = Case(label, tool)
            for rep in range(repeats):
                outfile = work / f"{label}-{tool.split()[0]}-{rep}.txt"
                if tool == "ctresist":
                    full = argv + [str(outfile)]
                else:
                    vcf = data["vcf_gz"] if label == "indexed" else data["vcf_gz_noindex"]
                    full = argv + ["-o", str(outfile), vcf]
                r = run_child(full, REPO)
                case.runs.append(r)
                if tool == "ctresist":
                    n_rec = int(r.stdout.split()[0])
                    keys = ctresist_keys(outfile)
                else:
                    n_rec, keys = bcftools_keys(outfile)
                if n_rec != expected or len(keys) != expected:
                    raise SystemExit(f"{label} {tool}: {n_rec} records ({len(keys)} distinct), "
                                     f"the generator put {expected} in the catalogue genes")
                if reference_keys is None:
                    reference_keys = keys
                elif keys != reference_keys:
                    diff = sorted(keys ^ reference_keys)[:10]
                    raise SystemExit(f"{label} {tool}: other records than the first case; e.g. {diff}")
                case.records = n_rec
                outfile.unlink()
                log(f"{label:9s} {tool:18s} run {rep + 1}: {r.wall:6.2f}s wall, "
                    f"{r.cpu:6.2f}s cpu, {r.maxrss_kb / 1024:6.0f} MB peak RSS, {n_rec} records")
            cases.append(case)
        return baselines, cases
    finally:
        shutil.rmtree(work, ignore_errors=True)


BREAKDOWN_CODE = """
import sys, time
from cyvcf2 import VCF
from pysam.libcbgzf import BGZFile
from ctresist.io.vcf import open_vcf, iter_records
from ctresist.genes import genes_for_build
path = sys.argv[1]
genes = genes_for_build("GRCh38")
def text():
    n = 0
    with BGZFile(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 19), b""):
            n += block.count(b"\\n")
    return n
def bare():
    return sum(1 for _ in VCF(path, gts012=False, lazy=True))
def checks():
    vcf, info = open_vcf(path)
    return sum(1 for _ in iter_records(vcf, info, None))
def full():
    vcf, info = open_vcf(path)
    return sum(1 for _ in iter_records(vcf, info, genes))
for label, fn in (("decompress the text only (pysam BGZFile), lines", text),
                  ("cyvcf2: parse every record", bare),
                  ("iter_records(genes=None): every record parsed + order/duplicate checks", checks),
                  ("iter_records(genes): text scan, htslib parses only lines near the genes", full)):
    t0 = time.perf_counter()
    n = fn()
    print(f"{label}\\t{time.perf_counter() - t0:.2f}\\t{n}")
"""


def breakdown_streaming(data: dict) -> str:
    """Where the streaming time goes, without profiler overhead: one child, one run per stage."""
    r = run_child([sys.executable, "-c", BREAKDOWN_CODE, data["vcf_gz_noindex"]], REPO)
    rows = ["| stage (one run each, no profiler) | seconds | records or lines out |",
            "|---|---:|---:|"]
    for line in r.stdout.strip().splitlines():
        label, secs, n = line.split("\t")
        rows.append(f"| {label} | {float(secs):.2f} | {int(n):,} |")
    return "\n".join(rows)


def profile_streaming(data: dict, top: int = 18) -> str:
    """cProfile of the ctresist streaming path in a child process; returns the pstats text."""
    with tempfile.TemporaryDirectory(prefix="ctresist-prof-") as d:
        prof = Path(d) / "stream.prof"
        keys = Path(d) / "keys.txt"
        script = Path(d) / "run.py"
        script.write_text(CTRESIST_CODE)
        run_child([sys.executable, "-m", "cProfile", "-o", str(prof), str(script),
                   data["vcf_gz_noindex"], str(keys)], REPO)
        code = ("import pstats, sys, io\n"
                "s = io.StringIO()\n"
                "p = pstats.Stats(sys.argv[1], stream=s)\n"
                "p.sort_stats('tottime').print_stats(int(sys.argv[2]))\n"
                "print(s.getvalue())\n")
        r = run_child([sys.executable, "-c", code, str(prof), str(top)], REPO)
        lines = r.stdout.splitlines()
        # keep the summary line and the table, drop pstats' file banner
        start = next((i for i, ln in enumerate(lines) if "function calls" in ln), 0)
        return "\n".join(ln.replace(str(REPO) + "/", "").rstrip() for ln in lines[start:]).strip()


# --------------------------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------------------------

def machine_info() -> dict:
    import cyvcf2
    import pysam
    import pysam.version

    cpu = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            cpu = next((ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")), "")
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo", encoding="utf-8") as fh:
            kb = int(next(ln for ln in fh if ln.startswith("MemTotal")).split()[1])
            mem = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    try:
        nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    except OSError:
        nproc = str(len(os.sched_getaffinity(0)))
    try:
        commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--", "src"],
                               capture_output=True, text=True).stdout.strip()
        if commit and dirty:
            commit += " (src/ has uncommitted changes)"
    except OSError:
        commit = ""
    return {
        "nproc": nproc, "cpu": cpu or platform.processor(), "memory": mem,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(), "cyvcf2": cyvcf2.__version__,
        "pysam": pysam.__version__, "htslib (pysam)": pysam.version.__htslib_version__,
        "bcftools (pysam)": pysam.version.__bcftools_version__, "numpy": np.__version__,
        "ctresist commit": commit,
    }


def table(baselines: dict[str, Case], cases: list[Case]) -> str:
    """Markdown: one row per command, then the ctresist/bcftools ratios per case."""
    base = baselines["python"]
    rows = ["| case | tool | records found | median wall (s) | wall − baseline (s) | median CPU (s) "
            "| max peak RSS (MB) |",
            "|---|---|---:|---:|---:|---:|---:|"]
    for b in baselines.values():
        rows.append(f"| baseline | {b.tool} | – | {b.wall:.2f} | – | {b.cpu:.2f} | {b.rss_mb:.0f} |")
    for c in cases:
        rows.append(f"| {c.label} | {c.tool} | {c.records:,} | {c.wall:.2f} | {c.wall - base.wall:.2f} "
                    f"| {c.cpu:.2f} | {c.rss_mb:.0f} |")
    rows += ["", "| case | wall ratio ctresist/bcftools | net wall ratio (each minus its own imports) "
             "| CPU ratio | peak RSS ratio |", "|---|---:|---:|---:|---:|"]
    by = {(c.label, c.tool.split()[0]): c for c in cases}
    for label in ("indexed", "streaming"):
        ct, bc = by[(label, "ctresist")], by[(label, "bcftools")]
        net_c = ct.wall - baselines["ctresist"].wall
        net_b = bc.wall - baselines["bcftools"].wall
        net = f"{net_c / net_b:.1f} ({net_c:.2f} s / {net_b:.2f} s)" if net_b > 0.02 else \
            f"n/a ({net_c:.2f} s / {net_b:.2f} s)"
        rows.append(f"| {label} | {ct.wall / bc.wall:.2f} | {net} | {ct.cpu / max(bc.cpu, 0.01):.2f} "
                    f"| {ct.rss_mb / bc.rss_mb:.2f} |")
    return "\n".join(rows)


def ratio(cases: list[Case], label: str) -> float:
    by = {(c.label, c.tool.split()[0]): c for c in cases}
    return by[(label, "ctresist")].wall / by[(label, "bcftools")].wall


def write_results(path: Path, args, data: dict, cases: list[Case],
                  tbl: str, prof: str | None) -> None:
    info = machine_info()
    now = _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    lines = [
        "# ctresist VCF reading vs bcftools view",
        "",
        f"Run {now} with `python benchmarks/bench_regions.py --records {args.records} "
        f"--repeats {args.repeats} --seed {args.seed}`"
        f"{' --no-chr' if args.no_chr else ''}.",
        "See `benchmarks/README.md` for what is measured.",
        "",
        "## Data",
        "",
        f"- synthetic {BUILD} VCF, {data['records']:,} records ({data['alleles']:,} ALT alleles) on "
        f"chr1–22 in proportion to chromosome length, contig names "
        f"`{data['prefix'] or ''}1`…, one sample `{SAMPLE}` with GT:AD:DP:AF, a VEP-like CSQ on "
        "every record "
        f"(INFO {data.get('mean_info_chars', 0):.0f} characters per record on average)",
        f"- {data.get('plain_bytes', 0) / 1e6:.0f} MB as text, {data.get('bgzip_bytes', 0) / 1e6:.0f} MB "
        "bgzipped (pysam.tabix_compress), tabix index (pysam.tabix_index, preset vcf)",
        f"- regions: the {data['genes']} catalogue genes of {BUILD} (`genes_for_build`), "
        f"{data['in_gene_records']:,} records overlap them; both tools found exactly these records",
        "",
        "## Results",
        "",
        f"Median of {args.repeats} runs for wall and CPU time, maximum over the runs for peak RSS. "
        "Every row is a separate `python` child process and includes interpreter start and "
        "imports; 'wall − baseline' subtracts the `import cyvcf2, pysam` baseline, the net ratio "
        "subtracts from each tool the time of its own imports (ctresist: `ctresist.io.vcf` + "
        "`ctresist.genes`, which pull in cyvcf2 and numpy; bcftools: `pysam.bcftools`). "
        "CPU time (user + sys of the child) is less sensitive than wall time to other load on "
        f"the machine; load average at the start of the measurements: {data.get('loadavg', '?')}.",
        "",
        tbl,
        "",
        "## Machine",
        "",
    ]
    lines += [f"- {k}: {v}" for k, v in info.items()]
    if prof:
        lines += ["", "## Profile of the ctresist streaming path", "",
                  "First the time of stages of the streaming path measured without a "
                  "profiler, then cProfile of one streaming run (profiling overhead inflates the "
                  "absolute times), sorted by own time:", "", prof]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=1_000_000, help="records in the synthetic VCF")
    ap.add_argument("--repeats", type=int, default=3, help="runs per measured command")
    ap.add_argument("--seed", type=int, default=20261124)
    ap.add_argument("--keep", action="store_true",
                    help="keep the generated data in benchmarks/data/ (and reuse kept data)")
    ap.add_argument("--no-chr", action="store_true", help="contigs named 1..22 instead of chr1..chr22")
    ap.add_argument("--data-dir", type=Path, default=HERE / "data")
    ap.add_argument("--results", type=Path, default=HERE / "results.md")
    ap.add_argument("--profile", choices=("auto", "always", "never"), default="auto",
                    help="cProfile the ctresist streaming path (auto: when >5x slower than bcftools)")
    args = ap.parse_args(argv)

    def log(msg: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)

    prefix = "" if args.no_chr else "chr"
    data = prepare_data(args.data_dir, args.records, args.seed, prefix, log)
    try:
        data["loadavg"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        pass
    try:
        baselines, cases = measure(data, args.repeats, log)
        tbl = table(baselines, cases)
        prof = None
        if args.profile == "always" or (args.profile == "auto" and ratio(cases, "streaming") > 5):
            log("profiling the ctresist streaming path (cProfile)")
            prof = breakdown_streaming(data) + "\n\n```\n" + profile_streaming(data) + "\n```"
        write_results(args.results, args, data, cases, tbl, prof)
        print(tbl)
        if prof:
            print("\nctresist streaming path, where the time goes:\n\n" + prof)
        log(f"wrote {args.results}")
    finally:
        if not args.keep:
            for k in ("vcf_gz", "vcf_gz_noindex", "tbi", "bed", "meta"):
                Path(data[k]).unlink(missing_ok=True)
            try:
                args.data_dir.rmdir()
            except OSError:
                pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
