"""Fusions and structural variants in the sample's driver and therapy context.

:func:`assess_fusions` reads one fusion/SV file (:mod:`ctresist.io.fusions`), names each junction
``5'::3'`` (HGNC style) from the shipped gene models (``annotations/fusion_genes.tsv``, both
builds), decides whether the kinase keeps its kinase domain, matches the fusion against the
catalogue's ``fusion`` rows and returns report-ready calls (the keys of
:func:`ctresist.interpret.interpret`'s calls) plus a driver-confirmation dict.

Rules:

* A fusion kinase (ALK, RET, ROS1, NTRK1/2/3, MET, BRAF) is active only as the 3' partner and only
  when the 3' part still holds the exons of its kinase-domain residues (``kinase_exons``: the exons
  of the catalogue's on-target resistance residues); the caller's own statement (Arriba
  ``retained_protein_domains``, LINX ``domainsKept``/``domainsLost``) wins when given. A kinase
  as the 5' partner, or a 3' part that lost those exons, is ``lost``: never a driver, never a
  resistance call (listed as excluded with the reason). FGFR3 is a 5' kinase (FGFR3::TACC3); its
  retention is not determined (no exon model shipped).
* The two records of a junction, a mate-only record and a reciprocal pair (A::B and B::A) give one
  fusion: the product with the kinase at 3'; the reciprocal is noted on it.
* Read support: at least ``min_alt_reads`` supporting reads/fragments, caller FILTER PASS and a
  known retention, else ``resistance_low_support``; unknown counts (LINX) are never enough.
* EML4::ALK variants from EML4's last exon when ALK starts at exon 20: v1 E13;A20, v2 E20;A20,
  v3a/b E6;A20 (Choi et al. as summarised by Nagasaka & Ou, J Thorac Oncol,
  DOI:10.1016/j.jtho.2021.11.010), in both builds.
* A breakend in no shipped gene model (an uncommon partner) is named by its locus (``7:138867900``).
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache

from ctresist import constants as C
from ctresist.catalogue import Catalogue, Entry
from ctresist.errors import InputError
from ctresist.genes import annotations_dir, norm_chrom
from ctresist.interpret import Context, Thresholds, _entry_fields, _status
from ctresist.io.fusions import Breakend, FusionCall, read_fusions

#: kinases active as the 3' partner of a fusion, and FGFR3, active as the 5' partner (FGFR3::TACC3)
KINASES_3P = ("ALK", "RET", "ROS1", "NTRK1", "NTRK2", "NTRK3", "MET", "BRAF")
KINASES_5P = ("FGFR3",)
#: EML4 exon (last 5' exon) -> EML4::ALK variant, when ALK starts at exon 20
EML4_ALK_VARIANTS = {13: "1 (E13;A20)", 20: "2 (E20;A20)", 6: "3a/b (E6;A20)"}
#: a named kinase breakpoint this far outside the gene's span means another build (bp)
SPAN_SLACK = 10_000


@dataclass(frozen=True)
class GeneModel:
    """A gene of ``fusion_genes.tsv``: 1-based closed span, exons in transcript order."""

    name: str
    build: str
    chrom: str
    start: int
    end: int
    strand: str
    role: str
    exons: tuple[tuple[int, int], ...]
    kinase_exons: tuple[int, int] | None


@cache
def gene_models(build: str) -> dict[str, GeneModel]:
    path = annotations_dir() / "fusion_genes.tsv"
    out: dict[str, GeneModel] = {}
    with open(path, encoding="utf-8") as fh:
        for row in csv.DictReader((ln for ln in fh if not ln.startswith("#")), delimiter="\t"):
            if row["build"] != build:
                continue
            exons = tuple(tuple(int(x) for x in e.split("-")) for e in row["exons"].split(",") if e)
            kd = tuple(int(x) for x in row["kinase_exons"].split("-")) if row["kinase_exons"] else None
            out[row["gene"]] = GeneModel(row["gene"], build, row["chrom"], int(row["start"]), int(row["end"]),
                                         row["strand"], row["role"], exons, kd)  # type: ignore[arg-type]
    return out


def gene_at(chrom: str, pos: int, build: str) -> GeneModel | None:
    """The modelled gene at a position: a kinase before a partner, then the shortest span."""
    hits = [m for m in gene_models(build).values()
            if m.chrom == norm_chrom(chrom) and m.start <= pos <= m.end]
    return min(hits, key=lambda m: (m.role != "kinase", m.end - m.start)) if hits else None


def exon_of(m: GeneModel, pos: int, part: str) -> tuple[int, bool] | None:
    """For the 3' part (``part='3'``): the first exon kept and whether it is kept whole; for the 5'
    part: the last exon kept and whether whole. None without an exon model. Exon numbers are in
    transcript order; an intronic breakpoint keeps whole exons."""
    if not m.exons:
        return None
    fwd = m.strand == "+"
    for i, (s, e) in enumerate(m.exons, 1):
        if s <= pos <= e:
            first, last = (s, e) if fwd else (e, s)
            return (i, pos == first) if part == "3" else (i, pos == last)
    # intronic or outside: count the exons that lie before pos in transcript order
    before = sum(1 for s, e in m.exons if (e < pos if fwd else s > pos))
    return (before + 1, True) if part == "3" else (before, True)


def _portion(m: GeneModel, keep: str | None) -> str | None:
    if keep is None:
        return None
    return "5" if (m.strand, keep) in (("+", "left"), ("-", "right")) else "3"


def resolve(call: FusionCall, build: str) -> dict | None:
    """The fusion a junction makes, as a plain dict, or None when no fusion kinase is involved."""
    models = gene_models(build)
    if call.oriented:
        g5, g3, b5, b3 = call.gene5, call.gene3, call.a, call.b
        if not ({g5, g3} & set(KINASES_3P + KINASES_5P)) or g5 == g3:
            return None  # no fusion kinase, or an intragenic rearrangement (MET exon 14 is a variant call)
        outside = []
        for g, be in ((g5, b5), (g3, b3)):
            m = models.get(g or "")
            if m is not None and be is not None and m.role == "kinase" and not (
                    m.chrom == be.chrom and m.start - SPAN_SLACK <= be.pos <= m.end + SPAN_SLACK):
                outside.append(f"breakpoint {be.text} is not in {g} ({build} {m.chrom}:{m.start}-{m.end})")
        if outside:  # no exon can be assigned from it; a whole file like this is refused (other build)
            f = _describe(call, g5, g3, b5, b3, models, exons_ok=False)
            f["outside"] = outside
            return f
    else:
        a, b = call.a, call.b
        assert a is not None and b is not None
        ma, mb = gene_at(a.chrom, a.pos, build), gene_at(b.chrom, b.pos, build)
        if not ({getattr(ma, "name", None), getattr(mb, "name", None)} & set(KINASES_3P + KINASES_5P)):
            return None
        if ma is not None and mb is not None and ma.name == mb.name:
            return None  # intragenic rearrangement, not a fusion
        pa = _portion(ma, a.keep) if ma else None
        pb = _portion(mb, b.keep) if mb else None
        if pa == "3" or pb == "5":
            a, b, ma, mb, pa, pb = b, a, mb, ma, pb, pa
        if pa == pb and pa is not None:
            return None  # both 5' or both 3' parts: no fusion transcript in either direction
        if pa is None and pb is None and ma is not None and ma.name in KINASES_3P:
            a, b, ma, mb = b, a, mb, ma  # orientation unknown: assume the kinase is the 3' partner
        g5 = ma.name if ma else None
        g3 = mb.name if mb else None
        b5, b3 = a, b
    return _describe(call, g5, g3, b5, b3, models)


def _describe(call: FusionCall, g5: str | None, g3: str | None, b5: Breakend | None, b3: Breakend | None,
              models: dict[str, GeneModel], exons_ok: bool = True) -> dict:
    m5, m3 = (models.get(g5 or ""), models.get(g3 or "")) if exons_ok else (None, None)
    ex5 = (call.exon5, True) if call.exon5 is not None else (exon_of(m5, b5.pos, "5") if m5 and b5 else None)
    ex3 = (call.exon3, True) if call.exon3 is not None else (exon_of(m3, b3.pos, "3") if m3 and b3 else None)
    kinase = g3 if g3 in KINASES_3P else g5 if g5 in KINASES_3P + KINASES_5P else g3
    retention, why = _retention(call, g5, g3, kinase, ex3, m3)
    name5 = g5 or (f"{b5.chrom}:{b5.pos}" if b5 else "?")
    name3 = g3 or (f"{b3.chrom}:{b3.pos}" if b3 else "?")
    name = f"{name5}::{name3}"
    exons = ""
    if ex5 or ex3:
        exons = "::".join(name if ex is None else f"{name} exon {ex[0]}" + ("" if ex[1] else " (in exon)")
                          for name, ex in ((name5, ex5), (name3, ex3)))
    variant = ""
    if g5 == "EML4" and g3 == "ALK" and ex5 and ex3 and ex3[0] == 20:
        variant = EML4_ALK_VARIANTS.get(ex5[0], f"E{ex5[0]};A20 (not v1, v2 or v3)")
    return {"name": name, "gene5": g5, "gene3": g3, "kinase": kinase,
            "breakpoint5": b5.text if b5 else "", "breakpoint3": b3.text if b3 else "",
            "exon5": ex5[0] if ex5 else None, "exon3": ex3[0] if ex3 else None, "exons": exons,
            "eml4_alk_variant": variant, "kinase_domain": retention, "kinase_domain_reason": why,
            "alt_reads": call.alt_reads, "split_reads": call.split_reads, "paired_reads": call.paired_reads,
            "ref_reads": call.ref_reads, "depth": call.depth, "af": call.af, "filters": call.filters,
            "caller": call.caller, "record": call.record, "reciprocal": "", "outside": [], **call.extra}


def _retention(call: FusionCall, g5: str | None, g3: str | None, kinase: str | None,
               ex3: tuple[int, bool] | None, m3: GeneModel | None) -> tuple[str, str]:
    if kinase in KINASES_5P and kinase == g5:
        return "unknown", f"{kinase} is the 5' partner; its kinase-domain exons are not modelled"
    if kinase != g3:
        return "lost", f"{kinase} is the 5' partner: the fusion product lacks its 3' kinase domain"
    if call.kinase_domain is not None:
        return call.kinase_domain, f"{call.caller} reports the kinase domain {call.kinase_domain}"
    if ex3 is None or m3 is None or m3.kinase_exons is None:
        return "unknown", f"no {kinase} exon could be assigned to the 3' breakpoint"
    first, last = m3.kinase_exons
    kept = ex3[0] < first or (ex3[0] == first and ex3[1])
    where = f"the {kinase} part starts at exon {ex3[0]}" + ("" if ex3[1] else " (breakpoint inside it)")
    if kept:
        return "retained", f"{where}; exons {first}-{last} (kinase-domain residues) are kept"
    return "lost", f"{where}; exons {first}-{last} (kinase-domain residues) are not all kept"


def read_sample_fusions(path: str, build: str, tumor: str | None = None) -> tuple[list[dict], str]:
    """Resolved kinase fusions of one file (one per fusion, reciprocals folded) and its format."""
    calls, fmt = read_fusions(path, tumor)
    out: list[dict] = []
    for c in calls:
        f = resolve(c, build)
        if f is not None:
            out.append(f)
    checked = [f for f in out if f["breakpoint3"] or f["breakpoint5"] or f.get("outside")]
    if checked and all(f.get("outside") for f in checked):
        f = checked[0]
        raise InputError(f"{f['record']}: {f['outside'][0]}: no kinase breakpoint of the file lies in its gene "
                         f"in {build}; is the file in another genome build? Give the sample's build in the "
                         "sheet or convert the file")
    for f in out:
        if f.get("outside"):
            f["kinase_domain_reason"] = "; ".join(f["outside"]) + ": no exon assigned"
    return _fold(out), fmt


def _fold(fusions: list[dict]) -> list[dict]:
    """One fusion per gene pair: mates and repeated junctions keep the best-supported record; a
    reciprocal B::A next to A::B is noted on the product whose kinase is 3'."""
    best: dict[str, dict] = {}
    for f in fusions:
        prev = best.get(f["name"])
        if prev is None or (f["alt_reads"] or -1) > (prev["alt_reads"] or -1):
            best[f["name"]] = f
    out = []
    for name, f in best.items():
        rev = f"{f['gene3']}::{f['gene5']}"
        if f["gene5"] and f["gene3"] and rev in best and rev != name:
            if f["kinase_domain"] == "lost" and best[rev]["kinase_domain"] != "lost":
                continue  # shown as the reciprocal of the productive fusion
            f = {**f, "reciprocal": f"reciprocal {rev} also seen"}
        out.append(f)
    return out


def _support(f: dict, th: Thresholds) -> list[str]:
    why = []
    if f["filters"] not in ("PASS", ".", ""):
        why.append(f"caller FILTER={f['filters']}")
    if f["alt_reads"] is None:
        why.append(f"supporting read count unknown ({f['caller']} writes none)")
    elif f["alt_reads"] < th.min_alt_reads:
        why.append(f"supporting reads {f['alt_reads']} < {th.min_alt_reads:g}")
    if f["kinase_domain"] == "unknown":
        why.append(f"kinase-domain retention not determined ({f['kinase_domain_reason']})")
    return why


def _alteration(f: dict) -> str:
    """What reports and the patient timeline key on: stable across callers and samples, so the
    exons (an RNA and a DNA caller may differ) and an unnamed partner's locus stay out of it."""
    return f"fusion {f['gene5'] or '?'}::{f['gene3'] or '?'}"


def _detail(f: dict) -> str:
    """The junction in words: exons and, for EML4::ALK, the variant."""
    text = f["exons"] or f"{f['breakpoint5']}::{f['breakpoint3']}".strip(":")
    if f["eml4_alk_variant"]:
        text += f" (variant {f['eml4_alk_variant']})"
    return text


def _call(f: dict, e: Entry, ctx: Context, status: str, low: list[str], excl: str) -> dict:
    cautions = [f["reciprocal"]] if f["reciprocal"] else []
    return {"status": status, "gene": f["kinase"], "alteration": _alteration(f), "variant": f["name"],
            "vaf": f["af"], "depth": f["depth"], "alt_reads": f["alt_reads"], "transcript": None,
            "hgvsc": _detail(f), "annotation": f"fusion:{f['caller']}", "copy_number": None,
            "adjusted_copy_number": None, "phase": "", "support": "; ".join(low) or "ok",
            "excluded_reason": excl, "cautions": cautions, **_entry_fields(e, ctx), "fusion": f}


def fusion_calls(fusions: list[dict], ctx: Context, catalogue: Catalogue, th: Thresholds) -> list[dict]:
    """Catalogue calls for the sample's fusions, in its driver context. The driver's own fusion is
    not a call (see :func:`driver_confirmation`)."""
    out = []
    for f in fusions:
        k = f["kinase"]
        if ctx.driver == f"{k} fusion":
            continue
        entries = [e for e in catalogue.for_gene(k) if e.kind == "fusion"]
        if not entries:
            continue
        excl = ""
        if f["kinase_domain"] == "lost":
            excl = f"not an active {k} fusion: {f['kinase_domain_reason']}"
        low = _support(f, th)
        own = [e for e in entries if e.driver in (ctx.driver, "any")]
        if own:
            out += [_call(f, e, ctx, _status(e, ctx, excl or None, low), low, excl) for e in own]
        else:
            c = _call(f, entries[0], ctx, _status(entries[0], ctx, excl or None, low), low, excl)
            c["driver_context"] = "; ".join(dict.fromkeys(e.driver for e in entries))
            c["entry_id"] = "; ".join(e.id for e in entries)
            out.append(c)
    return out


def _support_text(f: dict) -> str:
    parts = []
    if f["alt_reads"] is not None:
        detail = [f"{f[k]} {w}" for k, w in (("split_reads", "split"), ("paired_reads", "paired/spanning"))
                  if f[k] is not None]
        parts.append(f"{f['alt_reads']} supporting reads" + (f" ({', '.join(detail)})" if detail else ""))
    else:
        parts.append("read support not given by the caller")
    if f["af"] is not None:
        parts.append(f"allele fraction {f['af']:.3f}")
    parts.append(f"{f['caller']}, {f['record']}")
    return "; ".join(parts)


def driver_confirmation(fusions: list[dict] | None, ctx: Context, catalogue: Catalogue,
                        th: Thresholds | None = None) -> dict:
    """Whether the sheet's driver fusion was seen, and fusions that contradict the sheet's driver.

    ``status``: ``detected`` | ``not_detected`` | ``not_assessed`` (no fusion file) |
    ``not_applicable`` (the driver is a mutation). ``contradicting``: active kinase fusions of
    another kinase that the catalogue does not list as resistance in this context."""
    is_fusion = ctx.driver.endswith(" fusion")
    kinase = ctx.driver.split()[0] if is_fusion else ""
    out: dict = {"driver": ctx.driver, "driver_text": ctx.driver_text, "status": "", "text": "",
                 "fusion": None, "contradicting": []}
    if fusions is None:
        out["status"] = "not_assessed"
        out["text"] = ("no fusion/SV file given: the driver fusion and acquired fusions were not looked for"
                       if is_fusion else "no fusion/SV file given: acquired fusions were not looked for")
        return out
    resisting = {f["name"] for f in fusions for e in catalogue.for_gene(f["kinase"])
                 if e.kind == "fusion" and e.driver in (ctx.driver, "any")}
    for f in fusions:
        if (f["kinase"] != kinase and f["kinase_domain"] != "lost" and f["name"] not in resisting
                and f["kinase"] in C.FUSION_KINASES + KINASES_3P + KINASES_5P):
            out["contradicting"].append({
                "fusion": f["name"], "text": f"{f['name']} ({_support_text(f)}) is an active {f['kinase']} "
                f"fusion that contradicts the sheet's driver {ctx.driver_text!r}: check the driver or the sample"})
    if not is_fusion:
        out["status"] = "not_applicable"
        out["text"] = f"the driver ({ctx.driver_text}) is not a fusion"
        return out
    mine = [f for f in fusions if f["kinase"] == kinase]
    active = sorted((f for f in mine if f["kinase_domain"] != "lost"),
                    key=lambda f: (f["kinase_domain"] != "retained", -(f["alt_reads"] or 0)))
    if active:
        f = active[0]
        out["status"], out["fusion"] = "detected", f
        text = f"driver {f['name']}"
        if f["eml4_alk_variant"]:
            text += f" variant {f['eml4_alk_variant']}"
        elif f["exons"]:
            text += f" ({f['exons']})"
        text += f" detected: {_support_text(f)}"
        partner = _sheet_partner(ctx.driver_text, kinase)
        if partner and f["gene5"] and partner != f["gene5"]:
            text += f"; the sheet names {partner} as the partner"
        if th is not None:
            weak = [w for w in _support(f, th) if not w.startswith("kinase-domain")]
            if weak:
                text += f"; low support ({'; '.join(weak)}): confirm"
        if f["kinase_domain"] == "unknown":
            text += f"; kinase-domain retention not determined ({f['kinase_domain_reason']})"
        out["text"] = text
        return out
    out["status"] = "not_detected"
    if ctx.specimen == "plasma":
        out["text"] = "driver not detected: ctDNA may be uninformative"
    else:
        out["text"] = (f"driver {kinase} fusion not detected in this tissue sample: the assay may not cover "
                       "its breakpoints")
    lost = [f["name"] for f in mine]
    if lost:
        out["text"] += (f" ({', '.join(lost)} seen, but without the {kinase} kinase domain: not the driver)")
    return out


def _sheet_partner(text: str, kinase: str) -> str:
    parts = [p for p in re.split(r"::|-|\s+|/", text.strip().upper()) if p]
    if len(parts) == 2 and parts[1] == kinase:
        return parts[0]
    return ""


def assess_fusions(path: str | None, ctx: Context, catalogue: Catalogue, th: Thresholds,
                   tumor_sample: str | None = None) -> tuple[list[dict], dict, list[dict]]:
    """(calls, driver confirmation, fusions) for one sample; ``path`` None: nothing was given.
    ``tumor_sample``: the tumour column of a multi-sample SV VCF (the sheet's column)."""
    if not path:
        return [], driver_confirmation(None, ctx, catalogue), []
    fusions, _ = read_sample_fusions(path, ctx.build, tumor_sample)
    return fusion_calls(fusions, ctx, catalogue, th), driver_confirmation(fusions, ctx, catalogue, th), fusions


def limitations(confirmation: dict) -> list[str]:
    """One line for the report's limitations when fusions were not examined or the driver is absent."""
    if confirmation["status"] == "not_assessed":
        return ["no fusion/SV file: acquired fusions (RET, ALK, BRAF, NTRK1 ...) and the driver fusion "
                "were not examined"]
    if confirmation["status"] == "not_detected":
        return [confirmation["text"]]
    return []
