"""The bad-input corpus (tests/bad_inputs/): every case run through the real CLI as a subprocess.

For each row of ``tests/bad_inputs/cases.tsv`` (written by ``tests/bad_inputs/make_corpus.py``):
the exit status is the expected one; an error is exactly one non-log stderr line, starting with
``ctresist: error:``, matching the case's regex and naming the file; a valid input writes only log
lines on stderr and its outcome matches the case's regex; there is never a traceback; a refused
input leaves no output and no temporary file. The committed corpus must equal a fresh
generation, so the files and their expectations cannot drift apart.
"""
from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "bad_inputs"
sys.path.insert(0, str(CORPUS))
import make_corpus  # noqa: E402

if not (CORPUS / "cases.tsv").exists():  # fresh checkout without the generated corpus
    make_corpus.write(CORPUS)


def _manifest() -> list[dict[str, str]]:
    lines = (CORPUS / "cases.tsv").read_text(encoding="utf-8").splitlines()
    cols = lines[0].split("\t")
    return [dict(zip(cols, ln.split("\t"))) for ln in lines[1:] if ln.strip()]


CASES = _manifest()
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} ctresist (DEBUG|INFO|WARNING): ")

#: cases where the current code does not give the expected outcome (see the reason); strict, so a
#: fix makes the test fail until the mark is removed
XFAIL: dict[str, str] = {
}


@dataclass
class Run:
    row: dict[str, str]
    proc: subprocess.CompletedProcess
    out: Path
    annotations: Path | None
    line: int | None

    def sub(self, text: str, regex: bool) -> str:
        """Fill the manifest placeholders ({annotations}, {line}, {out})."""
        vals = {"{annotations}": str(self.annotations or ""), "{line}": str(self.line or ""),
                "{out}": str(self.out)}
        for k, v in vals.items():
            text = text.replace(k, re.escape(v) if regex else v)
        return text


def _apply_edit(annotations: Path, edit: dict) -> int:
    """Apply a catalogue case's edit to the copy; returns the 1-based line of the edited row."""
    path = annotations / edit["file"]
    lines = path.read_text(encoding="utf-8").split("\n")
    header_i = next(i for i, ln in enumerate(lines) if ln.strip() and not ln.startswith("#"))
    header = lines[header_i].split("\t")
    for i, ln in enumerate(lines[header_i + 1:], start=header_i + 1):
        fields = ln.split("\t")
        if fields[0] == edit["row_id"]:
            if edit["op"] == "set":
                fields[header.index(edit["column"])] = edit["value"]
            elif edit["op"] == "drop_last_field":
                fields = fields[:-1]
            else:
                raise ValueError(edit["op"])
            lines[i] = "\t".join(fields)
            path.write_text("\n".join(lines), encoding="utf-8")
            return i + 1
    raise LookupError(f"{edit['row_id']} not in {path}")


def _run(row: dict[str, str], base: Path) -> Run:
    work = base / row["case"]
    out = work / "out"
    out.mkdir(parents=True)
    annotations, line = None, None
    if row["kind"] == "catalogue":
        annotations = work / "annotations"
        shutil.copytree(ROOT / "annotations", annotations)
        edit_file = CORPUS / "cases" / f"{row['case']}.json"
        if edit_file.exists():
            line = _apply_edit(annotations, json.loads(edit_file.read_text(encoding="utf-8")))
    run = Run(row, None, out, annotations, line)  # type: ignore[arg-type]
    args = [run.sub(a, regex=False) for a in shlex.split(row["args"])]
    env = {**os.environ, "CTRESIST_ANNOTATIONS": str(ROOT / "annotations")}
    run.proc = subprocess.run(["ctresist", *args], cwd=CORPUS, env=env, capture_output=True,
                              text=True, errors="replace", timeout=120)
    return run


def _listing(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


@pytest.fixture(scope="session")
def runs(tmp_path_factory) -> dict[str, Run]:
    """All cases, run once in parallel (CLI start-up dominates); the corpus folder must not change."""
    base = tmp_path_factory.mktemp("bad_inputs")
    before = _listing(CORPUS)
    with ThreadPoolExecutor(max_workers=max(4, 2 * (os.cpu_count() or 2))) as pool:
        results = list(pool.map(lambda r: _run(r, base), CASES))
    created = {c for c in _listing(CORPUS) - before if "__pycache__" not in c}
    assert not created, f"running the corpus created files in {CORPUS}: {sorted(created)}"
    return {r.row["case"]: r for r in results}


def test_corpus_is_fresh(tmp_path):
    """The committed cases/ and cases.tsv are exactly what make_corpus.py writes now."""
    make_corpus.write(tmp_path)
    fresh, committed = tmp_path / "cases", CORPUS / "cases"
    assert _listing(fresh) == _listing(committed), "run: python tests/bad_inputs/make_corpus.py"
    for name in sorted(_listing(fresh)):
        assert (fresh / name).read_bytes() == (committed / name).read_bytes(), (
            f"cases/{name} differs from a fresh generation; run: python tests/bad_inputs/make_corpus.py")
    assert (tmp_path / "cases.tsv").read_bytes() == (CORPUS / "cases.tsv").read_bytes()


def test_corpus_size_and_kinds():
    assert len(CASES) >= 40
    assert len({c["case"] for c in CASES}) == len(CASES)
    assert {c["kind"] for c in CASES} == {"vcf", "cnv", "sheet", "catalogue"}
    assert {c["expected_exit"] for c in CASES} == {"0", "1"}


def _params():
    out = []
    for c in CASES:
        marks = [pytest.mark.xfail(strict=True, reason=XFAIL[c["case"]])] if c["case"] in XFAIL else []
        out.append(pytest.param(c["case"], marks=marks, id=c["case"]))
    return out


@pytest.mark.parametrize("name", _params())
def test_bad_input(runs, name):
    r = runs[name]
    p, row = r.proc, r.row
    detail = f"\n--- args: {row['args']}\n--- exit {p.returncode}\n--- stderr:\n{p.stderr}--- stdout:\n{p.stdout[:2000]}"
    assert "Traceback" not in p.stderr, detail
    assert p.returncode == int(row["expected_exit"]), detail
    left = sorted(x.name for x in r.out.iterdir())
    stderr_lines = [ln for ln in p.stderr.splitlines() if not LOG_LINE.match(ln)]
    expected = r.sub(row["expected_stderr_regex"], regex=True)
    if p.returncode != 0:
        assert len(stderr_lines) == 1 and stderr_lines[0].startswith("ctresist: error: "), (
            "expected exactly one stderr line 'ctresist: error: ...' besides log lines" + detail)
        err = stderr_lines[0]
        assert re.search(expected, err), f"error line does not match {expected!r}" + detail
        if row["names"]:
            assert r.sub(row["names"], regex=False) in err, f"error does not name {row['names']}" + detail
        assert left == [], f"output or temporary files left after an error: {left}" + detail
        return
    assert stderr_lines == [], "a successful run writes only log lines on stderr" + detail
    if "-o" in shlex.split(row["args"]):
        assert left == ["report.json"], f"expected only report.json in the output folder: {left}" + detail
        outcome = make_corpus.outcome_line(json.loads((r.out / "report.json").read_text(encoding="utf-8")))
    else:
        assert left == [], detail
        outcome = p.stdout
    assert re.search(expected, outcome), f"outcome does not match {expected!r}:\n{outcome}" + detail
