"""Fan-out over a Ray cluster: the work the local worker pool does, on as many machines as the cluster has.

The same chunks go through the same function (:func:`reasonlab.puzzles.solve.solve_puzzle`), so a Ray
run gives the local run's rows, in input order. ``address`` is Ray's: ``None``/``"local"`` starts a
cluster on this machine (or reuses the one this process already joined), ``"auto"`` joins the cluster
this machine belongs to, ``"ray://host:10001"`` a remote one. Only the executor changes between a laptop
and a cluster; the command, its config and its outputs stay the same.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from reasonlab.puzzles.families import prepare_families
from reasonlab.puzzles.solve import SolvedRow, solve_puzzle
from reasonlab.puzzles.types import Puzzle

LOCAL = "local"


@contextmanager
def ray_session(address: str | None = None, num_cpus: int | None = None):
    """A connection to a Ray cluster for the duration of the block (one this process already has is
    reused, and left open)."""
    try:
        import ray
    except ImportError as exc:
        raise ImportError('fan-out over Ray needs ray: pip install -e ".[scale]"') from exc
    if ray.is_initialized():
        yield ray
        return
    ray.init(
        address=None if address in (None, LOCAL) else address,
        num_cpus=num_cpus if address in (None, LOCAL) else None,
        include_dashboard=False,
        log_to_driver=False,
    )
    try:
        yield ray
    finally:
        ray.shutdown()


def _solve_chunk(chunk: list[Puzzle], timeout: float | None) -> list[SolvedRow]:
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
    with ray_session(address) as ray:
        task = ray.remote(_solve_chunk)
        pending = [
            task.remote(puzzles[i : i + chunk_size], timeout) for i in range(0, len(puzzles), chunk_size)
        ]
        for ref in pending:
            rows = ray.get(ref)
            yield from rows
            if on_progress:
                on_progress(len(rows))
