"""The evaluation row: one question of one task, the completion a model gave, and how it scored.

Every task produces this one type (the Wonderland puzzles and the math, code, logic and commonsense tracks
alike) and every reader takes it: the metrics, the report, the scorecard and imitation metrics, ``reasonlab
compare`` and ``reasonlab score``. ``task`` names the task; ``family`` and ``subtype`` are a puzzle's
(``bit``, ``equation`` + ``numeric-deduce``), None for a task without families.

A run's ``completions.jsonl`` holds what generation produced (:class:`StoredCompletion`); rows are made by
scoring those records against the task's requests, so the gold answers and the scorer always come from the
task, never from the file. :meth:`StoredCompletion.from_record` is the one place old records are read.

Pure Python: imported by ``scoring`` itself, which must not need torch.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

WONDERLAND = "wonderland"  # the competition's puzzles, as a task
PUZZLE_TRACK = "puzzles"  # its track, beside math, code, logic and commonsense
SAMPLE_SEPARATOR = "@"  # a question asked n times is stored as <id>@0 ... <id>@<n-1>


def question_id(row_id: str) -> str:
    """The id of the question a (possibly sampled) row answers."""
    base, separator, sample = row_id.rpartition(SAMPLE_SEPARATOR)
    return base if separator and sample.isdigit() else row_id


@dataclass(frozen=True)
class StoredCompletion:
    """One line of ``completions.jsonl``: a request's completion as the backend returned it (its answer is
    read again by the task's extraction when the row is scored)."""

    id: str
    task: str | None
    completion: str
    finish_reason: str
    family: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    error: str | None = None

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> StoredCompletion:
        """A stored line, in the current format or the one before tasks had a field of their own.

        The earlier format had no ``task`` and put a track task's name in ``family`` (ids ``TASK/...``,
        subtype empty); every other row was a Wonderland puzzle with its family there. Such a line reads as
        ``task = family, family = None`` when its id starts with ``family + "/"``, else as a puzzle row of
        the ``wonderland`` task. Nothing else changed: completion, tokens, finish reason, seconds, error.
        A line naming neither (a hand-written ``{id, completion}``) leaves ``task`` None: any task's.
        """
        row_id, family = str(record["id"]), record.get("family")
        task = record.get("task")
        if task is None and family is not None:
            old_task_row = row_id.startswith(f"{family}/")
            task, family = (family, None) if old_task_row else (WONDERLAND, family)
        return cls(
            id=row_id,
            task=task,
            completion=record.get("completion") or "",
            finish_reason=record.get("finish_reason") or "",
            family=family,
            prompt_tokens=record.get("prompt_tokens") or 0,
            completion_tokens=record.get("completion_tokens") or 0,
            seconds=record.get("seconds") or 0.0,
            error=record.get("error"),
        )


@dataclass(frozen=True)
class EvalRow:
    """A scored row. ``correct`` is never true for a completion cut at ``max_tokens`` (finish reason
    ``length``); ``score`` is the task's own score in [0, 1]; ``no_answer`` says the task's extraction found
    nothing it reads as an answer (for the puzzles: no non-empty ``\\boxed{}``). ``reference`` is the trace
    the row's model should imitate (SFT records), with ``perfect`` (free generation equals it) and
    ``imitation`` (teacher-forced scores) where measured."""

    id: str
    task: str
    track: str
    gold: str
    answer: str
    correct: bool
    family: str | None = None
    subtype: str | None = None
    completion: str = ""
    score: float = 0.0
    no_answer: bool = False
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str = ""
    seconds: float = 0.0
    error: str | None = None
    reference: str | None = None
    perfect: bool | None = None
    imitation: dict[str, Any] | None = None

    @property
    def question_id(self) -> str:
        return question_id(self.id)

    @property
    def group(self) -> str:
        """What a row is shown under: its puzzle family, or its task when the task has no families."""
        return self.family or self.task

    @property
    def subtype_label(self) -> str | None:
        return f"{self.family}/{self.subtype}" if self.family and self.subtype else None


def group_by(rows: Iterable[EvalRow], key: Callable[[EvalRow], str | None]) -> dict[str, list[EvalRow]]:
    """Rows by ``key`` (rows whose key is None left out), keys sorted, rows in their order."""
    groups: dict[str, list[EvalRow]] = defaultdict(list)
    for row in rows:
        name = key(row)
        if name is not None:
            groups[name].append(row)
    return dict(sorted(groups.items()))


@dataclass(frozen=True)
class RowGroups:
    """The groupings every table of rows uses: per task, per puzzle family, per ``family/subtype``, per
    track. A row without a family (a track task's) is only in ``by_task`` and ``by_track``."""

    by_task: dict[str, list[EvalRow]]
    by_family: dict[str, list[EvalRow]]
    by_subtype: dict[str, list[EvalRow]]
    by_track: dict[str, list[EvalRow]]

    @classmethod
    def of(cls, rows: Iterable[EvalRow]) -> RowGroups:
        rows = list(rows)
        return cls(
            by_task=group_by(rows, lambda r: r.task),
            by_family=group_by(rows, lambda r: r.family),
            by_subtype=group_by(rows, lambda r: r.subtype_label),
            by_track=group_by(rows, lambda r: r.track),
        )
