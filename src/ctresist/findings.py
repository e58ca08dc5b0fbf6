"""Findings: one per alteration in a sample, with the catalogue/CIViC evidence rows that matched it
nested inside (the report model's ``calls`` are evidence rows: one EGFR T790M may match 15).

Everything here is computed from the report model alone, so an old ``report.json`` renders the
same way as a new one. Links are built only from identifiers (PMID, DOI, gene and protein change)
or a source page the model gives (``source_url``); the text shown is clinical text only.
"""
from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, quote_plus

from ctresist.catalogue import CURATION_MARKERS, MACHINE_PATH
from ctresist.stats import vaf_ci

#: report.json structure version; bump when the structure of the written JSON changes
REPORT_SCHEMA = "ctresist-report/2"
#: timeline.json structure version

STATUS_ORDER = ["actionable_resistance", "resistance_low_support", "resistance_other_drugs",
                "sensitivity_evidence", "out_of_context", "excluded"]
DETECTED = ("actionable_resistance", "resistance_low_support", "resistance_other_drugs")

#: status in words (the report never relies on colour alone)
STATUS_WORDS = {
    "actionable_resistance": "ACTIONABLE: resists the current therapy",
    "resistance_low_support": "POSSIBLE resistance: low support, confirm",
    "resistance_other_drugs": "Resists other drugs, not the current therapy",
    "sensitivity_evidence": "Sensitivity evidence only (not resistance)",
    "out_of_context": "Catalogue entry for another driver context",
    "excluded": "Excluded: not tumour-derived or filtered",
}

#: what each mechanism class means for the next decision
MEANING = {
    "histologic_transformation": "Histologic transformation risk: consider re-biopsy",
    "bypass_amplification": "Bypass-pathway amplification",
    "bypass_activation": "Bypass-pathway activation",
    "bypass_fusion": "Acquired kinase fusion (bypass)",
    "target_amplification": "Amplification of the drug target",
    "downstream_reactivation": "Downstream pathway reactivation",
    "on_target_solvent_front": "On-target kinase mutation (solvent front)",
    "on_target_gatekeeper": "On-target kinase mutation (gatekeeper)",
    "on_target_xdfg": "On-target kinase mutation (xDFG motif)",
    "on_target_other": "On-target kinase mutation",
    "sensitivity": "Evidence of drug sensitivity",
}

def citation_link(text: str) -> dict:
    """``{"text", "url", "verified"}`` for one catalogue citation: PMID -> PubMed, DOI -> doi.org;
    an ``UNVERIFIED:`` reference is shown as text without a link (and without curation remarks)."""
    m = re.fullmatch(r"PMID:\s*(\d+)", text.strip())
    if m:
        return {"text": f"PMID {m.group(1)}", "url": f"https://pubmed.ncbi.nlm.nih.gov/{m.group(1)}/",
                "verified": True}
    m = re.fullmatch(r"DOI:\s*(10\.\S+)", text.strip(), re.I)
    if m:
        return {"text": f"doi:{m.group(1)}", "url": "https://doi.org/" + quote(m.group(1), safe="/:;()._-"),
                "verified": True}
    label = re.sub(r"^UNVERIFIED:\s*", "", text.strip())
    label = re.sub(r"\s*\((?:[^()]*\b(?:seed|cited by|retrieved|printed|repost)\b[^()]*)\)", "", label)
    return {"text": f"unverified reference: {label}" if label else "unverified reference",
            "url": None, "verified": False}


def clinical_text(note: str | None) -> str:
    """The clinical statement of a catalogue entry, or ``""`` when the text carries curation remarks
    or a machine path (the catalogue's own markers): curation text never reaches a report."""
    text = (note or "").strip()
    if CURATION_MARKERS.search(text) or MACHINE_PATH.search(text):
        return ""
    return text


def search_links(gene: str, alteration: str) -> list[dict]:
    """Search pages for a gene/protein change (a compound or copy-number change: the gene)."""
    simple = bool(re.fullmatch(r"[A-Z*]?\d+[A-Za-z0-9_*>=]*", alteration or ""))
    term = f"{gene} {alteration}" if simple else gene
    clinvar = f"{gene}[gene] {alteration}" if simple else f"{gene}[gene]"
    return [
        {"text": "ClinVar", "url": "https://www.ncbi.nlm.nih.gov/clinvar/?term=" + quote_plus(clinvar)},
        {"text": "COSMIC", "url": "https://cancer.sanger.ac.uk/cosmic/search?q=" + quote_plus(term)},
        {"text": "OncoKB", "url": f"https://www.oncokb.org/gene/{quote(gene)}"
                                  + (f"/{quote(alteration)}" if simple else "")},
    ]


def vaf_interval(c: dict) -> list[float] | None:
    """95 % VAF interval of one evidence row: the model's own (``ci_low``/``ci_high``) when it has
    one, otherwise the exact Clopper-Pearson interval from alt reads and depth
    (:func:`ctresist.stats.vaf_ci`); None without both counts."""
    if c.get("ci_low") is not None and c.get("ci_high") is not None:
        return [round(c["ci_low"], 6), round(c["ci_high"], 6)]
    alt, depth = c.get("alt_reads"), c.get("depth")
    if not isinstance(alt, int) or not isinstance(depth, int) or depth <= 0 or not 0 <= alt <= depth:
        return None
    lo, hi = vaf_ci(alt, depth)
    return None if lo is None or hi is None else [round(lo, 6), round(hi, 6)]


def _filter(c: dict) -> str | None:
    """The caller FILTER when the model states it (a non-PASS filter is named in ``support``)."""
    m = re.search(r"caller FILTER=([^;\s]+)", c.get("support") or "")
    return m.group(1) if m else None


def _evidence_row(c: dict) -> dict:
    url = c.get("source_url") if str(c.get("source_url") or "").startswith("https://") else None
    return {
        "entry_id": c.get("entry_id", ""), "source": c.get("source", ""),
        "status": c.get("status", ""), "driver_context": c.get("driver_context", ""),
        "mechanism": c.get("mechanism", ""), "evidence_type": c.get("evidence", ""),
        "tier": call_tier(c.get("level")), "resists": list(c.get("resists") or []),
        "options": _options(c), "clinical_text": clinical_text(c.get("clinical") or c.get("note")),
        "citations": [citation_link(x) for x in c.get("citations") or []], "source_url": url,
    }


def _options(c: dict) -> list[dict]:
    """Each remaining option with its weight, as the catalogue declares it: ``option_weights``
    (``{option: {"level", "status", "investigational": [drugs]}}``) when the model carries it,
    otherwise the catalogue's one-line ``option_evidence`` (``"lorlatinib: approved; neladalkib:
    preclinical (investigational)"``); an old single level applies to every option."""
    weights = c.get("option_weights") or {}
    parsed = {}
    text = c.get("option_evidence") or ""
    for part in filter(None, (p.strip() for p in text.split(";"))):
        m = re.fullmatch(r"(.+?):\s*([\w ]+?)(\s*\(investigational\))?", part)
        if m:
            parsed[m.group(1).strip()] = {"level": m.group(2).strip().replace(" ", "_"),
                                          "status": "investigational" if m.group(3) else "approved"}
    out = []
    for o in c.get("options") or []:
        w = weights.get(o) or parsed.get(o)
        if w is None:  # an old catalogue: one evidence level for all options, no status
            w = {"level": "" if parsed else text, "status": ""}
        out.append({"option": o, "evidence": w.get("level") or "", "regulatory": w.get("status") or "",
                    "investigational": w.get("status") == "investigational", "resisted_by": []})
    return out


def call_tier(level: str | None) -> str | None:
    """AMP/ASCO/CAP tier of a call from its evidence level (Li et al. 2017): A/B tier I, C/D tier II."""
    if level in ("A", "B"):
        return f"Tier I (level {level})"
    if level in ("C", "D"):
        return f"Tier II (level {level})"
    return None


def build_findings(calls: list[dict]) -> list[dict]:
    """Group evidence rows into findings: one per (gene, protein/copy-number change, variant).

    A finding's status is the strongest of its rows; what it resists, and the options, come from
    the rows that carry that status (a CIViC sensitivity row never adds a resisted drug)."""
    groups: dict[tuple[str, str, str], list[dict]] = {}
    for c in calls:
        groups.setdefault((c["gene"], c["alteration"], c.get("variant") or ""), []).append(c)
    out = []
    for (gene, alteration, variant), rows in groups.items():
        rows = sorted(rows, key=lambda c: (STATUS_ORDER.index(c["status"]), c.get("source") != "curated",
                                           c.get("entry_id", "")))
        lead = rows[0]
        status = lead["status"]
        weighed = [c for c in rows if c["status"] == status]
        mechanisms = list(dict.fromkeys(c["mechanism"] for c in weighed))
        options: dict[str, dict] = {}
        for c in weighed:
            for o in _options(c):
                options.setdefault(o["option"], o)
        subsumed = [c.get("subsumed_by") for c in rows if c.get("subsumed_by")]
        interval = vaf_interval(lead)
        out.append({
            "id": f"{gene} {alteration}" + (f" [{variant}]" if variant else ""),
            "gene": gene, "alteration": alteration, "variant": variant, "status": status,
            "status_text": _status_text(status, mechanisms),
            "meaning": MEANING.get(mechanisms[0], mechanisms[0].replace("_", " ")),
            "mechanisms": mechanisms,
            "tier": call_tier(min((c["level"] for c in weighed if c.get("level") in ("A", "B", "C", "D")),
                                  default=None)),
            "resists": sorted({d for c in weighed for d in c.get("resists") or []}),
            "resists_current": sorted({d for c in weighed for d in c.get("resists_current") or []}),
            "options": list(options.values()),
            "detail": {
                "hgvsp": "; ".join(f"p.{a}" for a in alteration.split("+")) if variant else None,
                "hgvsc": lead.get("hgvsc") or None, "transcript": lead.get("transcript") or None,
                "exon": lead.get("exon"), "vaf": lead.get("vaf"), "vaf_ci": interval,
                "depth": lead.get("depth"), "alt_reads": lead.get("alt_reads"),
                "population_af": lead.get("population_af"), "filter": lead.get("filter") or _filter(lead),
                "annotation": lead.get("annotation"), "copy_number": lead.get("copy_number"),
                "adjusted_copy_number": lead.get("adjusted_copy_number"),
            },
            "phase": lead.get("phase") or "", "support": lead.get("support") or "ok",
            "excluded_reason": lead.get("excluded_reason") or "",
            "cautions": list(dict.fromkeys(w for c in rows for w in c.get("cautions") or [])),
            "subsumed_by": subsumed[0] if subsumed and len(subsumed) == len(rows) else None,
            "links": search_links(gene, alteration),
            "evidence": [_evidence_row(c) for c in rows],
        })
    out.sort(key=lambda f: (STATUS_ORDER.index(f["status"]), f["subsumed_by"] is not None,
                            "+" not in f["alteration"], f["gene"], f["alteration"]))
    # an option of one finding that another confirmed finding of the sample resists does not remain
    confirmed = [f for f in out if is_main(f) and f["status"] != "resistance_low_support"]
    for f in out:
        for o in f["options"]:
            o["resisted_by"] = [f"{g['gene']} {g['alteration']}" for g in confirmed if g is not f
                                and set(o["option"].split("+")) & set(g["resists"])]
    return out


def _status_text(status: str, mechanisms: list[str]) -> str:
    """Status in words; a transformation marker resists no drug but matters under every TKI."""
    if status in DETECTED and "histologic_transformation" in mechanisms:
        words = "POSSIBLE transformation risk: confirm" if status == "resistance_low_support" else \
            "Transformation risk under any TKI"
        return f"{words}: consider re-biopsy"
    return STATUS_WORDS[status]


def is_main(f: dict) -> bool:
    """A finding that drives the report: a resistance status, not read through a compound."""
    return f["status"] in DETECTED and not f["subsumed_by"]


def driver_evidence(model: dict) -> dict:
    """The sample's own driver as seen in the data (the sign that tumour DNA was sampled).

    A fusion driver cannot be seen in a small-variant VCF; a mutation driver is looked up among the
    calls and the other variants of the driver gene. Other protein-changing variants of the driver
    gene are listed too (e.g. an EGFR exon 20 insertion beside L858R)."""
    s = model.get("sample", {})
    driver, text = s.get("driver") or "", s.get("driver_text") or ""
    gene = driver.split()[0] if driver else ""
    out: dict[str, Any] = {"driver": driver, "driver_text": text, "gene": gene,
                           "kind": "fusion" if driver.endswith("fusion") else "mutation",
                           "detected": [], "other_changes": []}
    if out["kind"] == "fusion" or not gene:
        return out
    wanted = {t.upper() for t in re.findall(r"\b[A-Z]\d+[A-Z*]\b", text)}
    seen: dict[str, dict] = {}
    for c in model.get("calls", []):
        own = c["alteration"].upper() in wanted if wanted else c["status"] == "sensitivity_evidence"
        if c["gene"] == gene and c.get("variant") and "+" not in c["alteration"] and own:
            seen.setdefault(c["variant"], _seen(c, c["alteration"], True))
    for o in model.get("other_variants", []):
        if o.get("gene") == gene and o.get("change") and not o["change"].endswith("="):
            seen.setdefault(o["variant"], _seen(o, o["change"], False))
    for v in seen.values():  # a driver written without a protein change: every change counts
        hit = v["change"].upper() in wanted or not wanted
        (out["detected"] if hit else out["other_changes"]).append(v)
    return out


def _seen(v: dict, change: str, in_catalogue: bool) -> dict:
    return {"change": change, "variant": v["variant"], "vaf": v.get("vaf"), "vaf_ci": vaf_interval(v),
            "depth": v.get("depth"), "alt_reads": v.get("alt_reads"), "in_catalogue": in_catalogue}


def with_findings(model: dict) -> dict:
    """The report model with ``findings`` added and ``summary.n_actionable`` counting findings."""
    if "calls" not in model:
        return model
    findings = build_findings(model["calls"])
    summary = dict(model.get("summary", {}))
    summary["n_actionable"] = sum(1 for f in findings if f["status"] == "actionable_resistance"
                                  and not f["subsumed_by"])
    summary["n_findings"] = sum(1 for f in findings if is_main(f))
    return {**model, "schema": REPORT_SCHEMA, "summary": summary, "findings": findings,
            "driver_evidence": driver_evidence(model)}
