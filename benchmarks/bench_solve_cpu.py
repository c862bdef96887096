"""CPU time and accuracy of `reasonlab solve` on the development data, against a baseline revision, in one run.

    python benchmarks/bench_solve_cpu.py [--baseline REV] [--csv PATH] [--workers N] [--repeat K]

The baseline's sources come from `git archive REV` (default: 5174c36, the commit before the solver
speed-ups) into a temporary directory; this checkout's sources are the candidate. Each repeat runs
`python -m reasonlab solve` once per tree, alternating, with PYTHONPATH on that tree's `src`. The figure
compared is the solve's user + system CPU seconds, its worker processes included (the machine may be
shared, so CPU time rather than wall time), as the median of the repeats. Accuracy per family and
subtype is scored with the grader's comparison, and the candidate's answers are compared with the
baseline's row by row.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import statistics
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

from rich.console import Console
from rich.table import Table

from reasonlab.puzzles.io import read_puzzles
from reasonlab.puzzles.solve import default_workers
from reasonlab.scoring.predictions import read_predictions, score_predictions

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CSV = REPO.parent / "shared" / "data" / "wonderland" / "dev.csv"
DEFAULT_BASELINE = "5174c36"


def export_tree(revision: str, into: Path) -> Path:
    """The sources of ``revision`` unpacked under ``into`` (no git worktree to clean up)."""
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", revision, "src"], check=True, capture_output=True
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def timed_solve(source: Path, csv_path: Path, out: Path, workers: int, timeout: float) -> float:
    """User + system CPU seconds of one `reasonlab solve`, its descendants included."""
    env = {**os.environ, "PYTHONPATH": str(source), "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "reasonlab", "solve", str(csv_path), "--out", str(out)]
    command += ["--workers", str(workers), "--timeout-per-puzzle", str(timeout)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def statuses(path: Path) -> dict[str, str]:
    with path.open(newline="", encoding="utf-8") as fh:
        return {row["id"]: row["status"] for row in csv.DictReader(fh)}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--baseline", default=DEFAULT_BASELINE, help="git revision to compare against")
    parser.add_argument("--csv", type=Path, default=Path(os.environ.get("REASONLAB_DEV_CSV", DEFAULT_CSV)))
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=5.0, help="per-puzzle safety net, seconds")
    args = parser.parse_args()
    if not args.csv.is_file():
        print(f"no data at {args.csv}", file=sys.stderr)
        return 2
    puzzles = read_puzzles(args.csv).puzzles
    console = Console()
    with tempfile.TemporaryDirectory(prefix="bench_solve_cpu_") as tmp:
        tmp = Path(tmp)
        trees = {"baseline": export_tree(args.baseline, tmp / "baseline"), "candidate": REPO / "src"}
        seconds: dict[str, list[float]] = {name: [] for name in trees}
        answers: dict[str, list[dict[str, str]]] = {name: [] for name in trees}
        status: dict[str, dict[str, str]] = {}
        for repeat in range(args.repeat):
            for name, source in trees.items():
                out = tmp / f"{name}-{repeat}.csv"
                seconds[name].append(timed_solve(source, args.csv, out, args.workers, args.timeout))
                answers[name].append(read_predictions(out))
                status[name] = statuses(out)
            console.print(
                f"repeat {repeat + 1}/{args.repeat}: baseline {seconds['baseline'][-1]:.2f} s, "
                f"candidate {seconds['candidate'][-1]:.2f} s CPU"
            )
    reports = {name: score_predictions(puzzles, runs[0]) for name, runs in answers.items()}
    table = Table(title=f"reasonlab solve on {args.csv.name}: {args.baseline} vs this checkout")
    for column in ("group", "rows", f"{args.baseline}", "this checkout"):
        table.add_column(column, justify="left" if column == "group" else "right")
    for attribute in ("by_family", "by_subtype"):
        for group, score in sorted(getattr(reports["baseline"], attribute).items()):
            candidate = getattr(reports["candidate"], attribute)[group]
            table.add_row(group, str(score.rows), f"{score.accuracy:.2%}", f"{candidate.accuracy:.2%}")
    table.add_row(
        "overall",
        str(reports["baseline"].overall.rows),
        f"{reports['baseline'].overall.accuracy:.2%}",
        f"{reports['candidate'].overall.accuracy:.2%}",
    )
    console.print(table)
    median = {name: statistics.median(values) for name, values in seconds.items()}
    console.print(
        f"CPU seconds (user + system, workers included; median of {args.repeat}, {args.workers} workers): "
        f"baseline {median['baseline']:.2f}, candidate {median['candidate']:.2f}, "
        f"ratio {median['candidate'] / median['baseline']:.3f}"
    )
    for name, runs in answers.items():
        unstable = sorted(k for k in runs[0] if any(run.get(k) != runs[0][k] for run in runs[1:]))
        console.print(f"{name}: answers differing between its own repeats: {len(unstable)} {unstable[:10]}")
    differing = sorted(k for k, a in answers["baseline"][0].items() if answers["candidate"][0].get(k) != a)
    console.print(
        f"rows whose answer differs from the baseline's: {len(differing)} of {len(puzzles)}"
        + "".join(
            f"\n  {k}: {answers['baseline'][0][k]!r} ({status['baseline'][k]}) -> "
            f"{answers['candidate'][0].get(k)!r} ({status['candidate'].get(k)})"
            for k in differing[:20]
        )
    )
    console.print(f"load average at the end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
