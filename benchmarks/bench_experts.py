"""reasonlab experts on a tiny Nemotron-H: 1,000 puzzles in <= 2 minutes, router hooks <= 10% of forward time.

    OMP_NUM_THREADS=2 python benchmarks/bench_experts.py [--csv dev.csv] [--rows 1000] [--batch-size 32]
        [--model tiny:nemotron-h] [--repeats 3]

1. The whole analysis as ``reasonlab experts`` runs it (rows read and classified, model loaded, every
   batch routed and counted, metrics, experts.json and report.html), timed by stage.
2. The hooks' cost: the same batches through the model without hooks and with the router recorder
   (hooks plus selecting the real tokens' expert ids), alternating, ``--repeats`` times; the cost is
   (hooked - plain) / plain forward time, in CPU time (which other processes on a shared machine disturb
   little) and in wall time, with the median over repeats. Counting (``RoutingCounts.add``) is timed
   apart: it is the analysis' own work, not the hooks'. "total CPU" bounds the wall time of the whole
   analysis on idle cores.
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


class TimedRecorder(RouterRecorder):
    """The router recorder, with the time spent inside its hooks added up."""

    spent = 0.0

    def _hook(self, layer: int):
        record = super()._hook(layer)

        def timed(module, args, output):
            start = time.perf_counter()
            record(module, args, output)
            self.spent += time.perf_counter() - start

        return timed


def hook_cost(args, csv: Path) -> dict[str, list[float]]:
    """Per repeat, as shares of the plain forward's time: the hooks' own work (their callbacks plus taking
    the real tokens' outputs), measured directly; the difference hooked - plain forward in wall and CPU
    time (on a shared machine, noisier than the effect); the counting. And the plain forward's seconds."""
    model, tokenizer, _ = load_model(ModelSpec(name_or_path=args.model))
    model.eval()
    rows = load_rows(csv, limit=args.rows)
    groups = group_names(rows)
    prepared = list(batches(tokenizer, rows, groups, args.batch_size))
    recorder = TimedRecorder(model)
    counts = RoutingCounts("", recorder.layers, recorder.experts, recorder.top_k, groups)
    results: dict[str, list[float]] = {"work": [], "wall": [], "cpu": [], "counting": [], "plain_s": []}
    with torch.inference_mode():
        for _ in range(args.repeats):
            spent = {(hooks, clock): 0.0 for hooks in (False, True) for clock in ("wall", "cpu")}
            recorder.spent = taking = counting = 0.0
            for index, batch in enumerate(prepared):
                # Alternate which goes first, so warm caches favour neither.
                for hooks_on in (index % 2 == 0, index % 2 == 1):
                    wall, cpu = time.perf_counter(), time.process_time()
                    if hooks_on:
                        with recorder:
                            forward(model, batch)
                    else:
                        forward(model, batch)
                    spent[hooks_on, "wall"] += time.perf_counter() - wall
                    spent[hooks_on, "cpu"] += time.process_time() - cpu
                start = time.perf_counter()
                outputs = recorder.take(batch.mask)
                taking += time.perf_counter() - start
                start = time.perf_counter()
                counts.add(outputs, batch.labels)
                counting += time.perf_counter() - start
            plain = spent[False, "wall"]
            results["work"].append((recorder.spent + taking) / plain)
            for clock in ("wall", "cpu"):
                results[clock].append(spent[True, clock] / spent[False, clock] - 1)
            results["counting"].append(counting / plain)
            results["plain_s"].append(plain)
    return results


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
        cost = hook_cost(args, csv)

    def spread(values: list[float]) -> str:
        return f"median {statistics.median(values):+.1%} ({', '.join(f'{v:+.1%}' for v in values)})"

    print(f"forward without hooks: {statistics.median(cost['plain_s']):.1f} s wall per pass over the rows")
    print(f"hooks' own work (callbacks + taking the real tokens' outputs): {spread(cost['work'])} of forward")
    print(f"hooked - plain forward, CPU time: {spread(cost['cpu'])}")
    print(f"hooked - plain forward, wall time: {spread(cost['wall'])}")
    print(f"counting (the analysis, not the hooks): {spread(cost['counting'])} of forward")
    print(f"load average: {os.getloadavg()}")


if __name__ == "__main__":
    main()
