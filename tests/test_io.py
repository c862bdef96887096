"""Reading competition CSVs: every bad row is named by file, line and id, or set aside."""

from __future__ import annotations

import csv

import pytest

from reasonlab.puzzles.io import PuzzleFileError, read_puzzles

NUMERAL = (
    "In Alice's Wonderland, numbers are secretly converted into a different numeral system. "
    "Some examples are given below:\n3 -> III\n12 -> XII\nNow, write the number 9 in the Wonderland numeral system."
)


def write_rows(path, rows, header=("id", "prompt", "answer")):
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_reads_multiline_prompts_and_answers(tmp_path):
    data = read_puzzles(write_rows(tmp_path / "ok.csv", [("a1", NUMERAL, "IX"), ("a2", NUMERAL, " IX ")]))
    assert [p.id for p in data.puzzles] == ["a1", "a2"]
    assert data.puzzles[0].prompt == NUMERAL
    assert data.puzzles[1].answer == "IX"
    assert data.has_answers and data.invalid == []


def test_unlabelled_file(tmp_path):
    data = read_puzzles(write_rows(tmp_path / "test.csv", [("t1", NUMERAL)], header=("id", "prompt")))
    assert data.puzzles[0].answer is None and not data.has_answers


@pytest.mark.parametrize(
    ("rows", "line", "row_id", "problem"),
    [
        ([("a1", NUMERAL, "IX"), ("a1", NUMERAL, "IX")], 6, "a1", "duplicate id"),
        ([("a1", NUMERAL, "IX"), ("a2", "", "IX")], 6, "a2", "empty prompt"),
        ([("", NUMERAL, "IX")], 2, None, "empty id"),
        ([("a1", "In Alice's Wonderland, something new.", "x")], 2, "a1", "no known puzzle family"),
    ],
)
def test_bad_row_named_by_file_line_and_id(tmp_path, rows, line, row_id, problem):
    path = write_rows(tmp_path / "bad.csv", rows)
    with pytest.raises(PuzzleFileError) as err:
        read_puzzles(path)
    assert err.value.line == line and err.value.row_id == row_id and problem in err.value.problem
    assert str(path) in str(err.value)


def test_missing_column(tmp_path):
    path = write_rows(tmp_path / "cols.csv", [("a1", NUMERAL)], header=("id", "text"))
    with pytest.raises(PuzzleFileError, match="missing column"):
        read_puzzles(path)


def test_undecodable_bytes_name_the_line(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes(b"id,prompt\nx1,ok\nx2,caf\xe9\n")
    with pytest.raises(PuzzleFileError, match="UTF-8") as err:
        read_puzzles(path)
    assert err.value.line == 3


def test_missing_file(tmp_path):
    with pytest.raises(PuzzleFileError, match="no such file"):
        read_puzzles(tmp_path / "nope.csv")


def test_skip_invalid_keeps_every_bad_row(tmp_path):
    rows = [("a1", NUMERAL, "IX"), ("a1", NUMERAL, "IX"), ("a3", "", "x"), ("a4", NUMERAL, "IX")]
    data = read_puzzles(write_rows(tmp_path / "mixed.csv", rows), skip_invalid=True)
    assert [p.id for p in data.puzzles] == ["a1", "a4"]
    assert [(r.id, r.problem) for r in data.invalid] == [("a1", "duplicate id"), ("a3", "empty prompt")]


def test_dev_file_reads_cleanly(dev_csv):
    data = read_puzzles(dev_csv)
    assert len(data.puzzles) == 5673 and data.invalid == []
