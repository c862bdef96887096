"""The solvers stop on step budgets, never on the clock: a saturated CPU changes no answer.

The hardest symbolic rows of the development data (the most hypotheses voted) are solved once on a quiet
machine, in this process, and again in worker processes while busy loops keep every core saturated; the
two runs must agree on every answer, status, rule and detail (hypothesis counts included)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from reasonlab.puzzles.families.equation import FAMILY
from reasonlab.puzzles.solve import solve_many, solve_prompt

HARD_ROWS = 24


def _record(solution) -> str:
    return json.dumps(
        [solution.answer, solution.status.value, solution.rule, solution.details], sort_keys=True, default=str
    )


@pytest.fixture(scope="module")
def hard_symbolic(dev_puzzles):
    symbolic = [p for p in dev_puzzles if FAMILY.matches(p.prompt) and not FAMILY.parse(p.prompt).numeric]
    solved = [(p, solve_prompt(p.prompt)) for p in symbolic]
    solved.sort(key=lambda ps: -ps[1].details.get("hypotheses", 0))
    return solved[:HARD_ROWS]


def test_saturated_cpu_gives_the_same_answers(hard_symbolic):
    busy = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2 * (os.cpu_count() or 1))
    ]
    try:
        loaded = list(solve_many([p for p, _ in hard_symbolic], workers=2, chunk_size=1))
    finally:
        for process in busy:
            process.kill()
            process.wait()
    assert [row.id for row in loaded] == [p.id for p, _ in hard_symbolic]
    assert [_record(row.solution) for row in loaded] == [_record(s) for _, s in hard_symbolic]
    assert any("cut short" in s.details.get("note", "") for _, s in hard_symbolic)  # budgets were reached
