"""Dynamic batching in the hf backend against one-at-a-time generation, on the tiny model on CPU.

    OMP_NUM_THREADS=1 python benchmarks/bench_eval_batching.py [--model tiny:nemotron-h] [--prompts 32]
        [--max-tokens 64] [--batch 32] [--refill 32] [--repeats 3]

32 puzzle prompts of mixed lengths (the built-in sample rows, cut to different numbers of examples, so
prompts run from ~60 to ~260 tokens) are generated greedily both ways; the script prints the median
tokens/s of each over the repeats, their ratio (target >= 3x), and checks both gave the same completions.
"""

from __future__ import annotations

import argparse
import statistics
import time

from reasonlab.inference.base import GenerationSettings, generate_all
from reasonlab.inference.factory import resolve_model
from reasonlab.inference.hf import HfBackend
from reasonlab.inference.prompts import puzzle_requests
from reasonlab.puzzles.io import read_puzzles
from reasonlab.puzzles.types import Puzzle
from reasonlab.runs.evaluate import data_path, load_eval_config


def mixed_length_puzzles(count: int) -> list[Puzzle]:
    sample = read_puzzles(data_path(load_eval_config(None))).puzzles
    puzzles = []
    for i in range(count):
        base = sample[i % len(sample)]
        lines = base.prompt.splitlines()
        keep = 2 + i % max(1, len(lines) - 1)  # a different number of example lines per prompt
        puzzles.append(Puzzle(f"{base.id}-{i}", "\n".join(lines[:keep]), base.answer))
    return puzzles


def tokens_per_second(backend: HfBackend, requests, settings) -> tuple[float, dict]:
    started = time.perf_counter()
    completions = generate_all(backend, requests, settings)
    elapsed = time.perf_counter() - started
    return sum(c.completion_tokens for c in completions.values()) / elapsed, completions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="tiny:nemotron-h")
    parser.add_argument("--prompts", type=int, default=32)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--refill", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    model = resolve_model(args.model)
    requests = puzzle_requests(mixed_length_puzzles(args.prompts))
    settings = GenerationSettings(max_tokens=args.max_tokens)
    single = HfBackend(model, device="cpu", max_batch_size=1, refill_tokens=None)
    dynamic = HfBackend(model, device="cpu", max_batch_size=args.batch, refill_tokens=args.refill)
    lengths = sorted(len(single.tokenizer(r.messages[0]["content"]).input_ids) for r in requests)
    print(
        f"{len(requests)} prompts, user-turn tokens {lengths[0]}..{lengths[-1]}, max_tokens {args.max_tokens}"
    )

    rates = {"one-at-a-time": [], "dynamic": []}
    outputs = {}
    for _ in range(args.repeats):
        for name, backend in (("one-at-a-time", single), ("dynamic", dynamic)):
            rate, completions = tokens_per_second(backend, requests, settings)
            rates[name].append(rate)
            outputs[name] = {i: c.text for i, c in completions.items()}
    for name, values in rates.items():
        print(
            f"{name:>14}: median {statistics.median(values):8.1f} tokens/s  (runs: {', '.join(f'{v:.1f}' for v in values)})"
        )
    ratio = statistics.median(rates["dynamic"]) / statistics.median(rates["one-at-a-time"])
    same = outputs["dynamic"] == outputs["one-at-a-time"]
    print(f"speedup: {ratio:.2f}x (target >= 3x); identical greedy completions: {same}")


if __name__ == "__main__":
    main()
