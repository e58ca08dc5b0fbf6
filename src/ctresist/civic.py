"""Import CIViC predictive evidence (CC0) into catalogue rows, kept in ``annotations/catalogue/civic.tsv``.

Input: the flattened CIViC evidence export of GastonLab/civic (``civic.biomarkers.tsv``, API pull
2016-10/11; one row per evidence item). Columns used: ``genesymbol``, ``variant_name``,
``evidence_type``, ``evidence_direction``, ``evidence_level``, ``evidence_description``,
``clinical_significance``, ``pubmed_id``, ``disease_name``, ``drug_names``, ``drug_interaction_type``,
``rating``, ``api_url``, ``civic_id``.

Rules (a row is kept only when every one holds; the first that fails is its skip reason):

1. ``evidence_type`` is ``Predictive`` and ``evidence_direction`` is ``Supports``.
2. ``genesymbol`` is one of the catalogue genes.
3. Disease is NSCLC or lung: ``disease_name`` (case-insensitive) contains ``non-small cell``, or
   contains ``lung`` but not ``small cell`` (so "Lung Adenocarcinoma", "Lung Squamous Cell
   Carcinoma", "Lung Cancer", "Lung Carcinoma" are kept; "Lung Small Cell Carcinoma" is not).
4. ``clinical_significance`` is ``Resistance or Non-Response`` / ``Resistance`` (drugs go to
   ``resists``) or ``Sensitivity`` / ``Sensitivity/Response`` (drugs go to ``options``,
   mechanism ``sensitivity``, ``resists`` empty).
5. ``variant_name`` is a one-letter protein change accepted by :func:`protein.is_valid_spec`
   (taken as written: ``M774INSAYVM`` or ``V600`` are not), or ``AMPLIFICATION`` (any case),
   which becomes alteration ``amplification``.
6. The row is not in :data:`EXCLUDED` (evidence whose text contradicts its variant).
7. Every drug resolves with :meth:`DrugVocabulary.resolve` (a name is tried whole, then without
   its parenthesised part, then each alias inside the parentheses: ``Selumetinib (AZD6244)``).
   An unknown drug skips the whole row: nothing is invented or dropped from a combination.
8. Several drugs: ``drug_interaction_type`` ``Substitutes`` gives one item per drug;
   ``Combination`` gives one ``+``-joined option (a resistance to a combination is skipped: the
   catalogue's ``resists`` holds single drugs); ``Sequential`` is skipped. With no interaction type,
   a resistance is read as resistance to each drug (CIViC lists alternatives that way, e.g.
   "Erlotinib, Gefitinib"), while a sensitivity is skipped as ambiguous (combination or not).

Derived columns:

* driver: ALK/RET/ROS1/NTRK1-3 -> "<gene> fusion", EGFR -> "EGFR mutation"; MET/KRAS/BRAF ->
  "MET exon 14 skipping" / "KRAS G12C" / "BRAF V600E" when the evidence text names that driver;
  other genes -> the one driver kinase every drug targets. An item whose context cannot be told is
  skipped (``driver_context_unknown``), never imported as "any": CIViC 2016 records the disease,
  not the driver, and MET D1228N evidence from MET exon 14 disease read as "any" made an ALK
  patient on crizotinib look resistant.
* mechanism of a resistance: amplification -> ``target_amplification`` when the gene is a driver
  kinase (above) or is targeted by every resisted drug (``targets`` in drugs.tsv), else
  ``bypass_amplification``; protein change -> ``on_target_other`` for a driver-kinase gene or a gene
  targeted by every resisted drug (e.g. MET D1228N under crizotinib), else
  ``downstream_reactivation`` for KRAS/NRAS/BRAF/MAP2K1, else ``bypass_activation``.
* evidence: level A/B -> clinical, C -> case_report, D/E -> preclinical; option_levels of a
  sensitivity row: A -> guideline, B -> clinical_trial, C -> case_report, D/E -> preclinical;
  level (AMP/ASCO/CAP): A/B/C as in CIViC, E -> D.
* citations: ``PMID:<pubmed_id>``. This export has no CIViC evidence-item ID: its ``civic_id``
  (``CIVIC_<n>``) is a row number assigned by the GastonLab flattening script (``civic.R``:
  ``paste0('CIVIC_', 1:nrow(...))``), so no ``CIViC:EID`` citation is written; the note names the
  CIViC variant API URL and that row key instead.
* clinical: empty (a CIViC item is evidence, not a curated clinical statement); curation:
  ``CIViC level <L> (rating <r>): <first 200 characters of evidence_description>`` then the
  disease, the drugs as written, the variant API URL and the export row key.
* id: ``CIVIC_<gene>_<alteration>_<driver token>_<n>``, ``n`` counting from 1 per
  (gene, alteration, driver) in file order.
"""
from __future__ import annotations

import csv
import re
from collections import Counter
from pathlib import Path

from ctresist import protein
from ctresist.atomic import atomic_write
from ctresist.catalogue import COLUMNS, DrugVocabulary
from ctresist.errors import InputError

RESISTANCE = {"Resistance or Non-Response", "Resistance"}
SENSITIVITY = {"Sensitivity", "Sensitivity/Response"}
DRIVERS = {"ALK": "ALK fusion", "RET": "RET fusion", "ROS1": "ROS1 fusion", "NTRK1": "NTRK1 fusion",
           "NTRK2": "NTRK2 fusion", "NTRK3": "NTRK3 fusion", "EGFR": "EGFR mutation"}
DOWNSTREAM = {"KRAS", "NRAS", "BRAF", "MAP2K1"}
EVIDENCE = {"A": "clinical", "B": "clinical", "C": "case_report", "D": "preclinical", "E": "preclinical"}
#: CIViC evidence level -> option level of a sensitivity row and AMP/ASCO/CAP call level
OPTION_LEVEL = {"A": "guideline", "B": "clinical_trial", "C": "case_report", "D": "preclinical",
                "E": "preclinical"}
CALL_LEVEL = {"A": "A", "B": "B", "C": "C", "D": "D", "E": "D"}
#: Driver context of an item on the driver gene itself, read from its evidence text (CIViC 2016
#: records the disease, not the driver): MET evidence counts for MET exon 14 skipping only when the
#: text says so (MET D1228N after crizotinib in a MET exon 14 patient).
TEXT_DRIVERS = {"MET": (re.compile(r"exon\s*14|METex14|METΔex14", re.IGNORECASE), "MET exon 14 skipping"),
                "KRAS": (re.compile(r"G12C"), "KRAS G12C"),
                "BRAF": (re.compile(r"V600E"), "BRAF V600E")}
NEGATION = re.compile(r"\b(?:no|not|without|absence|negative|lack(?:ing)?)\b", re.IGNORECASE)
NOTE_CHARS = 200

#: Evidence items left out on purpose, keyed by (gene, variant_name, pubmed_id): the text of the
#: item attributes the effect to another alteration than its variant.
EXCLUDED = {
    ("BRAF", "V600E", "23524406"): "evidence text attributes dabrafenib resistance to a co-occurring "
                                    "KRAS G12D, not to the BRAF V600E driver",
}

#: Skip-reason categories, in the order the rules are checked (each reason starts with one + ":").
SKIP_CATEGORIES = ("not_predictive_supports", "gene_not_in_catalogue", "disease_not_lung",
                   "significance_not_modelled", "variant_not_protein_change", "excluded",
                   "no_drug", "unknown_drug", "interaction_not_modelled", "evidence_level_unknown",
                   "driver_context_unknown")
REQUIRED = ("genesymbol", "variant_name", "evidence_type", "evidence_direction", "evidence_level",
            "evidence_description", "clinical_significance", "pubmed_id", "disease_name", "drug_names",
            "rating", "drug_interaction_type", "api_url")


def is_lung_disease(name: str) -> bool:
    """Rule 3: NSCLC or lung, not small-cell lung carcinoma."""
    low = name.lower()
    return "non-small cell" in low or ("lung" in low and "small cell" not in low)


def split_drug_names(text: str) -> list[str]:
    """Split CIViC ``drug_names`` at commas outside parentheses."""
    out, depth, cur = [], 0, ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(depth - 1, 0)
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    out.append(cur.strip())
    return [d for d in out if d]


def resolve_drug(name: str, drugs: DrugVocabulary) -> str | None:
    """Rule 7: the whole name, then the name without ``(...)``, then each alias inside it."""
    candidates = [name, re.sub(r"\s*\(.*?\)\s*", " ", name).strip()]
    candidates += [a.strip() for inner in re.findall(r"\((.*?)\)", name) for a in inner.split(",")]
    for c in candidates:
        if c and (hit := drugs.resolve(c)):
            return hit
    return None


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\t", " ").replace("\r", " ").replace("\n", " ")).strip()


def _targets(drug: str, drugs: DrugVocabulary) -> set[str]:
    return {t.strip() for t in drugs.drugs.get(drug, {}).get("targets", "").split(";") if t.strip()}


def _mechanism(gene: str, alteration: str, resisted: list[str], drugs: DrugVocabulary) -> str:
    on_target = gene in DRIVERS or (bool(resisted) and all(gene in _targets(d, drugs) for d in resisted))
    if alteration == "amplification":
        return "target_amplification" if on_target else "bypass_amplification"
    if on_target:
        return "on_target_other"
    return "downstream_reactivation" if gene in DOWNSTREAM else "bypass_activation"


def _driver(gene: str, drugs_named: list[str], text: str, drugs: DrugVocabulary) -> str | None:
    """Driver context of one evidence item, or None when it cannot be told (the item is then left
    out: an item read in the wrong context invents or misses a call).

    A fusion-kinase or EGFR gene is its own context. MET/KRAS/BRAF evidence belongs to the
    MET exon 14 / KRAS G12C / BRAF V600E context when its text names that driver. Otherwise the
    context is the one driver kinase that every named drug targets (gefitinib -> EGFR mutation);
    a drug hitting several (crizotinib: ALK, ROS1, MET) leaves the context unknown."""
    if gene in DRIVERS:
        return DRIVERS[gene]
    if gene in TEXT_DRIVERS:
        pattern, context = TEXT_DRIVERS[gene]
        hits = list(pattern.finditer(text))
        # "without ... MET exon 14 mutation", "no concomitant MET exon 14 deletion": not the driver
        if hits and not any(NEGATION.search(text[max(0, m.start() - 80):m.start()]) for m in hits):
            return context
    contexts = set()
    for item in drugs_named:
        for d in item.split("+"):
            contexts |= {DRIVERS[t] for t in _targets(d, drugs) if t in DRIVERS}
    return contexts.pop() if len(contexts) == 1 else None


def _id_token(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.+-]", "_", text.replace("*", "ter").replace(" ", "_"))


def _convert(r: dict[str, str], drugs: DrugVocabulary, genes: set[str]) -> dict[str, str] | tuple[str, str]:
    """One export row -> a catalogue row without ``id``, or (skip category, detail)."""
    gene, variant = r["genesymbol"].strip(), r["variant_name"].strip()
    if r["evidence_type"] != "Predictive" or r["evidence_direction"] != "Supports":
        return "not_predictive_supports", f"{r['evidence_type']} / {r['evidence_direction']}"
    if gene not in genes:
        return "gene_not_in_catalogue", gene
    if not is_lung_disease(r["disease_name"]):
        return "disease_not_lung", r["disease_name"]
    sig = r["clinical_significance"]
    if sig not in RESISTANCE | SENSITIVITY:
        return "significance_not_modelled", sig
    if variant.lower() == "amplification":
        alteration = "amplification"
    elif protein.is_valid_spec(variant):
        alteration = variant
    else:
        return "variant_not_protein_change", variant
    why = EXCLUDED.get((gene, variant, r["pubmed_id"].strip()))
    if why:
        return "excluded", why
    names = [] if r["drug_names"].strip() in ("", "NA") else split_drug_names(r["drug_names"])
    if not names:
        return "no_drug", r["drug_names"]
    resolved = [resolve_drug(n, drugs) for n in names]
    unknown = [n for n, d in zip(names, resolved) if d is None]
    if unknown:
        return "unknown_drug", ", ".join(repr(u) for u in unknown)
    generic = list(dict.fromkeys(d for d in resolved if d))
    interaction = r["drug_interaction_type"].strip()
    if interaction == "NA":
        interaction = ""
    resistance = sig in RESISTANCE
    if len(generic) > 1:
        if interaction == "Sequential" or (interaction not in ("Substitutes", "Combination") and not resistance):
            return "interaction_not_modelled", (f"{interaction or 'no interaction type'} with {len(generic)} "
                                                f"drugs ({'resistance' if resistance else 'sensitivity'})")
        if interaction == "Combination" and resistance:
            return "interaction_not_modelled", "resistance to a combination"
    items = ["+".join(generic)] if interaction == "Combination" and len(generic) > 1 else generic
    level = r["evidence_level"].strip()[:1]
    if level not in EVIDENCE:
        return "evidence_level_unknown", r["evidence_level"]
    evidence = EVIDENCE[level]
    desc = _clean(r["evidence_description"])
    text = desc[:NOTE_CHARS] + ("..." if len(desc) > NOTE_CHARS else "")
    note = (f"CIViC level {level} (rating {r['rating'].strip()}): {text} | disease: {_clean(r['disease_name'])}; "
            f"drugs: {_clean(r['drug_names'])}" + (f" ({interaction})" if interaction else "")
            + f"; variant: {r['api_url'].strip()}; export row {r.get('civic_id', '').strip()} "
            "(row number of the GastonLab flattening, not a CIViC evidence ID)")
    driver = _driver(gene, generic, r["evidence_description"], drugs)
    if driver is None:
        return "driver_context_unknown", (f"{gene} evidence with {', '.join(generic)}: the text names no "
                                          "driver context this catalogue models")
    return {
        "gene": gene,
        "alteration": alteration,
        "phase": "",
        "mechanism": _mechanism(gene, alteration, generic, drugs) if resistance else "sensitivity",
        "driver": driver,
        "resists": ";".join(items) if resistance else "",
        "options": "" if resistance else ";".join(items),
        "option_levels": "" if resistance else ";".join(OPTION_LEVEL[level] for _ in items),
        "level": CALL_LEVEL[level],
        "evidence": evidence,
        "citations": f"PMID:{r['pubmed_id'].strip()}",
        "clinical": "",
        "curation": note,
    }


def import_civic(path: str, drugs: DrugVocabulary, genes: list[str]) -> tuple[list[dict[str, str]], list[str]]:
    """Catalogue rows (``COLUMNS`` keys, all strings) from a CIViC export, and one skip reason per
    row left out (``"<category>: <row key> (line n, GENE VARIANT): <detail>"``, category from
    :data:`SKIP_CATEGORIES`)."""
    rows: list[dict[str, str]] = []
    skipped: list[str] = []
    counters: Counter[tuple[str, str, str]] = Counter()
    gene_set = set(genes)
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise InputError(f"{path}: not a CIViC evidence export: missing column(s) {', '.join(missing)}")
        for lineno, r in enumerate(reader, start=2):
            out = _convert(r, drugs, gene_set)
            if isinstance(out, tuple):
                skipped.append(f"{out[0]}: {r.get('civic_id', '')} (line {lineno}, "
                               f"{r['genesymbol'].strip()} {r['variant_name'].strip()}): {out[1]}")
                continue
            group = (out["gene"], out["alteration"], out["driver"])
            counters[group] += 1
            row_id = f"CIVIC_{out['gene']}_{_id_token(out['alteration'])}_{_id_token(out['driver'])}_{counters[group]}"
            rows.append({c: row_id if c == "id" else out[c] for c in COLUMNS})
    return rows, skipped


def skip_counts(skipped: list[str]) -> dict[str, int]:
    """Number of skipped rows per category, in :data:`SKIP_CATEGORIES` order."""
    c = Counter(s.split(":", 1)[0] for s in skipped)
    return {k: c[k] for k in SKIP_CATEGORIES if c[k]}


def write_civic(rows: list[dict[str, str]], out_path: str | Path, source_name: str | None = None) -> None:
    """Write the rows as a catalogue TSV (schema column order) atomically, under two comment lines;
    ``source_name`` is the export's file name (``Path(tsv).name``) named in the first one."""
    export = f"export {source_name}" if source_name else "export"
    with atomic_write(out_path) as fh:
        fh.write(f"# Imported from CIViC (CC0) {export}, by ctresist.civic\n")
        fh.write("# Do not edit by hand: regenerate with ctresist catalogue import-civic\n")
        fh.write("\t".join(COLUMNS) + "\n")
        for row in rows:
            fh.write("\t".join(row[c] for c in COLUMNS) + "\n")
