"""Teacher-forced imitation metrics over many rows of the tiny Nemotron-H on CPU: synthesised SFT records
(default mixture), each reference scored by the hf backend and reduced to its per-trace metrics.

    OMP_NUM_THREADS=1 python benchmarks/bench_imitation.py --rows 1000      # target: <= 120 s on CPU
"""

from __future__ import annotations

import argparse
import os
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from reasonlab.inference.base import GenerationSettings
    from reasonlab.inference.hf import HfBackend
    from reasonlab.inference.prompts import puzzle_requests
    from reasonlab.models.tiny import tiny_model
    from reasonlab.prompting import reference_continuation
    from reasonlab.puzzles.types import Puzzle
    from reasonlab.runs.imitation import group_imitation, trace_imitation
    from reasonlab.scoring.rows import PUZZLE_TRACK, WONDERLAND, EvalRow
    from reasonlab.synth.generate import Mixture, iter_traced
    from reasonlab.synth.records import assistant_text

    puzzles, references = [], []
    for traced in iter_traced(args.seed, Mixture.resolve({}), workers=1):
        if traced.trace is None:
            continue
        puzzles.append(Puzzle(traced.puzzle.id, traced.puzzle.prompt, traced.puzzle.answer))
        references.append(reference_continuation(assistant_text(traced.trace, traced.traced_answer)))
        if len(puzzles) == args.rows:
            break
    backend = HfBackend(tiny_model("nemotron-h"), device="cpu", max_batch_size=args.batch)
    started = time.perf_counter()
    text = dict(zip((p.id for p in puzzles), references, strict=True))
    gold = {p.id: p.answer for p in puzzles}
    rows, tokens = [], 0
    for score in backend.score_references(puzzle_requests(puzzles), references, GenerationSettings()):
        imitation = trace_imitation(score.tokens, text[score.id])
        rows.append(
            EvalRow(score.id, WONDERLAND, PUZZLE_TRACK, gold[score.id], "", False, imitation=imitation)
        )
        tokens += len(score.tokens)
    seconds = time.perf_counter() - started
    summary = group_imitation(rows)
    print(
        f"{len(rows)} rows, {tokens} reference tokens teacher-forced in {seconds:.1f} s "
        f"({len(rows) / seconds:.1f} rows/s; OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, "
        f"load average {os.getloadavg()[0]:.2f})"
    )
    print(
        f"token agreement {summary['token_agreement']:.3f}, median min log-prob {summary['median_min_logprob']:.2f}"
    )


if __name__ == "__main__":
    main()
