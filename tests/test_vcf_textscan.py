"""#14.8: the streaming text scan (``io.vcf._TextScan``) gives the same variants, notes and errors
whatever its piece, chunk and window sizes, on the real caller outputs and bundled VCFs, so its
boundaries (a line split across reads, a chunk holding one line, a window ending mid-file) change
nothing; and a line longer than a whole chunk is read (it once looped forever)."""
from __future__ import annotations

import gzip

import pytest
from conftest import ROOT, csq, rec, vcf_text

from ctresist.errors import InputError
from ctresist.genes import genes_for_build
from ctresist.io import vcf as vcfmod

REAL = sorted((ROOT / "tests" / "fixtures" / "callers").glob("*.vcf")) + sorted(
    (ROOT / "test_data").glob("*.vcf*"))
REAL = [p for p in REAL if not p.name.endswith((".tbi", ".csi"))]


def read(path, build):
    try:
        info: list = []
        return [repr(v) for v in vcfmod.read_variants(str(path), genes_for_build(build), info_out=info)], \
            info[0].notes if info and hasattr(info[0], "notes") else None
    except InputError as exc:
        return "error", str(exc)


@pytest.mark.parametrize("path", REAL, ids=lambda p: p.name)
def test_tiny_pieces_chunks_and_windows_change_nothing(path, monkeypatch):
    got = {b: read(path, b) for b in ("GRCh37", "GRCh38")}  # variants, or the same error line
    monkeypatch.setattr(vcfmod._TextScan, "PIECE", 97)
    monkeypatch.setattr(vcfmod._TextScan, "CHUNK", 211)
    monkeypatch.setattr(vcfmod._TextScan, "WINDOW", 2)
    monkeypatch.setattr(vcfmod._TextScan, "MAX_WINDOW", 4)
    assert {b: read(path, b) for b in ("GRCh37", "GRCh38")} == got


def test_the_comparison_is_not_only_of_errors():
    """12 of the 21 files give catalogue-gene variants in one build (the others: errors or no
    record near a catalogue gene), so the comparison above compares variants."""
    with_variants = [p.name for p in REAL
                     if any(read(p, b)[0] not in ("error", []) for b in ("GRCh37", "GRCh38"))]
    assert len(REAL) == 21 and len(with_variants) == 12, with_variants


def test_a_line_longer_than_a_chunk_is_read(tmp_path, monkeypatch):
    monkeypatch.setattr(vcfmod._TextScan, "CHUNK", 4096)
    long_info = "CSQ=" + csq("ALK", "T", "p.Gly1202Arg") + ";PAD=" + "x" * 20000
    recs = [rec("1", 1000 + i, "A", "C", "PAD=y") for i in range(50)]
    recs.append(rec("2", 29220747, "C", "T", long_info))
    recs += [rec("3", 1000 + i, "A", "C", "PAD=y") for i in range(50)]
    path = tmp_path / "long.vcf.gz"
    with gzip.open(path, "wt") as fh:
        fh.write(vcf_text(recs))
    variants = list(vcfmod.read_variants(str(path), genes_for_build("GRCh38")))
    assert [(v.gene, v.pos, v.ref, v.alt) for v in variants] == [("ALK", 29220747, "C", "T")]
