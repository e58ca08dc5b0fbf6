"""Build annotations/genes.tsv from the public tables in ../shared/data (run from the repo root).

Facts taken (positions and identifiers only):
- transcript span, strand and chromosome per build: SpliceAI's bundled GENCODE V24 canonical
  annotation (spliceai==1.3.1 wheel, spliceai/annotations/grch37.txt and grch38.txt);
- MANE Select transcript (Ensembl + RefSeq): MANE GRCh38 v1.5 summary;
- MSK-preferred GRCh37 transcript: Genome Nexus isoform overrides (mskcc).
Coordinates are written 1-based, closed (tx_start + 1 .. tx_end).
"""
from __future__ import annotations

import csv
import sys
from pathlib import Path

SHARED = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/transcripts")


def main() -> None:
    mane: dict[str, tuple[str, str]] = {}
    with open(SHARED / "mane_grch38_v1.5_summary/MANE.GRCh38.v1.5.summary.target_genes.tsv") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            if row["MANE_status"] == "MANE Select":
                mane[row["symbol"]] = (row["Ensembl_nuc"].split(".")[0], row["RefSeq_nuc"])
    msk: dict[str, str] = {}
    with open(SHARED / "genome_nexus_isoform_overrides/isoform_overrides_at_mskcc_grch37.target_genes.tsv") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            msk[row["gene_name"]] = row["enst_id"].split(".")[0]
    out = csv.writer(sys.stdout, delimiter="\t", lineterminator="\n")
    out.writerow(["gene", "build", "chrom", "start", "end", "strand", "mane_select_enst",
                  "mane_select_refseq", "msk_grch37_enst"])
    for build in ("GRCh37", "GRCh38"):
        path = SHARED / f"spliceai_gencode_canonical_exons/spliceai_{build.lower()}.target_genes.txt"
        with open(path) as fh:
            rows = [line.rstrip("\n").split("\t") for line in fh if not line.startswith("#")]
        for name, chrom, strand, tx_start, tx_end, *_ in sorted(rows):
            enst, refseq = mane.get(name, ("", ""))
            out.writerow([name, build, chrom.removeprefix("chr"), int(tx_start) + 1, int(tx_end),
                          strand, enst, refseq, msk.get(name, "")])


if __name__ == "__main__":
    main()
