"""Solve the development data and print accuracy per family and subtype, wall time and puzzles/s.

    python benchmarks/bench_solve.py [--csv PATH] [--workers N] [--repeat K]

Accuracy uses the grader's own comparison (reasonlab.grader.verify). With --repeat, the wall
time is the median of K runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

from rich.console import Console

from reasonlab.cli._console import score_table
from reasonlab.puzzles.io import read_puzzles
from reasonlab.puzzles.solve import default_workers, solve_many
from reasonlab.scoring.predictions import score_predictions

DEFAULT_CSV = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "wonderland" / "dev.csv"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--csv", type=Path, default=Path(os.environ.get("REASONLAB_DEV_CSV", DEFAULT_CSV)))
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--timeout", type=float, default=5.0)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    if not args.csv.is_file():
        print(f"no data at {args.csv}", file=sys.stderr)
        return 2
    puzzles = read_puzzles(args.csv).puzzles
    walls, rows = [], []
    for _ in range(args.repeat):
        start = time.perf_counter()
        rows = list(solve_many(puzzles, workers=args.workers, timeout=args.timeout))
        walls.append(time.perf_counter() - start)
    report = score_predictions(puzzles, {r.id: r.solution.answer or "" for r in rows})
    console = Console()
    console.print(score_table(report, title=f"Solver accuracy on {args.csv.name}"))
    statuses = Counter(r.solution.status.value for r in rows)
    slowest = max(rows, key=lambda r: r.seconds)
    wall = statistics.median(walls)
    console.print("status: " + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())))
    console.print(
        f"{len(rows)} puzzles, {args.workers} workers: wall {wall:.2f} s (median of {len(walls)}), "
        f"{len(rows) / wall:.0f} puzzles/s; slowest puzzle {slowest.seconds:.2f} s ({slowest.family}, {slowest.id})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
