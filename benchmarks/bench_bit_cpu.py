"""CPU time of the bit solver on the development data's bit rows, against a baseline revision, in one run.

    python benchmarks/bench_bit_cpu.py [--baseline REV] [--csv PATH] [--repeat K]

The baseline's sources come from `git archive REV` (default: 030fd4a, the commit before the bit search
was rewritten); this checkout's sources are the candidate. Each repeat solves every bit row once per
tree, alternating, each in a fresh process with PYTHONPATH on that tree's `src`. Per tree it reports, as
the median of the repeats, the CPU seconds of solving (parsing included) and of importing the bit family
(its tables are built at import or on first use, once per process). Every row's solution (answer,
status, rule text and details) must be the same in both trees and across repeats: the script lists any
row that differs and exits 1.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_BASELINE = "030fd4a"


def measure(csv_path: Path) -> dict:
    """Run in the child process: import the bit family, solve its rows, report CPU seconds and solutions."""
    start = time.process_time()
    from reasonlab.puzzles.families.bit import FAMILY
    from reasonlab.puzzles.io import read_puzzles

    imported = time.process_time() - start
    puzzles = [p for p in read_puzzles(csv_path).puzzles if FAMILY.matches(p.prompt)]
    start = time.process_time()
    solutions = {p.id: FAMILY.solve(FAMILY.parse(p.prompt)) for p in puzzles}
    solving = time.process_time() - start
    rows = {
        key: [s.answer, s.status.value, s.rule, json.dumps(s.details, sort_keys=True)]
        for key, s in solutions.items()
    }
    correct = sum(solutions[p.id].answer == p.answer for p in puzzles)
    return {"import_cpu": imported, "solve_cpu": solving, "rows": rows, "correct": correct}


def run_tree(source: Path, csv_path: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(source), "OMP_NUM_THREADS": "1"}
    command = [sys.executable, __file__, "--measure", str(csv_path)]
    return json.loads(subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout)


def main() -> int:
    if sys.argv[1:2] == ["--measure"]:  # the child: nothing imported yet, so the import is measured
        print(json.dumps(measure(Path(sys.argv[2]))))
        return 0
    from bench_solve_cpu import DEFAULT_CSV, REPO, export_tree

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--baseline", default=DEFAULT_BASELINE, help="git revision to compare against")
    parser.add_argument("--csv", type=Path, default=Path(os.environ.get("REASONLAB_DEV_CSV", DEFAULT_CSV)))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not args.csv.is_file():
        print(f"no data at {args.csv}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="bench_bit_cpu_") as tmp:
        trees = {"baseline": export_tree(args.baseline, Path(tmp)), "candidate": REPO / "src"}
        runs: dict[str, list[dict]] = {name: [] for name in trees}
        for repeat in range(args.repeat):
            for name, source in trees.items():
                runs[name].append(run_tree(source, args.csv))
            print(
                f"repeat {repeat + 1}/{args.repeat}: solve CPU baseline {runs['baseline'][-1]['solve_cpu']:.3f} s, "
                f"candidate {runs['candidate'][-1]['solve_cpu']:.3f} s"
            )
    median = {
        name: {key: statistics.median(r[key] for r in results) for key in ("solve_cpu", "import_cpu")}
        for name, results in runs.items()
    }
    rows = len(runs["baseline"][0]["rows"])
    for name, results in runs.items():
        print(
            f"{name}: {rows} bit rows, {results[0]['correct']} right; solve CPU {median[name]['solve_cpu']:.3f} s, "
            f"import CPU {median[name]['import_cpu']:.3f} s (medians of {args.repeat})"
        )
    print(
        f"solve CPU ratio candidate / baseline: {median['candidate']['solve_cpu'] / median['baseline']['solve_cpu']:.3f}"
    )
    reference = runs["baseline"][0]["rows"]
    differing = sorted(
        key
        for key, solution in reference.items()
        if any(r["rows"].get(key) != solution for results in runs.values() for r in results)
    )
    print(
        f"rows whose solution differs (between trees or repeats): {len(differing)} of {rows} {differing[:10]}"
    )
    print(f"load average at the end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 1 if differing else 0


if __name__ == "__main__":
    raise SystemExit(main())
