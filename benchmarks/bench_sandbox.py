"""Every HumanEval and MBPP reference solution through the sandbox, as the code track scores them.

Target: all 664 pass, in under 60 s on 2 cores. Prints per task rows, passed, wall seconds, and the
median and 95th percentile of one program's time in its sandbox.

    python benchmarks/bench_sandbox.py [--workers 2]
"""

from __future__ import annotations

import argparse
import statistics
import time

from reasonlab.scoring.sandbox import run_programs
from reasonlab.tracks import load_task
from reasonlab.tracks.scorers import CODE_LIMITS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    total_start = time.perf_counter()
    total_rows = total_passed = 0
    for name in ("humaneval", "mbpp"):
        task = load_task(name)
        requests = task.requests(fewshot=0)
        programs = [f"{task.extract(r, r.reference)}\n\n{r.gold}" for r in requests]
        start = time.perf_counter()
        verdicts = run_programs(programs, CODE_LIMITS, workers=args.workers)
        seconds = time.perf_counter() - start
        times = sorted(v.seconds for v in verdicts)
        passed = sum(v.passed for v in verdicts)
        failed = [r.id for r, v in zip(requests, verdicts, strict=True) if not v.passed]
        print(
            f"{name:10s} rows {len(requests):4d}  passed {passed:4d}  wall {seconds:6.1f} s  "
            f"per program median {statistics.median(times):.3f} s  p95 {times[int(0.95 * len(times))]:.3f} s  "
            f"max {times[-1]:.2f} s"
        )
        if failed:
            print(f"  failed: {', '.join(failed)}")
        total_rows += len(requests)
        total_passed += passed
    total = time.perf_counter() - total_start
    print(
        f"total      rows {total_rows:4d}  passed {total_passed:4d}  wall {total:6.1f} s  ({args.workers} workers)"
    )


if __name__ == "__main__":
    main()
