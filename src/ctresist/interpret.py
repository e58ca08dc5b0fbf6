"""Match a sample's variants and gene copy numbers against the catalogue, in the sample's driver
and therapy context, and build the report model (a plain dict rendered to JSON, TSV and HTML)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from itertools import combinations, permutations
from typing import Any

from ctresist import constants as C
from ctresist import protein
from ctresist.catalogue import Catalogue, Entry, is_activating
from ctresist.drivers import is_driver_alteration, parse_driver  # noqa: F401  (parse_driver re-exported)
from ctresist.io.cnv import GeneCopyNumber
from ctresist.io.vcf import Variant

STATUS_ORDER = ["actionable_resistance", "resistance_low_support", "resistance_other_drugs",
                "sensitivity_evidence", "out_of_context", "excluded"]
STATUS_TEXT = {
    "actionable_resistance": "Actionable: resists the current therapy",
    "resistance_low_support": "Possible resistance: low support, confirm",
    "resistance_other_drugs": "Resistance alteration that does not affect the current therapy",
    "sensitivity_evidence": "Evidence of sensitivity (not resistance), shown beside resistance entries",
    "out_of_context": "Catalogue alteration outside this driver context",
    "excluded": "Excluded: not tumour-derived or filtered",
}


@dataclass
class Context:
    """What the sample sheet says about one sample."""

    sample: str
    driver_text: str
    driver: str
    therapy_text: str
    therapy: list[str]
    specimen: str
    build: str
    patient: str = ""
    collection_date: str = ""
    tumor_fraction: float | None = None
    has_normal: bool = False
    extra: dict[str, str] = field(default_factory=dict)


@dataclass
class Thresholds:
    min_depth: float
    min_alt_reads: float
    min_vaf: float
    amplification_min_cn: float = C.AMPLIFICATION_MIN_CN
    plasma_uncorrected_min_cn: float = C.PLASMA_UNCORRECTED_MIN_CN
    focal_max_fraction: float = C.FOCAL_MAX_FRACTION
    deletion_max_cn: float = C.DELETION_MAX_CN
    germline_population_af: float = C.GERMLINE_POPULATION_AF
    normal_max_alt_reads: float = C.NORMAL_MAX_ALT_READS

    @classmethod
    def for_specimen(cls, specimen: str, overrides: dict | None = None) -> Thresholds:
        base = dict(C.DEFAULT_THRESHOLDS[specimen])
        overrides = overrides or {}
        base.update(overrides.get(specimen, {}))
        for k in ("amplification_min_cn", "plasma_uncorrected_min_cn", "focal_max_fraction",
                  "deletion_max_cn", "germline_population_af", "normal_max_alt_reads"):
            if k in overrides:
                base[k] = overrides[k]
        return cls(**base)


def _exclusion(v: Variant, ctx: Context, th: Thresholds) -> str | None:
    if v.filters not in ("PASS", ".") and set(v.filters.split(";")) & C.NOT_TUMOUR_FILTERS:
        return f"filtered by the caller as not tumour-derived (FILTER={v.filters})"
    if v.population_af is not None and v.population_af >= th.germline_population_af:
        return f"germline polymorphism (population AF {v.population_af:g})"
    if v.normal_alt_reads is not None and v.normal_alt_reads >= th.normal_max_alt_reads:
        return (f"present in the matched normal ({v.normal_alt_reads} alt reads): germline or "
                "clonal haematopoiesis")
    return None


def _low_support(v: Variant, th: Thresholds) -> list[str]:
    """Why a variant's support is too weak to act on; unknown read counts are never "enough"."""
    why = []
    if v.filters not in ("PASS", "."):
        why.append(f"caller FILTER={v.filters}")
    if v.depth is None and v.alt_reads is None:
        why.append("read counts unknown (no depth or alt reads in the VCF)")
    else:
        if v.depth is None or v.depth < th.min_depth:
            why.append(f"depth {v.depth if v.depth is not None else 'unknown'} < {th.min_depth:g}")
        if v.alt_reads is None or v.alt_reads < th.min_alt_reads:
            why.append(f"alt reads {v.alt_reads if v.alt_reads is not None else 'unknown'} < {th.min_alt_reads:g}")
    if v.vaf is None or v.vaf < th.min_vaf:
        why.append(f"VAF {v.vaf if v.vaf is not None else 'unknown'} < {th.min_vaf:g}")
    return why


def _possible_chip(v: Variant, ctx: Context) -> bool:
    """A plasma variant in a clonal-haematopoiesis gene with no matched white-blood-cell normal.

    CH genes: constants.CH_GENES (DNMT3A, TET2, ASXL1 carry most CH mutations in blood: Jaiswal et
    al., N Engl J Med 2014;371(26):2488-98, "Age-related clonal hematopoiesis associated with
    adverse outcomes"; Genovese et al., N Engl J Med 2014;371(26):2477-87,
    doi:10.1056/NEJMoa1409405; CH variants are a main source of plasma cfDNA variants: Razavi et
    al. 2019, "High-intensity sequencing reveals the sources of plasma circulating cell-free DNA
    variants"). Such a call is never actionable alone: it is low support with a CHIP caution.
    Catalogue resistance genes outside this list (KRAS G12C, EGFR C797S ...) are not CH calls."""
    return ctx.specimen == "plasma" and v.gene in C.CH_GENES and not ctx.has_normal


def phase_of(a: Variant, b: Variant) -> str:
    """cis / trans / undetermined from phased genotypes (``0|1``) sharing a phase set (PS)."""
    ga, gb = a.genotype or "", b.genotype or ""
    if "|" not in ga or "|" not in gb:
        return "undetermined"
    if a.phase_set is not None and b.phase_set is not None and a.phase_set != b.phase_set:
        return "undetermined"
    ha = [x != "0" and x != "." for x in ga.split("|")]
    hb = [x != "0" and x != "." for x in gb.split("|")]
    if len(ha) != 2 or len(hb) != 2:
        return "undetermined"
    if (ha[0] and hb[0]) or (ha[1] and hb[1]):
        return "cis"
    return "trans"


def _entry_fields(e: Entry, ctx: Context) -> dict:
    current = [d for d in ctx.therapy if d in e.resists]
    return {
        "entry_id": e.id, "catalogue_alteration": e.alteration, "mechanism": e.mechanism,
        "driver_context": e.driver, "resists": list(e.resists), "resists_current": current,
        "options": list(e.options), "option_evidence": e.option_evidence,
        "option_weights": {o: dict(w) for o, w in e.option_weights.items()}, "level": e.level,
        "evidence": e.evidence, "citations": list(e.citations), "source": e.source, "note": e.note,
    }


def _status(e: Entry, ctx: Context, excluded: str | None, low: list[str]) -> str:
    if excluded:
        return "excluded"
    if e.driver not in (ctx.driver, "any"):
        return "out_of_context"
    if e.mechanism == "sensitivity":  # e.g. CIViC "Sensitivity/Response": never a resistance call
        return "sensitivity_evidence"
    current = [d for d in ctx.therapy if d in e.resists]
    if low and (current or not ctx.therapy):
        return "resistance_low_support"
    if current:
        return "actionable_resistance"
    return "resistance_other_drugs"


def _variant_fields(v: Variant) -> dict:
    return {"variant": v.key, "vaf": v.vaf, "depth": v.depth, "alt_reads": v.alt_reads,
            "transcript": v.transcript, "hgvsc": v.hgvsc, "annotation": v.annotation,
            "exon": v.exon, "population_af": v.population_af, "filter": v.filters}


def interpret(ctx: Context, variants: list[Variant], cnvs: dict[str, GeneCopyNumber],
              catalogue: Catalogue, th: Thresholds, cnv_given: bool,
              read_phaser: Callable[[Variant, Variant], Any] | None = None,
              build_check: dict | None = None, extra_calls: list[dict] | None = None,
              extra_limitations: list[str] | None = None) -> dict:
    """The report model for one sample (see ``report.py`` for how it is rendered).

    build_check: ``{"status": "verified"|"not_verified", "reason": ..., "evidence": [...]}`` from
    :func:`ctresist.genes.verify_build`; when the build is not verified a negative result says so
    in the headline and in ``summary.limitations`` (None: the caller vouches for the build).

    read_phaser: when the VCF does not phase two catalogue mutations, a function giving
    :class:`ctresist.phasing.PhaseEvidence` from reads (a BAM/CRAM of the sample), or None.

    extra_calls: calls made elsewhere with the same keys (fusions: :func:`ctresist.fusions.
    assess_fusions`), collapsed and summarised with the rest; extra_limitations: lines added to
    ``summary.limitations`` (fusions not examined, ctDNA read-level findings ...).
    """
    calls: list[dict] = []
    not_interpretable: list[dict] = []
    other: list[dict] = []
    genes = set(catalogue.genes)
    by_gene: dict[str, list[tuple[Variant, protein.ProteinChange]]] = {}
    for v in variants:
        if v.gene not in genes:
            continue
        change = v.change
        if v.problem or change is None:
            if v.problem or (v.consequence and "coding" in v.consequence and not v.hgvsp):
                not_interpretable.append({"gene": v.gene, "variant": v.key, "record": v.record,
                                          "reason": v.problem or "no protein change"})
            else:
                other.append({"gene": v.gene, "variant": v.key, "change": "",
                              "consequence": v.consequence or "", "vaf": v.vaf})
            continue
        by_gene.setdefault(v.gene, []).append((v, change))
    for gene, obs in by_gene.items():
        entries = catalogue.for_gene(gene)
        matched_any: set[str] = set()
        for v, ch in obs:
            excl = _exclusion(v, ctx, th)
            low = _low_support(v, th) + _chip_reason(v, ctx) + _germline_reason(v, ctx)
            cautions = _cautions(v, ctx)
            hits = [e for e in entries if e.kind in ("protein", "residue")
                    and protein.matches(ch, e.components[0])]
            # an exact entry hides the residue-level entries of its own context and source (a
            # curated G1202R hides curated G1202X; a CIViC residue row stays beside it)
            exact_ctx = {(e.driver, e.source) for e in hits if e.kind == "protein"}
            hits = [e for e in hits if e.kind == "protein" or (e.driver, e.source) not in exact_ctx]
            if ch.kind in ("missense", "del", "ins", "dup", "delins") and is_activating(gene, ch, catalogue.activating):
                hits += [e for e in entries if e.kind == "activating_mutation"]
            if ch.kind in ("nonsense", "fs") or (gene == "TP53" and ch.kind == "missense"
                                                  and ch.start in C.TP53_LOF_RESIDUES):
                hits += [e for e in entries if e.kind == "loss"]
            for e in hits:
                matched_any.add(v.key)
                calls.append({"status": _status(e, ctx, excl, low), "gene": gene, "alteration": ch.text,
                              **_variant_fields(v), "copy_number": None, "phase": "",
                              "support": "; ".join(low) or "ok", "excluded_reason": excl or "",
                              "cautions": cautions, **_entry_fields(e, ctx)})
            if v.key not in matched_any:
                other.append({"gene": gene, "variant": v.key, "change": ch.text,
                              "consequence": v.consequence or "", "vaf": v.vaf})
        calls += _compounds(gene, obs, entries, ctx, th, read_phaser)
    calls += _copy_number_calls(cnvs, catalogue, ctx, th)
    calls += list(extra_calls or [])
    calls = _collapse(calls, ctx, other)
    # TP53 inactivation alone is common at baseline and means nothing for the next drug: it is a
    # finding only together with RB1 loss (small-cell transformation hint)
    lost = {c["gene"] for c in calls if c["catalogue_alteration"] == "loss" and c["status"] != "excluded"}
    if "RB1" not in lost:
        for c in [c for c in calls if c["gene"] == "TP53" and c["catalogue_alteration"] == "loss"]:
            calls.remove(c)
            other.append({"gene": "TP53", "variant": c["variant"], "change": c["alteration"],
                          "consequence": "TP53 inactivation (no RB1 loss found)", "vaf": c["vaf"]})
    for c in calls:
        if c["citations"] and all(x.startswith("UNVERIFIED:") for x in c["citations"]):
            c["cautions"] = c["cautions"] + ["the catalogue entry's citation is not verified "
                                             "(no PMID/DOI seen in a source): review before acting"]
    calls.sort(key=lambda c: (STATUS_ORDER.index(c["status"]), "+" not in c["alteration"],
                              c["gene"], c["alteration"], c["entry_id"]))
    limitations = limitations_of(build_check, cnv_given, not_interpretable) + list(extra_limitations or [])
    return {"calls": calls, "not_interpretable": not_interpretable, "other_variants": other,
            "summary": _summary(calls, ctx, limitations, build_check, len(not_interpretable))}


def _collapse(calls: list[dict], ctx: Context, other: list[dict]) -> list[dict]:
    """Keep what a reader needs: for an alteration matched in the sample's own driver context the
    entries of other contexts are dropped; otherwise one row lists every context it matched in.
    The driver's own mutation is not a finding: the allele that defines the context (KRAS G12C in
    a "KRAS G12C" tumour, even where a residue entry such as KRAS G12X would match it) and, in an
    EGFR-mutant tumour, an EGFR activating mutation matched only outside its context. The
    driver allele is listed under ``other`` (appended to) as the driver."""
    by_alt: dict[tuple[str, str, str], list[dict]] = {}
    for c in calls:
        by_alt.setdefault((c["gene"], c["alteration"], c["variant"]), []).append(c)
    out = []
    for (gene, alteration, variant), group in by_alt.items():
        if is_driver_alteration(ctx.driver, gene, alteration):
            other.append({"gene": gene, "variant": variant, "change": alteration,
                          "consequence": "the sample's driver mutation", "vaf": group[0]["vaf"]})
            continue
        own = [c for c in group if c["driver_context"] in (ctx.driver, "any")]
        if own:
            out += own
            continue
        if ctx.driver == f"{gene} mutation":
            other.append({"gene": gene, "variant": variant, "change": alteration,
                          "consequence": f"{gene} activating mutation (the driver context)",
                          "vaf": group[0]["vaf"]})
            continue
        first = dict(group[0])
        first["driver_context"] = "; ".join(dict.fromkeys(c["driver_context"] for c in group))
        first["entry_id"] = "; ".join(c["entry_id"] for c in group)
        out.append(first)
    return out


def _cautions(v: Variant, ctx: Context) -> list[str]:
    out = _germline_caution(v, ctx)
    if _possible_chip(v, ctx):
        out.append(f"possible CHIP: {v.gene} is often mutated in clonal haematopoiesis; without a "
                   "matched white-blood-cell normal this plasma variant may not be tumour-derived")
    return out


def _chip_reason(v: Variant, ctx: Context) -> list[str]:
    return [f"possible CHIP ({v.gene} in plasma without a matched normal)"] if _possible_chip(v, ctx) else []


#: Germline-like VAF without a matched normal. A heterozygous germline allele sits near 50 %
#: (reference-mapping bias and capture pull it a few points either way), a homozygous one near
#: 100 %. Flagged: depth >= 50 and VAF in [0.4, 0.6] or binomially consistent with 0.5 (its 95 %
#: Clopper-Pearson CI contains 0.5, which widens the band at low depth: about 0.36-0.64 at 50x),
#: or VAF >= 0.9. Below 50x the VAF is too noisy to say (the depth itself is then the caution).
GERMLINE_HET_VAF = (0.4, 0.6)
GERMLINE_HOM_VAF = 0.9
GERMLINE_MIN_DEPTH = 50
#: A somatic VAF near 50 % needs a high tumour fraction: a clonal heterozygous mutation has a
#: VAF near TF/2, and even with 4-5 mutant copies (amplified allele) it reaches about 0.5 only
#: from TF ~0.3. Below this (or unknown), a germline-like plasma VAF is not enough to act on.
SOMATIC_PLAUSIBLE_TF = 0.3


def _tumour_fraction(ctx: Context) -> float | None:
    """The sheet's tumour fraction, else the one annotate chose (purity file or VAF estimate),
    which it records as ``ctx.extra["tumor_fraction"]``."""
    if ctx.tumor_fraction is not None:
        return ctx.tumor_fraction
    try:
        return float(ctx.extra["tumor_fraction"])
    except (KeyError, TypeError, ValueError):
        return None


def _germline_like(v: Variant, ctx: Context) -> str | None:
    """"heterozygous" / "homozygous" when a variant's VAF looks germline and there is no matched
    normal to tell (a matched normal excludes germline variants by their alt reads)."""
    if ctx.has_normal or v.depth is None or v.alt_reads is None or v.depth < GERMLINE_MIN_DEPTH:
        return None
    from ctresist.stats import vaf_ci

    alt = min(int(v.alt_reads), int(v.depth))
    vaf = v.vaf if v.vaf is not None else alt / v.depth
    if vaf >= GERMLINE_HOM_VAF:
        return "homozygous"
    lo, hi = vaf_ci(alt, int(v.depth))
    if GERMLINE_HET_VAF[0] <= vaf <= GERMLINE_HET_VAF[1] or lo <= 0.5 <= hi:
        return "heterozygous"
    return None


def _germline_caution(v: Variant, ctx: Context) -> list[str]:
    kind = _germline_like(v, ctx)
    if kind is None:
        return []
    near = "50 %" if kind == "heterozygous" else "100 %"
    text = (f"possible germline: VAF {v.vaf if v.vaf is not None else v.alt_reads / v.depth:.1%} "
            f"({v.alt_reads} of {v.depth} reads) is near the {near} of a {kind} germline allele "
            "and there is no matched normal; confirm somatic status (matched normal or germline test)")
    tf = _tumour_fraction(ctx)
    if ctx.specimen == "tissue":
        text += ("; not downgraded: a clonal somatic mutation in a tissue sample of high purity can "
                 "reach this VAF")
    elif tf is not None and tf >= SOMATIC_PLAUSIBLE_TF:
        text += f"; tumour fraction {tf:.0%} makes a somatic VAF this high plausible"
    return [text]


def _germline_reason(v: Variant, ctx: Context) -> list[str]:
    """Low support for a germline-like plasma VAF unless the tumour fraction (>= 0.3) makes a
    somatic VAF that high plausible. Tissue is only cautioned: high purity with loss of the other
    allele or amplification gives clonal resistance mutations such VAFs."""
    if ctx.specimen != "plasma" or _germline_like(v, ctx) is None:
        return []
    tf = _tumour_fraction(ctx)
    if tf is not None and tf >= SOMATIC_PLAUSIBLE_TF:
        return []
    return ["possible germline (germline-like VAF without a matched normal; tumour fraction "
            + ("unknown)" if tf is None else f"{tf:.0%} makes a somatic VAF this high implausible)")]


def _compounds(gene: str, obs: list[tuple[Variant, protein.ProteinChange]], entries: list[Entry],
               ctx: Context, th: Thresholds, read_phaser=None) -> list[dict]:
    out = []
    read_phase: dict[tuple[str, str], Any] = {}
    for e in (x for x in entries if x.kind == "compound"):
        comps = e.components
        for combo in permutations(obs, len(comps)):
            if not all(protein.matches(ch, spec) for (_, ch), spec in zip(combo, comps)):
                continue
            combo = tuple(sorted(combo, key=lambda o: o[0].pos))
            phases = set()
            evidence = []
            for (a, _), (b, _) in combinations(combo, 2):
                ph = phase_of(a, b)
                if ph == "undetermined" and read_phaser is not None:
                    key = (a.key, b.key)
                    if key not in read_phase:
                        read_phase[key] = read_phaser(a, b)
                    ev = read_phase[key]
                    if ev is not None:
                        ph = ev.phase
                        evidence.append(f"reads: {ev.note}")
                phases.add(ph)
            phase = phases.pop() if len(phases) == 1 else "undetermined"
            if e.phase != "any" and phase not in (e.phase, "undetermined"):
                continue
            vs = [v for v, _ in combo]
            excl = next((x for x in (_exclusion(v, ctx, th) for v in vs) if x), None)
            low = [w for v in vs for w in _low_support(v, th) + _chip_reason(v, ctx) + _germline_reason(v, ctx)]
            if phase == "undetermined" and e.phase in ("cis", "trans"):
                # the entry's meaning depends on the phase: never actionable until it is known
                low.append(f"phase undetermined, entry requires {e.phase}")
            cautions = list(evidence) + [w for v in vs for w in _cautions(v, ctx)]
            if phase == "undetermined" and e.phase in ("cis", "trans"):
                cautions.append(f"phase undetermined: this entry assumes {e.phase}; the "
                                "reads do not tell (give a BAM or phased calls)")
            vafs = [v.vaf for v in vs if v.vaf is not None]
            out.append({"status": _status(e, ctx, excl, low), "gene": gene,
                        "alteration": "+".join(ch.text for _, ch in combo),
                        "variant": ";".join(v.key for v in vs), "vaf": min(vafs) if vafs else None,
                        "depth": min((v.depth for v in vs if v.depth is not None), default=None),
                        "alt_reads": min((v.alt_reads for v in vs if v.alt_reads is not None), default=None),
                        "transcript": vs[0].transcript, "hgvsc": ";".join(v.hgvsc or "" for v in vs),
                        "annotation": vs[0].annotation, "copy_number": None, "phase": phase,
                        "support": "; ".join(low) or "ok", "excluded_reason": excl or "",
                        "cautions": cautions, **_entry_fields(e, ctx)})
    return out


def _copy_number_calls(cnvs: dict[str, GeneCopyNumber], catalogue: Catalogue, ctx: Context,
                       th: Thresholds) -> list[dict]:
    """Amplification / broad gain / loss calls from gene copy number (:mod:`ctresist.io.cnv`).

    The tumour's own copy number is used when known (absolute input, or relative input corrected
    once with the tumour fraction); a gain whose run covers >= ``focal_max_fraction`` of the
    gene's chromosome arm is a broad gain, never an amplification. A segment filtered by the
    caller (copy-number VCF FILTER such as ``cnvQual``), or relative copy number corrected with a
    tumour fraction that was only estimated from VAFs (``ctx.extra["tumor_fraction_method"]``),
    gives "possible, confirm" (low support), never an actionable call."""
    out = []
    estimated = ctx.extra.get("tumor_fraction_method") == "estimated from VAF"
    for gene, g in cnvs.items():
        cn = g.adjusted_cn if g.adjusted_cn is not None else g.copy_number
        if cn is None:
            continue
        entries = catalogue.for_gene(gene)
        low: list[str] = []
        cautions: list[str] = []
        kind = None
        corrected = g.adjusted_cn is not None
        if cn >= th.amplification_min_cn or (ctx.specimen == "plasma" and not corrected
                                             and cn >= th.plasma_uncorrected_min_cn):
            kind = "amplification"
            if not corrected and ctx.specimen == "plasma" and cn < th.amplification_min_cn:
                low.append(f"plasma copy number {cn:g} without tumour fraction: possible "
                           f"amplification, below {th.amplification_min_cn:g} copies as observed")
            if g.amplified_span_fraction is not None and g.amplified_span_fraction >= th.focal_max_fraction:
                cautions.append(f"gain spans {g.amplified_span_fraction:.0%} of chromosome arm "
                                f"{g.arm or g.chrom}: broad (arm-level or whole-chromosome) gain, "
                                "not focal amplification")
                kind = "broad_gain"
        elif cn <= th.deletion_max_cn:
            kind = "loss"
        if kind is None:
            continue
        if g.filters:
            low.append(f"copy-number caller FILTER={g.filters}")
        if g.tf_corrected and estimated:
            low.append(f"copy number {g.copy_number:g} corrected to {cn:g} with a tumour fraction "
                       "estimated from variant allele fractions; confirm (give tumor_fraction or "
                       "a purity file)")
        if kind == "broad_gain":
            for e in (x for x in entries if x.kind == "amplification"):
                out.append(_cn_call("excluded", gene, "broad gain", g, cn, e, ctx, low,
                                    "broad gain, not focal amplification", cautions))
            continue
        for e in (x for x in entries if x.kind == kind):
            out.append(_cn_call(_status(e, ctx, None, low), gene, kind, g, cn, e, ctx, low, "",
                                cautions))
    return out


def _cn_call(status: str, gene: str, alteration: str, g: GeneCopyNumber, cn: float, e: Entry,
             ctx: Context, low: list[str], excl: str, cautions: list[str]) -> dict:
    """``cn_source``: the CNV file's format and column (``source`` is the catalogue's source)."""
    return {"status": status, "gene": gene, "alteration": alteration, "variant": "",
            "vaf": None, "depth": None, "alt_reads": None, "transcript": None, "hgvsc": None,
            "annotation": "CNV", "copy_number": g.copy_number, "adjusted_copy_number": g.adjusted_cn,
            "cn_kind": g.cn_kind, "tf_corrected": g.tf_corrected, "cn_source": g.source,
            "baseline_ratio": g.baseline_ratio, "arm": g.arm,
            "amplified_span_fraction": g.amplified_span_fraction, "cn_filters": g.filters,
            "phase": "", "support": "; ".join(low) or "ok", "excluded_reason": excl,
            "cautions": cautions, **_entry_fields(e, ctx)}


def _confirmed(c: dict) -> bool:
    """A resistance finding solid enough to rule drugs out: matched in context, enough read
    support (known read counts), not excluded and not read through a compound call."""
    return (c["status"] in ("actionable_resistance", "resistance_other_drugs") and c["support"] == "ok"
            and not c.get("subsumed_by"))


def _finding(c: dict) -> tuple[str, str, str]:
    """What a call is about, whatever catalogue entry matched it: gene, alteration, variant."""
    return (c["gene"], c["alteration"], c["variant"])


def _mark_subsumed(calls: list[dict]) -> None:
    """A single-mutation call whose variant is part of a confirmed compound call (same context) is
    read through the compound: it stays listed but no longer drives the summary. A compound whose
    phase or support is in doubt subsumes nothing: the single mutations stand on their own."""
    for comp in (c for c in calls if "+" in c["alteration"] and _confirmed(c)):
        parts = set(comp["variant"].split(";"))
        for c in calls:
            if "+" not in c["alteration"] and c["variant"] in parts and c["driver_context"] == comp["driver_context"]:
                c["subsumed_by"] = comp["entry_id"]


def _label(c: dict) -> str:
    return f"{c['gene']} {c['alteration']}"


def _summary(calls: list[dict], ctx: Context, limitations: list[str] | None = None,
             build_check: dict | None = None, n_not_interpretable: int = 0) -> dict:
    _mark_subsumed(calls)
    actionable = [c for c in calls if c["status"] == "actionable_resistance" and not c.get("subsumed_by")]
    confirmed = [c for c in calls if _confirmed(c)]
    doubtful = [c for c in calls if c["status"] in ("actionable_resistance", "resistance_other_drugs",
                                                    "resistance_low_support")
                and not c.get("subsumed_by") and not _confirmed(c)]
    resisted = sorted({d for c in confirmed for d in c["resists"]})
    options: list[str] = []
    in_doubt: dict[str, list[str]] = {}
    # an option survives only if no confirmed finding other than the one offering it (compared by
    # gene, alteration and variant, never by the alteration's name alone) resists one of its drugs
    for c in [c for c in actionable if _confirmed(c)] or confirmed:
        for o in c["options"]:
            drugs = o.split("+")
            if o in options or any(d in c2["resists"] for c2 in confirmed
                                   if _finding(c2) != _finding(c) for d in drugs):
                continue
            options.append(o)
            against = [_label(c2) for c2 in doubtful if _finding(c2) != _finding(c)
                       and any(d in c2["resists"] for d in drugs)]
            if against:
                in_doubt[o] = list(dict.fromkeys(against))
    lost = {c["gene"] for c in calls if c["catalogue_alteration"] == "loss" and c["status"] != "excluded"}
    hint = ""
    if {"TP53", "RB1"} <= lost:
        hint = ("TP53 and RB1 both inactivated: small-cell transformation is possible; consider a "
                "re-biopsy for histology")
        if all("possible CHIP" in w for c in calls if c["gene"] == "TP53" for w in c["cautions"][:1]):
            hint += " (the TP53 variant may be clonal haematopoiesis: no matched normal)"
    return {
        "transformation_hint": hint,
        "actionable": bool(actionable),
        "n_actionable": len(actionable),
        "headline": _headline(actionable, calls, ctx, build_check, n_not_interpretable),
        "current_therapy_resisted": sorted({d for c in actionable for d in c["resists_current"]}),
        "drugs_resisted": resisted,
        "remaining_options": options,
        "options_in_doubt": in_doubt,
        "limitations": list(limitations or []),
    }


def _headline(actionable: list[dict], calls: list[dict], ctx: Context,
              build_check: dict | None = None, n_not_interpretable: int = 0) -> str:
    if actionable:
        alts = ", ".join(dict.fromkeys(_label(c) for c in actionable))
        drugs = ", ".join(sorted({d for c in actionable for d in c["resists_current"]}))
        return f"Resistance to {drugs} detected: {alts}"
    if any(c["status"] == "resistance_low_support" for c in calls):
        return "Possible resistance with low read support: confirm before acting"
    other = [c for c in calls if c["status"] == "resistance_other_drugs" and c["resists"]
             and not c.get("subsumed_by")]
    if other and not ctx.therapy:
        alts = ", ".join(dict.fromkeys(_label(c) for c in other))
        return f"Resistance alterations detected ({alts}); no current therapy given: see which drugs each resists"
    if build_check and build_check.get("status") != "verified":
        return ("No catalogue resistance found, but the genome build could not be verified: "
                f"{build_check.get('reason', 'no evidence of the build in the VCF')}")
    if n_not_interpretable:
        return (f"No catalogue resistance found among the interpretable variants, but "
                f"{n_not_interpretable} variant(s) in catalogue genes could not be interpreted: "
                "see 'not interpretable'")
    return "No resistance to the current therapy detected among the examined alterations"


def limitations_of(build_check: dict | None, cnv_given: bool, not_interpretable: list[dict]) -> list[str]:
    """What this sample's report could not examine, each said in one line (shown at the top)."""
    out = []
    if build_check and build_check.get("status") != "verified":
        out.append(f"genome build not verified: {build_check.get('reason', '')}".rstrip(": "))
    if not cnv_given:
        out.append("no copy-number file: amplifications and deletions (MET, ERBB2, RB1 ...) were "
                   "not examined")
    if not_interpretable:
        out.append(f"{len(not_interpretable)} variant(s) in catalogue genes could not be interpreted "
                   "(see 'not interpretable')")
    return out


def context_dict(ctx: Context) -> dict:
    return asdict(ctx)
