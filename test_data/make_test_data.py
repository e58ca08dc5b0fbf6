"""Regenerate the bundled test_data/ (run from the repo root: python test_data/make_test_data.py).

Every genomic allele below is a real one: positions and codon changes come from the CGI biomarker
table (GRCh37 gDNA) lifted to GRCh38 with the hmftools block map, and EGFR/KIT were checked
against the real GRCh38 locus sequence (see annotations/known_alleles.tsv and test_data/README.md).
Read counts, VAFs and copy numbers are invented to mimic a plasma ctDNA panel (depth 2,000-5,000x,
VAF 0.2-5 %) and a tissue panel (depth 300-600x).
"""
from __future__ import annotations

import csv
import random
from pathlib import Path

import pysam

OUT = Path(__file__).resolve().parent
LEN38 = {"1": 248956422, "2": 242193529, "7": 159345973, "10": 133797422, "12": 133275309,
         "17": 83257441}
LEN37 = {"1": 249250621, "2": 243199373, "7": 159138663, "10": 135534747, "12": 133851895,
         "17": 81195210}
CSQ_FIELDS = ("Allele|Consequence|IMPACT|SYMBOL|Gene|Feature_type|Feature|BIOTYPE|EXON|HGVSc|HGVSp|"
              "CANONICAL|MANE_SELECT|gnomADe_AF")
ENSP = {"ALK": "ENSP00000373700.3", "EGFR": "ENSP00000275493.2", "NTRK1": "ENSP00000431418.1",
        "RET": "ENSP00000347942.3", "KRAS": "ENSP00000308495.3", "TP53": "ENSP00000269305.4",
        "MET": "ENSP00000380860.3"}
ENST = {"ALK": "ENST00000389048.8", "EGFR": "ENST00000275493.7", "NTRK1": "ENST00000524377.7",
        "RET": "ENST00000355710.8", "KRAS": "ENST00000311936.8", "TP53": "ENST00000269305.9",
        "MET": "ENST00000397752.8"}
MANE = {"ALK": "NM_004304.5", "EGFR": "NM_005228.5", "NTRK1": "NM_002529.4", "RET": "NM_020975.6",
        "KRAS": "NM_004985.5", "TP53": "NM_000546.6", "MET": "NM_000245.4"}


def csq(gene: str, alt: str, cons: str, hgvsc: str, hgvsp: str, gnomad: str = "") -> str:
    """A VEP CSQ with the MANE transcript and one non-canonical transcript with other numbering."""
    main = [alt, cons, "MODERATE", gene, "ENSG", "Transcript", ENST[gene], "protein_coding", "",
            f"{ENST[gene]}:{hgvsc}", f"{ENSP[gene]}:{hgvsp}" if hgvsp else "", "YES", MANE[gene], gnomad]
    alt_tx = [alt, "intron_variant", "MODIFIER", gene, "ENSG", "Transcript", "ENST00000999999.1",
              "protein_coding", "", "", "", "", "", gnomad]
    return "CSQ=" + ",".join("|".join(x) for x in (alt_tx, main))


def header(lengths: dict[str, int], samples: list[str], chr_prefix: bool, ann: str = "csq",
           extra: list[str] | None = None) -> str:
    pre = "chr" if chr_prefix else ""
    lines = ["##fileformat=VCFv4.2", '##FILTER=<ID=PASS,Description="All filters passed">']
    lines += [f"##contig=<ID={pre}{c},length={n}>" for c, n in lengths.items()]
    lines += ['##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
              '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">',
              '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Read depth">',
              '##FORMAT=<ID=AF,Number=A,Type=Float,Description="Allele fraction">',
              '##FORMAT=<ID=PS,Number=1,Type=Integer,Description="Phase set">']
    if ann == "none":
        pass
    elif ann == "csq":
        lines.append(f'##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence annotations '
                     f'from Ensembl VEP. Format: {CSQ_FIELDS}">')
        lines.append("##VEP=v110 cache=homo_sapiens/110_GRCh38")
    else:
        lines.append('##INFO=<ID=ANN,Number=.,Type=String,Description="Functional annotations: '
                     "'Allele | Annotation | Annotation_Impact | Gene_Name | Gene_ID | Feature_Type | "
                     "Feature_ID | Transcript_BioType | Rank | HGVS.c | HGVS.p | cDNA.pos / cDNA.length | "
                     "CDS.pos / CDS.length | AA.pos / AA.length | Distance | ERRORS / WARNINGS / INFO' \">")
        lines.append("##SnpEffVersion=\"5.1d\"")
    lines += extra or []
    lines.append("\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT", *samples]))
    return "\n".join(lines) + "\n"


def fmt(depth: int, alt_reads: int, gt: str = "0/1", ps: str | None = None) -> str:
    af = alt_reads / depth
    base = f"{gt}:{depth - alt_reads},{alt_reads}:{depth}:{af:.4f}"
    return base + (f":{ps}" if ps else "")


def background(rng: random.Random, chrom: str, n: int, start: int, pre: str) -> list[tuple]:
    """Non-catalogue-gene noise variants (intergenic/intronic) so files look like real panels."""
    out = []
    pos = start
    for _ in range(n):
        pos += rng.randint(5000, 400000)
        ref, alt = rng.sample("ACGT", 2)
        out.append((f"{pre}{chrom}", pos, ref, alt, "."))
    return out


def write_vcf(name: str, text_header: str, records: list[str], index: bool) -> None:
    def key(r: str) -> tuple[int, int]:
        c, p = r.split("\t")[:2]
        c = c.removeprefix("chr")
        return (int(c) if c.isdigit() else 99, int(p))

    body = "".join(r + "\n" for r in sorted(records, key=key))
    plain = OUT / name.removesuffix(".gz")
    plain.write_text(text_header + body)
    if name.endswith(".gz"):
        pysam.tabix_compress(str(plain), str(OUT / name), force=True)
        plain.unlink()
        if index:
            pysam.tabix_index(str(OUT / name), preset="vcf", force=True)


def rec(chrom, pos, ref, alt, info, fmtv, filt="PASS") -> str:
    return "\t".join([chrom, str(pos), ".", ref, alt, ".", filt, info, "GT:AD:DP:AF", fmtv])


def noise_records(rng, pre, chroms=("1", "2", "7", "17")) -> list[str]:
    out = []
    for c in chroms:
        for chrom, pos, ref, alt, _ in background(rng, c, 6, 1_000_000, pre):
            d = rng.randint(1500, 4000)
            out.append(rec(chrom, pos, ref, alt, f"CSQ={alt}|intergenic_variant|MODIFIER" + "|" * 11,
                           fmt(d, rng.randint(10, 40))))
    return out


def main() -> None:
    rng = random.Random(7)
    sheet = []
    # --- ALK01: plasma series on alectinib; G1202R emerges (0.4 %) then rises (2.1 %) -------------
    for tp, date, vaf_reads, cnv in (("T0", "2024-01-10", None, False), ("T1", "2024-04-02", (3000, 12), False),
                                     ("T2", "2024-06-20", (2800, 59), True)):
        recs = noise_records(rng, "")
        recs.append(rec("17", 7673802, "C", "T", csq("TP53", "T", "missense_variant", "c.818G>A", "p.Arg273His"),
                        fmt(2500, 20)))
        recs.append(rec("2", 29222404 - 50, "C", "T", csq("ALK", "T", "intron_variant", "c.3406-12G>A", ""),
                        fmt(2600, 1300)))  # germline-like intronic SNP, no protein change
        if vaf_reads:
            d, a = vaf_reads
            recs.append(rec("2", 29220747, "C", "T", csq("ALK", "T", "missense_variant", "c.3604G>A",
                                                         "p.Gly1202Arg"), fmt(d, a)))
        name = f"ALK01_{tp}_plasma"
        write_vcf(f"{name}.vcf.gz", header(LEN38, [name], False), recs, index=True)
        sheet.append({"sample": name, "patient": "ALK01", "collection_date": date, "specimen": "plasma",
                      "vcf": f"test_data/{name}.vcf.gz", "cnv": "", "driver": "EML4-ALK",
                      "therapy": "Alecensa", "genome_build": "GRCh38", "tumor_fraction": ""})
    # --- RET01: tissue on selpercatinib, focal MET amplification (Rosen 2021) ---------------------
    recs = noise_records(rng, "chr")
    recs.append(rec("chr10", 43119548 - 120, "G", "A", csq("RET", "A", "synonymous_variant", "c.2290G>A",
                                                            "p.Leu764%3D"), fmt(500, 120)))
    write_vcf("RET01_tissue.vcf.gz", header(LEN38, ["RET01_tumor"], True), recs, index=False)
    cns = [("chromosome", "start", "end", "gene", "log2", "depth", "probes", "weight")]
    cns += [("chr7", 10000, 55019000, "-", "0.02", "410", "120", "110"),
            ("chr7", 55019001, 116600000, "EGFR", "0.05", "420", "210", "200"),
            ("chr7", 116600001, 116900000, "MET", "2.91", "3100", "40", "38"),   # CN ~15: focal amp
            ("chr7", 116900001, 159000000, "-", "0.01", "400", "150", "140"),
            ("chr10", 10000, 133700000, "RET", "0.00", "390", "300", "290")]
    (OUT / "RET01_tissue.cns").write_text("\n".join("\t".join(map(str, r)) for r in cns) + "\n")
    sheet.append({"sample": "RET01_tissue", "patient": "RET01", "collection_date": "2023-11-05",
                  "specimen": "tissue", "vcf": "test_data/RET01_tissue.vcf.gz", "cnv": "test_data/RET01_tissue.cns",
                  "driver": "KIF5B-RET", "therapy": "selpercatinib", "genome_build": "GRCh38",
                  "tumor_fraction": "0.6"})
    # --- ALK02: tissue, GRCh37, chr-prefixed, SnpEff ANN: ALK L1152R + EGFR L858R (Sasaki 2011) ---
    def ann(gene, alt, cons, tx, hgvsc, hgvsp):
        return f"ANN={alt}|{cons}|MODERATE|{gene}|{gene}|transcript|{tx}|protein_coding|1/1|{hgvsc}|{hgvsp}|||||"
    recs = [rec("chr2", 29445270, "A", "C", ann("ALK", "C", "missense_variant", "ENST00000389048.3", "c.3455T>G",
                                                  "p.Leu1152Arg"), fmt(420, 95)),
            rec("chr7", 55259515, "T", "G", ann("EGFR", "G", "missense_variant", "ENST00000275493.2", "c.2573T>G",
                                                  "p.Leu858Arg"), fmt(510, 61))]
    recs += [r.replace("CSQ=", "ANN=").replace("MODIFIER" + "|" * 11, "MODIFIER" + "|" * 13)
             for r in noise_records(rng, "chr", ("1", "12"))]  # SnpEff writes all 16 ANN fields
    write_vcf("ALK02_tissue.vcf", header(LEN37, ["ALK02_T"], True, ann="ann"), recs, index=False)
    sheet.append({"sample": "ALK02_tissue", "patient": "ALK02", "collection_date": "2012-03-14",
                  "specimen": "tissue", "vcf": "test_data/ALK02_tissue.vcf", "cnv": "",
                  "driver": "EML4-ALK", "therapy": "crizotinib", "genome_build": "GRCh37",
                  "tumor_fraction": ""})
    # --- NTRK01: plasma tumour + white-blood-cell normal (Mutect2 style), NTRK1 G595R ------------
    def tn(chrom, pos, ref, alt, info, tumour, normal):
        return "\t".join([chrom, str(pos), ".", ref, alt, ".", "PASS", info, "GT:AD:DP:AF", tumour, normal])
    recs = [tn("1", 156876550, "G", "A", csq("NTRK1", "A", "missense_variant", "c.1783G>A", "p.Gly595Arg"),
               fmt(4100, 37), fmt(900, 0, "0/0")),
            # KRAS G12C also present in the white-blood-cell normal: clonal haematopoiesis, excluded
            tn("12", 25245351, "C", "A", csq("KRAS", "A", "missense_variant", "c.34G>T", "p.Gly12Cys"),
               fmt(3900, 16), fmt(1000, 5))]
    write_vcf("NTRK01_plasma.vcf.gz", header(LEN38, ["NTRK01_cfDNA", "NTRK01_WBC"], False,
                                             extra=["##tumor_sample=NTRK01_cfDNA", "##normal_sample=NTRK01_WBC"]),
              recs, index=True)
    sheet.append({"sample": "NTRK01_plasma", "patient": "NTRK01", "collection_date": "2022-02-01",
                  "specimen": "plasma", "vcf": "test_data/NTRK01_plasma.vcf.gz", "cnv": "",
                  "driver": "TPM3-NTRK1", "therapy": "larotrectinib", "genome_build": "GRCh38",
                  "tumor_fraction": ""})
    # --- EGFR01: plasma on osimertinib, driver L858R only: no resistance -------------------------
    recs = noise_records(rng, "")
    recs.append(rec("7", 55191822, "T", "G", csq("EGFR", "G", "missense_variant", "c.2573T>G", "p.Leu858Arg"),
                    fmt(3500, 42)))
    write_vcf("EGFR01_plasma.vcf.gz", header(LEN38, ["EGFR01"], False), recs, index=True)
    sheet.append({"sample": "EGFR01_plasma", "patient": "EGFR01", "collection_date": "2024-09-30",
                  "specimen": "plasma", "vcf": "test_data/EGFR01_plasma.vcf.gz", "cnv": "",
                  "driver": "EGFR L858R", "therapy": "Tagrisso", "genome_build": "GRCh38",
                  "tumor_fraction": ""})
    # --- EGFR02: plasma on osimertinib: T790M + C797S phased in cis -----------------------------
    recs = noise_records(rng, "")
    recs += [rec("7", 55191822, "T", "G", csq("EGFR", "G", "missense_variant", "c.2573T>G", "p.Leu858Arg"), fmt(4000, 160)),
             "\t".join(["7", "55181378", ".", "C", "T", ".", "PASS",
                        csq("EGFR", "T", "missense_variant", "c.2369C>T", "p.Thr790Met"), "GT:AD:DP:AF:PS",
                        fmt(4200, 88, "0|1", "55181378")]),
             "\t".join(["7", "55181398", ".", "T", "A", ".", "PASS",
                        csq("EGFR", "A", "missense_variant", "c.2389T>A", "p.Cys797Ser"), "GT:AD:DP:AF:PS",
                        fmt(4150, 41, "0|1", "55181378")])]
    write_vcf("EGFR02_plasma.vcf.gz", header(LEN38, ["EGFR02"], False), recs, index=True)
    sheet.append({"sample": "EGFR02_plasma", "patient": "EGFR02", "collection_date": "2025-03-12",
                  "specimen": "plasma", "vcf": "test_data/EGFR02_plasma.vcf.gz", "cnv": "",
                  "driver": "EGFR L858R", "therapy": "osimertinib", "genome_build": "GRCh38",
                  "tumor_fraction": ""})
    # --- ALK03: raw Mutect2-style plasma VCFs (no VEP), on lorlatinib: G1202R, then G1202R + L1196M
    # in cis (phased GT + PS, as Mutect2 writes for nearby variants); known-site matching -----------
    raw_hdr = header(LEN38, ["ALK03_cfDNA"], False, ann="none",
                     extra=["##source=Mutect2", "##tumor_sample=ALK03_cfDNA"])
    for tp, date, recs_ in (
            ("T0", "2025-01-15", [("29220747", "C", "T", fmt(3100, 31, "0/1"))]),
            ("T1", "2025-05-20", [("29220747", "C", "T", fmt(3300, 99, "0|1", "29220747")),
                                  ("29220765", "G", "T", fmt(3250, 91, "0|1", "29220747"))])):
        recs = [r.replace("\tCSQ=", "\t.") for r in noise_records(rng, "")]
        recs = ["\t".join(r.split("\t")[:7] + ["."] + r.split("\t")[8:]) for r in recs]
        for pos, ref, alt, f in recs_:
            fmt_keys = "GT:AD:DP:AF:PS" if f.count(":") == 4 else "GT:AD:DP:AF"
            recs.append("\t".join(["2", pos, ".", ref, alt, ".", "PASS", ".", fmt_keys, f]))
        name = f"ALK03_{tp}_plasma"
        write_vcf(f"{name}.vcf.gz", raw_hdr, recs, index=True)
        sheet.append({"sample": name, "patient": "ALK03", "collection_date": date, "specimen": "plasma",
                      "vcf": f"test_data/{name}.vcf.gz", "cnv": "", "driver": "EML4-ALK",
                      "therapy": "Lorbrena", "genome_build": "GRCh38", "tumor_fraction": ""})
    # ALK01_T2 CNV: plasma, no amplification
    cns = [("chromosome", "start", "end", "gene", "log2", "depth", "probes", "weight"),
           ("2", 10000, 242000000, "ALK", "0.03", "2900", "400", "390"),
           ("7", 10000, 159000000, "EGFR,MET", "0.05", "3000", "500", "480")]
    (OUT / "ALK01_T2_plasma.cns").write_text("\n".join("\t".join(map(str, r)) for r in cns) + "\n")
    for row in sheet:
        if row["sample"] == "ALK01_T2_plasma":
            row["cnv"] = "test_data/ALK01_T2_plasma.cns"
    cols = ["sample", "patient", "collection_date", "specimen", "vcf", "cnv", "driver", "therapy",
            "genome_build", "tumor_fraction"]
    with open(OUT.parent / "config" / "samples.tsv", "w", newline="") as fh:
        w = csv.DictWriter(fh, cols, delimiter="\t", lineterminator="\n")
        w.writeheader()
        w.writerows(sheet)


if __name__ == "__main__":
    main()
