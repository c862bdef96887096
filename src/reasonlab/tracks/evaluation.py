"""Tasks inside an evaluation run: their requests, and their stored completions scored into the same
row shape as the puzzles' (``family`` = task, plus ``track``), so one metrics table and one report
cover any mix of tasks and puzzle families.

With ``samples`` > 1 each question is asked several times under ids ``<id>@<j>``; the rows of one
question then give pass@k (the unbiased estimator) for every k up to ``samples``. Whether repeated
samples differ depends on the backend's sampling settings (temperature > 0).
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from reasonlab.grader import FINISH_LENGTH, NOT_FOUND
from reasonlab.scoring.pass_at_k import mean_pass_at_k
from reasonlab.tracks import load_task
from reasonlab.tracks.request import EvalRequest
from reasonlab.tracks.task import Task

SAMPLE_SEPARATOR = "@"


def task_requests(
    names: Iterable[str], limit: int | None = None, fewshot: int | None = None, samples: int = 1
) -> tuple[dict[str, Task], list[EvalRequest]]:
    """The tasks by name and their requests (the first ``limit`` of each; ``samples`` copies of each)."""
    tasks = {task.name: task for task in (load_task(name) for name in names)}
    requests = []
    for task in tasks.values():
        for request in task.requests(limit=limit, fewshot=fewshot):
            if samples == 1:
                requests.append(request)
            else:
                requests += [
                    replace(request, id=f"{request.id}{SAMPLE_SEPARATOR}{j}") for j in range(samples)
                ]
    return tasks, requests


def question_id(row_id: str) -> str:
    """The id of the question a (possibly sampled) row answers."""
    base, separator, sample = row_id.rpartition(SAMPLE_SEPARATOR)
    return base if separator and sample.isdigit() else row_id


def score_records(
    tasks: Mapping[str, Task],
    requests: Sequence[EvalRequest],
    records: Mapping[str, dict[str, Any]],
    workers: int | None = None,
    on_row: Callable[[], None] | None = None,
) -> list[dict[str, Any]]:
    """One scored row per request with a stored completion (``record["completion"]``), in request order.

    Scorers run ``workers`` at a time: code runs in sandbox processes, math in math-verify workers.
    """
    present = [request for request in requests if request.id in records]

    def score(request: EvalRequest) -> dict[str, Any]:
        record = records[request.id]
        scored = tasks[request.task].score(request, record.get("completion") or "")
        if on_row:
            on_row()
        return {
            **record,
            "family": request.task,
            "subtype": None,
            "track": request.track,
            "question_id": question_id(request.id),
            "gold": request.gold,
            "answer": scored.answer,
            "no_answer": scored.answer.strip() in ("", NOT_FOUND),
            "score": scored.score,
            "correct": scored.correct and record.get("finish_reason") != FINISH_LENGTH,
        }

    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
        return list(pool.map(score, present))


def pass_at_k_by_task(rows: Iterable[dict[str, Any]], ks: Iterable[int]) -> dict[str, dict[str, float]]:
    """pass@k per task for each k no larger than the task's smallest number of samples per question."""
    outcomes: dict[str, dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        outcomes[row["family"]][row["question_id"]].append(bool(row["correct"]))
    table = {}
    for task, by_question in outcomes.items():
        fewest = min(len(samples) for samples in by_question.values())
        table[task] = {
            f"pass@{k}": mean_pass_at_k(by_question, k) for k in sorted(set(ks)) if 1 <= k <= fewest
        }
    return table
