"""Evaluation metrics overall, per task, per puzzle family, per subtype and per track, from a run's
scored rows (:class:`reasonlab.scoring.rows.EvalRow`, whatever the task).

Each row is scored by its task: a puzzle by the grader's own extraction and comparison
(:mod:`reasonlab.grader`), so puzzle accuracies equal what ``reasonlab score GOLD.csv
RUN_DIR/completions.jsonl`` reports; a track task by its own extraction and scorer.

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
from collections.abc import Iterable, Sequence
from typing import Any

from reasonlab.grader import MAX_TOKENS
from reasonlab.inference.base import FINISH_ERROR, FINISH_LENGTH
from reasonlab.scoring.rows import EvalRow, RowGroups
from reasonlab.scoring.stats import wilson_interval

DEFAULT_BUDGETS = (512, 1024, 2048, 4096, MAX_TOKENS)


def group_metrics(rows: Sequence[EvalRow], budgets: Iterable[int] = DEFAULT_BUDGETS) -> dict[str, Any]:
    n = len(rows)
    correct = sum(r.correct for r in rows)
    tokens = [r.completion_tokens for r in rows]
    budgets = sorted(budgets)
    at_budget = {
        str(b): (sum(r.correct and r.completion_tokens <= b for r in rows) / n if n else 0.0) for b in budgets
    }
    return {
        "rows": n,
        "correct": correct,
        "accuracy": correct / n if n else 0.0,
        "ci95": list(wilson_interval(correct, n)),
        "no_answer_rate": sum(r.no_answer for r in rows) / n if n else 0.0,
        "truncation_rate": sum(r.finish_reason == FINISH_LENGTH for r in rows) / n if n else 0.0,
        "error_rate": sum(r.finish_reason == FINISH_ERROR for r in rows) / n if n else 0.0,
        "mean_completion_tokens": statistics.fmean(tokens) if tokens else 0.0,
        "median_completion_tokens": statistics.median(tokens) if tokens else 0.0,
        "mean_seconds": statistics.fmean(r.seconds for r in rows) if rows else 0.0,
        "correct_per_1k_tokens": 1000 * correct / sum(tokens) if sum(tokens) else 0.0,
        "accuracy_at_budget": at_budget,
        "efficiency": statistics.fmean(at_budget.values()) if at_budget else 0.0,
    }


def compute_metrics(
    rows: Sequence[EvalRow],
    *,
    expected_rows: int,
    timing: dict[str, float] | None = None,
    budgets: Iterable[int] = DEFAULT_BUDGETS,
) -> dict[str, Any]:
    """Metrics ``overall``, ``by_task``, ``by_family`` and ``by_subtype`` (puzzle rows; equations:
    numeric|symbolic × deduce|guess) and ``by_track``."""
    budgets = list(budgets)
    groups = RowGroups.of(rows)
    overall = group_metrics(rows, budgets)
    overall["missing_rows"] = expected_rows - len(rows)
    if timing:
        generation = timing.get("backend_s", 0.0)
        wall = timing.get("wall_s", 0.0)
        generated = timing.get("generated_tokens", 0)
        overall["generation_seconds"] = generation
        overall["tokens_per_s"] = generated / generation if generation else 0.0
        overall["harness_overhead"] = (wall - generation) / wall if wall else 0.0

    def table(grouped: dict[str, list[EvalRow]]) -> dict[str, Any]:
        return {k: group_metrics(v, budgets) for k, v in grouped.items()}

    return {
        "overall": overall,
        "by_task": table(groups.by_task),
        "by_family": table(groups.by_family),
        "by_subtype": table(groups.by_subtype),
        "by_track": table(groups.by_track),
        "budgets": budgets,
    }


def table_groups(metrics: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The groups a metrics table shows, in order: tasks (unless the run is one task split by families),
    families, subtypes, tracks (when there are several), overall."""
    tasks = metrics.get("by_task", {})
    tracks = metrics.get("by_track", {})
    show_tasks = len(tasks) > 1 or not metrics["by_family"]
    return [
        *([(f"task: {name}", g) for name, g in tasks.items()] if show_tasks else []),
        *metrics["by_family"].items(),
        *metrics.get("by_subtype", {}).items(),
        *([(f"track: {name}", g) for name, g in tracks.items()] if len(tracks) > 1 else []),
        ("overall", metrics["overall"]),
    ]
