"""How much of an evaluation run's wall time the harness itself costs (target < 2%).

    OMP_NUM_THREADS=1 python benchmarks/bench_eval_overhead.py [--csv dev.csv] [--rows 256] [--max-tokens 128]
        [--model tiny:nemotron-h] [--repeats 3]

Runs ``run_eval`` (hf backend, tiny model, CPU) into a fresh directory, each repeat in a fresh Python
process (as ``reasonlab eval`` runs: nothing imported or cached in memory by an earlier repeat), and
splits its wall time into:
- setup: building the backend (loading the model);
- generation: time spent inside the backend's ``generate``;
- harness during generation: classification, prompt building, extraction, appending to the store;
- fixed part: reading the data and opening the run directory before, metrics, metrics.json and the
  report (plots, matplotlib's import included) after; paid once per run, whatever its length.
Prints medians over the repeats; "overhead" = (harness during generation + fixed part) / wall without
setup, and the shortest run (wall without setup) at which that stays under 2%.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from reasonlab.runs.evaluate import load_eval_config, run_eval

DEV_CSV = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "wonderland" / "dev.csv"


def measure_once(config) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        result = run_eval(config, Path(tmp) / "run")
        wall = time.perf_counter() - started
        session = json.loads((Path(tmp) / "run" / "sessions.jsonl").read_text().splitlines()[-1])
    harness = session["wall_s"] - session["backend_s"]
    return {
        "rows": result.metrics["overall"]["rows"],
        "wall": wall,
        "setup": session["setup_s"],
        "generation": session["backend_s"],
        "harness": harness,
        "fixed": wall - session["setup_s"] - session["wall_s"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=DEV_CSV if DEV_CSV.is_file() else None)
    parser.add_argument("--rows", type=int, default=256)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--model", default="tiny:nemotron-h")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--once", action="store_true", help="one repeat in this process, printed as JSON")
    args = parser.parse_args()

    if args.once:
        overrides = [
            f"backend.model={args.model}",
            "backend.max_batch_size=32",
            f"generation.max_tokens={args.max_tokens}",
            f"data.limit={args.rows}",
            f"data.path={args.csv or 'sample'}",
        ]
        print(json.dumps(measure_once(load_eval_config(None, overrides))))
        return
    child = [
        sys.executable,
        __file__,
        "--once",
        "--rows",
        str(args.rows),
        "--max-tokens",
        str(args.max_tokens),
    ]
    child += ["--model", args.model] + (["--csv", str(args.csv)] if args.csv else [])
    results = []
    for _ in range(args.repeats):
        output = subprocess.run(child, check=True, capture_output=True, text=True).stdout
        results.append(json.loads(output.strip().splitlines()[-1]))
    median = {key: statistics.median(r[key] for r in results) for key in results[0]}
    print(
        f"{median['rows']:.0f} rows, max_tokens {args.max_tokens}, model {args.model}, {args.repeats} fresh processes"
    )
    for key in ("wall", "setup", "generation", "harness", "fixed"):
        print(f"{key:>12}: median {median[key]:8.3f} s")
    overhead = [(r["harness"] + r["fixed"]) / (r["wall"] - r["setup"]) for r in results]
    during = [r["harness"] / (r["harness"] + r["generation"]) for r in results]
    per_row_share = statistics.median(during)
    print(
        f"overhead: {statistics.median(overhead):.2%} of wall time without setup (target < 2%); "
        f"during generation alone: {per_row_share:.3%}; the fixed {median['fixed']:.2f} s stays under 2% "
        f"of runs longer than {median['fixed'] / (0.02 - per_row_share):.0f} s"
    )


if __name__ == "__main__":
    main()
