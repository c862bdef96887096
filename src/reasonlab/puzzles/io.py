"""Reading competition CSVs (``id,prompt[,answer]``) with every row validated.

A bad row raises :class:`PuzzleFileError` naming the file, line and id, unless the caller asks to
collect bad rows instead (``skip_invalid``): then they come back as :class:`InvalidRow` records so that
nothing is dropped silently.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from reasonlab.outputs import atomic_output
from reasonlab.puzzles.families import family_of
from reasonlab.puzzles.types import Puzzle

REQUIRED_COLUMNS = ("id", "prompt")
# The csv module refuses fields over 128 KiB by default; a prompt (or a trace) can be longer than that,
# up to what a model's context holds. Longer fields are a clear row error, not a traceback.
MAX_FIELD_CHARS = 16 * 1024 * 1024
csv.field_size_limit(MAX_FIELD_CHARS)


class PuzzleFileError(ValueError):
    def __init__(self, path: Path | str, line: int | None, row_id: str | None, problem: str):
        self.path, self.line, self.row_id, self.problem = str(path), line, row_id, problem
        where = f"{path}" + (f", line {line}" if line is not None else "")
        who = f" (id {row_id!r})" if row_id else ""
        super().__init__(f"{where}{who}: {problem}")


@dataclass(frozen=True, slots=True)
class InvalidRow:
    line: int
    id: str | None
    problem: str
    raw: dict[str, str | None]


@dataclass(slots=True)
class PuzzleFile:
    path: Path
    puzzles: list[Puzzle]
    invalid: list[InvalidRow]
    has_answers: bool


def _decode(path: Path) -> str:
    """The file's text, with Windows (CRLF) and old Mac (CR) line endings inside prompts made ``\\n``:
    the puzzles' parsers, and the grader's prompts, split lines on ``\\n`` alone."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise PuzzleFileError(path, line, None, f"bytes are not valid UTF-8 ({exc.reason})") from exc


def _rows(path: Path, text: str) -> Iterator[tuple[int, dict[str, str | None]]]:
    # strict: a quote left open at the end (a file cut mid-prompt by a killed writer) is an error, not
    # a shorter prompt read as if it were complete.
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise PuzzleFileError(path, 1, None, f"missing column(s) {missing}; header is {reader.fieldnames}")
    previous_end = 1
    rows = iter(reader)
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except csv.Error as exc:  # a field over MAX_FIELD_CHARS, or a quote left open at the end
            raise PuzzleFileError(path, previous_end + 1, None, f"unreadable CSV record ({exc})") from None
        # Prompts span several lines; reader.line_num is where a record ends, so a record starts
        # on the line after the previous one ended (the line a user looks for).
        yield previous_end + 1, row
        previous_end = reader.line_num


def _problem(row: dict[str, str | None], seen: set[str], check_family: bool) -> str | None:
    row_id, prompt = (row.get("id") or "").strip(), row.get("prompt")
    if None in row:
        return "more fields than the header has columns"
    if not row_id:
        return "empty id"
    if row_id in seen:
        return "duplicate id"
    if prompt is None or not prompt.strip():
        return "empty prompt"
    if check_family and family_of(prompt) is None:
        return "prompt matches no known puzzle family"
    return None


def read_puzzles(path: str | Path, *, skip_invalid: bool = False, check_family: bool = True) -> PuzzleFile:
    """Read and validate a competition CSV.

    Raises :class:`PuzzleFileError` at the first bad row unless ``skip_invalid`` is set, in which case
    bad rows are returned in ``PuzzleFile.invalid``.
    """
    path = Path(path)
    if not path.is_file():
        raise PuzzleFileError(path, None, None, "no such file")
    text = _decode(path)
    puzzles: list[Puzzle] = []
    invalid: list[InvalidRow] = []
    seen: set[str] = set()
    has_answers = False
    for line, row in _rows(path, text):
        has_answers = has_answers or "answer" in row
        problem = _problem(row, seen, check_family)
        row_id = (row.get("id") or "").strip() or None
        if problem is not None:
            if not skip_invalid:
                raise PuzzleFileError(path, line, row_id, problem)
            invalid.append(InvalidRow(line, row_id, problem, {k: v for k, v in row.items() if k is not None}))
            continue
        seen.add(row_id)
        answer = row.get("answer")
        puzzles.append(Puzzle(row_id, row["prompt"], answer.strip() if answer is not None else None))
    return PuzzleFile(path, puzzles, invalid, has_answers)


SOLUTION_COLUMNS = ("id", "answer", "family", "subtype", "status", "rule", "seconds")


def write_solutions(rows, path: str | Path) -> None:
    """Write solver rows (``SolvedRow``) as CSV with :data:`SOLUTION_COLUMNS`."""
    with atomic_output(path, encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(SOLUTION_COLUMNS)
        for row in rows:
            s = row.solution
            writer.writerow(
                [
                    row.id,
                    s.answer or "",
                    row.family or "",
                    row.subtype or "",
                    s.status.value,
                    s.rule,
                    f"{row.seconds:.4f}",
                ]
            )


def invalid_rows_path(out: str | Path) -> Path:
    """Where ``solve --skip-invalid`` sets aside the bad rows of a run writing ``out``."""
    return Path(out).with_suffix(".invalid.csv")


def write_invalid_rows(rows: list[InvalidRow], path: str | Path) -> None:
    with atomic_output(path, encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["line", "id", "problem", "prompt", "answer"])
        for r in rows:
            writer.writerow(
                [r.line, r.id or "", r.problem, r.raw.get("prompt") or "", r.raw.get("answer") or ""]
            )


def avoided_prompts(paths: Iterable[str | Path]) -> set[str]:
    """Every prompt of the CSVs at ``paths`` (any family, e.g. the dev set), which new data must not repeat."""
    return {p.prompt for path in paths for p in read_puzzles(path, check_family=False).puzzles}
