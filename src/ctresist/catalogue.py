"""The one catalogue loader: resistance entries (curated + imported sources), drug vocabulary and
activating-mutation definitions, validated against ``annotations/catalogue/entry.schema.json``.

Every entry cites its source; every drug is in the vocabulary; every protein change parses.
"""
from __future__ import annotations

import difflib
import hashlib
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from ctresist import protein
from ctresist.errors import InputError
from ctresist.genes import annotations_dir

COLUMNS = ["id", "gene", "alteration", "phase", "mechanism", "driver", "resists", "options",
           "option_levels", "level", "evidence", "citations", "clinical", "curation"]
SPECIAL = {"amplification", "activating_mutation", "loss", "fusion"}
#: Evidence behind one remaining option, strongest first (annotations/README.md defines each).
OPTION_LEVELS = ("approved", "guideline", "clinical_trial", "case_series", "case_report",
                 "preclinical", "expert_opinion")
#: AMP/ASCO/CAP evidence level of the resistance call (Li et al. 2017, J Mol Diagn 19:4-23):
#: A and B are tier I (strong), C and D tier II (potential) significance.
CALL_LEVELS = ("A", "B", "C", "D")
DRUG_STATUS = ("approved", "investigational")
#: Off-target mechanisms: independent of the driver kinase, so they resist every drug of the driver.
OFF_TARGET = ("bypass_amplification", "bypass_activation", "bypass_fusion", "downstream_reactivation")
#: Words that belong in the curation field, never in the clinical text a report shows.
CURATION_MARKERS = re.compile(
    r"\b(?:lines?|rows?) \d|\bCGI\b|CIViC|\bMOA|moalmanac|VERIFY|UNVERIFIED|placeholder|\bbrief\b|"
    r"excerpt|retriev|markup|html|\.md\b|\.tsv\b|\bseed\b|\bpage\b|abstract|not read|https?://|"
    r"curat|TODO", re.IGNORECASE)
#: A path of some machine (the project's files are referred to relative to the repository).
MACHINE_PATH = re.compile(r"(?:^|[\s(\'\"=])(?:/(?:work|home|tmp|Users|root|mnt|scratch)/|~/|[A-Za-z]:\\)")


@dataclass(frozen=True)
class Entry:
    """One catalogue assertion: an alteration of ``gene`` in a ``driver`` context, the drugs it
    resists and the options that remain, each option with the evidence behind it.

    ``clinical`` is the statement a report shows; ``curation`` records how the row was sourced and
    stays in the catalogue. ``option_weights`` maps each option to ``{"level": <OPTION_LEVELS>,
    "status": "approved" | "investigational", "investigational": [drugs]}``; a combination is
    investigational when any of its drugs is.
    """

    id: str
    gene: str
    alteration: str
    phase: str
    mechanism: str
    driver: str
    resists: tuple[str, ...]
    options: tuple[str, ...]
    option_levels: tuple[str, ...]
    level: str
    evidence: str
    citations: tuple[str, ...]
    clinical: str
    curation: str
    source: str = "curated"
    line: int = 0
    file: str = field(default="", compare=False)
    option_weights: dict[str, dict] = field(default_factory=dict, compare=False, hash=False)

    @property
    def note(self) -> str:
        """What reports show: the clinical statement only (never the curation remarks)."""
        return self.clinical

    @property
    def option_evidence(self) -> str:
        """One line per option for plain-text renderers: ``lorlatinib: approved; neladalkib:
        preclinical (investigational)``."""
        return "; ".join(f"{o}: {w['level'].replace('_', ' ')}"
                         + (" (investigational)" if w["status"] == "investigational" else "")
                         for o, w in self.option_weights.items())

    @property
    def kind(self) -> str:
        """amplification | activating_mutation | loss | fusion | compound | residue | protein

        ``fusion``: an active fusion with this gene as the kinase partner (matched by
        :mod:`ctresist.fusions`, never by small variants or copy number)."""
        if self.alteration in SPECIAL:
            return self.alteration
        if "+" in self.alteration:
            return "compound"
        return "residue" if self.alteration.endswith("X") and protein.parse(self.alteration).kind == "residue" else "protein"

    @property
    def components(self) -> tuple[protein.ProteinChange, ...]:
        if self.alteration in SPECIAL:
            return ()
        return tuple(protein.parse(p) for p in self.alteration.split("+"))  # type: ignore[misc]


@dataclass
class DrugVocabulary:
    """Generic drug names with synonyms; resolves what a user writes in ``therapy``."""

    drugs: dict[str, dict[str, str]]
    synonyms: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, row in self.drugs.items():
            self.synonyms[_key(name)] = name
            for s in filter(None, row.get("synonyms", "").split(";")):
                self.synonyms[_key(s)] = name

    def resolve(self, text: str) -> str | None:
        return self.synonyms.get(_key(text))

    def closest(self, text: str, n: int = 3) -> list[str]:
        keys = difflib.get_close_matches(_key(text), list(self.synonyms), n=n, cutoff=0.6)
        out: list[str] = []
        for k in keys:
            if self.synonyms[k] not in out:
                out.append(self.synonyms[k])
        return out

    def parse_therapy(self, text: str, where: str) -> list[str]:
        """Drugs of a therapy string such as ``"Alecensa"`` or ``"osimertinib + savolitinib"``."""
        if not text or not text.strip() or text.strip().lower() in ("none", "na", "-"):
            return []
        out: list[str] = []
        for part in re.split(r"\s*(?:[,;+/&]|\band\b|\bplus\b)\s*", text.strip()):
            if not part:
                continue
            name = self.resolve(part)
            if name is None:
                hint = self.closest(part)
                tip = f"; did you mean {' or '.join(hint)}?" if hint else "; see annotations/drugs.tsv"
                raise InputError(f"{where}: unknown drug {part!r}{tip}")
            if name not in out:
                out.append(name)
        return out

    def drug_class(self, name: str) -> str:
        return self.drugs.get(name, {}).get("class", "")

    def status(self, name: str) -> str:
        """``approved`` (FDA or EMA approved for some indication) or ``investigational``."""
        return self.drugs.get(name, {}).get("status", "")

    def targets(self, name: str) -> set[str]:
        return {t.strip() for t in self.drugs.get(name, {}).get("targets", "").split(";") if t.strip()}


def _key(s: str) -> str:
    return re.sub(r"[\s_\-]", "", s.strip().lower())


@dataclass
class Catalogue:
    """All entries of all sources, with version and checksum for stamping reports."""

    version: str
    sha256: str
    entries: list[Entry]
    drugs: DrugVocabulary
    genes: list[str]
    drivers: list[str]
    activating: dict[str, list[str]]
    files: list[str]
    sources: dict[str, int] = field(default_factory=dict)
    #: the targeted drugs of each driver context (catalogue.yaml ``drivers``)
    driver_drugs: dict[str, list[str]] = field(default_factory=dict)

    def for_gene(self, gene: str) -> list[Entry]:
        return [e for e in self.entries if e.gene == gene]


def _read_tsv(path: Path) -> list[tuple[int, dict[str, str]]]:
    with open(path, encoding="utf-8", newline="") as fh:
        lines = [(i, ln) for i, ln in enumerate(fh, start=1) if ln.strip() and not ln.startswith("#")]
    if not lines:
        return []
    header = lines[0][1].rstrip("\r\n").split("\t")
    out = []
    for lineno, ln in lines[1:]:
        vals = ln.rstrip("\r\n").split("\t")
        if len(vals) != len(header):
            raise InputError(f"{path}:{lineno}: {len(vals)} columns, header has {len(header)}")
        out.append((lineno, dict(zip(header, vals))))
    return out


def _split(s: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in s.split(";") if x.strip())


def load_drugs(path: Path | None = None) -> DrugVocabulary:
    p = path or annotations_dir() / "drugs.tsv"
    rows = _read_tsv(p)
    for lineno, row in rows:
        if row.get("status") not in DRUG_STATUS:
            raise InputError(f"{p}:{lineno}: column 'status': expected {' or '.join(DRUG_STATUS)}, "
                             f"got {row.get('status')!r}")
    return DrugVocabulary({row["drug"]: row for _, row in rows})


@lru_cache(maxsize=4)
def _validator(schema_json: str):
    """One compiled validator per schema (compiling per row made loading 10x slower)."""
    import jsonschema  # ~0.1 s of imports: only when a catalogue is validated row by row

    schema = json.loads(schema_json)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def validate_entry(row: dict[str, str], where: str, schema: dict, meta: dict,
                   drugs: DrugVocabulary) -> None:
    """Raise InputError for the first problem of one catalogue row (schema, then semantics)."""
    import jsonschema

    try:
        _validator(json.dumps(schema, sort_keys=True)).validate(row)
    except jsonschema.ValidationError as exc:
        col = exc.path[0] if exc.path else (exc.message.split("'")[1] if "'" in exc.message else "?")
        raise InputError(f"{where}: column {col!r}: {exc.message}") from None
    if row["gene"] not in meta["genes"]:
        raise InputError(f"{where}: column 'gene': unknown gene {row['gene']!r}; allowed: "
                         f"{', '.join(meta['genes'])}")
    alt = row["alteration"]
    if alt not in SPECIAL:
        for part in alt.split("+"):
            if not protein.is_valid_spec(part):
                raise InputError(f"{where}: column 'alteration': malformed protein change "
                                 f"{part!r}; write e.g. G1202R, G1202X, E746_A750del or "
                                 "G1202R+L1196M")
    if ("+" in alt) != bool(row.get("phase")):
        raise InputError(f"{where}: column 'phase': required for compound alterations and only "
                         "for them (cis, trans or any)")
    if row["driver"] != "any" and row["driver"] not in meta["drivers"]:
        raise InputError(f"{where}: column 'driver': unknown driver context {row['driver']!r}; "
                         f"allowed: {', '.join(meta['drivers'])}, any")
    options, levels = _split(row.get("options", "")), _split(row.get("option_levels", ""))
    if len(options) != len(levels):
        raise InputError(f"{where}: column 'option_levels': {len(levels)} level(s) for "
                         f"{len(options)} option(s); give one of {', '.join(OPTION_LEVELS)} per option")
    for lv in levels:
        if lv not in OPTION_LEVELS:
            raise InputError(f"{where}: column 'option_levels': unknown level {lv!r}; allowed: "
                             f"{', '.join(OPTION_LEVELS)}")
    for col in ("resists", "options"):
        for item in _split(row.get(col, "")):
            for d in item.split("+"):
                if d.strip() not in drugs.drugs:
                    hint = drugs.closest(d)
                    raise InputError(f"{where}: column {col!r}: drug {d.strip()!r} is not in "
                                     f"annotations/drugs.tsv" + (f" (closest: {', '.join(hint)})" if hint else ""))


@lru_cache(maxsize=4)
def load_catalogue(folder: str | None = None, check_rows: bool = False) -> Catalogue:
    """Load and validate every catalogue file listed in ``catalogue.yaml``, then check the
    catalogue-wide rules (:func:`validate_rules`): a catalogue that breaks one does not load.

    ``sha256`` covers catalogue.yaml, every catalogue file and every knowledge file it names
    (drugs, gene models, known alleles, chromosome sizes): each can change a call.
    """
    base = Path(folder) if folder else annotations_dir() / "catalogue"
    meta_path = base / "catalogue.yaml"
    with open(meta_path, encoding="utf-8") as fh:
        meta = yaml.safe_load(fh)
    with open(base / "entry.schema.json", encoding="utf-8") as fh:
        schema = json.load(fh)
    drivers = meta["drivers"]
    meta = {**meta, "drivers": list(drivers)}
    drugs = load_drugs(base.parent / "drugs.tsv")
    files = [meta_path.name, "entry.schema.json", *meta.get("knowledge", []),
             *(spec["path"] for spec in meta["files"]), meta["activating"]]
    digest = hashlib.sha256()
    for rel in files:
        digest.update(rel.encode() + b"\0" + (base / rel).read_bytes() + b"\0")
    # Byte for byte the catalogue that passed every row check when it was stamped (VALIDATED,
    # kept current by the tests): the per-row schema check would find nothing, skip it. Any edit
    # changes the digest and the catalogue is checked row by row again. The catalogue-wide rules
    # (validate_rules) run at every load.
    trusted = not check_rows and _validated_stamp(base) == digest.hexdigest()
    entries: list[Entry] = []
    seen: dict[str, str] = {}
    sources: dict[str, int] = {}
    for spec in meta["files"]:
        path = base / spec["path"]
        for lineno, row in _read_tsv(path):
            where = f"{path}:{lineno}"
            if not trusted:
                validate_entry(row, where, schema, meta, drugs)
            if row["id"] in seen:
                raise InputError(f"{where}: column 'id': duplicate id {row['id']!r} (first at {seen[row['id']]})")
            seen[row["id"]] = where
            options, levels = _split(row["options"]), _split(row["option_levels"])
            entries.append(Entry(
                id=row["id"], gene=row["gene"], alteration=row["alteration"], phase=row.get("phase", ""),
                mechanism=row["mechanism"], driver=row["driver"], resists=_split(row["resists"]),
                options=options, option_levels=levels, level=row["level"], evidence=row["evidence"],
                citations=_split(row["citations"]), clinical=row["clinical"], curation=row["curation"],
                source=spec["source"], line=lineno, file=str(path),
                option_weights={o: _weight(o, lv, drugs) for o, lv in zip(options, levels)}))
            sources[spec["source"]] = sources.get(spec["source"], 0) + 1
    activating: dict[str, list[str]] = {}
    act_path = base / meta["activating"]
    for lineno, row in _read_tsv(act_path):
        if not (protein.is_valid_spec(row["spec"]) or re.fullmatch(r"(del|ins):\d+-\d+", row["spec"])):
            raise InputError(f"{act_path}:{lineno}: column 'spec': malformed {row['spec']!r}")
        activating.setdefault(row["gene"], []).append(row["spec"])
    cat = Catalogue(version=str(meta["version"]), sha256=digest.hexdigest(), entries=entries,
                    drugs=drugs, genes=list(meta["genes"]), drivers=list(drivers),
                    activating=activating, files=files, sources=sources,
                    driver_drugs={k: list((v or {}).get("drugs", [])) for k, v in drivers.items()})
    problems = validate_rules(cat)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise InputError(f"{problems[0]}{more}")
    return cat


#: The sha256 of the last catalogue that passed every row check (``ctresist catalogue stamp``);
#: not knowledge itself: it cannot change a call, only whether the rows are checked again.
VALIDATED = "validated.yaml"


def _validated_stamp(base: Path) -> str:
    try:
        with open(base / VALIDATED, encoding="utf-8") as fh:
            stamp = yaml.safe_load(fh)
    except (OSError, yaml.YAMLError):
        return ""
    return str(stamp.get("sha256", "")) if isinstance(stamp, dict) else ""


def stamp_validated(folder: str | None = None) -> str:
    """Check every row of the catalogue in ``folder`` and record its sha256 in VALIDATED (run
    after editing the catalogue; the tests fail while the stamp is out of date)."""
    base = Path(folder) if folder else annotations_dir() / "catalogue"
    cat = load_catalogue(str(base), check_rows=True)
    (base / VALIDATED).write_text(
        "# sha256 of the catalogue files (as in every report) when every row passed its checks;\n"
        "# written by `ctresist catalogue stamp` after an edit. A catalogue that differs from it\n"
        f"# is checked row by row at every load.\nsha256: {cat.sha256}\n", encoding="utf-8")
    return cat.sha256


def _weight(option: str, level: str, drugs: DrugVocabulary) -> dict:
    inv = [d for d in option.split("+") if drugs.status(d) != "approved"]
    return {"level": level, "status": "investigational" if inv else "approved", "investigational": inv}


def _where(e: Entry) -> str:
    return f"{e.file or e.source}:{e.line}: {e.id}"


def validate_rules(cat: Catalogue) -> list[str]:
    """Catalogue-wide rules, one problem per string (empty when the catalogue is sound).

    1. Every driver drug listed in catalogue.yaml is in the drug vocabulary.
    2. A curated row cites at least one verified source (PMID, DOI or FDA label), not only
       ``UNVERIFIED:`` text.
    3. No drug is both resisted and offered by one row.
    4. A curated off-target row (bypass or downstream reactivation) resists every drug of its driver
       context, except a drug the row offers because it also targets the altered gene (crizotinib
       for MET amplification): off-target resistance does not depend on which driver TKI is given.
       Imported evidence items (CIViC) keep the drugs their study tested.
    5. A residue catch-all (``G810X``) resists every drug that any specific substitution of that
       residue in the same context resists (any source), and offers only options that every specific
       substitution of its own source leaves.
    6. Level A or B (AMP/ASCO/CAP) needs clinical evidence.
    7. The clinical text holds no curation remarks (source lines, retrieval notes); no field holds a
       path of some machine.
    8. An imported row for one exact substitution (CIViC MET D1228N) has a curated row for the same
       substitution whenever a curated catch-all covers that residue in that context: an exact entry
       hides the residue entries of its context when a sample is read, so without it the curated
       catch-all (and the drugs it resists) would be lost.
    """
    problems: list[str] = []
    for drv, names in cat.driver_drugs.items():
        problems += [f"catalogue.yaml: driver {drv!r}: drug {d!r} is not in drugs.tsv"
                     for d in names if d not in cat.drugs.drugs]
    by_residue: dict[tuple[str, str, int], list[Entry]] = {}
    for e in cat.entries:
        if e.kind == "protein" and e.components[0].kind in ("missense", "residue"):
            by_residue.setdefault((e.gene, e.driver, e.components[0].start), []).append(e)
    for e in cat.entries:
        w = _where(e)
        if e.source == "curated" and not any(not c.startswith("UNVERIFIED:") for c in e.citations):
            problems.append(f"{w}: only unverified citations; cite a PMID, DOI or FDA label, or drop the row")
        offered = {d for o in e.options if "+" not in o for d in [o]}
        both = sorted(offered & set(e.resists))
        if both:
            problems.append(f"{w}: {', '.join(both)} both resisted and offered; keep it in one column")
        if e.source == "curated" and e.mechanism in OFF_TARGET and e.driver in cat.driver_drugs:
            exempt = {d for o in e.options for d in o.split("+") if e.gene in cat.drugs.targets(d)}
            missing = [d for d in cat.driver_drugs[e.driver] if d not in e.resists and d not in exempt]
            if missing:
                problems.append(f"{w}: off-target row does not resist {', '.join(missing)} of the "
                                f"{e.driver} drugs; add them to resists")
        if e.kind == "residue":
            sibs = by_residue.get((e.gene, e.driver, e.components[0].start), [])
            need = sorted({d for s in sibs for d in s.resists} - set(e.resists))
            if need:
                problems.append(f"{w}: catch-all resists fewer drugs than its specific siblings "
                                f"({', '.join(s.alteration for s in sibs)}); add {', '.join(need)}")
            curated = [s for s in sibs if s.source == e.source]
            if curated:
                common = set.intersection(*(set(s.options) for s in curated))
                extra = sorted(set(e.options) - common)
                if extra:
                    problems.append(f"{w}: catch-all offers {', '.join(extra)}, which not every "
                                    "specific sibling leaves; remove it from options")
        if e.kind == "protein" and e.source != "curated" and e.components[0].kind == "missense":
            sibs = by_residue.get((e.gene, e.driver, e.components[0].start), [])
            catch = [c for c in cat.entries if c.kind == "residue" and c.source == "curated"
                     and (c.gene, c.driver, c.components[0].start) == (e.gene, e.driver, e.components[0].start)]
            if catch and not any(s.source == "curated" and s.alteration == e.alteration for s in sibs):
                problems.append(f"{w}: hides the curated catch-all {catch[0].id} when a sample is read; "
                                f"add a curated {e.gene} {e.alteration} row in {e.driver}")
        if e.level in ("A", "B") and e.evidence != "clinical":
            problems.append(f"{w}: level {e.level} needs clinical evidence (is {e.evidence}); lower the level")
        m = CURATION_MARKERS.search(e.clinical)
        if m:
            problems.append(f"{w}: clinical text holds curation remark {m.group(0)!r}; move it to curation")
        for name in ("clinical", "curation"):
            if MACHINE_PATH.search(getattr(e, name)):
                problems.append(f"{w}: column {name!r} holds a machine path; name the source instead")
        if e.source == "curated" and not e.clinical:
            problems.append(f"{w}: no clinical text; write what the alteration means for the next drug")
    return problems


def is_activating(gene: str, change: protein.ProteinChange, activating: dict[str, list[str]]) -> bool:
    """True when ``change`` is one of the gene's listed activating mutations (exact, residue or an
    in-frame deletion/insertion inside a listed codon range such as EGFR exon 19 deletions)."""
    for spec in activating.get(gene, []):
        m = re.fullmatch(r"(del|ins):(\d+)-(\d+)", spec)
        if m:
            kinds = {"del": {"del", "delins"}, "ins": {"ins", "dup", "delins"}}[m.group(1)]
            lo, hi = int(m.group(2)), int(m.group(3))
            if change.kind in kinds and lo <= change.start and change.end <= hi:
                return True
        elif protein.matches(change, protein.parse(spec)):  # type: ignore[arg-type]
            return True
    return False
