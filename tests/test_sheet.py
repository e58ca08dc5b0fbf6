"""The sample sheet reader: misspelt columns, non-regular and empty files, structure-only checks
for the workflow, and line numbers computed once."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ctresist.errors import InputError
from ctresist.sheet import read_sheet

HEADER = "sample\tpatient\tcollection_date\tspecimen\tvcf\tcnv\tdriver\ttherapy\tgenome_build"
ROW = "S1\tP1\t2024-01-10\tplasma\tcases/vcf_g1202r.vcf\t\tEML4-ALK\talectinib\tGRCh38"


def sheet(tmp_path: Path, text: str, name: str = "samples.tsv") -> str:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return str(p)


@pytest.mark.parametrize("column,closest", [("theraphy", "therapy"), ("tumor_fration", "tumor_fraction"),
                                            ("tumour_fration", "tumor_fraction"), ("drivr", "driver")])
def test_misspelt_column_names_the_closest_known_one(tmp_path, column, closest):
    """A misspelt column is not silently ignored (a therapy the tool never reads would give 'no
    resistance to the current therapy'): one error naming the header line and the closest column."""
    p = sheet(tmp_path, f"{HEADER}\t{column}\n{ROW}\t0.3\n")
    with pytest.raises(InputError, match=rf"samples\.tsv:1: unknown column '{column}'; did you mean "
                                         rf"'{closest}'\? known columns: sample, patient"):
        read_sheet(p, check_files=False)


def test_british_spellings_are_read_as_the_canonical_columns(tmp_path):
    """tumour_fraction and tumour_sample are the same columns as tumor_fraction / tumor_sample."""
    p = sheet(tmp_path, f"{HEADER}\ttumour_fraction\tTumour_Sample\n{ROW}\t0.35\tPLASMA\n")
    df = read_sheet(p, check_files=False)
    assert df.loc["S1", "tumor_fraction"] == "0.35"
    assert df.loc["S1", "tumor_sample"] == "PLASMA"


def test_a_column_given_twice_under_two_spellings_is_an_error(tmp_path):
    p = sheet(tmp_path, f"{HEADER}\ttumor_fraction\ttumour_fraction\n{ROW}\t0.3\t0.4\n")
    with pytest.raises(InputError, match=r"samples\.tsv:1: column 'tumor_fraction' appears twice "
                                         r"\(as 'tumor_fraction' and 'tumour_fraction'\); keep one"):
        read_sheet(p, check_files=False)


def test_directory_empty_file_and_fifo_are_refused_before_reading(tmp_path):
    """A directory, a 0-byte file (pandas' EmptyDataError before) and a FIFO (which would block a
    reader forever) each give one line naming the path."""
    with pytest.raises(InputError, match=r": is a directory, not a sample sheet; give the TSV file"):
        read_sheet(str(tmp_path))
    empty = sheet(tmp_path, "", "empty.tsv")
    with pytest.raises(InputError, match=r"empty\.tsv: the sample sheet is empty \(0 bytes\)"):
        read_sheet(empty)
    fifo = tmp_path / "fifo.tsv"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match=r"fifo\.tsv: is a FIFO \(named pipe\), not a sample sheet; give the TSV file"):
        read_sheet(str(fifo))
    only_comments = sheet(tmp_path, "# nothing\n\n", "comments.tsv")
    with pytest.raises(InputError, match=r"comments\.tsv: no header line"):
        read_sheet(only_comments)
    header_only = sheet(tmp_path, HEADER + "\n", "header.tsv")
    with pytest.raises(InputError, match=r"header\.tsv: no sample rows after the header line"):
        read_sheet(header_only)


@pytest.mark.parametrize("bad", ["directory", "empty", "fifo"])
def test_cli_reports_a_bad_sheet_in_one_line(tmp_path, bad):
    """Through the real CLI: exit status 1, one stderr line, no traceback."""
    path = {"directory": lambda: str(tmp_path), "empty": lambda: sheet(tmp_path, "", "e.tsv"),
            "fifo": lambda: (os.mkfifo(tmp_path / "f.tsv"), str(tmp_path / "f.tsv"))[1]}[bad]()
    proc = subprocess.run([sys.executable, "-m", "ctresist.cli", "annotate", "--sheet", path,
                           "--sample", "S1", "-o", str(tmp_path / "r.json")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"ctresist: error: {path}: ")
    assert not (tmp_path / "r.json").exists()


def test_structure_only_leaves_row_values_to_each_sample(tmp_path):
    """check_values=False (the workflow's parse): an unknown driver and a misspelt drug in one row
    do not stop the sheet; the sample's own job (check_values=True) fails naming its line."""
    bad = "S2\tP1\t2024-02-10\tplasma\tx.vcf\t\tEML4-XYZ\talectnib\tGRCh38"
    p = sheet(tmp_path, f"# comment\n{HEADER}\n\n{ROW}\n# another\n{bad}\n")
    df = read_sheet(p, check_files=False, check_values=False)
    assert list(df.index) == ["S1", "S2"]
    assert df.attrs["lines"] == {"S1": 4, "S2": 6}
    with pytest.raises(InputError, match=r"samples\.tsv:6: column 'driver': cannot read driver 'EML4-XYZ'"):
        read_sheet(p, check_files=False)


def test_structure_checks_still_apply_without_values(tmp_path):
    """IDs become folder names: an invalid or duplicate ID fails the whole sheet at parse time,
    naming the file line (comments and blank lines counted)."""
    p = sheet(tmp_path, f"{HEADER}\n# c\n{ROW}\n\n{ROW}\n")
    with pytest.raises(InputError, match=r"samples\.tsv:5: column 'sample': duplicate sample ID 'S1' "
                                         r"\(also on line 3\)"):
        read_sheet(p, check_files=False, check_values=False)
    p = sheet(tmp_path, f"{HEADER}\n{ROW.replace('S1', 'a/b', 1)}\n")
    with pytest.raises(InputError, match=r"samples\.tsv:2: column 'sample': invalid value 'a/b'"):
        read_sheet(p, check_files=False, check_values=False)
    p = sheet(tmp_path, f"{HEADER}\n{ROW}\textra\n")
    with pytest.raises(InputError, match=r"samples\.tsv:2: 10 tab-separated fields, but the header has 9"):
        read_sheet(p, check_files=False, check_values=False)


def test_vcf_column_naming_a_directory_is_an_error(tmp_path):
    p = sheet(tmp_path, f"{HEADER}\n{ROW.replace('cases/vcf_g1202r.vcf', str(tmp_path))}\n")
    with pytest.raises(InputError, match=r"samples\.tsv:2: column 'vcf': is not a regular file"):
        read_sheet(p)


def test_hash_inside_a_value_is_not_a_comment(tmp_path):
    """Only lines starting with '#' are comments (pandas' comment='#' cut values at any '#')."""
    p = sheet(tmp_path, f"{HEADER}\n{ROW.replace('cases/vcf_g1202r.vcf', 'run#2/s1.vcf')}\n")
    assert read_sheet(p, check_files=False).loc["S1", "vcf"] == "run#2/s1.vcf"


def test_large_sheet_is_read_in_linear_time(tmp_path):
    """20,000 rows: line numbers are computed once (the old per-row re-read was O(n^2))."""
    rows = "\n".join(ROW.replace("S1", f"S{i}", 1) for i in range(20000))
    p = sheet(tmp_path, f"{HEADER}\n{rows}\n")
    t = time.perf_counter()
    df = read_sheet(p, check_files=False, check_values=False)
    elapsed = time.perf_counter() - t
    assert len(df) == 20000 and df.attrs["lines"]["S19999"] == 20001
    assert elapsed < 10, elapsed


def test_one_sample_values_are_checked_without_the_other_rows(tmp_path):
    """read_sheet(..., sample='S1') (annotate --sheet --sample S1): S2's unknown driver does not
    fail S1, but S2 asked for itself fails naming its line; IDs are checked for every row."""
    bad = "S2\tP1\t2024-02-10\tplasma\tx.vcf\t\tEML4-XYZ\talectnib\tGRCh38"
    p = sheet(tmp_path, f"{HEADER}\n{ROW}\n{bad}\n")
    assert read_sheet(p, check_files=False, sample="S1").loc["S1", "driver"] == "EML4-ALK"
    with pytest.raises(InputError, match=r"samples\.tsv:3: column 'driver': cannot read driver 'EML4-XYZ'"):
        read_sheet(p, check_files=False, sample="S2")
    p = sheet(tmp_path, f"{HEADER}\n{ROW}\n{bad.replace('S2', 'S 2', 1)}\n")
    with pytest.raises(InputError, match=r"samples\.tsv:3: column 'sample': invalid value 'S 2'"):
        read_sheet(p, check_files=False, sample="S1")


@pytest.mark.parametrize("column", ["fusions", "coverage", "purity_file"])
def test_optional_input_file_columns_must_exist(tmp_path, monkeypatch, column):
    """fusions / coverage / purity_file name files like vcf, cnv and bam: a missing one is refused
    in one line naming the sheet line and column (schema extended here with the column)."""
    import yaml

    from ctresist.sheet import _schema

    schema = _schema()
    schema["properties"][column] = {"type": "string", "description": f"optional {column} file"}
    path = tmp_path / "schema.yaml"
    path.write_text(yaml.safe_dump(schema))
    monkeypatch.setenv("CTRESIST_SHEET_SCHEMA", str(path))
    vcf = tmp_path / "s.vcf"
    vcf.write_text("##fileformat=VCFv4.2\n")
    row = ROW.replace("cases/vcf_g1202r.vcf", str(vcf))
    p = sheet(tmp_path, f"{HEADER}\t{column}\n{row}\t{tmp_path / 'missing.tsv'}\n")
    with pytest.raises(InputError, match=rf"samples\.tsv:2: column '{column}': file not found: .*missing\.tsv"):
        read_sheet(p)
    p = sheet(tmp_path, f"{HEADER}\t{column}\n{row}\t{vcf}\n")
    assert read_sheet(p)[column].tolist() == [str(vcf)]
