"""Stepwise bit traces on the development data: traced-correct share, assistant-turn tokens, tracing speed.

    python benchmarks/bench_bit_traces.py [--csv PATH] [--style stepwise] [--tokenizer tekken] [--window 20]

A row is *traced correctly* when its trace exists, keeps the step-kind contract (every line one declared
kind, cited values in the prompt or the previous ``--window`` lines, bounds, choices after their
evidence; :mod:`reasonlab.puzzles.audit`), replays to an answer, the grader's extraction of
the assistant turn is accepted by ``verify`` against the gold answer, and prompt plus assistant turn fit
the grader's 7,680 tokens under the named tokenizer. Tracing speed is measured apart (tracing only, in
one process, CPU seconds), with the load average printed beside it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections import Counter
from pathlib import Path

from reasonlab.grader import MAX_TOKENS, extract, verify
from reasonlab.prompting import user_prompt
from reasonlab.puzzles.audit import DEFAULT_WINDOW, audit_trace
from reasonlab.puzzles.families.bit import FAMILY
from reasonlab.puzzles.io import read_puzzles
from reasonlab.puzzles.trace_style import get_tracer
from reasonlab.synth.records import assistant_text
from reasonlab.synth.tokens import cached_counter

DEFAULT_CSV = Path(
    os.environ.get(
        "REASONLAB_DEV_CSV",
        Path(__file__).resolve().parents[1].parent / "shared" / "data" / "wonderland" / "dev.csv",
    )
)


def _percentile(values: list[int], fraction: float) -> int:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--style", default="stepwise")
    parser.add_argument("--tokenizer", default="tekken")
    parser.add_argument("--window", type=int, default=DEFAULT_WINDOW)
    args = parser.parse_args()

    tracer = get_tracer("bit", args.style)
    counter = cached_counter(args.tokenizer)
    puzzles = [p for p in read_puzzles(args.csv).puzzles if FAMILY.matches(p.prompt)]
    instances = [FAMILY.parse(p.prompt) for p in puzzles]

    cpu = time.process_time()
    traces = [tracer.trace(instance) for instance in instances]
    cpu = time.process_time() - cpu
    load = os.getloadavg()[0]

    outcomes: Counter[str] = Counter()
    turn_tokens: list[int] = []
    for puzzle, instance, trace in zip(puzzles, instances, traces, strict=True):
        if trace is None:
            outcomes["no trace"] += 1
            continue
        if tracer.step_kinds and not audit_trace(puzzle.prompt, trace, tracer, window=args.window).ok:
            outcomes["fails the audit"] += 1
            continue
        turn = assistant_text(trace, tracer.replay(instance, trace))
        prompt_count, turn_count = counter.count([user_prompt(puzzle.prompt), turn])
        turn_tokens.append(turn_count)
        if prompt_count + turn_count > MAX_TOKENS:
            outcomes["over budget"] += 1
        elif not verify(puzzle.answer, extract(turn)):
            outcomes["wrong answer"] += 1
        else:
            outcomes["traced correctly"] += 1

    rows = len(puzzles)
    print(f"{args.csv}: {rows} bit rows, style {args.style}, tokenizer {counter.name}, window {args.window}")
    for outcome, count in outcomes.most_common():
        print(f"  {outcome:32s} {count:5d}  {count / rows:7.2%}")
    if turn_tokens:
        print(
            f"assistant-turn tokens: median {statistics.median(turn_tokens):.0f}, "
            f"p95 {_percentile(turn_tokens, 0.95)}, max {max(turn_tokens)}"
        )
    print(f"tracing: {rows / cpu:.0f} traces/s per core ({cpu:.2f} CPU s; load average {load:.2f})")


if __name__ == "__main__":
    main()
