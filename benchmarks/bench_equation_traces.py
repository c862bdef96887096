"""Stepwise equation traces on the development data: traced-correct share, lengths and speed per subtype.

    python benchmarks/bench_equation_traces.py [--csv PATH] [--limit N]

A row is *traced-correct* when its trace exists, passes the learnable-trace audit
(:mod:`reasonlab.puzzles.audit`), replays to an answer the grader's ``verify`` accepts
as gold, and fits the budget: 7,680 tokens minus the prompt's, under the ``tekken`` proxy. Lengths
are of the emitted traces; traces/s times the tracer alone, on a first pass (the symbolic
catalog's row tables are built as signatures first occur, once per process) and on a second pass.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import Counter, defaultdict
from pathlib import Path

from reasonlab.grader import MAX_TOKENS, verify
from reasonlab.puzzles.audit import audit_trace
from reasonlab.puzzles.families.equation import FAMILY
from reasonlab.puzzles.io import read_puzzles
from reasonlab.puzzles.trace_style import get_tracer
from reasonlab.synth.tokens import cached_counter

DEFAULT_CSV = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "wonderland" / "dev.csv"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--limit", type=int, default=None, help="first N equation rows only")
    args = parser.parse_args()

    tracer = get_tracer("equation", "stepwise")
    counter = cached_counter("tekken")
    puzzles = [p for p in read_puzzles(args.csv).puzzles if FAMILY.matches(p.prompt)][: args.limit]
    tracer.trace(FAMILY.parse(puzzles[0].prompt))  # builds any catalog before the clock starts
    rows: dict[str, Counter] = defaultdict(Counter)
    lengths: dict[str, list[int]] = defaultdict(list)
    seconds: dict[str, float] = defaultdict(float)
    for puzzle in puzzles:
        instance = FAMILY.parse(puzzle.prompt)
        subtype = FAMILY.subtype(instance)
        start = time.perf_counter()
        text = tracer.trace(instance)
        seconds[subtype] += time.perf_counter() - start
        counts = rows[subtype]
        counts["rows"] += 1
        if text is None:
            counts["no trace"] += 1
            continue
        tokens, prompt_tokens = counter.count([text, puzzle.prompt])
        lengths[subtype].append(tokens)
        over = tokens > MAX_TOKENS - prompt_tokens
        counts["over budget"] += over
        broken = not audit_trace(puzzle.prompt, text, tracer).ok
        counts["audit failed"] += broken
        correct = verify(puzzle.answer, tracer.replay(instance, text))
        counts["wrong"] += not correct
        counts["traced-correct"] += correct and not broken and not over

    warm: dict[str, float] = defaultdict(float)  # a second pass: every catalog row table already built
    for puzzle in puzzles:
        instance = FAMILY.parse(puzzle.prompt)
        start = time.perf_counter()
        tracer.trace(instance)
        warm[FAMILY.subtype(instance)] += time.perf_counter() - start

    print(f"tokenizer: {counter.name}; budget {MAX_TOKENS} minus the prompt")
    header = "subtype | rows | traced-correct | no trace | wrong | audit failed | over budget | tokens median/p95/max | traces/s first pass | traces/s warm"
    print(header)
    print("|".join("---" for _ in header.split("|")))
    for subtype in sorted(rows):
        c, n = rows[subtype], lengths[subtype]
        quantiles = f"{statistics.median(n):.0f}/{sorted(n)[int(0.95 * (len(n) - 1))]}/{max(n)}" if n else "-"
        print(
            f"{subtype} | {c['rows']} | {c['traced-correct'] / c['rows']:.2%} | {c['no trace']} | {c['wrong']} "
            f"| {c['audit failed']} | {c['over budget']} | {quantiles} | {c['rows'] / seconds[subtype]:.0f} | {c['rows'] / warm[subtype]:.0f}"
        )


if __name__ == "__main__":
    main()
