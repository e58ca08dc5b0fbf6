"""Seeded fuzzing of the VCF reader through the real CLI.

About 200 mutations (fixed seed) of the bundled ALK VCFs in ``test_data/``: byte flips, truncation,
duplicated header lines, swapped columns, huge numbers, deleted fields, and byte flips / cuts in
the BGZF bytes next to the original index. Each goes through
``ctresist annotate --sample S --vcf X --driver EML4-ALK --specimen plasma --build GRCh38
--therapy alectinib -o out.json``. To stay fast the cases run in one child process (the CLI's
``main`` called per case, stderr captured per case); when the child dies by a signal or hangs, the
case it was running is recorded and a new child continues with the rest.

Every case must end as either a clean error (exit 1, exactly one ``ctresist: error:`` line, no
traceback, no output file) or a valid result; a valid result for an input that still holds the
ALK G1202R record line intact must contain the G1202R call. Crashes, hangs, tracebacks and silent
wrong results must all be 0.
"""
from __future__ import annotations

import gzip
import json
import random
import re
import selectors
import subprocess
import sys
import zlib
from collections import Counter
from pathlib import Path

import pysam

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ["ALK01_T1_plasma.vcf.gz", "ALK03_T0_plasma.vcf.gz", "ALK03_T1_plasma.vcf.gz"]
SEED = 20261201
N_CASES = 200
CASE_TIMEOUT = 60  # seconds one case may take inside the child before it counts as a hang

WORKER = r"""
import json, os, sys, traceback
from ctresist import cli
cases = json.load(open(sys.argv[1]))
for c in cases:
    print("START", c["id"], flush=True)
    err = os.open(c["err"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    saved = os.dup(2)
    os.dup2(err, 2)
    sys.stderr = os.fdopen(os.dup(2), "w", buffering=1)
    exc = None
    try:
        code = cli.main(c["args"])
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 2
    except BaseException:
        code, exc = 99, traceback.format_exc()
    sys.stderr.close()
    os.dup2(saved, 2)
    os.close(saved)
    os.close(err)
    sys.stderr = sys.__stderr__
    print("DONE", c["id"], json.dumps({"code": code, "exc": exc}), flush=True)
"""


def _mutate(rng: random.Random, text: str, klass: str) -> str:
    lines = text.split("\n")
    hdr = [i for i, ln in enumerate(lines) if ln.startswith("#")]
    body = [i for i, ln in enumerate(lines) if ln and not ln.startswith("#")]
    if klass == "byte_flip":
        b = bytearray(text.encode())
        for _ in range(rng.randint(1, 3)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        return b.decode("utf-8", "replace")
    if klass == "truncate":
        return text[:rng.randrange(1, len(text))]
    if klass == "dup_header":
        src = lines[rng.choice(hdr)]
        lines.insert(rng.randint(1, len(lines) - 1), src)
        return "\n".join(lines)
    if klass == "swap_columns":
        i = rng.choice(body + hdr[-1:])
        f = lines[i].split("\t")
        a, b = rng.sample(range(len(f)), 2)
        f[a], f[b] = f[b], f[a]
        lines[i] = "\t".join(f)
        return "\n".join(lines)
    if klass == "huge_number":
        i = rng.choice(body + hdr)
        nums = list(re.finditer(r"\d+", lines[i]))
        if nums:
            m = rng.choice(nums)
            big = rng.choice(["2147483648", "4294967296", str(2 ** 32 + 29220747), "99999999999999999999",
                              "-1", "1e308", "0"])
            lines[i] = lines[i][:m.start()] + big + lines[i][m.end():]
        return "\n".join(lines)
    if klass == "delete_field":
        i = rng.choice(body + hdr)
        sep = rng.choice(["\t", ";", ":", ",", "|"])
        f = lines[i].split(sep)
        if len(f) > 1:
            del f[rng.randrange(len(f))]
        lines[i] = sep.join(f)
        return "\n".join(lines)
    raise ValueError(klass)


CLASSES = ["byte_flip", "truncate", "dup_header", "swap_columns", "huge_number", "delete_field",
           "bgzf_bytes"]


def _make_cases(tmp: Path) -> list[dict]:
    rng = random.Random(SEED)
    texts = {s: gzip.decompress((ROOT / "test_data" / s).read_bytes()).decode() for s in SOURCES}
    g1202r = {s: next(ln for ln in t.split("\n") if "\t29220747\t" in ln) for s, t in texts.items()}
    cases = []
    for k in range(N_CASES):
        src = rng.choice(SOURCES)
        klass = CLASSES[k % len(CLASSES)]
        d = tmp / f"c{k:03d}"
        d.mkdir()
        if klass == "bgzf_bytes":  # corrupt the compressed bytes, keep a copy of the real index
            data = bytearray((ROOT / "test_data" / src).read_bytes())
            if rng.random() < 0.5:
                for _ in range(rng.randint(1, 4)):
                    data[rng.randrange(18, len(data))] ^= 1 << rng.randrange(8)
            else:
                data = data[:rng.randrange(18, len(data))]
            vcf = d / "x.vcf.gz"
            vcf.write_bytes(bytes(data))
            (d / "x.vcf.gz.tbi").write_bytes((ROOT / "test_data" / (src + ".tbi")).read_bytes())
            try:
                plain = gzip.decompress(bytes(data)).decode()
            except (OSError, EOFError, UnicodeDecodeError, ValueError, zlib.error):
                plain = ""  # not fully decompressible: only a clean error or the call are allowed
        else:
            plain = _mutate(rng, texts[src], klass)
            if rng.random() < 0.3:
                (d / "x.vcf").write_text(plain, encoding="utf-8", errors="replace")
                vcf = d / "x.vcf.gz"
                pysam.tabix_compress(str(d / "x.vcf"), str(vcf), force=True)
                (d / "x.vcf").unlink()
                try:
                    pysam.tabix_index(str(vcf), preset="vcf", force=True)
                except (OSError, ValueError):
                    pass  # unsorted or broken: no index, streamed
            else:
                vcf = d / "x.vcf"
                vcf.write_text(plain, encoding="utf-8", errors="replace")
        intact = g1202r[src] in plain.split("\n")[:-1] if plain else False
        out = d / "out.json"
        cases.append({"id": k, "klass": klass, "src": src, "intact": intact, "err": str(d / "err.txt"),
                      "out": str(out), "args": ["annotate", "--sample", "S", "--vcf", str(vcf), "--driver",
                                                "EML4-ALK", "--specimen", "plasma", "--build", "GRCh38",
                                                "--therapy", "alectinib", "-o", str(out)]})
    return cases


def _run_all(cases: list[dict], tmp: Path) -> dict[int, dict]:
    """Run cases in a child; a child that dies or hangs marks its current case and is replaced."""
    results: dict[int, dict] = {}
    todo = list(cases)
    while todo:
        spec = tmp / f"batch{len(results)}.json"
        spec.write_text(json.dumps(todo))
        current, hung = None, False
        with subprocess.Popen([sys.executable, "-c", WORKER, str(spec)], stdout=subprocess.PIPE,
                              text=True, cwd=ROOT) as proc, selectors.DefaultSelector() as sel:
            sel.register(proc.stdout, selectors.EVENT_READ)
            while True:
                if not sel.select(timeout=CASE_TIMEOUT):
                    hung = True
                    proc.kill()
                    break
                line = proc.stdout.readline()
                if not line:
                    break
                word, cid, *rest = line.rstrip("\n").split(" ", 2) + ["", ""]
                if word not in ("START", "DONE"):
                    continue  # anything else the CLI printed
                if word == "START":
                    current = int(cid)
                else:
                    results[int(cid)] = json.loads(rest[0])
                    current = None
            proc.wait()
        if current is not None:  # the child died (signal) or hung on this case
            results[current] = {"code": -proc.returncode if not hung else "hang", "exc": None,
                                "signal": not hung}
        todo = [c for c in todo if c["id"] not in results]
    return results


def classify(case: dict, res: dict) -> str:
    code = res["code"]
    if code == "hang":
        return "hang"
    if res.get("signal") or res.get("exc") or code not in (0, 1):
        return "crash"
    err = Path(case["err"]).read_text(errors="replace")
    if "Traceback" in err:
        return "crash"
    problems = [ln for ln in err.splitlines() if not re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} ctresist ", ln)]
    out = Path(case["out"])
    if code == 1:
        ok = len(problems) == 1 and problems[0].startswith("ctresist: error: ") and not out.exists()
        return "clean_error" if ok else "crash"
    model = json.loads(out.read_text())
    found = any(c.get("gene") == "ALK" and "G1202R" in c.get("alteration", "") for c in model["calls"])
    if case["intact"] and not found:
        return "silent_wrong"
    return "valid"


def test_fuzz_vcf_through_cli(tmp_path):
    cases = _make_cases(tmp_path)
    results = _run_all(cases, tmp_path)
    outcome = {c["id"]: classify(c, results[c["id"]]) for c in cases}
    counts = Counter(outcome.values())
    per_class = Counter((c["klass"], outcome[c["id"]]) for c in cases)
    print(f"\nfuzz: {len(cases)} cases: {dict(counts)}")
    for (klass, what), n in sorted(per_class.items()):
        print(f"  {klass:14s} {what:13s} {n}")
    bad = [(c["id"], c["klass"], outcome[c["id"]], Path(c["err"]).read_text(errors="replace")[-300:])
           for c in cases if outcome[c["id"]] in ("crash", "hang", "silent_wrong")]
    assert not bad, bad
    assert counts["clean_error"] + counts["valid"] == N_CASES
    assert counts["clean_error"] > 20 and counts["valid"] > 20  # the mutations exercise both paths
