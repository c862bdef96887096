"""Inference screening options on 2 CPU cores: INT8 weights and prompt-lookup decoding, and what `reasonlab
bench` itself costs.

    OMP_NUM_THREADS=1 python benchmarks/bench_inference.py [--repeats 3] [--train-steps 300]

1. INT8 speed and memory: a random-init llama-style model of ~24M parameters (hidden 576, 6 layers),
   16 puzzle prompts (the built-in sample), batch 8, 32 new tokens: tokens/s of torch's dynamic INT8 against fp32 (median of
   the per-repeat ratios, each repeat timing both) and serialized weight bytes (targets >= 1.5x, <= 0.35x).
2. A trained model: the quickstart's (`reasonlab run`: a tiny llama trained on Roman-numeral traces that
   restate the query and convert it place by place, with its LoRA adapter), on its 100 held-out puzzles:
   INT8 greedy token agreement with fp32, teacher-forced and in free runs (target >= 99%), the accuracy
   delta, and prompt lookup against plain greedy decoding one request at a time (target >= 1.3x tokens/s,
   byte-identical completions). `--quickstart-run DIR` reuses a finished `reasonlab run` directory;
   otherwise the quickstart runs first (seed 0).
3. `reasonlab bench`'s harness overhead: its own time against the backend's (target < 2%).
Each figure is printed with the load average, as the machine may be shared.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import torch

from reasonlab.analysis.bench import agreement, choice_agreement, greedy_choices, measure
from reasonlab.grader import extract, verify
from reasonlab.inference.base import GenerationSettings, generate_all
from reasonlab.inference.factory import BackendConfig, make_backend
from reasonlab.inference.prompts import puzzle_requests
from reasonlab.models.tiny import build_tokenizer
from reasonlab.puzzles.io import read_puzzles
from reasonlab.puzzles.types import Puzzle
from reasonlab.runs.evaluate import data_path, load_eval_config
from reasonlab.runs.experiment import HELDOUT_PUZZLES, load_experiment_config, run_experiment, trained_model
from reasonlab.runs.rundir import CONFIG_FILE
from reasonlab.runs.stages import read_marker


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


def load() -> str:
    return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())


def int8_speed(workdir: Path, repeats: int) -> None:
    model = save_llama(workdir / "large", hidden=576, layers=6, intermediate=1536, seed=0)
    from transformers import AutoModelForCausalLM

    params = sum(p.numel() for p in AutoModelForCausalLM.from_pretrained(model).parameters())
    requests = puzzle_requests(read_puzzles(data_path(load_eval_config(None))).puzzles[:16])
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


def quickstart_model(workdir: Path, run: Path | None) -> tuple[Path, Path, list[Puzzle]]:
    """(model, adapter, held-out puzzles) of a finished quickstart run, run here first when not given."""
    if run is None:
        run = workdir / "quickstart"
        started = time.perf_counter()
        result = run_experiment(load_experiment_config(), run)
        print(
            f"  quickstart: {result.accuracy_after:.0%} held-out after training, {time.perf_counter() - started:.0f} s"
        )
    trained = read_marker(run / "train")["result"]
    heldout = read_puzzles(run / "synth" / HELDOUT_PUZZLES).puzzles
    config = load_experiment_config(run / CONFIG_FILE)
    return trained_model(config, run, trained), run / trained["adapter"], heldout


def trained_model_checks(workdir: Path, run: Path | None, repeats: int) -> None:
    model, adapter, heldout = quickstart_model(workdir, run)
    requests = puzzle_requests(heldout)
    settings = GenerationSettings(max_tokens=64)
    common = {"model": str(model), "adapter": str(adapter), "device": "cpu"}
    plain = make_backend(BackendConfig(**common, max_batch_size=16))
    quantized = make_backend(BackendConfig(**common, max_batch_size=16, quantization="int8"))
    fp32, int8 = generate_all(plain, requests, settings), generate_all(quantized, requests, settings)
    encode = lambda text: plain.tokenizer.encode(text, add_special_tokens=False)  # noqa: E731
    agreed = agreement(fp32, int8, encode)
    texts = {key: c.text for key, c in fp32.items()}
    forced = choice_agreement(
        greedy_choices(plain, requests, texts), greedy_choices(quantized, requests, texts)
    )
    accuracy = {
        name: sum(verify(p.answer, extract(completions[p.id].text)) for p in heldout) / len(heldout)
        for name, completions in (("fp32", fp32), ("int8", int8))
    }
    print(
        f"INT8 on the quickstart's trained model ({len(heldout)} held-out puzzles): teacher-forced greedy token "
        f"agreement {forced:.2%}; free runs: {agreed['token_agreement']:.2%} of tokens before the first "
        f"divergence, {agreed['identical']:.1%} identical; accuracy fp32 {accuracy['fp32']:.1%}, int8 "
        f"{accuracy['int8']:.1%}"
    )
    print("  a completion:", fp32[heldout[0].id].text[:200].replace("\n", " | "))
    ratios, identical = [], True
    for _ in range(repeats):
        points = {}
        for method in ("none", "prompt_lookup"):
            config = BackendConfig(**common, max_batch_size=1, refill_tokens=None, speculative=method)
            points[method] = measure(
                lambda c=config: make_backend(c), requests, settings, knob="max_batch_size", value=1
            )
        (plain_point, plain_rows), (lookup_point, lookup_rows) = points["none"], points["prompt_lookup"]
        ratios.append(lookup_point.tokens_per_s / plain_point.tokens_per_s)
        identical &= {k: c.text for k, c in lookup_rows.items()} == {k: c.text for k, c in plain_rows.items()}
        print(
            f"  plain {plain_point.tokens_per_s:.1f} tokens/s, prompt lookup {lookup_point.tokens_per_s:.1f} tokens/s "
            f"({lookup_point.tokens_per_target_forward:.2f} tokens per target forward)"
        )
    print(
        f"Prompt lookup on the trained model's trace completions, one request at a time: "
        f"{statistics.median(ratios):.2f}x tokens/s (median of {repeats}), byte-identical: {identical}; {load()}"
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
    parser.add_argument(
        "--quickstart-run", type=Path, default=None, help="A finished `reasonlab run` directory."
    )
    parser.add_argument("--only", choices=("int8", "trained", "overhead"), default=None)
    args = parser.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        if args.only in (None, "int8"):
            int8_speed(workdir, args.repeats)
        if args.only in (None, "trained"):
            trained_model_checks(workdir, args.quickstart_run, args.repeats)
        if args.only in (None, "overhead"):
            bench_overhead(workdir)


if __name__ == "__main__":
    main()
