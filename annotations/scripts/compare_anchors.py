"""Compare the catalogue with the NSCLC resistance rows ("anchors") of CGI 2017, CIViC 2016 and
MOAlmanac, read from the project's shared data folder (``../shared/data/knowledgebases`` next to
the repository; not shipped, several licences), and with the OncoKB resistance levels (R1/R2) that
OncoKB's release notes list for lung-cancer drivers (``ONCOKB`` below: each level as the release
note of that date states it, with the PMIDs it gives; OncoKB's own data files are not public).

An anchor is (gene, alteration, driver context, drug) for a "Resistant" association in lung cancer
(any tumour type for NTRK, whose drugs are tumour-agnostic). It is

* matched: a catalogue entry of that gene matches the alteration (exact, residue catch-all,
  activating hotspot or copy-number kind) in that context and resists the drug;
* conflicting: such an entry offers the drug as an option instead;
* missing: no entry resists or offers it;
* not comparable: the drug is a class that cannot be resolved to named drugs, or the alteration is
  not one this catalogue models (gene-level "oncogenic mutation", exon-level events).

Usage: ``python annotations/scripts/compare_anchors.py [--details]``; prints counts per source.
"""
from __future__ import annotations

import csv
import json
import re
import sys
from pathlib import Path

from ctresist import protein
from ctresist.catalogue import is_activating, load_catalogue
from ctresist.civic import EXCLUDED
from ctresist.civic import _driver as _civic_driver

ROOT = Path(__file__).resolve().parents[2]
KB = ROOT.parent / "shared" / "data" / "knowledgebases"
FUSION = {"ALK", "RET", "ROS1", "NTRK1", "NTRK2", "NTRK3"}
#: CGI drug classes read as named drugs, as the curated rows read them
CLASSES = {"EGFR inhibitor 1st gens": ["gefitinib", "erlotinib"], "EGFR TK inhibitors": ["gefitinib", "erlotinib"],
           "EGFR inhibitors": ["gefitinib", "erlotinib"], "EGFR inhibitor 2nd gens": ["afatinib", "dacomitinib"],
           "EGFR inhibitor 3rd gens (Osimertinib,etc)": ["osimertinib"],
           "EGFR inhibitor 3rd gens (Rociletinib,etc)": ["rociletinib"],
           "Pan-TK inhibitors (Entrectinib,etc)": ["entrectinib"]}
LUNG = re.compile(r"\b(LUAD|LUSC|NSCLC|L)\b")


def context(gene: str, drugs: list[str], cat) -> str | None:
    if gene in FUSION:
        return f"{gene} fusion"
    if gene == "EGFR":
        return "EGFR mutation"
    hits = set()
    for d in drugs:
        hits |= {f"{t} fusion" if t in FUSION else "EGFR mutation" for t in cat.drugs.targets(d) if t in FUSION | {"EGFR"}}
    return hits.pop() if len(hits) == 1 else None


def cgi_anchors(cat):
    with open(KB / "cgi_biomarkers_2017" / "cgi_biomarkers_per_variant.target_genes.tsv", encoding="utf-8") as fh:
        for r in csv.DictReader(fh, delimiter="\t"):
            if "Resist" not in r["Association"]:
                continue
            gene = r["Gene"].split(";")[0]
            tumour = r["Primary Tumor acronym"]
            if not (LUNG.search(tumour) or (gene.startswith("NTRK") and "CANCER" in tumour)):
                continue
            mut = r["individual_mutation"].split(":", 1)[1] if r["individual_mutation"] else ""
            if not mut and r["Biomarker"].endswith("oncogenic mutation") and gene not in FUSION | {"EGFR"}:
                mut = "activating_mutation"
            if not mut and re.fullmatch(r"[A-Z0-9]+:[A-Z]\d+\.", r["Alteration"]):
                mut = r["Alteration"].split(":", 1)[1]
            mut = re.sub(r"^([A-Z]\d+)\.$", r"\1X", mut)  # 'L718.' = any substitution of L718
            alt = "amplification" if r["Alteration type"] == "CNA" else mut
            if r["Alteration type"] == "CNA" and not r["Alteration"].endswith("amp"):
                alt = ""
            drugs = CLASSES.get(r["Drug full name"])
            if drugs is None:
                named = [cat.drugs.resolve(d) for d in re.split(r"[;,\[\]]", r["Drug"]) if d.strip()]
                drugs = [d for d in named if d]
            yield "CGI", gene, alt, drugs, f"{r['Biomarker']} | {r['Drug full name']} | {tumour} | {r['Source']}"


def civic_anchors(cat):
    path = KB / "civic_2016_gastonlab" / "civic.biomarkers.target_genes.tsv"
    with open(path, encoding="utf-8") as fh:
        for r in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
            if (r["evidence_type"], r["evidence_direction"]) != ("Predictive", "Supports"):
                continue
            if "Resistance" not in r["clinical_significance"]:
                continue
            low = r["disease_name"].lower()
            if not ("non-small cell" in low or ("lung" in low and "small cell" not in low)):
                continue
            v = r["variant_name"].strip()
            if (r["genesymbol"], v, r["pubmed_id"].strip()) in EXCLUDED:
                continue
            alt = "amplification" if v.lower() == "amplification" else v
            drugs = [cat.drugs.resolve(re.sub(r"\s*\(.*?\)", "", d).strip()) for d in r["drug_names"].split(",")]
            drugs = [d for d in drugs if d]
            ctx = _civic_driver(r["genesymbol"], drugs, r["evidence_description"], cat.drugs)
            yield "CIViC", r["genesymbol"], alt, drugs, f"{v} | {r['drug_names']} | PMID:{r['pubmed_id']}", ctx


def moa_anchors(cat):
    data = json.loads((KB / "moalmanac_db" / "molecular-oncology-almanac.target_genes.json").read_text())
    for a in data:
        if str(a.get("therapy_resistance")) != "1" or a.get("oncotree_code") not in ("NSCLC", "LUAD", "LUSC"):
            continue
        gene = a.get("gene") or a.get("gene1")
        pc = (a.get("protein_change") or "").replace("p.", "")
        alt = "amplification" if a["feature_type"] == "Copy Number" else pc
        if not alt and gene in ("KRAS", "NRAS"):
            alt = "activating_mutation"  # 'Oncogenic Mutations' of the gene
        drugs = [cat.drugs.resolve(d.strip()) for d in a["therapy_name"].split("+")]
        yield "MOAlmanac", gene, alt, [d for d in drugs if d], f"assertion {a['assertion_id']} | {a['therapy_name']}"


#: OncoKB R1/R2 resistance levels in NSCLC (NTRK: all solid tumours) as listed in the release
#: notes of oncokb/oncokb-public (src/main/webapp/app/pages/newsPage/NewsPageContent.tsx and
#: markdown/NewsContent052026.md, NewsContent062026.md; commit ab6e5772b78073443de0ff279fbe8e4ca4e6ccf0):
#: (gene, alterations, level, drugs, release, PMIDs given).
ONCOKB = [
    ("ALK", "G1202R", "R2", "alectinib;crizotinib;ceritinib;brigatinib", "2024-06-04", "31358542;29935304;27432227"),
    ("ALK", "L1196M", "R2", "crizotinib", "2024-06-04", ""),
    ("ALK", "I1171S;V1180L;L1196Q", "R2", "alectinib", "2026-05-29",
     "27009859;26464158;25393796;25228534;37907052;30662002;33209633;31712133"),
    ("ALK", "T1151M", "R2", "crizotinib", "2026-05-29", "27009859;30892989"),
    ("ALK", "I1171T", "R2", "alectinib;crizotinib", "2026-05-29",
     "25749034;25228534;24675041;22034911;29877262;25393798"),
    ("EGFR", "T854A", "R2", "erlotinib", "2026-05-29", "19010870;26041145"),
    ("EGFR", "G724S", "R2", "osimertinib", "2021-09-29", "32093857;35979997;33209641;34590038;30405134"),
    ("EGFR", "L718V", "R2", "osimertinib", "2020-02-12", "29568384;29571986;31301016;31757379"),
    ("EGFR", "L718Q", "R2", "osimertinib", "2024-03-21",
     "27257132;29506987;33937055;31205925;34926262;31315676;32146032"),
    ("EGFR", "L792F", "R2", "osimertinib", "2024-03-21", "35932642;28093244;29506987;35422503"),
    ("MET", "D1228H", "R2", "capmatinib", "2026-05-29", "35690785;39180576"),
    ("RET", "G810C;G810S;G810R", "R2", "selpercatinib", "2026-05-29", "37070927;31988000;33161056"),
    ("ROS1", "G2032R", "R2", "crizotinib;lorlatinib", "2024-10-24",
     "33685866;29333528;23724914;36135089;32918045"),
    ("ROS1", "L2086F", "R2", "lorlatinib;repotrectinib", "2024-10-24", "37291202;33685866;39091594"),
    ("NTRK1", "G595R", "R1", "larotrectinib", "2024-11-26", ""),
    ("NTRK1", "G595R", "R2", "entrectinib", "2024-11-26", ""),
    ("NTRK1", "G667C", "R2", "entrectinib", "2026-06-25", "29463555;33328556;26546295"),
    ("NTRK1", "F589L", "R2", "larotrectinib", "2026-06-25", "31406350;29466156;33328556"),
    ("NTRK3", "G623R;G696A;F617L", "R1", "larotrectinib", "2021-03-12", "FDA label"),
]


def oncokb_anchors(cat):
    for gene, alts, level, drugs, release, pmids in ONCOKB:
        ctx = f"{gene} fusion" if gene in FUSION else (
            "MET exon 14 skipping" if gene == "MET" else f"{gene} mutation")
        for alt in alts.split(";"):
            yield ("OncoKB", gene, alt, drugs.split(";"), f"Level {level} ({release}) | PMID:{pmids}", ctx)


def entries_for(cat, gene: str, alt: str, ctx: str):
    out = []
    for e in cat.for_gene(gene):
        if e.driver not in (ctx, "any"):
            continue
        if alt in ("amplification", "loss", "activating_mutation"):
            ok = e.alteration == alt
        else:
            ch = protein.parse(alt)
            if ch is None:
                return None
            ok = (e.kind in ("protein", "residue") and protein.matches(ch, e.components[0])) or (
                e.kind == "activating_mutation" and is_activating(gene, ch, cat.activating))
        if ok:
            out.append(e)
    return out


def main(details: bool = False) -> int:
    if not KB.is_dir():
        print(f"knowledge bases not found at {KB}", file=sys.stderr)
        return 1
    cat = load_catalogue()
    counts: dict[str, dict[str, int]] = {}
    for source, gene, alt, drugs, what, *given in [*cgi_anchors(cat), *civic_anchors(cat), *moa_anchors(cat),
                                            *oncokb_anchors(cat)]:
        c = counts.setdefault(source, {"matched": 0, "missing": 0, "conflicting": 0, "not_comparable": 0})
        ctx = given[0] if given else (context(gene, drugs, cat) if drugs else None)
        hits = entries_for(cat, gene, alt, ctx) if (alt and ctx) else None
        if not drugs or hits is None:
            c["not_comparable"] += len(drugs) or 1
            if details:
                print(f"{source}\tnot_comparable\t{gene}\t{alt}\t{ctx}\t{','.join(drugs)}\t{what}")
            continue
        for d in drugs:
            if any(d in e.resists for e in hits):
                state = "matched"
            elif any(d in o.split("+") for e in hits for o in e.options):
                state = "conflicting"
            else:
                state = "missing"
            c[state] += 1
            if details:
                print(f"{source}\t{state}\t{gene}\t{alt}\t{ctx}\t{d}\t{what}")
    for source, c in counts.items():
        print(f"{source}: " + ", ".join(f"{k}={v}" for k, v in c.items()))
    total = {k: sum(c[k] for c in counts.values()) for k in ("matched", "missing", "conflicting", "not_comparable")}
    print("total: " + ", ".join(f"{k}={v}" for k, v in total.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main("--details" in sys.argv))
