"""Trace styles on the development set: how many rows get a usable trace, and how long the traces are.

    python benchmarks/bench_traces.py [--dev PATH] [--styles stepwise,compact] [--tokenizer tekken]
                                      [--workers 2] [--synth-n 4000] [--limit N]

1. Per family, subtype and style, over the labelled rows of ``dev.csv``: the *traced-correct* share (a
   trace exists, passes the learnable-trace audit (stepwise), replays to what the grader extracts, that
   answer verifies against gold, and prompt + assistant turn fit the 7,680-token budget), the share whose
   answer is the gold string exactly, and assistant-turn tokens (median / p95 / max of every trace
   written, and the share within the budget), under the named tokenizer. A family without a tracer in a
   style says so.
2. ``reasonlab synth``'s pipeline with the first style on the default mixture on ``--workers`` processes
   (tekken budget, one row in 8 counted, as the command does): rows kept per second, and puzzles seen
   per second (families without a tracer in the style are seen and rejected).

Prints Markdown tables for the README, and the load average: the machine may be shared.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections import defaultdict
from pathlib import Path

from reasonlab.grader import MAX_TOKENS
from reasonlab.puzzles.io import read_puzzles
from reasonlab.synth.check import Rejection, trace_many
from reasonlab.synth.dataset import select
from reasonlab.synth.generate import Mixture, iter_traced
from reasonlab.synth.tokens import SYNTH_STATS_EVERY, TokenBudget, cached_counter


def _p95(values: list[int]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1] if len(values) > 1 else float(values[0])


def dev_table(puzzles, style: str, tokenizer: str, workers: int) -> list[str]:
    budget = TokenBudget(tokenizer, MAX_TOKENS, stats_every=1)
    groups: dict[tuple[str, str], list] = defaultdict(list)
    for row in trace_many(puzzles, workers=workers, timeout=10.0, token_budget=budget, style=style):
        groups[row.family or "?", row.subtype or "-"].append(row)
    lines = []
    for (family, subtype), rows in sorted(groups.items()):
        reasons = defaultdict(int)
        for row in rows:
            if row.rejection is not None:
                reasons[row.rejection.name.lower()] += 1
        if reasons.get("no_style_tracer") == len(rows):
            lines.append(f"| {family} | {subtype} | {style} | {len(rows)} | no {style} tracer | | | | | | |")
            continue
        correct = sum(row.rejection is None for row in rows)
        exact = sum(row.rejection is None and row.traced_answer == row.puzzle.answer for row in rows)
        written = [
            row.assistant_tokens
            for row in rows
            if row.assistant_tokens is not None and row.rejection in (None, Rejection.OVER_BUDGET)
        ]
        within = sum(row.rejection is None for row in rows if row.assistant_tokens is not None)
        tokens = (
            f"{statistics.median(written):.0f} | {_p95(written):.0f} | {max(written)} | {within / len(written):.1%}"
            if written
            else "- | - | - | -"
        )
        other = ", ".join(f"{name} {count}" for name, count in sorted(reasons.items())) or "-"
        lines.append(
            f"| {family} | {subtype} | {style} | {len(rows)} | {correct / len(rows):.2%} | "
            f"{exact / len(rows):.2%} | {tokens} | {other} |"
        )
    return lines


def _synth(style: str, workers: int, n: int, budget: TokenBudget):
    stream = iter_traced(1, Mixture.resolve(None), workers=workers, token_budget=budget, style=style)
    try:
        return select(stream, limit=n)
    finally:
        stream.close()


def synth_rate(style: str, workers: int, n: int, tokenizer: str) -> str:
    """Wall rate on ``workers`` processes, and the CPU cost per row in one process (what ``workers``
    idle cores would reach: the machine may be shared)."""
    budget = TokenBudget(tokenizer, MAX_TOKENS, stats_every=SYNTH_STATS_EVERY)
    start = time.perf_counter()
    chosen = _synth(style, workers, n, budget)
    wall = time.perf_counter() - start
    cpu = time.process_time()
    alone = _synth(style, 1, n // 4, budget)
    per_core = len(alone.kept) / (time.process_time() - cpu)
    names = ", ".join(sorted(Mixture.resolve(None).weights))
    return (
        f"synth --style {style}, default mixture ({names}), {tokenizer} budget: {len(chosen.kept)} rows kept "
        f"on {workers} workers in {wall:.1f} s wall = {len(chosen.kept) / wall:.0f} rows/s "
        f"({chosen.seen / wall:.0f} puzzles seen/s; rejected {sum(chosen.rejected.values())} of {chosen.seen}); "
        f"CPU cost in one process {per_core:.0f} rows/s per core = {per_core * workers:.0f} rows/s on "
        f"{workers} idle cores"
    )


def main() -> None:
    default_dev = os.environ.get("REASONLAB_DEV_CSV", "../shared/data/wonderland/dev.csv")
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dev", type=Path, default=Path(default_dev))
    parser.add_argument("--styles", default="stepwise,compact")
    parser.add_argument("--tokenizer", default="tekken", help="'tekken' or a Hugging Face tokenizer path")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--synth-n", type=int, default=4000, help="rows for the synth rate (0: skip)")
    parser.add_argument("--limit", type=int, default=None, help="first N dev rows only")
    args = parser.parse_args()

    puzzles = read_puzzles(args.dev).puzzles[: args.limit]
    counter = cached_counter(args.tokenizer)
    print(f"load average at start: {os.getloadavg()[0]:.1f}; tokenizer: {counter.name}")
    print(f"\nTraces on {args.dev.name} ({len(puzzles)} rows; budget {MAX_TOKENS} minus each prompt)\n")
    print(
        "| family | subtype | style | rows | traced-correct | exact gold string | median tokens | p95 | max | "
        "within budget | rows without a trace |"
    )
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for style in args.styles.split(","):
        start = time.perf_counter()
        for line in dev_table(puzzles, style, args.tokenizer, args.workers):
            print(line)
        print(f"<!-- {style}: {time.perf_counter() - start:.1f} s -->")
    if args.synth_n:
        print()
        print(synth_rate(args.styles.split(",")[0], args.workers, args.synth_n, args.tokenizer))
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
