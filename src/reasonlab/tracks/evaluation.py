"""Tasks inside an evaluation run: their requests, and their stored completions scored into
:class:`~reasonlab.scoring.rows.EvalRow`, the one row type of every task (the Wonderland puzzles and the
tracks), so one metrics table and one report cover any mix of them.

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
from reasonlab.scoring.rows import SAMPLE_SEPARATOR, EvalRow, StoredCompletion
from reasonlab.tracks import EvalTask, load_task
from reasonlab.tracks.request import EvalRequest


def task_requests(
    tasks: Iterable[EvalTask | str], limit: int | None = None, fewshot: int | None = None, samples: int = 1
) -> tuple[dict[str, EvalTask], list[EvalRequest]]:
    """The tasks (objects, or names to load) by name and their requests (the first ``limit`` of each;
    ``samples`` copies of each)."""
    loaded = [load_task(task) if isinstance(task, str) else task for task in tasks]
    by_name = {task.name: task for task in loaded}
    requests = []
    for task in by_name.values():
        for request in task.requests(limit=limit, fewshot=fewshot):
            if samples == 1:
                requests.append(request)
            else:
                requests += [
                    replace(request, id=f"{request.id}{SAMPLE_SEPARATOR}{j}") for j in range(samples)
                ]
    return by_name, requests


def score_completion(task: EvalTask, request: EvalRequest, stored: StoredCompletion) -> EvalRow:
    """One row: ``stored``'s completion extracted and scored by the task that asked ``request``."""
    if stored.task is not None and stored.task != request.task:
        raise ValueError(
            f"row {request.id!r}: stored for task {stored.task!r}, asked by task {request.task!r}"
        )
    scored = task.score(request, stored.completion)
    no_answer = scored.answer.strip() in ("", NOT_FOUND) if scored.no_answer is None else scored.no_answer
    return EvalRow(
        id=request.id,
        task=request.task,
        track=request.track,
        family=request.family,
        subtype=request.subtype,
        gold=request.gold,
        completion=stored.completion,
        answer=scored.answer,
        score=scored.score,
        correct=scored.correct and stored.finish_reason != FINISH_LENGTH,
        no_answer=no_answer,
        prompt_tokens=stored.prompt_tokens,
        completion_tokens=stored.completion_tokens,
        finish_reason=stored.finish_reason,
        seconds=stored.seconds,
        error=stored.error,
        reference=request.trace,
    )


def score_records(
    tasks: Mapping[str, EvalTask],
    requests: Sequence[EvalRequest],
    records: Mapping[str, Mapping[str, Any]],
    workers: int | None = None,
    on_row: Callable[[], None] | None = None,
) -> list[EvalRow]:
    """One scored row per request with a stored completion (``completions.jsonl`` records, read through
    :meth:`StoredCompletion.from_record`), in request order.

    Scorers run ``workers`` at a time: code runs in sandbox processes, math in math-verify workers.
    """
    present = [request for request in requests if request.id in records]

    def score(request: EvalRequest) -> EvalRow:
        row = score_completion(
            tasks[request.task], request, StoredCompletion.from_record(records[request.id])
        )
        if on_row:
            on_row()
        return row

    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
        return list(pool.map(score, present))


def pass_at_k_by_task(rows: Iterable[EvalRow], ks: Iterable[int]) -> dict[str, dict[str, float]]:
    """pass@k per task for each k no larger than the task's smallest number of samples per question."""
    outcomes: dict[str, dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        outcomes[row.task][row.question_id].append(row.correct)
    table = {}
    for task, by_question in outcomes.items():
        fewest = min(len(samples) for samples in by_question.values())
        table[task] = {
            f"pass@{k}": mean_pass_at_k(by_question, k) for k in sorted(set(ks)) if 1 <= k <= fewest
        }
    return table
