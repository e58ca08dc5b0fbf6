#!/usr/bin/env python
"""Benchmark read-level genotyping of catalogue sites (``ctresist.genotype.genotype_sites``)
against ``samtools mpileup -l`` and ``bcftools mpileup -R`` on the same sites of a >= 1 GB BAM.

Usage::

    python benchmarks/bench_genotype.py [--reads 10000000] [--data-dir /tmp/ctresist_bench]
                                        [--keep] [--repeats 3]

Data (generated, never committed; deleted unless ``--keep``, reused when kept): a coordinate-
sorted, indexed single-end 150 bp BAM on GRCh38 contigs ``chr1..chrY`` (real lengths from
``annotations/chromosomes.tsv``), shaped like a plasma panel: 2,000 random 300 bp targets plus one
target around every catalogue site of the driver (``--driver``, default ``EGFR mutation``: 174
sites). Reads over EGFR carry the real GRCh38 sequence (``../shared/data/transcripts/
hartwig_pave_reverse_grch38``, needed); elsewhere a random sequence holding each site's ref
allele. Base qualities are random (Q20-Q40) so the file compresses like real data; T790M carries
0.5 % alt reads and 2 % of all reads are duplicate-flagged.

Measured, each in its own child process (wall time around the child, median of ``--repeats``):

Peak RSS is GNU ``/usr/bin/time -f %M`` of the child.

* ctresist: ``genotype_sites(bam, sites_for(build, driver))`` (one index query per site cluster);
* ``samtools mpileup -l sites.bed -B -q 20 -Q 20 -d 0 --ff UNMAP,SECONDARY,QCFAIL,DUP``;
* ``bcftools mpileup -R sites.tsv --no-reference -a AD,DP -B -q 20 -Q 20 -d 1000000``.

Correctness check (the run stops on a mismatch): at every SNV site, ctresist's ref and alt read
counts equal the ``.``/``,`` and alt-letter counts of the samtools pileup column.
Output: a markdown table on stdout (give the figures to benchmarks/results.md).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "src"))

from ctresist.genes import annotations_dir  # noqa: E402
from ctresist.hotspots import sites_for  # noqa: E402

READ = 150
TARGET = 300
LOCUS = (REPO.parent / "shared" / "data" / "transcripts" / "hartwig_pave_reverse_grch38"
         / "EGFR_KIT.GRCh38.locus_sequences.fa")
GENERATOR_VERSION = 1


def chrom_lengths(build: str) -> dict[str, int]:
    rows = [ln.rstrip("\n").split("\t") for ln in open(annotations_dir() / "chromosomes.tsv")
            if not ln.startswith("#")]
    col = rows[0].index(build)
    return {r[0]: int(r[col]) for r in rows[1:]}


def egfr_locus() -> tuple[int, str]:
    seq, start = [], None
    with open(LOCUS) as fh:
        for line in fh:
            if line.startswith(">"):
                if start is not None:
                    break
                if line[1:].startswith("chr7:"):
                    start = int(line[1:].split()[0].split(":")[1].split("-")[0])
                continue
            if start is not None:
                seq.append(line.strip())
    return start, "".join(seq).upper()


def generate(bam: Path, sites, n_reads: int, seed: int) -> dict:
    """Write the BAM (SAM text piped to ``samtools view -b``), index it; return what was made."""
    rng = np.random.default_rng(seed)
    lengths = chrom_lengths("GRCh38")
    egfr_start, egfr_seq = egfr_locus()
    # targets: (chrom, start 1-based) of TARGET bp; one per catalogue site + 2,000 random
    targets = {(s.chrom, max(1, s.pos - TARGET // 2)) for s in sites}
    chroms = [c for c in lengths if c not in ("X", "Y", "MT")]
    weights = np.array([lengths[c] for c in chroms], dtype=float)
    for c in rng.choice(chroms, size=2000, p=weights / weights.sum()):
        targets.add((str(c), int(rng.integers(1_000_000, lengths[c] - 1_000_000))))
    order = {c: i for i, c in enumerate(lengths)}
    targets = sorted(targets, key=lambda t: (order[t[0]], t[1]))
    # merge overlapping windows (target +/- one read) so reads stay coordinate-sorted
    regions: list[list] = []
    for chrom, tstart in targets:
        lo, hi = tstart - READ, tstart + TARGET + READ
        if regions and regions[-1][0] == chrom and lo <= regions[-1][2]:
            regions[-1][2] = max(regions[-1][2], hi)
        else:
            regions.append([chrom, lo, hi])
    sites_by_chrom: dict[str, list] = {}
    for s in sites:
        sites_by_chrom.setdefault(s.chrom, []).append(s)
    per_base = n_reads / sum(hi - lo for _, lo, hi in regions)
    qual_pool = ["".join(chr(33 + q) for q in rng.integers(20, 41, READ)) for _ in range(997)]
    t790m = 55181378
    made = {"reads": 0, "duplicates": 0, "targets": len(targets), "regions": len(regions)}
    header = ["@HD\tVN:1.6\tSO:coordinate"]
    header += [f"@SQ\tSN:chr{c}\tLN:{n}" for c, n in lengths.items()]
    header.append("@PG\tID:bench_genotype\tPN:ctresist-benchmark")
    proc = subprocess.Popen(["samtools", "view", "-@", "2", "-b", "-o", str(bam), "-"],
                            stdin=subprocess.PIPE, text=True, bufsize=1 << 20)
    out = proc.stdin
    out.write("\n".join(header) + "\n")
    qi = 0
    for ti, (chrom, lo, hi) in enumerate(regions):
        if chrom == "7" and egfr_start <= lo and hi <= egfr_start + len(egfr_seq):
            window = list(egfr_seq[lo - egfr_start:hi - egfr_start])
        else:
            window = list(rng.choice(list("ACGT"), size=hi - lo))
            for s in sites_by_chrom.get(chrom, []):
                for i, b in enumerate(s.ref):
                    if lo <= s.pos + i < hi:
                        window[s.pos + i - lo] = b
        window = "".join(window)
        starts = np.sort(rng.integers(lo, hi - READ + 1, int(per_base * (hi - lo))))
        lines = []
        for ri, st in enumerate(starts):
            st = int(st)
            seq = window[st - lo:st - lo + READ]
            flag = 16 if ri & 1 else 0
            if chrom == "7" and st <= t790m < st + READ and rng.random() < 0.005:
                k = t790m - st
                seq = seq[:k] + "T" + seq[k + 1:]
            if rng.random() < 0.02:
                flag |= 0x400
                made["duplicates"] += 1
            lines.append(f"t{ti}r{ri}\t{flag}\tchr{chrom}\t{st}\t60\t{READ}M\t*\t0\t0\t{seq}\t"
                         f"{qual_pool[qi % 997]}")
            qi += 1
        made["reads"] += len(lines)
        out.write("\n".join(lines) + "\n")
    out.close()
    if proc.wait() != 0:
        raise SystemExit("samtools view failed")
    subprocess.run(["samtools", "index", "-@", "2", str(bam)], check=True)
    made["bytes"] = bam.stat().st_size
    return made


def run(cmd: list[str], stdout_path: Path | None = None) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one child process, measured by GNU ``/usr/bin/time``
    (``wait4`` from this process would report this interpreter's RSS, kept across exec)."""
    timer = shutil.which("time") or "/usr/bin/time"
    if not os.path.exists(timer):
        raise SystemExit("GNU time is needed for peak RSS: apt-get install -y time")
    t0 = time.perf_counter()
    with open(stdout_path or os.devnull, "w") as fh:
        proc = subprocess.run([timer, "-f", "%M", *cmd], stdout=fh, stderr=subprocess.PIPE,
                              text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}: {proc.stderr[-500:]}")
    return wall, int(proc.stderr.strip().splitlines()[-1]) / 1024


CTRESIST_CHILD = """
import json, sys
from ctresist.genotype import genotype_sites
from ctresist.hotspots import sites_for
ev = genotype_sites(sys.argv[1], sites_for("GRCh38", sys.argv[2]), build="GRCh38")
json.dump([[e.site.chrom, e.site.pos, e.site.ref, e.site.alt, e.depth, e.ref_reads,
            e.alt_reads] for e in ev], sys.stdout)
"""


def check(ctresist_json: Path, pileup: Path, sites) -> int:
    """ctresist ref/alt counts at SNV sites == samtools pileup base counts. Returns sites checked."""
    cols = {}
    for line in open(pileup):
        f = line.split("\t")
        cols[(f[0].removeprefix("chr"), int(f[1]))] = f[4]
    checked = 0
    for chrom, pos, ref, alt, _depth, ref_reads, alt_reads in json.load(open(ctresist_json)):
        if len(ref) != 1 or len(alt) != 1:
            continue
        bases = cols.get((chrom, pos), "")
        # drop read-start markers (^ + MAPQ char) and read ends ($) before counting
        clean, i = [], 0
        while i < len(bases):
            if bases[i] == "^":
                i += 2
                continue
            if bases[i] != "$":
                clean.append(bases[i])
            i += 1
        s = "".join(clean)
        # no FASTA is given, so samtools writes ref bases as letters (REF column N)
        want = (s.count(".") + s.count(",") + s.count(ref) + s.count(ref.lower()),
                s.count(alt) + s.count(alt.lower()))
        if want != (ref_reads, alt_reads):
            raise SystemExit(f"count mismatch at {chrom}:{pos}{ref}>{alt}: ctresist "
                             f"{(ref_reads, alt_reads)} vs samtools {want}")
        checked += 1
    return checked


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reads", type=int, default=10_000_000)
    ap.add_argument("--driver", default="EGFR mutation")
    ap.add_argument("--data-dir", default="/tmp/ctresist_bench")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    for tool in ("samtools", "bcftools"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} not found (apt-get install -y samtools bcftools)")
    if not LOCUS.exists():
        raise SystemExit(f"{LOCUS} not found: the EGFR sequence comes from ../shared/data")
    d = Path(a.data_dir)
    d.mkdir(parents=True, exist_ok=True)
    sites = sites_for("GRCh38", a.driver)
    bam = d / f"panel_{a.reads}_{a.seed}_v{GENERATOR_VERSION}.bam"
    made = {}
    if not (bam.exists() and Path(str(bam) + ".bai").exists()):
        t0 = time.perf_counter()
        made = generate(bam, sites, a.reads, a.seed)
        made["generate_s"] = round(time.perf_counter() - t0, 1)
    size = bam.stat().st_size
    if size < 1e9:
        print(f"warning: BAM is {size / 1e9:.2f} GB (< 1 GB); raise --reads", file=sys.stderr)
    bed, tsv = d / "sites.bed", d / "sites.tsv"
    bed.write_text("".join(f"chr{s.chrom}\t{s.pos - 1}\t{s.pos - 1 + len(s.ref)}\n" for s in sites))
    tsv.write_text("".join(f"chr{s.chrom}\t{s.pos}\t{s.pos + len(s.ref) - 1}\n" for s in sites))
    cmds = {
        "ctresist genotype_sites": [sys.executable, "-c", CTRESIST_CHILD, str(bam), a.driver],
        "samtools mpileup -l": ["samtools", "mpileup", "-l", str(bed), "-B", "-q", "20", "-Q",
                                "20", "-d", "0", "--ff", "UNMAP,SECONDARY,QCFAIL,DUP", str(bam)],
        "bcftools mpileup -R": ["bcftools", "mpileup", "-R", str(tsv), "--no-reference", "-a",
                                "AD,DP", "-B", "-q", "20", "-Q", "20", "-d", "1000000",
                                "-Ov", str(bam)],
        "python + pysam import (baseline)": [sys.executable, "-c", "import pysam, ctresist"],
    }
    results = {}
    for name, cmd in cmds.items():
        keep = d / (name.split()[0] + ".out")
        runs = [run(cmd, keep) for _ in range(a.repeats)]
        results[name] = (statistics.median(r[0] for r in runs), max(r[1] for r in runs))
    checked = check(d / "ctresist.out", d / "samtools.out", sites)
    base = results["samtools mpileup -l"][0]
    print(f"BAM {size / 1e9:.2f} GB, {made.get('reads', 'reused')} reads, {len(sites)} sites "
          f"({a.driver}, GRCh38); {checked} SNV sites: ctresist ref/alt counts == samtools "
          f"pileup; median of {a.repeats}; {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores; generator {made}")
    print("\n| tool | wall (s) | vs samtools -l | vs bcftools -R | peak RSS (MB) |")
    print("|---|---|---|---|---|")
    for name, (wall, rss) in results.items():
        print(f"| {name} | {wall:.2f} | {wall / base:.2f} | "
              f"{wall / results['bcftools mpileup -R'][0]:.2f} | {rss:.0f} |")
    if not a.keep:
        for p in (bam, Path(str(bam) + ".bai")):
            p.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
