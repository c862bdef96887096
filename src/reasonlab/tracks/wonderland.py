"""The competition's Wonderland puzzles as a task, evaluated by the same path as every track task.

- rows: a labelled CSV (``id,prompt,answer``: ``train.csv``, ``dev.csv``, ``synth`` output) or SFT records
  (JSONL/Parquet from ``synth``/``traces``: user turn = the grader's prompt, assistant turn = the trace,
  which the row then carries for imitation metrics); each classified into its family and subtype, optionally
  kept to some families;
- prompt: exactly the grader's (the puzzle, a newline and the boxed suffix as one user turn,
  :func:`reasonlab.prompting.chat_messages`), after optional worked examples;
- extraction and scorer: the grader's own (:func:`reasonlab.grader.extract`, optionally the pre-May-2026
  rule, and :func:`reasonlab.grader.verify`); "no answer" means no non-empty ``\\boxed{}``;
- metadata: ``family``, ``subtype``, the ``puzzle`` text (the solver backend solves it) and the trace.

The registered ``wonderland`` task reads the built-in sample rows; ``reasonlab eval`` builds its own over
``data.path``. A CSV row's reference completion is ``\\boxed{gold}`` (what ``tasks verify`` checks); a
record's is its trace.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import ClassVar

from reasonlab.grader import boxed_contents, extract, verify
from reasonlab.prompting import chat_messages, puzzle_text, reference_continuation
from reasonlab.puzzles.classify import classify
from reasonlab.puzzles.io import read_puzzles
from reasonlab.puzzles.types import Puzzle
from reasonlab.scoring.rows import PUZZLE_TRACK, WONDERLAND
from reasonlab.tracks.request import EvalRequest
from reasonlab.tracks.task import Scored

RECORD_SUFFIXES = (".jsonl", ".parquet")
WONDERLAND_DESCRIPTION = (
    "The competition's puzzles, asked and scored as the grader does (eval: data.path; here the sample rows)"
)


def sample_csv() -> Path:
    """The handful of labelled puzzles shipped with reasonlab (the embedded eval default's data)."""
    return Path(str(resources.files("reasonlab") / "data" / "sample.csv"))


def has_boxed_answer(text: str) -> bool:
    return any(content.strip() for content in boxed_contents(text))


@dataclass(frozen=True)
class Trace:
    """A record's reference trace: the continuation the model should generate, and its trace style."""

    text: str
    style: str | None


def read_traced_puzzles(path: Path) -> list[tuple[Puzzle, Trace | None]]:
    """Puzzles and their traces from SFT records (user turn = the grader's prompt, assistant = trace)."""
    from reasonlab.synth.records import read_records

    rows = []
    for record in read_records(path):
        by_role = {m["role"]: m["content"] for m in record["messages"]}
        puzzle = Puzzle(str(record["id"]), puzzle_text(by_role["user"]), record.get("answer"))
        trace = None
        if "assistant" in by_role:
            trace = Trace(reference_continuation(by_role["assistant"]), record.get("style"))
        rows.append((puzzle, trace))
    return rows


@dataclass(frozen=True)
class WonderlandTask:
    """The puzzles of ``source`` (the family filter ``families``), asked as the grader asks after the worked
    examples ``few_shot`` ((puzzle text, reply) pairs), read by the grader's extraction (the pre-May-2026
    rule with ``legacy_extraction``) and scored by its metric."""

    name: ClassVar[str] = WONDERLAND
    track: ClassVar[str] = PUZZLE_TRACK

    source: Path | None = None
    families: tuple[str, ...] | None = None
    few_shot: tuple[tuple[str, str], ...] = ()
    legacy_extraction: bool = False

    def puzzles(self) -> list[tuple[Puzzle, Trace | None]]:
        """Every labelled row of the source, with its trace when the source is SFT records."""
        path = self.source or sample_csv()
        if path.suffix in RECORD_SUFFIXES:
            rows = read_traced_puzzles(path)
            if any(puzzle.answer is None for puzzle, _ in rows):
                raise ValueError(f"{path}: records without an 'answer'; evaluation needs gold answers")
            return rows
        data = read_puzzles(path)
        if not data.has_answers:
            raise ValueError(f"{path} has no 'answer' column; evaluation needs gold answers")
        return [(puzzle, None) for puzzle in data.puzzles]

    def requests(self, limit: int | None = None, fewshot: int | None = None) -> list[EvalRequest]:
        """The first ``limit`` puzzles of the chosen families. ``fewshot`` is a track task's count of
        leading rows turned into worked examples; a puzzle row has no worked reply to show, so the
        examples come from ``few_shot`` instead and the count is not used."""
        requests = []
        for puzzle, trace in self.puzzles():
            kind = classify(puzzle.prompt)
            if self.families is not None and kind.family not in self.families:
                continue
            requests.append(self._request(puzzle, kind.family, kind.subtype, trace))
            if limit is not None and len(requests) == limit:
                break
        return requests

    def _request(self, puzzle: Puzzle, family: str, subtype: str | None, trace: Trace | None) -> EvalRequest:
        return EvalRequest(
            id=puzzle.id,
            task=self.name,
            track=self.track,
            messages=chat_messages(puzzle.prompt, few_shot=self.few_shot),
            gold=str(puzzle.answer),
            reference=trace.text if trace else f"\\boxed{{{puzzle.answer}}}",
            family=family,
            subtype=subtype,
            puzzle=puzzle.prompt,
            trace=trace.text if trace else None,
            trace_style=trace.style if trace else None,
        )

    def extract(self, request: EvalRequest, completion: str) -> str:
        return extract(completion, legacy=self.legacy_extraction)

    def score(self, request: EvalRequest, completion: str) -> Scored:
        answer = self.extract(request, completion)
        return Scored(answer, float(verify(request.gold, answer)), no_answer=not has_boxed_answer(completion))


def wonderland_task(
    source: str | Path | None = None,
    *,
    families: Sequence[str] | None = None,
    few_shot: Sequence[tuple[str, str]] = (),
    legacy_extraction: bool = False,
) -> WonderlandTask:
    return WonderlandTask(
        Path(source) if source is not None else None,
        tuple(families) if families else None,
        tuple(few_shot),
        legacy_extraction,
    )


WONDERLAND_TASK = WonderlandTask()  # the registered entry: the built-in sample rows
