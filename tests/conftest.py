"""Shared fixtures: tiny VCF/CNV writers so each test states its own edge case in a few lines."""
from __future__ import annotations

import csv
import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pysam
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"

CSQ_FORMAT = ("Allele|Consequence|IMPACT|SYMBOL|Gene|Feature_type|Feature|BIOTYPE|EXON|HGVSc|HGVSp|"
              "CANONICAL|MANE_SELECT|gnomADe_AF")
GRCH38_CONTIGS = {"1": 248956422, "2": 242193529, "7": 159345973, "10": 133797422, "12": 133275309}
GRCH37_CONTIGS = {"1": 249250621, "2": 243199373, "7": 159138663, "10": 135534747, "12": 133851895}


def csq(gene: str, allele: str, hgvsp: str, cons: str = "missense_variant", tx: str = "ENST00000389048.8",
        canonical: str = "YES", mane: str = "NM_x", gnomad: str = "", hgvsc: str = "c.1A>G") -> str:
    return "|".join([allele, cons, "MODERATE", gene, "ENSG", "Transcript", tx, "protein_coding", "",
                     f"{tx}:{hgvsc}", f"ENSP00000000001.1:{hgvsp}" if hgvsp else "", canonical, mane, gnomad])


def vcf_text(records: list[str], samples=("TUMOR",), contigs=GRCH38_CONTIGS, chr_prefix=False,
             csq_format: str | None = CSQ_FORMAT, extra_header: list[str] | None = None,
             fmt_tags=("GT", "AD", "DP", "AF", "PS")) -> str:
    pre = "chr" if chr_prefix else ""
    h = ["##fileformat=VCFv4.2"]
    h += [f"##contig=<ID={pre}{c},length={n}>" for c, n in contigs.items()]
    types = {"GT": ("1", "String"), "AD": ("R", "Integer"), "DP": ("1", "Integer"), "AF": ("A", "Float"),
             "PS": ("1", "Integer")}
    h += [f'##FORMAT=<ID={t},Number={types[t][0]},Type={types[t][1]},Description="{t}">' for t in fmt_tags]
    if csq_format:
        h.append(f'##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence annotations from Ensembl VEP. Format: {csq_format}">')
    h += extra_header or []
    h.append("\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT", *samples]))
    return "\n".join(h + records) + "\n"


def rec(chrom, pos, ref, alt, info=".", sample="0/1:990,10:1000:0.01", filt="PASS", fmt="GT:AD:DP:AF") -> str:
    samples = sample if isinstance(sample, str) else "\t".join(sample)
    return "\t".join([str(chrom), str(pos), ".", ref, alt, ".", filt, info, fmt, samples])


@pytest.fixture
def write_vcf(tmp_path):
    """write_vcf(name, text, bgzip=False, index=False) -> path"""

    def _write(name: str, text: str, bgzip: bool = False, index: bool = False) -> str:
        path = tmp_path / name
        if bgzip:
            plain = tmp_path / (name + ".plain")
            plain.write_text(text)
            pysam.tabix_compress(str(plain), str(path), force=True)
            plain.unlink()
            if index:
                pysam.tabix_index(str(path), preset="vcf", force=True)
        else:
            path.write_text(text)
        return str(path)

    return _write


@pytest.fixture
def repo_copy(tmp_path):
    """A copy of the workflow files and test_data in a temp dir (the workflow runs there)."""
    dst = tmp_path / "repo"
    dst.mkdir()
    for item in ("Snakefile", "workflow", "config", "test_data", "annotations"):
        src = ROOT / item
        if src.is_dir():
            shutil.copytree(src, dst / item)
        else:
            shutil.copy(src, dst / item)
    return dst


def _slurmctld_running() -> bool:
    """A SLURM controller process on this machine (tests/test_slurm.py starts one)."""
    for comm in Path("/proc").glob("[0-9]*/comm"):
        try:
            if comm.read_text().strip() == "slurmctld":
                return True
        except OSError:
            continue
    return False


def snakemake_env() -> dict[str, str]:
    """The environment of the tests' snakemake runs.

    The SLURM executor plugin (the ``slurm`` extra) runs ``scontrol show config`` whenever
    snakemake starts, only to word a help text; where SLURM is installed but no controller
    answers, that call waits 9-10 s (its timeout is 10 s) on every start. A local run never talks to
    SLURM, so while no slurmctld runs here SLURM_CONF is an empty file and scontrol fails at once.
    """
    env = dict(os.environ)
    env["CTRESIST_ANNOTATIONS"] = str(ROOT / "annotations")
    if shutil.which("scontrol") and not _slurmctld_running():
        env["SLURM_CONF"] = os.devnull
    return env


def _ctresist(*args: str, cwd: Path = ROOT) -> None:
    p = subprocess.run(["ctresist", *args], cwd=cwd, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr


def render_bundled(out: Path) -> dict[str, Path]:
    """``ctresist annotate`` + ``render`` for every row of config/samples.tsv, one timeline per
    patient and the batch summary, into ``out``; returns {name: html path}. The samples (and then
    the patients) are independent processes writing their own folders, run two at a time."""
    with open(ROOT / "config" / "samples.tsv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))

    def sample(s: str) -> Path:
        d = out / s
        d.mkdir(parents=True)
        _ctresist("annotate", "--sheet", "config/samples.tsv", "--sample", s, "-o", str(d / "report.json"))
        _ctresist("render", str(d / "report.json"), "--html", str(d / "report.html"), "--tsv", str(d / "calls.tsv"))
        return d / "report.html"

    def patient(p: str) -> Path:
        reps = [str(out / r["sample"] / "report.json") for r in rows if r["patient"] == p]
        d = out / "_patients" / p
        d.mkdir(parents=True)
        _ctresist("longitudinal", *reps, "--patient", p, "--json", str(d / "timeline.json"),
                  "--tsv", str(d / "timeline.tsv"), "--html", str(d / "timeline.html"))
        return d / "timeline.html"

    samples = [r["sample"] for r in rows]
    patients = sorted({r["patient"] for r in rows})
    with ThreadPoolExecutor(max_workers=2) as pool:
        pages = dict(zip(samples, pool.map(sample, samples)))
        pages.update(zip((f"timeline_{p}" for p in patients), pool.map(patient, patients)))
    d = out / "_batch"
    d.mkdir()
    _ctresist("summary", *[str(out / s / "report.json") for s in samples], "--failed",
              "B1: test_data/missing.vcf.gz: file not found", "--tsv", str(d / "summary.tsv"),
              "--html", str(d / "summary.html"))
    pages["summary"] = d / "summary.html"
    return pages


@pytest.fixture(scope="session")
def bundled(tmp_path_factory) -> tuple[Path, dict[str, Path]]:
    """The bundled samples through the CLI once per session (render_bundled): (folder, pages).
    Shared by test_report_schema and test_report_browser, so read-only: a test that changes a
    file works on its own copy."""
    out = tmp_path_factory.mktemp("bundled")
    return out, render_bundled(out)
