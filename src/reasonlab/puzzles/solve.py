"""Solving puzzles: one prompt, or many in parallel with a per-puzzle time limit.

The solvers stop on step budgets, never on the clock, so a prompt gets the same answer on any machine and
under any load. The time limit is only a safety net: a slow or crashing puzzle never stops a run, each
puzzle runs under an alarm in a worker process, and its failure becomes a row with status ``timeout`` or
``error`` (never an answer from a search cut short by time).
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from reasonlab.puzzles.classify import parse_prompt
from reasonlab.puzzles.families import prepare_families
from reasonlab.puzzles.types import Puzzle, Solution, Status
from reasonlab.workers import worker_pool


@dataclass(frozen=True, slots=True)
class SolvedRow:
    id: str
    family: str | None
    subtype: str | None
    solution: Solution
    seconds: float


class PuzzleTimeout(Exception):
    pass


@contextmanager
def time_limit(seconds: float | None):
    """Raise :class:`PuzzleTimeout` in this (main) thread after ``seconds`` of wall time."""
    if not seconds or seconds <= 0:
        yield
        return

    def on_alarm(signum, frame):
        raise PuzzleTimeout

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def solve_prompt(prompt: str) -> Solution:
    """Classify, parse and solve one prompt (no time limit, exceptions propagate)."""
    family, instance = parse_prompt(prompt)
    return family.solve(instance)


def solve_puzzle(puzzle: Puzzle, timeout: float | None = None) -> SolvedRow:
    start = time.perf_counter()
    family = subtype = None
    try:
        with time_limit(timeout):
            fam, instance = parse_prompt(puzzle.prompt)  # parsed once: classified and solved from it
            family, subtype = fam.name, fam.subtype(instance)
            solution = fam.solve(instance)
    except PuzzleTimeout:
        solution = Solution(None, Status.TIMEOUT, f"no answer within {timeout:g} s")
    except Exception as exc:  # noqa: BLE001 - one broken puzzle must not stop the run
        solution = Solution(None, Status.ERROR, f"{type(exc).__name__}: {exc}")
    return SolvedRow(puzzle.id, family, subtype, solution, time.perf_counter() - start)


def _solve_chunk(args: tuple[list[Puzzle], float | None]) -> list[SolvedRow]:
    chunk, timeout = args
    return [solve_puzzle(p, timeout) for p in chunk]


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def solve_many(
    puzzles: Iterable[Puzzle],
    *,
    workers: int | None = None,
    timeout: float | None = 5.0,
    chunk_size: int = 64,
    on_progress: Callable[[int], None] | None = None,
) -> Iterator[SolvedRow]:
    """Solve puzzles on ``workers`` processes, yielding rows in input order. Puzzles travel to the workers
    in chunks of ``chunk_size``: each chunk costs the pool a round trip (pickling, a future, a wake-up of
    its threads), so a chunk holds many puzzles, about 50 ms of solving."""
    puzzles = list(puzzles)
    workers = workers or default_workers()
    prepare_families(p.prompt for p in puzzles)
    chunks = [puzzles[i : i + chunk_size] for i in range(0, len(puzzles), chunk_size)]
    if workers <= 1:
        results = map(_solve_chunk, ((c, timeout) for c in chunks))
        for rows in results:
            yield from rows
            if on_progress:
                on_progress(len(rows))
        return
    with worker_pool(workers) as pool:
        for rows in pool.map(_solve_chunk, ((c, timeout) for c in chunks)):
            yield from rows
            if on_progress:
                on_progress(len(rows))
