"""Evaluation metrics per family, per subtype and overall, from a run's stored completions.

Correctness uses the grader's own extraction and comparison (:mod:`reasonlab.grader`), so these
accuracies equal what ``reasonlab score GOLD.csv RUN_DIR/completions.jsonl`` reports.

Per group:
- ``accuracy`` and ``ci95``: correct / rows, with a 95% Wilson interval;
- ``no_answer_rate``: share of completions with no non-empty ``\\boxed{}`` (the grader then falls back
  to "final answer" phrases, the last number or the last line, rarely what was meant); for track tasks,
  no answer their own extraction could read;
- ``truncation_rate``: share that hit ``max_tokens`` (finish reason "length"); ``error_rate``: backend gave up;
- ``mean_completion_tokens``, ``median_completion_tokens``, ``mean_seconds`` (latency per row);
- ``correct_per_1k_tokens``: correct answers per 1,000 generated tokens;
- ``accuracy_at_budget[B]``: share of rows answered correctly within B generated tokens (a correct
  completion longer than B counts as wrong: what the run would score had the budget been B);
- ``efficiency``: the mean of ``accuracy_at_budget`` over the configured budgets (default 512, 1024,
  2048, 4096, 7680): accuracy that rewards getting there in fewer tokens. It equals the accuracy when
  every correct answer fits in the smallest budget and falls towards 0 as answers need more tokens.
Overall only: ``generation_seconds`` (backend wall time over all sessions of the run), ``tokens_per_s``
(generated tokens / generation_seconds) and ``harness_overhead`` (share of the generation sessions' wall
time spent outside the backend: prompts, extraction, the store; the once-per-run metrics and report are
measured by ``benchmarks/bench_eval_overhead.py``).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from reasonlab.grader import MAX_TOKENS, boxed_contents, extract, verify
from reasonlab.inference.base import FINISH_ERROR, FINISH_LENGTH
from reasonlab.puzzles.types import Puzzle
from reasonlab.scoring.stats import wilson_interval

DEFAULT_BUDGETS = (512, 1024, 2048, 4096, MAX_TOKENS)


def has_boxed_answer(text: str) -> bool:
    return any(content.strip() for content in boxed_contents(text))


def score_rows(
    puzzles: Sequence[Puzzle], records: dict[str, dict[str, Any]], *, legacy: bool = False
) -> list[dict[str, Any]]:
    """One scored row per puzzle with a completion: the record plus gold, extracted answer, correct
    (never for a truncated completion)."""
    rows = []
    for puzzle in puzzles:
        record = records.get(puzzle.id)
        if record is None:
            continue
        answer = extract(record["completion"], legacy=legacy)
        correct = record["finish_reason"] != FINISH_LENGTH and verify(puzzle.answer, answer)
        rows.append({**record, "gold": puzzle.answer, "answer": answer, "correct": correct})
    return rows


def _no_answer(row: dict[str, Any]) -> bool:
    # Track task rows say themselves (their answers need not be boxed: code blocks, "#### 18").
    return row["no_answer"] if "no_answer" in row else not has_boxed_answer(row["completion"])


def group_metrics(rows: Sequence[dict[str, Any]], budgets: Iterable[int] = DEFAULT_BUDGETS) -> dict[str, Any]:
    n = len(rows)
    correct = sum(r["correct"] for r in rows)
    tokens = [r["completion_tokens"] for r in rows]
    budgets = sorted(budgets)
    at_budget = {
        str(b): (sum(r["correct"] and r["completion_tokens"] <= b for r in rows) / n if n else 0.0)
        for b in budgets
    }
    return {
        "rows": n,
        "correct": correct,
        "accuracy": correct / n if n else 0.0,
        "ci95": list(wilson_interval(correct, n)),
        "no_answer_rate": sum(_no_answer(r) for r in rows) / n if n else 0.0,
        "truncation_rate": sum(r["finish_reason"] == FINISH_LENGTH for r in rows) / n if n else 0.0,
        "error_rate": sum(r["finish_reason"] == FINISH_ERROR for r in rows) / n if n else 0.0,
        "mean_completion_tokens": statistics.fmean(tokens) if tokens else 0.0,
        "median_completion_tokens": statistics.median(tokens) if tokens else 0.0,
        "mean_seconds": statistics.fmean(r["seconds"] for r in rows) if rows else 0.0,
        "correct_per_1k_tokens": 1000 * correct / sum(tokens) if sum(tokens) else 0.0,
        "accuracy_at_budget": at_budget,
        "efficiency": statistics.fmean(at_budget.values()) if at_budget else 0.0,
    }


def groups_by_family(rows: Iterable[dict[str, Any]]) -> tuple[dict[str, list], dict[str, list]]:
    """Rows by family and by ``family/subtype`` (rows without a subtype only in the first), keys sorted."""
    by_family: dict[str, list] = defaultdict(list)
    by_subtype: dict[str, list] = defaultdict(list)
    for row in rows:
        by_family[row["family"]].append(row)
        if row.get("subtype"):
            by_subtype[f"{row['family']}/{row['subtype']}"].append(row)
    return dict(sorted(by_family.items())), dict(sorted(by_subtype.items()))


def compute_metrics(
    rows: Sequence[dict[str, Any]],
    *,
    expected_rows: int,
    timing: dict[str, float] | None = None,
    budgets: Iterable[int] = DEFAULT_BUDGETS,
) -> dict[str, Any]:
    """Metrics overall, ``by_family`` and ``by_subtype`` (equations: numeric|symbolic × deduce|guess)."""
    budgets = list(budgets)
    by_family, by_subtype = groups_by_family(rows)
    overall = group_metrics(rows, budgets)
    overall["missing_rows"] = expected_rows - len(rows)
    if timing:
        generation = timing.get("backend_s", 0.0)
        wall = timing.get("wall_s", 0.0)
        generated = timing.get("generated_tokens", 0)
        overall["generation_seconds"] = generation
        overall["tokens_per_s"] = generated / generation if generation else 0.0
        overall["harness_overhead"] = (wall - generation) / wall if wall else 0.0
    return {
        "overall": overall,
        "by_family": {k: group_metrics(v, budgets) for k, v in by_family.items()},
        "by_subtype": {k: group_metrics(v, budgets) for k, v in by_subtype.items()},
        "budgets": budgets,
    }
