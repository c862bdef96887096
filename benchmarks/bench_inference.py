"""Inference screening options on 2 CPU cores: INT8 weights and prompt-lookup decoding, and what `reasonlab
bench` itself costs.

    OMP_NUM_THREADS=1 python benchmarks/bench_inference.py [--repeats 3] [--train-steps 300]

1. INT8 speed and memory: a random-init llama-style model of ~24M parameters (hidden 576, 6 layers),
   16 puzzle prompts, batch 8, 32 new tokens: tokens/s of torch's dynamic INT8 against fp32 (median of
   the per-repeat ratios, each repeat timing both) and serialized weight bytes (targets >= 1.5x, <= 0.35x).
2. A trained model: a small llama (~1M parameters) trained here from random on unit-conversion puzzles
   with their traces (which copy the examples' values, like every family's traces), then on held-out
   puzzles: INT8 greedy token agreement with fp32 (target >= 99%) and prompt lookup against plain greedy
   decoding, one request at a time (target >= 1.3x tokens/s, byte-identical completions).
3. `reasonlab bench`'s harness overhead: its own time against the backend's (target < 2%).
Each figure is printed with the load average, as the machine may be shared.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

import torch

from reasonlab.analysis.bench import agreement, measure
from reasonlab.inference.base import GenerationSettings, generate_all
from reasonlab.inference.factory import BackendConfig, make_backend
from reasonlab.inference.prompts import prompt_ids, puzzle_requests
from reasonlab.models.tiny import build_tokenizer
from reasonlab.puzzles.families import get_family
from reasonlab.puzzles.trace_style import get_tracer
from reasonlab.puzzles.types import Puzzle
from reasonlab.synth.records import THINK_CLOSE, final_sentence


def save_llama(directory: Path, *, hidden: int, layers: int, intermediate: int, seed: int) -> Path:
    from transformers import AutoModelForCausalLM, GenerationConfig, LlamaConfig

    tokenizer = build_tokenizer(directory)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=intermediate,
        num_hidden_layers=layers,
        num_attention_heads=hidden // 32,
        num_key_value_heads=hidden // 32,
        max_position_embeddings=4096,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=None,
        tie_word_embeddings=False,
    )
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.generation_config = GenerationConfig(
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id, do_sample=False
    )
    model.save_pretrained(directory)
    return directory


def unit_puzzles(seed: int, count: int, style: str) -> list[tuple[Puzzle, str]]:
    """(puzzle, completion) pairs: the completion is what the model writes after the template's <think>."""
    family, tracer = get_family("unit"), get_tracer("unit", style)
    rng = random.Random(seed)
    pairs = []
    for i in range(count):
        puzzle = family.generate(rng)
        trace = tracer.trace(family.parse(puzzle.prompt))
        pairs.append(
            (
                Puzzle(f"u{seed}-{i}", puzzle.prompt, puzzle.answer),
                f"{trace}{THINK_CLOSE}{final_sentence(puzzle.answer)}",
            )
        )
    return pairs


def train(directory: Path, pairs: list[tuple[Puzzle, str]], steps: int, seed: int) -> None:
    """Plain next-token training on the completions (prompt tokens masked), enough to make a fixture
    model that writes trace-shaped text; not a recipe (that is `reasonlab train`)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(directory)
    model = AutoModelForCausalLM.from_pretrained(directory)
    examples = []
    for request, (_, completion) in zip(puzzle_requests([p for p, _ in pairs]), pairs, strict=True):
        prompt = prompt_ids(tokenizer, request, enable_thinking=True)
        answer = tokenizer.encode(completion, add_special_tokens=False) + [tokenizer.eos_token_id]
        examples.append((prompt + answer, [-100] * len(prompt) + answer))
    torch.manual_seed(seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=3e-3, total_steps=steps, pct_start=0.05)
    rng = random.Random(seed)
    model.train()
    for step in range(steps):
        batch = rng.sample(examples, 8)
        width = max(len(ids) for ids, _ in batch)
        ids = torch.tensor([x + [tokenizer.pad_token_id] * (width - len(x)) for x, _ in batch])
        labels = torch.tensor([y + [-100] * (width - len(y)) for _, y in batch])
        loss = model(input_ids=ids, labels=labels).loss
        loss.backward()
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        if step % 50 == 0 or step == steps - 1:
            print(f"  train step {step}: loss {loss.item():.3f}", flush=True)
    model.save_pretrained(directory)


def load() -> str:
    return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())


def int8_speed(workdir: Path, repeats: int) -> None:
    model = save_llama(workdir / "large", hidden=576, layers=6, intermediate=1536, seed=0)
    from transformers import AutoModelForCausalLM

    params = sum(p.numel() for p in AutoModelForCausalLM.from_pretrained(model).parameters())
    requests = puzzle_requests([p for p, _ in unit_puzzles(1, 16, "compact")])
    settings = GenerationSettings(max_tokens=32)
    ratios, memory = [], None
    for _ in range(repeats):
        speeds = {}
        for method in ("none", "int8"):
            config = BackendConfig(model=str(model), device="cpu", max_batch_size=8, quantization=method)
            point, _ = measure(
                lambda c=config: make_backend(c), requests, settings, knob="max_batch_size", value=8
            )
            speeds[method] = point
        ratios.append(speeds["int8"].tokens_per_s / speeds["none"].tokens_per_s)
        memory = speeds["int8"].weight_bytes / speeds["none"].weight_bytes
        print(
            f"  fp32 {speeds['none'].tokens_per_s:.1f} tokens/s, int8 {speeds['int8'].tokens_per_s:.1f} tokens/s"
        )
    print(
        f"INT8 on a {params / 1e6:.1f}M-parameter model, batch 8: {statistics.median(ratios):.2f}x tokens/s "
        f"(median of {repeats}: {', '.join(f'{r:.2f}' for r in ratios)}), weights {memory:.3f}x of fp32; {load()}"
    )


def trained_model_checks(workdir: Path, steps: int, repeats: int) -> None:
    model = save_llama(workdir / "trained", hidden=128, layers=4, intermediate=384, seed=0)
    started = time.perf_counter()
    train(model, unit_puzzles(2, 2000, "compact"), steps, seed=0)
    print(f"  trained {steps} steps in {time.perf_counter() - started:.0f} s")
    heldout = [p for p, _ in unit_puzzles(3, 32, "compact")]
    requests = puzzle_requests(heldout)
    settings = GenerationSettings(max_tokens=256)
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model)
    encode = lambda text: tokenizer.encode(text, add_special_tokens=False)  # noqa: E731
    fp32 = generate_all(
        make_backend(BackendConfig(model=str(model), device="cpu", max_batch_size=8)), requests, settings
    )
    int8 = generate_all(
        make_backend(BackendConfig(model=str(model), device="cpu", max_batch_size=8, quantization="int8")),
        requests,
        settings,
    )
    agreed = agreement(fp32, int8, encode)
    print(
        f"INT8 on the trained model: greedy token agreement {agreed['token_agreement']:.2%}, identical completions "
        f"{agreed['identical']:.1%} of {agreed['rows']}"
    )
    print("  a completion:", fp32[heldout[0].id].text[:300].replace("\n", " | "))
    ratios, identical = [], True
    for _ in range(repeats):
        speeds = {}
        for method in ("none", "prompt_lookup"):
            config = BackendConfig(
                model=str(model), device="cpu", max_batch_size=1, refill_tokens=None, speculative=method
            )
            point, completions = measure(
                lambda c=config: make_backend(c), requests, settings, knob="max_batch_size", value=1
            )
            speeds[method] = (point, completions)
        ratios.append(speeds["prompt_lookup"][0].tokens_per_s / speeds["none"][0].tokens_per_s)
        identical &= {k: c.text for k, c in speeds["prompt_lookup"][1].items()} == {
            k: c.text for k, c in speeds["none"][1].items()
        }
        print(
            f"  plain {speeds['none'][0].tokens_per_s:.1f} tokens/s, prompt lookup "
            f"{speeds['prompt_lookup'][0].tokens_per_s:.1f} tokens/s "
            f"({speeds['prompt_lookup'][0].tokens_per_target_forward:.2f} tokens per target forward)"
        )
    print(
        f"Prompt lookup on trace completions, one request at a time: {statistics.median(ratios):.2f}x tokens/s "
        f"(median of {repeats}), byte-identical: {identical}; {load()}"
    )


def bench_overhead(workdir: Path) -> None:
    from reasonlab.runs.bench import load_bench_config, run_bench

    config = load_bench_config(None, ["sweep=[1,8]", "data.limit=16", "generation.max_tokens=64"])
    result = run_bench(config, workdir / "bench-run")
    shares = [p.harness_overhead for p in result.points]
    print(
        f"reasonlab bench harness overhead: {', '.join(f'{s:.3%}' for s in shares)} of backend time; {load()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--train-steps", type=int, default=800)
    parser.add_argument("--only", choices=("int8", "trained", "overhead"), default=None)
    args = parser.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        if args.only in (None, "int8"):
            int8_speed(workdir, args.repeats)
        if args.only in (None, "trained"):
            trained_model_checks(workdir, args.train_steps, args.repeats)
        if args.only in (None, "overhead"):
            bench_overhead(workdir)


if __name__ == "__main__":
    main()
