"""The scorecard: per family and subtype, what the solvers reach, what the model reaches, and why it falls short.

Per group (overall, ``by_family``, ``by_subtype``):
- ``solver_ceiling``: the share of rows the deterministic solvers answer correctly (solved inline, or read from
  a solver-backend run), ``accuracy`` the model's, and ``gap`` = ceiling - accuracy;
- ``truncation_rate`` and ``median_tokens`` of the model's completions;
- imitation, where rows carry a reference trace: ``perfect_trace_rate``, ``teacher_forced_perfect_rate``,
  ``token_agreement``, ``median_min_logprob``, ``mean_low_tokens`` (:mod:`reasonlab.runs.imitation`).

Overall, ``leaderboard_spread``: the accuracy over bootstrap draws of 250 rows (the private board's size, one
problem = 0.004), its standard deviation and 95% interval: two adapters whose difference is inside it cannot
be told apart by the board. ``failures``: a few wrong rows per family, with the first teacher-forced
divergence from the reference when there is one (the report highlights it).
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from reasonlab.grader import extract, verify
from reasonlab.inference.base import FINISH_LENGTH
from reasonlab.puzzles.types import Puzzle
from reasonlab.scoring.rows import EvalRow, RowGroups

LEADERBOARD_ROWS = 250
BOOTSTRAP_DRAWS = 2000
FAILURES_PER_FAMILY = 3
IMITATION_KEYS = (
    "perfect_trace_rate",
    "teacher_forced_perfect_rate",
    "token_agreement",
    "median_min_logprob",
    "mean_low_tokens",
)


def solve_inline(puzzles: Sequence[Puzzle], workers: int | None = None) -> dict[str, bool]:
    """Whether the solvers answer each puzzle correctly (the same solvers and limits as ``reasonlab solve``)."""
    from reasonlab.puzzles.solve import solve_many

    gold = {p.id: p.answer for p in puzzles}
    return {
        row.id: row.solution.answer is not None and verify(gold[row.id], row.solution.answer)
        for row in solve_many(puzzles, workers=workers)
    }


def ceiling_from_run(run_dir: Path, puzzles: Sequence[Puzzle]) -> dict[str, bool]:
    """Whether a solver-backend eval run (``configs/solver-eval.yaml``) answered each puzzle correctly."""
    from reasonlab.jsonl import read_jsonl

    gold = {p.id: p.answer for p in puzzles}
    answered = {}
    for _, record in read_jsonl(Path(run_dir) / "completions.jsonl"):
        row_id = str(record["id"])
        if row_id in gold and row_id not in answered:
            answered[row_id] = verify(gold[row_id], extract(record["completion"]))
    return answered


def leaderboard_spread(
    correct: Sequence[bool], size: int = LEADERBOARD_ROWS, draws: int = BOOTSTRAP_DRAWS, seed: int = 0
) -> dict[str, Any]:
    """Accuracy over ``draws`` bootstrap samples of ``size`` rows: mean, standard deviation, 95% interval."""
    if not correct:
        return {"draw_rows": size, "draws": 0}
    rng = random.Random(seed)
    values = [int(c) for c in correct]
    scores = sorted(sum(rng.choices(values, k=size)) / size for _ in range(draws))
    return {
        "draw_rows": size,
        "draws": draws,
        "mean": statistics.fmean(scores),
        "sd": statistics.pstdev(scores),
        "ci95": [scores[int(0.025 * draws)], scores[int(0.975 * draws) - 1]],
    }


def _group(rows: Sequence[EvalRow], ceiling: dict[str, bool] | None, imitation: dict | None) -> dict:
    n = len(rows)
    accuracy = sum(r.correct for r in rows) / n if n else 0.0
    card: dict[str, Any] = {"rows": n, "accuracy": accuracy}
    known = [ceiling[r.question_id] for r in rows if ceiling and r.question_id in ceiling]
    if known:
        card["solver_ceiling"] = sum(known) / len(known)
        card["gap"] = card["solver_ceiling"] - accuracy
    card["truncation_rate"] = sum(r.finish_reason == FINISH_LENGTH for r in rows) / n if n else 0.0
    card["median_tokens"] = statistics.median(r.completion_tokens for r in rows) if rows else 0
    for key in IMITATION_KEYS:
        if imitation and imitation.get(key) is not None:
            card[key] = imitation[key]
    return card


def _failure(row: EvalRow) -> dict[str, Any]:
    example: dict[str, Any] = {
        "id": row.id,
        "family": row.family,
        "subtype": row.subtype,
        "gold": row.gold,
        "answer": row.answer,
    }
    divergence = (row.imitation or {}).get("first_divergence")
    if divergence:
        example["divergence"] = divergence
    else:
        example["completion_tail"] = row.completion[-300:]
    return example


def build_scorecard(
    rows: Sequence[EvalRow],
    ceiling: dict[str, bool] | None = None,
    imitation: dict[str, Any] | None = None,
    *,
    seed: int = 0,
) -> dict[str, Any]:
    """The scorecard of scored puzzle rows (with imitation where scored)."""
    imitation = imitation or {}
    groups = RowGroups.of(rows)
    by_family, by_subtype = groups.by_family, groups.by_subtype
    overall = _group(rows, ceiling, imitation.get("overall"))
    overall["leaderboard_spread"] = leaderboard_spread([r.correct for r in rows], seed=seed)
    failures = [
        _failure(row)
        for family_rows in by_family.values()
        for row in [r for r in family_rows if not r.correct][:FAILURES_PER_FAMILY]
    ]
    return {
        "overall": overall,
        "by_family": {
            k: _group(v, ceiling, imitation.get("by_family", {}).get(k)) for k, v in by_family.items()
        },
        "by_subtype": {
            k: _group(v, ceiling, imitation.get("by_subtype", {}).get(k)) for k, v in by_subtype.items()
        },
        "failures": failures,
    }
