"""Synthesis throughput and trace lengths per family.

    python benchmarks/bench_synth.py [--n 20000] [--workers 2] [--per-family 2000] [--tokenizer tekken]
                                     [--mix gravity=1,unit=1,cipher=1,numeral=1]
                                     [--verify-with-solver]

1. Throughput of ``reasonlab synth``'s pipeline (generate, classify, solve, trace, replay, extract,
   verify, deduplicate; the solver only where no generator rule is handed over, or on every puzzle with
   ``--verify-with-solver``) on ``--workers`` processes over the default mixture (every family with a
   generator, or ``--mix``), in puzzles-with-proven-traces per second, without a tokenizer (CSV output)
   and held to the token budget as ``reasonlab synth`` does for SFT records (``--stats-every``: exact
   counts on about one row in that many, plus any row whose bytes do not prove that it fits).
2. Per family of the mixture: assistant-turn tokens (think block + final sentence) of ``--per-family`` generated
   puzzles, every one counted: median / p95 / max, under the named tokenizer, as a Markdown table for the
   README.

Wall and CPU seconds are both printed: the machine may be shared, and CPU seconds say what the work costs.
"""

from __future__ import annotations

import argparse
import os
import time

from reasonlab.runs.config import load_config
from reasonlab.synth.config import SynthConfig, mix_overrides
from reasonlab.synth.dataset import length_table, select
from reasonlab.synth.generate import Mixture, iter_traced
from reasonlab.synth.tokens import SYNTH_STATS_EVERY, TEKKEN, TokenBudget, load_counter


def _run(
    n: int,
    workers: int,
    token_budget: TokenBudget | None,
    seed: int,
    mixture: Mixture,
    solver: bool = False,
    style: str = "compact",
):
    stream = iter_traced(
        seed, mixture, workers=workers, token_budget=token_budget, verify_with_solver=solver, style=style
    )
    try:
        return select(stream, limit=n)
    finally:
        stream.close()


def throughput(
    n: int,
    workers: int,
    token_budget: TokenBudget | None,
    seed: int,
    mixture: Mixture,
    solver: bool = False,
    style: str = "compact",
) -> None:
    """Wall-clock rate on ``workers`` processes, and the CPU cost per puzzle measured in one process
    (a shared machine slows the first; the second says what ``workers`` idle cores would reach)."""
    wall = time.perf_counter()
    chosen = _run(n, workers, token_budget, seed, mixture, solver, style)
    wall = time.perf_counter() - wall
    cpu = time.process_time()
    alone = _run(n // 4, 1, token_budget, seed, mixture, solver, style)
    per_core = len(alone.kept) / (time.process_time() - cpu)
    if token_budget:
        counted = sum(t.assistant_tokens is not None for t in chosen.kept)
        label = f"token budget: {chosen.tokenizer}, {counted} rows counted"
    else:
        label = "no tokenizer"
    label += ", every puzzle solved (--verify-with-solver)" if solver else ""
    print(
        f"{', '.join(sorted(mixture.weights))} ({label}): {len(chosen.kept)} puzzles with proven traces "
        f"on {workers} workers in {wall:.1f} s wall = {len(chosen.kept) / wall:.0f}/s; "
        f"CPU cost in one process {per_core:.0f}/s per core = {per_core * workers:.0f}/s on {workers} idle cores; "
        f"rejected {sum(chosen.rejected.values())} of {chosen.seen}"
    )


def lengths(per_family: int, workers: int, tokenizer: str, seed: int, mixture: Mixture, style: str) -> None:
    rows = []
    for name in sorted(mixture.weights):
        chosen = select(
            iter_traced(
                seed,
                Mixture.resolve({name: 1}),
                workers=workers,
                token_budget=TokenBudget(tokenizer),
                style=style,
            ),
            limit=per_family,
            max_seen=50 * per_family,  # a family without a tracer in the style yields nothing
        )
        rows += length_table(chosen)
        counter_name = chosen.tokenizer
    print(
        f"\nAssistant-turn tokens per family ({per_family} generated puzzles each; tokenizer: {counter_name})\n"
    )
    print("| family | median | p95 | max |")
    print("|---|---:|---:|---:|")
    for row in rows:
        print(f"| {row.family} | {row.median:.0f} | {row.p95:.0f} | {row.max} |")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--per-family", type=int, default=2_000)
    parser.add_argument("--tokenizer", default=TEKKEN, help="a Hugging Face tokenizer path, or 'tekken'")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--stats-every", type=int, default=SYNTH_STATS_EVERY, help="as for `reasonlab synth`")
    parser.add_argument("--mix", default=None, help="family weights as for `reasonlab synth --mix`")
    parser.add_argument(
        "--verify-with-solver", action="store_true", help="also time the solver round trip on every puzzle"
    )
    parser.add_argument(
        "--style",
        default="compact",
        help="trace style (the README's figures are compact; see bench_traces.py)",
    )
    args = parser.parse_args()
    load_counter(args.tokenizer)  # convert/cache once, before any timing
    # --mix in `reasonlab synth`'s grammar, validated by its config
    settings = load_config(
        SynthConfig, None, [f"n={args.n}", "out=bench.csv", *mix_overrides(args.mix or "")]
    )
    mixture = Mixture.resolve(settings.mix)
    if mixture.without_generator:
        print(f"no generator yet: {', '.join(mixture.without_generator)}")
    throughput(args.n, args.workers, None, args.seed, mixture, style=args.style)
    budget = TokenBudget(args.tokenizer, stats_every=args.stats_every)
    throughput(args.n, args.workers, budget, args.seed, mixture, style=args.style)
    if args.verify_with_solver:
        throughput(args.n, args.workers, None, args.seed, mixture, solver=True, style=args.style)
    lengths(args.per_family, args.workers, args.tokenizer, args.seed, mixture, args.style)


if __name__ == "__main__":
    main()
