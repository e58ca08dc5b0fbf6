"""Build annotations/fusion_genes.tsv (gene models for fusion/SV calls); run from the repo root:

    python annotations/scripts/make_fusion_genes.py ../shared/data ARRIBA_GIT_DIR > annotations/fusion_genes.tsv

Facts taken (positions, strands and exon numbers only):
- fusion kinases (ALK RET ROS1 NTRK1 NTRK2 NTRK3 MET BRAF), both builds: exons of SpliceAI's bundled
  GENCODE V24 canonical transcript (the table annotations/genes.tsv is made from), numbered in
  transcript order;
- kinase-domain exons: the exons holding the catalogue's own kinase-domain resistance residues
  (curated on_target_* rows; for BRAF, which has none, its curated protein rows G469A and V600E),
  located with the GRCh37/GRCh38 alleles of annotations/known_alleles.tsv;
- EML4 GRCh37 exons (ENST00000318522, Ensembl canonical): hmftools SERVE test ensembl_data_cache
  (hartwigmedical/serve 5ca95afe41b97cbe5cfea3308b79449262927659, Ensembl data);
- partner gene spans GRCh37: suhrig/arriba commit b321b9d13101126aec65109a3842facf316b0f01
  database/GencodeV17_Genes_plain.bed (MIT licence), BED 0-based starts.
Coordinates are written 1-based, closed.
"""
from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

KINASES = ("ALK", "RET", "ROS1", "NTRK1", "NTRK2", "NTRK3", "MET", "BRAF")
PARTNERS = ("EML4", "KIF5B", "CCDC6", "NCOA4", "TRIM33", "TPM3", "CD74", "SLC34A2", "EZR", "SDC4",
            "GOPC", "TPR", "LMNA", "ETV6", "KLC1", "TFG", "HIP1", "STRN", "SQSTM1", "AGK", "ESYT2",
            "TACC3", "FGFR3", "CUX1", "ERC1", "PRKAR1A")
ARRIBA_COMMIT = "b321b9d13101126aec65109a3842facf316b0f01"


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
    shared = Path(sys.argv[1])
    arriba = sys.argv[2]
    residues = kinase_residues()
    positions: dict[tuple[str, str], list[int]] = {}
    with open("annotations/known_alleles.tsv") as fh:
        rows = csv.DictReader((ln for ln in fh if not ln.startswith("#")), delimiter="\t")
        for r in rows:
            if r["protein"].removeprefix("p.")[:-1] in residues.get(r["gene"], ()):
                positions.setdefault((r["gene"], r["build"]), []).append(int(r["pos"]))
    out = csv.writer(sys.stdout, delimiter="\t", lineterminator="\n")
    out.writerow(["gene", "build", "chrom", "start", "end", "strand", "role", "exons",
                  "kinase_exons", "source"])
    for build in ("GRCh37", "GRCh38"):
        path = shared / f"transcripts/spliceai_gencode_canonical_exons/spliceai_{build.lower()}.target_genes.txt"
        with open(path) as fh:
            for line in fh:
                if line.startswith("#"):
                    continue
                name, chrom, strand, tx_start, tx_end, starts, ends = line.rstrip("\n").split("\t")
                if name not in KINASES:
                    continue
                exons = [(int(s) + 1, int(e)) for s, e in zip(starts.strip(",").split(","), ends.strip(",").split(","))]
                if strand == "-":
                    exons.reverse()
                hit = sorted({i for i, (s, e) in enumerate(exons, 1)
                              for p in positions.get((name, build), []) if s <= p <= e})
                kd = f"{hit[0]}-{hit[-1]}" if hit else ""
                out.writerow([name, build, chrom.removeprefix("chr"), int(tx_start) + 1, int(tx_end), strand,
                              "kinase", ",".join(f"{s}-{e}" for s, e in exons), kd,
                              "GENCODE V24 canonical (SpliceAI); kinase exons from catalogue residues"])
    serve = shared / "transcripts/hartwig_serve_ensembl_grch37/ensembl_trans_exon_data.csv"
    with open(serve) as fh:
        eml4 = sorted((int(r["ExonRank"]), int(r["ExonStart"]), int(r["ExonEnd"]))
                      for r in csv.DictReader(fh) if r["TransName"] == "ENST00000318522")
    bed = subprocess.run(["git", "--git-dir", arriba, "show", f"{ARRIBA_COMMIT}:database/GencodeV17_Genes_plain.bed"],
                         check=True, capture_output=True, text=True).stdout
    for line in bed.splitlines():
        f = line.split("\t")
        if len(f) < 6 or f[3] not in PARTNERS:
            continue
        exons = ",".join(f"{s}-{e}" for _, s, e in eml4) if f[3] == "EML4" else ""
        src = ("GENCODE V17 span (Arriba, MIT)" + ("; exons Ensembl ENST00000318522 (hmftools SERVE)"
                                                   if exons else ""))
        out.writerow([f[3], "GRCh37", f[0], int(f[1]) + 1, int(f[2]), f[5], "partner", exons, "", src])


if __name__ == "__main__":
    main()
