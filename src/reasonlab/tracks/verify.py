"""Reference verification: every task's known-good completions must pass its own extraction and scorer."""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from reasonlab.tracks import EvalTask
from reasonlab.tracks.request import EvalRequest


@dataclass
class Verification:
    task: str
    track: str
    rows: int = 0
    passed: int = 0
    failed_ids: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.rows > 0 and self.passed == self.rows


def verify_task(
    task: EvalTask,
    limit: int | None = None,
    workers: int | None = None,
    on_progress: Callable[[int], None] | None = None,
    requests: list[EvalRequest] | None = None,
) -> Verification:
    """Score each request's reference completion (of the given ``requests``, else the task's first
    ``limit``); the scorers' own processes (sandbox, math-verify) run ``workers`` at a time."""
    if requests is None:
        requests = task.requests(limit=limit, fewshot=0)
    result = Verification(task=task.name, track=task.track, rows=len(requests))

    def check(request: EvalRequest) -> bool:
        correct = task.score(request, request.reference).correct
        if on_progress:
            on_progress(1)
        return correct

    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
        for request, correct in zip(requests, pool.map(check, requests), strict=True):
            if correct:
                result.passed += 1
            else:
                result.failed_ids.append(request.id)
    return result
