"""Prompt lookup against plain greedy decoding on trace-like completions, one request at a time, 2 CPU cores.

    OMP_NUM_THREADS=1 python benchmarks/bench_prompt_lookup.py [--repeats 6] [--sweep]
    OMP_NUM_THREADS=1 python benchmarks/bench_prompt_lookup.py --family cipher --train-rows 640 \
        --train-steps 160 --train-batch 4 --heldout 4 --max-tokens 1024

The workload is the lab's own: a model trained here on `reasonlab synth --style stepwise` traces, asked
held-out puzzles of the same family, its greedy completions decoded with and without prompt lookup.

1. Data: stepwise traces of one family from seed 0 for training; held-out puzzles from another seed, no
   prompt shared with the training rows. Default numeral (each example line restates the example's
   number and numeral from the prompt; each place line copies a part of the line above), which a small
   model learns in minutes; cipher copies more (each `map:` line restates every letter pair gathered
   so far) but needs far more training before its completions are traces rather than loops.
2. Model: the tiny llama of `reasonlab.models.tiny` configured larger (4 layers, width 256: 3.67M
   parameters, a forward pass of milliseconds, not the 0.14M default's fraction of one; `--hidden 512`:
   14.16M), trained from random on every weight through the lab's SFT path (`run_sft`), seed 0: about 4
   minutes on an idle core for the default, 12 at width 512.
3. Numerics: bfloat16 (the grader's dtype) with eager attention, for both backends. On a CPU, prompt
   lookup pays only if checking k proposed tokens costs about what one token costs. In float32 it does
   not here: MKL's matrix product for 2-11 rows costs up to 2x its one-row product (3.4 / 4.7 / 6.8 ms
   forwards for 1 / 2 / 11 tokens at 500 cached), which holds lookup to 1.20x. In bfloat16 (oneDNN with
   AVX-512 BF16) the forwards cost 4.0 / 4.2 / 4.7 ms. Eager attention keeps a k-token forward's logits
   equal, bit for bit, to k one-token steps (sdpa's differed by up to 0.06 in bfloat16 and changed 3 of 8
   completions), so the completions are plain greedy's. `--dtype float32 --attn sdpa` measures the old way,
   which is the better one on a CPU without AVX-512 BF16: on AVX2 kernels a 6-token bfloat16 forward
   costs 3.2x a one-token one, and lookup ran at 0.70x in bfloat16 against 1.29x in float32.
4. Measurement: the backends are built once (hf, batch 1: transformers' assisted decoding takes one
   sequence); then, per repeat, every held-out prompt is decoded by each, their order rotating from
   repeat to repeat. A repeat's ratio is prompt lookup's tokens/s over plain's, on wall-clock time and on
   this process's CPU time (which other processes on a shared machine disturb far less); the figures
   are medians over repeats. Every completion must be byte-identical to plain decoding's (the script
   stops otherwise). For scale, the CPU default's plain decoding (float32, sdpa) runs alongside; its
   completions are its own, so only its tokens/s is compared. Printed with each repeat: tokens per
   target forward pass (accepted proposals + 1 per pass) and the load average (as `uptime` prints it);
   at the end, how many completions ended with the stop token and how many answers are right, so that
   a model looping on a phrase (which lookup predicts perfectly) is seen for what it is.
5. `--sweep`: before the measurement, one pass per (prompt_lookup_tokens, prompt_lookup_max_ngram) pair on
   other held-out prompts, each against a plain pass just before it. On the default model in bfloat16 it
   ranged 1.05-1.51x per CPU-second with no setting ahead of the others beyond the noise of one pass
   (tokens per forward rise with longer n-grams and proposals, 1.56 to 1.77, and a forward of up to 11
   tokens costs 1.0-1.2x a one-token one); the defaults stay 5 and 3.

`--model DIR` skips training and measures a model already trained (one an earlier run kept with
`--keep DIR`; give the same --family and --train-rows, so that held-out prompts avoid its training rows).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import torch

from reasonlab.grader import extract, verify
from reasonlab.inference.base import FINISH_STOP, Completion, GenerationSettings, Request
from reasonlab.inference.factory import BackendConfig, make_backend
from reasonlab.inference.prompts import puzzle_requests
from reasonlab.puzzles.types import Puzzle
from reasonlab.runs.experiment import HELDOUT_SEED_OFFSET

LAYERS = 4
HELDOUT_SEED = HELDOUT_SEED_OFFSET  # from seed 0, as an experiment holds puzzles out
SWEEP_SEED = 2_000_003


def load() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def traced_data(family: str, train_rows: int, directory: Path) -> tuple[Path, set[str]]:
    """Stepwise SFT records of ``family`` (seed 0) as JSONL, and the prompts they use."""
    from reasonlab.synth.generate import Mixture, iter_traced
    from reasonlab.synth.records import sft_record, write_records

    records, prompts = [], set()
    for traced in iter_traced(0, Mixture.resolve({family: 1.0}), workers=1, style="stepwise"):
        if len(records) == train_rows:
            break
        if traced.trace is not None:
            records.append(sft_record(traced))
            prompts.add(traced.puzzle.prompt)
    path = directory / "train.jsonl"
    write_records(records, path)
    return path, prompts


def heldout_puzzles(family: str, seed: int, count: int, avoid: set[str]) -> list[Puzzle]:
    from reasonlab.synth.generate import Mixture, iter_traced

    puzzles: list[Puzzle] = []
    for traced in iter_traced(seed, Mixture.resolve({family: 1.0}), workers=1, traced=False):
        if len(puzzles) == count:
            break
        if traced.puzzle.prompt not in avoid:
            puzzles.append(traced.puzzle)
    return puzzles


def train_model(
    family: str, train_rows: int, steps: int, batch_size: int, hidden: int, directory: Path
) -> tuple[Path, set[str]]:
    """The tiny llama, configured larger, trained from random on ``family``'s stepwise traces."""
    from reasonlab.models.tiny import build_tiny_model
    from reasonlab.training.config import LoraSpec, ModelSpec, SFTConfig, SFTSpec, TrackingSpec
    from reasonlab.training.sft import run_sft

    data, prompts = traced_data(family, train_rows, directory)
    initial = build_tiny_model(
        "llama",
        directory / "initial",
        seed=0,
        config_overrides={
            "hidden_size": hidden,
            "num_hidden_layers": LAYERS,
            "intermediate_size": 3 * hidden,
            "num_attention_heads": hidden // 32,
            "num_key_value_heads": hidden // 32,
        },
    )
    config = SFTConfig(
        name="prompt-lookup-model",
        output_root=str(directory),
        seed=0,
        model=ModelSpec(name_or_path=str(initial)),
        lora=LoraSpec(enabled=False),
        data={"train": [str(data)]},
        train=SFTSpec(
            max_steps=steps,
            batch_size=batch_size,
            learning_rate=3e-3,
            lr_scheduler="constant_with_warmup",
            warmup_ratio=0.05,
            max_length=2048,
            completion_only_loss=True,
            logging_steps=10,
            save_steps=steps,
        ),
        tracking=TrackingSpec(mlflow=False),
    )
    started = time.perf_counter()
    trained = run_sft(config, directory / "sft").output
    print(f"trained {steps} steps on {train_rows} {family} traces in {time.perf_counter() - started:.0f} s")
    return trained, prompts


def decode(
    backend, requests: list[Request], settings: GenerationSettings
) -> tuple[dict[str, Completion], float, float]:
    """Every completion, and the wall-clock and CPU seconds they took."""
    wall, cpu = time.perf_counter(), time.process_time()
    completions = {c.id: c for c in backend.generate(requests, settings)}
    return completions, time.perf_counter() - wall, time.process_time() - cpu


def tokens(completions: dict[str, Completion]) -> int:
    return sum(c.completion_tokens for c in completions.values())


def per_forward(completions: dict[str, Completion]) -> float:
    return tokens(completions) / sum(c.extra["target_forwards"] for c in completions.values())


def assert_identical(plain: dict[str, Completion], lookup: dict[str, Completion], what: str) -> None:
    differing = sorted(key for key in plain if plain[key].text != lookup[key].text)
    if differing or plain.keys() != lookup.keys():
        raise SystemExit(f"{what}: prompt lookup changed the greedy completions of {differing}")


def hf_backend(model: Path, dtype: str, attn: str | None, **speculation):
    """The hf backend on CPU, one request at a time (as assisted decoding runs), with ``speculation``."""
    return make_backend(
        BackendConfig(
            model=str(model),
            device="cpu",
            dtype=dtype,
            attn_implementation=attn,
            max_batch_size=1,
            refill_tokens=None,
            **speculation,
        )
    )


def lookup_backend(model: Path, lookup_tokens: int, max_ngram: int, dtype: str, attn: str | None):
    return hf_backend(
        model,
        dtype,
        attn,
        speculative="prompt_lookup",
        prompt_lookup_tokens=lookup_tokens,
        prompt_lookup_max_ngram=max_ngram,
    )


def sweep(
    model: Path, plain, requests: list[Request], settings: GenerationSettings, dtype: str, attn: str | None
) -> None:
    """One pass per option pair, each against a plain pass right before it (both warmed up)."""
    print(
        f"sweep on {len(requests)} other held-out prompts, each setting against a plain pass just before it"
    )
    decode(plain, requests[:1], settings)
    for lookup_tokens in (3, 5, 8, 10):
        for max_ngram in (2, 3, 4):
            backend = lookup_backend(model, lookup_tokens, max_ngram, dtype, attn)
            decode(backend, requests[:1], settings)
            reference, wall, cpu = decode(plain, requests, settings)
            completions, lookup_wall, lookup_cpu = decode(backend, requests, settings)
            assert_identical(reference, completions, f"sweep {lookup_tokens}/{max_ngram}")
            print(
                f"  prompt_lookup_tokens={lookup_tokens} prompt_lookup_max_ngram={max_ngram}: "
                f"{per_forward(completions):.2f} tokens per target forward, "
                f"{cpu / lookup_cpu:.2f}x tokens/CPU-s, {wall / lookup_wall:.2f}x tokens/s; {load()}",
                flush=True,
            )
            backend.close()


def measure(model: Path, args, puzzles: list[Puzzle], plain) -> None:
    requests = puzzle_requests(puzzles)
    settings = GenerationSettings(max_tokens=args.max_tokens)
    lookup = lookup_backend(model, args.lookup_tokens, args.max_ngram, args.dtype, args.attn)
    # For scale only: plain decoding as the CPU runs it by default (float32, the model's attention). Its
    # completions are its own (other numerics), so it is compared on tokens/s, not text.
    default = hf_backend(model, "auto", None)
    backends = [("plain", plain), ("lookup", lookup), ("default", default)]
    for _, backend in backends:  # warm up (first-call allocations)
        decode(backend, requests[:1], settings)
    wall_ratios, cpu_ratios, default_ratios = [], [], []
    for repeat in range(args.repeats):
        order = backends[repeat % 3 :] + backends[: repeat % 3]
        runs = {name: decode(backend, requests, settings) for name, backend in order}
        (plain_rows, plain_wall, plain_cpu), (lookup_rows, lookup_wall, lookup_cpu) = (
            runs["plain"],
            runs["lookup"],
        )
        default_rows, default_wall, _ = runs["default"]
        assert_identical(plain_rows, lookup_rows, f"repeat {repeat + 1}")
        count = tokens(plain_rows)
        wall_ratios.append(plain_wall / lookup_wall)
        cpu_ratios.append(plain_cpu / lookup_cpu)
        default_speed = tokens(default_rows) / default_wall
        default_ratios.append(count / lookup_wall / default_speed)
        print(
            f"repeat {repeat + 1} (order {', '.join(name for name, _ in order)}): {count} tokens, "
            f"plain {count / plain_wall:.1f} tokens/s ({count / plain_cpu:.1f} per CPU-s), prompt lookup "
            f"{count / lookup_wall:.1f} tokens/s ({count / lookup_cpu:.1f} per CPU-s): {wall_ratios[-1]:.2f}x wall, "
            f"{cpu_ratios[-1]:.2f}x CPU; {per_forward(lookup_rows):.2f} tokens per target forward; "
            f"byte-identical; CPU default (float32) {default_speed:.1f} tokens/s; {load()}",
            flush=True,
        )
    sample = plain_rows[puzzles[0].id].text
    print("a completion:", sample[:400].replace("\n", " | "), "...")
    # A model that loops on a phrase would make lookup look good on text that is no trace at all.
    finished = sum(c.finish_reason == FINISH_STOP for c in plain_rows.values())
    correct = sum(verify(p.answer, extract(plain_rows[p.id].text)) for p in puzzles)
    print(
        f"completions that ended (stop token): {finished}/{len(puzzles)}; correct answers: {correct}/{len(puzzles)}"
    )
    print(
        f"Prompt lookup (prompt_lookup_tokens={args.lookup_tokens}, prompt_lookup_max_ngram={args.max_ngram}, "
        f"dtype={args.dtype}, attn_implementation={args.attn}) on {len(puzzles)} held-out {args.family} "
        f"prompts, batch 1: {statistics.median(wall_ratios):.2f}x tokens/s wall-clock (median of "
        f"{args.repeats}: {', '.join(f'{r:.2f}' for r in wall_ratios)}), {statistics.median(cpu_ratios):.2f}x "
        f"per CPU-second ({', '.join(f'{r:.2f}' for r in cpu_ratios)}); {per_forward(lookup_rows):.2f} tokens "
        f"per target forward; every completion byte-identical; against the CPU default's plain decoding "
        f"(float32): {statistics.median(default_ratios):.2f}x tokens/s; {load()}"
    )
    for _, backend in backends[1:]:
        backend.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--family", default="numeral", help="A family whose stepwise traces copy text (cipher, unit)."
    )
    parser.add_argument("--hidden", type=int, default=256, help="The model's width (4 layers).")
    parser.add_argument("--train-rows", type=int, default=960, help="Training traces.")
    parser.add_argument("--train-steps", type=int, default=120, help="SFT steps.")
    parser.add_argument("--train-batch", type=int, default=8, help="Traces per SFT step.")
    parser.add_argument("--heldout", type=int, default=8, help="Held-out prompts measured.")
    parser.add_argument("--max-tokens", type=int, default=512, help="Generation budget per prompt.")
    parser.add_argument(
        "--repeats",
        type=int,
        default=6,
        help="Repeats, the backends' order rotating (the median is reported).",
    )
    parser.add_argument("--lookup-tokens", type=int, default=5, help="backend.prompt_lookup_tokens.")
    parser.add_argument("--max-ngram", type=int, default=3, help="backend.prompt_lookup_max_ngram.")
    parser.add_argument(
        "--dtype", default="bfloat16", choices=["bfloat16", "float32"], help="backend.dtype of both backends."
    )
    parser.add_argument(
        "--attn",
        default="eager",
        choices=["eager", "sdpa"],
        help="backend.attn_implementation of both backends.",
    )
    parser.add_argument("--sweep", action="store_true", help="First sweep the two options on other prompts.")
    parser.add_argument("--model", type=Path, default=None, help="A trained model directory: skip training.")
    parser.add_argument("--keep", type=Path, default=None, help="Copy the trained model here.")
    args = parser.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    # bfloat16 speed depends on the CPU's kernels (AVX-512 BF16 here); say which ran.
    print(
        f"torch threads {torch.get_num_threads()}, CPU kernels {torch.backends.cpu.get_cpu_capability()}; {load()}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        if args.model is None:
            model, seen = train_model(
                args.family, args.train_rows, args.train_steps, args.train_batch, args.hidden, Path(tmp)
            )
            if args.keep is not None:
                import shutil

                shutil.copytree(model, args.keep, dirs_exist_ok=True)
        else:
            model, seen = args.model, traced_data(args.family, args.train_rows, Path(tmp))[1]
        plain = hf_backend(model, args.dtype, args.attn)
        params = sum(p.numel() for p in plain.model.parameters())
        print(f"model: llama, {params / 1e6:.2f}M parameters, trained on {args.family} stepwise traces")
        measured = heldout_puzzles(args.family, HELDOUT_SEED, args.heldout, seen)
        if args.sweep:
            others = heldout_puzzles(
                args.family, SWEEP_SEED, args.heldout, seen | {p.prompt for p in measured}
            )
            sweep(
                model,
                plain,
                puzzle_requests(others),
                GenerationSettings(max_tokens=args.max_tokens),
                args.dtype,
                args.attn,
            )
        measure(model, args, measured, plain)
        plain.close()


if __name__ == "__main__":
    main()
