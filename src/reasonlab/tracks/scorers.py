"""Named scorers: ``(request, extracted answer) -> score`` in [0, 1]; 1 means correct.

Code runs only in the sandbox (a separate, confined process per program); math answers are compared by
math-verify in worker processes (thread-safe time limit); logic answers by reasoning-gym's own checkers.
"""

from __future__ import annotations

from collections.abc import Callable

from reasonlab.grader import NOT_FOUND
from reasonlab.scoring.math_answers import math_equivalent
from reasonlab.scoring.sandbox import Limits, run_program
from reasonlab.tracks.request import EvalRequest
from reasonlab.tracks.sources import reasoning_gym_score

CODE_LIMITS = Limits(timeout=10.0, memory_mb=1024)


def exact_match(request: EvalRequest, answer: str) -> float:
    return float(answer.strip().casefold() == request.gold.strip().casefold())


def math_verify(request: EvalRequest, answer: str) -> float:
    if answer == NOT_FOUND:
        return 0.0
    return float(math_equivalent(request.gold, answer))


def python_tests(request: EvalRequest, answer: str) -> float:
    """The program passes when it runs to the end, its tests (the gold) appended, in the sandbox."""
    return float(run_program(f"{answer}\n\n{request.gold}", CODE_LIMITS).passed)


def reasoning_gym_checker(request: EvalRequest, answer: str) -> float:
    return reasoning_gym_score(request.metadata["source"], request.metadata["index"], answer)


SCORERS: dict[str, Callable[[EvalRequest, str], float]] = {
    "exact_match": exact_match,
    "math_verify": math_verify,
    "python_tests": python_tests,
    "reasoning_gym": reasoning_gym_checker,
}
