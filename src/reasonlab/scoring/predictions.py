"""Reading predictions and scoring them against gold rows, grouped by family and subtype.

Predictions come either as a CSV of extracted answers (``id,answer``) or as JSONL of raw model
completions (``id`` and ``completion``), to which the grader's extraction is applied.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from reasonlab.jsonl import read_jsonl
from reasonlab.puzzles.classify import classify
from reasonlab.puzzles.types import Puzzle
from reasonlab.scoring.metric import extract, verify


class PredictionFileError(ValueError):
    pass


def read_predictions(path: str | Path, *, legacy: bool = False) -> dict[str, str]:
    """id -> extracted answer. JSONL lines with a ``completion`` go through the grader's extraction;
    the first line of an id is the one kept, as the evaluation store keeps it."""
    path = Path(path)
    if not path.is_file():
        raise PredictionFileError(f"{path}: no such file")
    if path.suffix == ".jsonl":
        answers: dict[str, str] = {}
        try:
            for number, record in read_jsonl(path):
                if "id" not in record or not ({"completion", "answer"} & record.keys()):
                    raise PredictionFileError(
                        f"{path}, line {number}: needs 'id' and 'completion' (or 'answer')"
                    )
                if "completion" in record:
                    answer = extract(record["completion"], legacy=legacy)
                else:
                    answer = str(record["answer"])
                answers.setdefault(str(record["id"]), answer)
        except PredictionFileError:
            raise
        except ValueError as exc:  # bad JSON, already named by file and line
            raise PredictionFileError(str(exc)) from exc
        return answers
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        if not {"id", "answer"} <= set(reader.fieldnames or []):
            raise PredictionFileError(
                f"{path}, line 1: needs columns 'id' and 'answer', has {reader.fieldnames}"
            )
        return {row["id"]: (row["answer"] or "") for row in reader}


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


def score_predictions(gold: Iterable[Puzzle], predictions: dict[str, str]) -> ScoreReport:
    """Score predictions against labelled puzzles; an id without a prediction counts as wrong."""
    overall = GroupScore()
    by_family: dict[str, GroupScore] = defaultdict(GroupScore)
    by_subtype: dict[str, GroupScore] = defaultdict(GroupScore)
    missing, wrong, gold_ids = [], [], set()
    for puzzle in gold:
        if puzzle.answer is None:
            raise PredictionFileError(f"gold row {puzzle.id!r} has no answer")
        gold_ids.add(puzzle.id)
        kind = classify(puzzle.prompt)
        predicted = predictions.get(puzzle.id)
        if predicted is None:
            missing.append(puzzle.id)
        ok = predicted is not None and verify(puzzle.answer, predicted)
        if predicted is not None and not ok:
            wrong.append(puzzle.id)
        groups = [overall, by_family[kind.family]]
        if kind.subtype:
            groups.append(by_subtype[kind.label])
        for group in groups:
            group.rows += 1
            group.correct += ok
    extra = sorted(set(predictions) - gold_ids)
    return ScoreReport(overall, dict(by_family), dict(by_subtype), missing, extra, wrong)
