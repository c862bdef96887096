"""How much of an evaluation run's wall time the harness itself costs (target < 2%).

    OMP_NUM_THREADS=1 python benchmarks/bench_eval_overhead.py [--csv dev.csv] [--rows 256] [--max-tokens 128]
        [--model tiny:nemotron-h] [--repeats 3]

Runs ``run_eval`` (hf backend, tiny model, CPU) into a fresh directory and splits its wall time into:
- setup: building the backend (loading the model);
- generation: time spent inside the backend's ``generate``;
- harness during generation: prompt building, extraction, classification, appending to the store;
- fixed tail: metrics, metrics.json and the report (plots), paid once per run.
Prints medians over the repeats; "overhead" = (harness during generation + fixed tail) / wall without setup.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from reasonlab.runs.evaluate import load_eval_config, run_eval

DEV_CSV = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "wonderland" / "dev.csv"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=DEV_CSV if DEV_CSV.is_file() else None)
    parser.add_argument("--rows", type=int, default=256)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--model", default="tiny:nemotron-h")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    overrides = [
        f"backend.model={args.model}",
        "backend.max_batch_size=32",
        f"generation.max_tokens={args.max_tokens}",
        f"data.limit={args.rows}",
        f"data.path={args.csv or 'sample'}",
    ]
    config = load_eval_config(None, overrides)
    results = []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            result = run_eval(config, Path(tmp) / "run")
            wall = time.perf_counter() - started
            session = json.loads((Path(tmp) / "run" / "sessions.jsonl").read_text().splitlines()[-1])
        harness = session["wall_s"] - session["backend_s"]
        tail = wall - session["setup_s"] - session["wall_s"]
        results.append(
            {
                "rows": result.metrics["overall"]["rows"],
                "wall": wall,
                "setup": session["setup_s"],
                "generation": session["backend_s"],
                "harness": harness,
                "tail": tail,
                "overhead": (harness + tail) / (wall - session["setup_s"]),
                "overhead_during_generation": harness / session["wall_s"],
            }
        )
    print(f"{results[0]['rows']} rows, max_tokens {args.max_tokens}, model {args.model}")
    for key in ("wall", "setup", "generation", "harness", "tail"):
        print(f"{key:>12}: median {statistics.median(r[key] for r in results):8.3f} s")
    print(
        f"overhead: {statistics.median(r['overhead'] for r in results):.2%} of wall time without setup "
        f"(target < 2%); during generation alone: "
        f"{statistics.median(r['overhead_during_generation'] for r in results):.3%}"
    )


if __name__ == "__main__":
    main()
