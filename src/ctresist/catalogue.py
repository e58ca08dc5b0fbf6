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

import jsonschema
import yaml

from ctresist import protein
from ctresist.errors import InputError
from ctresist.genes import annotations_dir

COLUMNS = ["id", "gene", "alteration", "phase", "mechanism", "driver", "resists", "options",
           "option_evidence", "evidence", "citations", "note"]
SPECIAL = {"amplification", "activating_mutation", "loss"}


@dataclass(frozen=True)
class Entry:
    """One catalogue assertion: an alteration of ``gene`` in a ``driver`` context, the drugs it
    resists and the options that remain."""

    id: str
    gene: str
    alteration: str
    phase: str
    mechanism: str
    driver: str
    resists: tuple[str, ...]
    options: tuple[str, ...]
    option_evidence: str
    evidence: str
    citations: tuple[str, ...]
    note: str
    source: str = "curated"
    line: int = 0

    @property
    def kind(self) -> str:
        """amplification | activating_mutation | loss | compound | residue | protein"""
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
    return DrugVocabulary({row["drug"]: row for _, row in _read_tsv(p)})


@lru_cache(maxsize=4)
def _validator(schema_json: str) -> jsonschema.Draft202012Validator:
    """One compiled validator per schema (compiling per row made loading 10x slower)."""
    schema = json.loads(schema_json)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def validate_entry(row: dict[str, str], where: str, schema: dict, meta: dict,
                   drugs: DrugVocabulary) -> None:
    """Raise InputError for the first problem of one catalogue row (schema, then semantics)."""
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
    for col in ("resists", "options"):
        for item in _split(row.get(col, "")):
            for d in item.split("+"):
                if d.strip() not in drugs.drugs:
                    hint = drugs.closest(d)
                    raise InputError(f"{where}: column {col!r}: drug {d.strip()!r} is not in "
                                     f"annotations/drugs.tsv" + (f" (closest: {', '.join(hint)})" if hint else ""))


@lru_cache(maxsize=4)
def load_catalogue(folder: str | None = None) -> Catalogue:
    """Load and validate every catalogue file listed in ``catalogue.yaml``."""
    base = Path(folder) if folder else annotations_dir() / "catalogue"
    meta_path = base / "catalogue.yaml"
    with open(meta_path, encoding="utf-8") as fh:
        meta = yaml.safe_load(fh)
    with open(base / "entry.schema.json", encoding="utf-8") as fh:
        schema = json.load(fh)
    drugs = load_drugs(base.parent / "drugs.tsv")
    digest = hashlib.sha256()
    entries: list[Entry] = []
    seen: dict[str, str] = {}
    sources: dict[str, int] = {}
    files = [meta_path.name]
    digest.update(meta_path.read_bytes())
    for spec in meta["files"]:
        path = base / spec["path"]
        files.append(spec["path"])
        digest.update(path.read_bytes())
        for lineno, row in _read_tsv(path):
            where = f"{path}:{lineno}"
            validate_entry(row, where, schema, meta, drugs)
            if row["id"] in seen:
                raise InputError(f"{where}: column 'id': duplicate id {row['id']!r} (first at {seen[row['id']]})")
            seen[row["id"]] = where
            entries.append(Entry(
                id=row["id"], gene=row["gene"], alteration=row["alteration"], phase=row.get("phase", ""),
                mechanism=row["mechanism"], driver=row["driver"], resists=_split(row["resists"]),
                options=_split(row["options"]), option_evidence=row.get("option_evidence", ""),
                evidence=row["evidence"], citations=_split(row["citations"]), note=row.get("note", ""),
                source=spec["source"], line=lineno))
            sources[spec["source"]] = sources.get(spec["source"], 0) + 1
    activating: dict[str, list[str]] = {}
    act_path = base / meta["activating"]
    digest.update(act_path.read_bytes())
    files.append(meta["activating"])
    for lineno, row in _read_tsv(act_path):
        if not (protein.is_valid_spec(row["spec"]) or re.fullmatch(r"(del|ins):\d+-\d+", row["spec"])):
            raise InputError(f"{act_path}:{lineno}: column 'spec': malformed {row['spec']!r}")
        activating.setdefault(row["gene"], []).append(row["spec"])
    return Catalogue(version=str(meta["version"]), sha256=digest.hexdigest(), entries=entries,
                     drugs=drugs, genes=list(meta["genes"]), drivers=list(meta["drivers"]),
                     activating=activating, files=files, sources=sources)


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
