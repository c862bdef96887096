"""reasonlab experts on a tiny Nemotron-H: 1,000 puzzles in <= 2 minutes, router hooks <= 10% of forward time.

    OMP_NUM_THREADS=2 python benchmarks/bench_experts.py [--csv dev.csv] [--rows 1000] [--batch-size 32]
        [--model tiny:nemotron-h] [--repeats 3]

1. The whole analysis as ``reasonlab experts`` runs it (rows read and classified, model loaded, every
   batch routed and counted, metrics, experts.json and report.html), timed by stage.
2. The hooks' cost: the same batches through the model without hooks and with the router recorder
   (hooks plus selecting the real tokens' expert ids), alternating, ``--repeats`` times; the cost is the
   median over repeats of (hooked - plain) / plain forward time. Counting (``RoutingCounts.add``) is timed
   apart: it is the analysis' own work, not the hooks'.
Puzzles come from ``--csv`` (default: the development set when present), else are generated.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import torch

from reasonlab.analysis.experts import (
    RouterRecorder,
    RoutingCounts,
    batches,
    forward,
    group_names,
    load_rows,
    route,
    routed,
)
from reasonlab.analysis.experts_metrics import summarise
from reasonlab.analysis.experts_report import write_report
from reasonlab.training.config import ModelSpec
from reasonlab.training.modeling import load_model

DEV_CSV = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "wonderland" / "dev.csv"


def puzzles_csv(args, directory: Path) -> Path:
    if args.csv:
        return args.csv
    from reasonlab.synth.generate import Mixture, generate_one
    from reasonlab.synth.records import write_puzzles_csv

    path = directory / "puzzles.csv"
    mixture = Mixture.resolve()
    write_puzzles_csv((generate_one(0, i, mixture)[1] for i in range(args.rows)), path)
    return path


def whole_run(args, csv: Path, out: Path) -> dict[str, float]:
    times = {}
    cpu = time.process_time()
    start = time.perf_counter()
    rows = load_rows(csv, limit=args.rows)
    times["read + classify"] = time.perf_counter() - start
    mark = time.perf_counter()
    model, tokenizer, _ = load_model(ModelSpec(name_or_path=args.model))
    times["load model"] = time.perf_counter() - mark
    mark = time.perf_counter()
    counts = route(model, tokenizer, rows, batch_size=args.batch_size)
    times["route + count"] = time.perf_counter() - mark
    mark = time.perf_counter()
    write_report(out, summarise(counts))
    times["metrics + report"] = time.perf_counter() - mark
    times["total"] = time.perf_counter() - start
    times["total CPU"] = time.process_time() - cpu  # what an idle machine's cores would spend
    times["rows"], times["tokens"] = len(rows), float(counts.tokens["family"].sum())
    return times


def hook_cost(args, csv: Path) -> tuple[list[float], float, float]:
    model, tokenizer, _ = load_model(ModelSpec(name_or_path=args.model))
    model.eval()
    rows = load_rows(csv, limit=args.rows)
    groups = group_names(rows)
    prepared = list(batches(tokenizer, rows, groups, args.batch_size))
    recorder = RouterRecorder(model)
    counts = RoutingCounts("", recorder.layers, recorder.experts, recorder.top_k, groups)
    costs, counting, plain_total = [], 0.0, 0.0
    with torch.inference_mode():
        for _ in range(args.repeats):
            plain = hooked = 0.0
            for index, batch in enumerate(prepared):
                # Alternate which goes first, so warm caches favour neither.
                for hooks_on in (index % 2 == 0, index % 2 == 1):
                    start = time.perf_counter()
                    if hooks_on:
                        with recorder:
                            outputs = routed(model, recorder, batch)
                        hooked += time.perf_counter() - start
                    else:
                        forward(model, batch)
                        plain += time.perf_counter() - start
                start = time.perf_counter()
                counts.add(outputs, batch.labels)
                counting += time.perf_counter() - start
            costs.append((hooked - plain) / plain)
            plain_total += plain
    return costs, counting / args.repeats, plain_total / args.repeats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=DEV_CSV if DEV_CSV.is_file() else None)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--model", default="tiny:nemotron-h")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"threads {torch.get_num_threads()}, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}")
    with tempfile.TemporaryDirectory() as tmp:
        csv = puzzles_csv(args, Path(tmp))
        print(f"puzzles: {csv}")
        times = whole_run(args, csv, Path(tmp) / "out")
        print(f"whole analysis: {int(times['rows'])} rows, {int(times['tokens']):,} tokens")
        for stage in (
            "read + classify",
            "load model",
            "route + count",
            "metrics + report",
            "total",
            "total CPU",
        ):
            print(f"  {stage:18s} {times[stage]:7.1f} s")
        costs, counting, plain = hook_cost(args, csv)
    print(f"forward without hooks: {plain:.1f} s per pass over the rows")
    print(
        f"hook cost: median {statistics.median(costs):+.1%} of forward time ({', '.join(f'{c:+.1%}' for c in costs)})"
    )
    print(f"counting (not hooks): {counting:.1f} s per pass, {counting / plain:.1%} of forward time")
    print(f"load average: {os.getloadavg()}")


if __name__ == "__main__":
    main()
