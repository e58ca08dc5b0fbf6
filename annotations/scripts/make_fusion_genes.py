"""Build annotations/fusion_genes.tsv (gene models for fusion/SV calls); run from the repo root:

    pip download spliceai==1.3.1 --no-deps -d spliceai_wheel   # then unzip the wheel into spliceai_wheel/x
    python annotations/scripts/make_fusion_genes.py ../shared/data spliceai_wheel/x/spliceai/annotations \
        > annotations/fusion_genes.tsv

Facts taken (positions, strands and exon numbers only), both builds:
- exons of SpliceAI's bundled GENCODE V24 canonical transcripts (spliceai==1.3.1 wheel,
  spliceai/annotations/grch37.txt and grch38.txt; the source of annotations/genes.tsv), numbered in
  transcript order, for the fusion kinases (ALK RET ROS1 NTRK1 NTRK2 NTRK3 MET BRAF) and common
  fusion partners (EML4, KIF5B, CCDC6, ...; FGFR3 as a 5' kinase partner);
- kinase-domain exons: the exons holding the catalogue's own kinase-domain resistance residues
  (curated on_target_* rows; for BRAF, which has none, its curated protein rows G469A and V600E),
  located with the GRCh37/GRCh38 alleles of annotations/known_alleles.tsv.
Coordinates are written 1-based, closed (tx_start + 1 .. tx_end).
"""
from __future__ import annotations

import csv
import sys
from pathlib import Path

KINASES = ("ALK", "RET", "ROS1", "NTRK1", "NTRK2", "NTRK3", "MET", "BRAF")
PARTNERS = ("EML4", "KIF5B", "CCDC6", "NCOA4", "TRIM33", "TPM3", "CD74", "SLC34A2", "EZR", "SDC4",
            "GOPC", "TPR", "LMNA", "ETV6", "KLC1", "TFG", "HIP1", "STRN", "SQSTM1", "AGK", "ESYT2",
            "TACC3", "FGFR3", "CUX1", "ERC1", "PRKAR1A")


def kinase_residues() -> dict[str, set[str]]:
    sys.path.insert(0, "src")
    from ctresist.catalogue import load_catalogue

    cat = load_catalogue()
    out: dict[str, set[str]] = {}
    for e in cat.entries:
        if e.source == "curated" and e.kind == "protein" and e.gene in KINASES:
            if e.mechanism.startswith("on_target") or e.gene == "BRAF":
                out.setdefault(e.gene, set()).add(e.alteration[:-1])  # residue, e.g. G1202
    return out


def main() -> None:
    annotations = Path(sys.argv[2])
    residues = kinase_residues()
    positions: dict[tuple[str, str], list[int]] = {}
    with open("annotations/known_alleles.tsv") as fh:
        rows = csv.DictReader((ln for ln in fh if not ln.startswith("#")), delimiter="\t")
        for r in rows:
            if r["protein"].removeprefix("p.")[:-1] in residues.get(r["gene"], ()):
                positions.setdefault((r["gene"], r["build"]), []).append(int(r["pos"]))
    out = csv.writer(sys.stdout, delimiter="\t", lineterminator="\n")
    out.writerow(["gene", "build", "chrom", "start", "end", "strand", "role", "exons", "kinase_exons"])
    for build in ("GRCh37", "GRCh38"):
        with open(annotations / f"{build.lower()}.txt") as fh:
            lines = [ln.rstrip("\n").split("\t") for ln in fh if not ln.startswith("#")]
        for role, names in (("kinase", KINASES), ("partner", PARTNERS)):
            for name, chrom, strand, tx_start, tx_end, starts, ends in sorted(
                    (f for f in lines if f[0] in names), key=lambda f: names.index(f[0])):
                exons = [(int(s) + 1, int(e)) for s, e in zip(starts.strip(",").split(","), ends.strip(",").split(","))]
                if strand == "-":
                    exons.reverse()
                hit = sorted({i for i, (s, e) in enumerate(exons, 1)
                              for p in positions.get((name, build), []) if s <= p <= e})
                out.writerow([name, build, chrom.removeprefix("chr"), int(tx_start) + 1, int(tx_end), strand, role,
                              ",".join(f"{s}-{e}" for s, e in exons), f"{hit[0]}-{hit[-1]}" if hit else ""])


if __name__ == "__main__":
    main()
