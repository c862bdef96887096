"""Reading predictions and scoring them against gold rows, grouped by family and subtype.

Scored predictions are :class:`~reasonlab.scoring.rows.EvalRow` of the ``wonderland`` task, grouped as an
evaluation run's rows are, so ``reasonlab score`` and ``metrics.json`` count the same way.

Predictions come either as a CSV of extracted answers (``id,answer``) or as JSONL of raw model
completions (``id`` and ``completion``), to which the grader's extraction is applied.

Duplicate ids follow one rule in both formats: the first record of an id is the one scored (as the
evaluation store keeps the first completion of a row), and a :class:`DuplicatePredictionWarning` names
how many later records were ignored.
"""

from __future__ import annotations

import csv
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

from reasonlab.grader import FINISH_LENGTH, extract, verify
from reasonlab.jsonl import read_jsonl
from reasonlab.puzzles.classify import Classification, classify
from reasonlab.puzzles.types import Puzzle
from reasonlab.scoring.rows import PUZZLE_TRACK, WONDERLAND, EvalRow, RowGroups


class PredictionFileError(ValueError):
    pass


class DuplicatePredictionWarning(UserWarning):
    pass


def _keep_first(path: Path, pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    answers: dict[str, str] = {}
    duplicates: list[str] = []
    for row_id, answer in pairs:
        if row_id in answers:
            duplicates.append(row_id)
        else:
            answers[row_id] = answer
    if duplicates:
        shown = ", ".join(sorted(set(duplicates))[:5]) + (" ..." if len(set(duplicates)) > 5 else "")
        warnings.warn(
            f"{path}: {len(duplicates)} later record(s) of an id already seen were ignored "
            f"(the first record of an id is scored): {shown}",
            DuplicatePredictionWarning,
            stacklevel=3,
        )
    return answers


def read_predictions(path: str | Path, *, legacy: bool = False) -> dict[str, str]:
    """id -> extracted answer. JSONL lines with a ``completion`` go through the grader's extraction.
    The first record of an id is kept in either format (with a :class:`DuplicatePredictionWarning`)."""
    path = Path(path)
    if not path.is_file():
        raise PredictionFileError(f"{path}: no such file")
    if path.suffix == ".jsonl":
        pairs = []
        try:
            for number, record in read_jsonl(path):
                if "id" not in record or not ({"completion", "answer"} & record.keys()):
                    raise PredictionFileError(
                        f"{path}, line {number}: needs 'id' and 'completion' (or 'answer')"
                    )
                if record.get("finish_reason") == FINISH_LENGTH:
                    answer = ""  # truncated: never correct, as in the run's own metrics
                elif "completion" in record:
                    answer = extract(record["completion"], legacy=legacy)
                else:
                    answer = str(record["answer"])
                pairs.append((str(record["id"]), answer))
        except PredictionFileError:
            raise
        except ValueError as exc:  # bad JSON, already named by file and line
            raise PredictionFileError(str(exc)) from exc
        return _keep_first(path, pairs)
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        if not {"id", "answer"} <= set(reader.fieldnames or []):
            raise PredictionFileError(
                f"{path}, line 1: needs columns 'id' and 'answer', has {reader.fieldnames}"
            )
        try:
            pairs = [(row["id"], row["answer"] or "") for row in reader]
        except csv.Error as exc:
            raise PredictionFileError(f"{path}, line {reader.line_num}: unreadable CSV ({exc})") from None
        return _keep_first(path, pairs)


@dataclass
class GroupScore:
    rows: int = 0
    correct: int = 0

    @property
    def accuracy(self) -> float:
        return self.correct / self.rows if self.rows else 0.0


@dataclass
class ScoreReport:
    overall: GroupScore
    by_family: dict[str, GroupScore]
    by_subtype: dict[str, GroupScore]
    missing_ids: list[str] = field(default_factory=list)
    extra_ids: list[str] = field(default_factory=list)
    wrong_ids: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        def table(groups: dict[str, GroupScore]) -> dict:
            return {k: {**asdict(v), "accuracy": v.accuracy} for k, v in sorted(groups.items())}

        return {
            "overall": {**asdict(self.overall), "accuracy": self.overall.accuracy},
            "by_family": table(self.by_family),
            "by_subtype": table(self.by_subtype),
            "missing_ids": self.missing_ids,
            "extra_ids": self.extra_ids,
        }


def prediction_rows(
    gold: Iterable[Puzzle], predictions: dict[str, str], kinds: Mapping[str, Classification] | None = None
) -> list[EvalRow]:
    """One row of the ``wonderland`` task per gold puzzle, its prediction compared by the grader's metric
    (a missing prediction is an empty, wrong answer). Family and subtype come from ``kinds`` by id where the
    caller has them (a solver run), else the prompt is classified here."""
    known = kinds or {}
    rows = []
    for puzzle in gold:
        if puzzle.answer is None:
            raise PredictionFileError(f"gold row {puzzle.id!r} has no answer")
        kind = known.get(puzzle.id) or classify(puzzle.prompt)
        predicted = predictions.get(puzzle.id)
        rows.append(
            EvalRow(
                id=puzzle.id,
                task=WONDERLAND,
                track=PUZZLE_TRACK,
                family=kind.family,
                subtype=kind.subtype,
                gold=puzzle.answer,
                answer=predicted or "",
                correct=predicted is not None and verify(puzzle.answer, predicted),
                no_answer=predicted is None,
            )
        )
    return rows


def _score(rows: Iterable[EvalRow]) -> GroupScore:
    rows = list(rows)
    return GroupScore(rows=len(rows), correct=sum(row.correct for row in rows))


def score_predictions(
    gold: Iterable[Puzzle], predictions: dict[str, str], kinds: Mapping[str, Classification] | None = None
) -> ScoreReport:
    """Score predictions against labelled puzzles; an id without a prediction counts as wrong."""
    rows = prediction_rows(gold, predictions, kinds)
    groups = RowGroups.of(rows)
    gold_ids = {row.id for row in rows}
    return ScoreReport(
        overall=_score(rows),
        by_family={k: _score(v) for k, v in groups.by_family.items()},
        by_subtype={k: _score(v) for k, v in groups.by_subtype.items()},
        missing_ids=[row.id for row in rows if row.no_answer],
        extra_ids=sorted(set(predictions) - gold_ids),
        wrong_ids=[row.id for row in rows if not row.no_answer and not row.correct],
    )
