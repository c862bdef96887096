"""SFT records in chat format, and the files that hold them.

The user turn is the grader's own (:func:`reasonlab.prompting.user_prompt`). The assistant turn is what
the model must generate after the chat template's ``<think>\\n`` opener: the trace inside an explicit
think block, then one sentence with the boxed answer. The think tags are written out because
Nemotron-3's template inserts an empty ``<think></think>`` into assistant turns that lack them.

Every record names its ``style`` (``compact``, ``stepwise``: :mod:`reasonlab.puzzles.trace_style`) and
whether it is a ``drill`` (a catalog question and answer, no puzzle: :mod:`reasonlab.synth.drills`).
JSONL and Parquet files have a ``messages`` column that TRL's ``SFTTrainer`` reads as a conversation;
CSV files are puzzles in the competition's ``id,prompt,answer`` format.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reasonlab.grader import BOX_OPEN
from reasonlab.outputs import atomic_output, atomic_path
from reasonlab.prompting import user_prompt
from reasonlab.puzzles.types import Puzzle

if TYPE_CHECKING:
    from reasonlab.synth.check import TracedPuzzle

THINK_OPEN = "<think>\n"
THINK_CLOSE = "\n</think>\n"
RECORD_FORMATS = (".jsonl", ".parquet")
PUZZLE_FORMATS = (".csv",)


def final_sentence(answer: str) -> str:
    return f"The answer is {BOX_OPEN}{answer}}}."


def assistant_text(trace: str, answer: str) -> str:
    """The assistant turn: the trace in its think block, then the boxed answer the trace reached."""
    return f"{THINK_OPEN}{trace}{THINK_CLOSE}{final_sentence(answer)}"


def drill_record(family: str, style: str, index: int, user: str, assistant: str) -> dict[str, Any]:
    """A drill: a catalog question and its answer (no puzzle, no trace to audit), marked as one."""
    return {
        "id": f"drill-{family}-{style}-{index}",
        "family": family,
        "subtype": None,
        "style": style,
        "drill": True,
        "answer": "",
        "messages": [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}],
    }


def sft_record(traced: TracedPuzzle, think: str | None = None) -> dict[str, Any]:
    """The SFT record of a traced puzzle; its think block is the trace unless ``think`` is given."""
    if traced.trace is None:
        raise ValueError(f"puzzle {traced.puzzle.id} has no trace ({traced.rejection}: {traced.detail})")
    return {
        "id": traced.puzzle.id,
        "family": traced.family,
        "subtype": traced.subtype,
        "style": traced.style,
        "drill": False,
        "answer": traced.puzzle.answer if traced.puzzle.answer is not None else traced.traced_answer,
        "messages": [
            {"role": "user", "content": user_prompt(traced.puzzle.prompt)},
            {
                "role": "assistant",
                "content": assistant_text(traced.trace if think is None else think, traced.traced_answer),
            },
        ],
    }


def write_records(records: Iterable[dict[str, Any]], path: str | Path) -> int:
    """Write SFT records as JSONL or Parquet (by suffix); returns how many were written."""
    path = Path(path)
    if path.suffix not in RECORD_FORMATS:
        raise ValueError(f"{path}: SFT records are written as {' or '.join(RECORD_FORMATS)}")
    records = list(records)
    if path.suffix == ".jsonl":
        with atomic_output(path, encoding="utf-8") as fh:
            for record in records:
                fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pylist(records, schema=_record_schema(pa))
        with atomic_path(path) as partial:
            pq.write_table(table, partial)
    return len(records)


def _record_schema(pa):
    message = pa.struct([("role", pa.string()), ("content", pa.string())])
    return pa.schema(
        [
            ("id", pa.string()),
            ("family", pa.string()),
            ("subtype", pa.string()),
            ("style", pa.string()),
            ("drill", pa.bool_()),
            ("answer", pa.string()),
            ("messages", pa.list_(message)),
        ]
    )


def read_records(path: str | Path) -> list[dict[str, Any]]:
    path = Path(path)
    if path.suffix == ".jsonl":
        with path.open(encoding="utf-8") as fh:
            return [json.loads(line) for line in fh if line.strip()]
    import pyarrow.parquet as pq

    return pq.read_table(path).to_pylist()


def write_puzzles_csv(puzzles: Iterable[Puzzle], path: str | Path) -> int:
    """Write puzzles in the competition's ``id,prompt,answer`` format; returns how many were written."""
    count = 0
    with atomic_output(path, encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "prompt", "answer"])
        for puzzle in puzzles:
            writer.writerow([puzzle.id, puzzle.prompt, puzzle.answer])
            count += 1
    return count
