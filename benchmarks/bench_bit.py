"""Bit manipulation on the development data: accuracy, ambiguity, per-puzzle speed, trace lengths.

    python benchmarks/bench_bit.py [--csv PATH] [--generated N] [--seed S]

Solves, traces and replays every bit row in one process (wall and CPU seconds are both printed: on a
shared machine CPU seconds say what the solver costs) and grades with the grader's own comparison
(reasonlab.grader.verify).
``--generated N`` also measures generator -> solver agreement on N generated puzzles.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

from reasonlab.grader import extract, verify
from reasonlab.puzzles.families.bit import FAMILY
from reasonlab.puzzles.io import read_puzzles
from reasonlab.puzzles.types import Status

DEFAULT_CSV = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "wonderland" / "dev.csv"


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def bench_dev(path: Path) -> None:
    puzzles = [p for p in read_puzzles(path).puzzles if FAMILY.matches(p.prompt)]
    seconds, trace_lengths, statuses = [], [], Counter()
    correct = correct_ambiguous = 0
    cpu_solving = 0.0
    start = time.perf_counter()
    for puzzle in puzzles:
        t0, cpu0 = time.perf_counter(), time.process_time()
        instance = FAMILY.parse(puzzle.prompt)
        solution = FAMILY.solve(instance)
        seconds.append(time.perf_counter() - t0)
        cpu_solving += time.process_time() - cpu0
        statuses[solution.status.value] += 1
        ok = verify(puzzle.answer, solution.answer or "")
        correct += ok
        correct_ambiguous += ok and solution.status is Status.AMBIGUOUS
        text = FAMILY.trace(instance, solution)
        if text is not None:
            if FAMILY.replay(instance, text) != solution.answer or not verify(solution.answer, extract(text)):
                raise SystemExit(f"trace of {puzzle.id} does not replay to its answer")
            trace_lengths.append(len(text))
    wall = time.perf_counter() - start
    n = len(puzzles)
    print(f"{path.name}: {n} bit puzzles")
    print(f"accuracy {correct / n:.4f} ({correct}/{n})")
    print(
        "status: "
        + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items()))
        + f"; ambiguous answered right {correct_ambiguous}/{statuses['ambiguous']}"
    )
    print(
        f"solve seconds per puzzle: median {statistics.median(seconds):.4f}, "
        f"p95 {_percentile(seconds, 0.95):.4f}, max {max(seconds):.4f}; solve total {sum(seconds):.2f} s "
        f"(CPU {cpu_solving:.2f} s; the gap is time other processes took from this one)"
    )
    print(
        f"traces: {len(trace_lengths)}/{n}, characters median {statistics.median(trace_lengths):.0f}, "
        f"p95 {_percentile(trace_lengths, 0.95):.0f}, max {max(trace_lengths)}"
    )
    print(f"wall (solve + trace + replay) {wall:.2f} s")


def bench_generated(count: int, seed: int) -> None:
    rng = random.Random(seed)
    start = time.perf_counter()
    puzzles = [FAMILY.generate(rng) for _ in range(count)]
    generated = time.perf_counter() - start
    statuses, agree = Counter(), 0
    for puzzle in puzzles:
        solution = FAMILY.solve(FAMILY.parse(puzzle.prompt))
        statuses[solution.status.value] += 1
        agree += verify(puzzle.answer, solution.answer or "")
    print(
        f"generated {count} (seed {seed}) in {generated:.2f} s: solver agrees on {agree / count:.4f}; "
        + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items()))
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--csv", type=Path, default=Path(os.environ.get("REASONLAB_DEV_CSV", DEFAULT_CSV)))
    parser.add_argument("--generated", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if not args.csv.is_file():
        print(f"no data at {args.csv}", file=sys.stderr)
        return 2
    bench_dev(args.csv)
    if args.generated:
        bench_generated(args.generated, args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
