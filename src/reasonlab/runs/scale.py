"""Fan-out over a Ray cluster: the work the local worker pool does, on as many machines as the cluster has.

The same chunks go through the same function (:func:`reasonlab.puzzles.solve.solve_puzzle`), so a Ray
run gives the local run's rows, in input order. ``address`` is Ray's: ``None``/``"local"`` starts a
cluster on this machine (or reuses the one this process already joined), ``"auto"`` joins the cluster
this machine belongs to, ``"ray://host:10001"`` a remote one. Only the executor changes between a laptop
and a cluster; the command, its config and its outputs stay the same.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from reasonlab.puzzles.families import prepare_families
from reasonlab.puzzles.solve import SolvedRow, solve_puzzle
from reasonlab.puzzles.types import Puzzle
from reasonlab.workers import ordered_on_ray


def _solve_chunk(args: tuple[list[Puzzle], float | None]) -> list[SolvedRow]:
    chunk, timeout = args
    prepare_families(p.prompt for p in chunk)  # built once per worker process (cached)
    return [solve_puzzle(p, timeout) for p in chunk]


def solve_on_ray(
    puzzles: Iterable[Puzzle],
    *,
    address: str | None = None,
    timeout: float | None = 5.0,
    chunk_size: int = 16,
    on_progress: Callable[[int], None] | None = None,
) -> Iterator[SolvedRow]:
    """Solve ``puzzles`` as Ray tasks of ``chunk_size`` puzzles each, yielding rows in input order."""
    puzzles = list(puzzles)
    chunks = ((puzzles[i : i + chunk_size], timeout) for i in range(0, len(puzzles), chunk_size))
    for rows in ordered_on_ray(_solve_chunk, chunks, address=address):
        yield from rows
        if on_progress:
            on_progress(len(rows))
