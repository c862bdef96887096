"""Learnability A/B: the same tiny model, steps and seed trained on one family's traces in two styles, then
held-out accuracy and imitation metrics (teacher-forced token agreement, minimum log-probability, tokens
below p = 0.5, perfect traces) on puzzles of another seed.

    OMP_NUM_THREADS=2 python benchmarks/bench_learnability.py                       # CPU: unit, <= 10 min
    python benchmarks/bench_learnability.py --family gravity --preset gpu           # larger, on a GPU

Every weight of the tiny model is trained from random (as the quickstart does), loss on the assistant turn.
Both arms see the same number of optimiser steps and records, so the stepwise arm sees more tokens (its
traces are longer); the table says how many. Writes OUT/learnability.json.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

PRESETS = {
    # name: (train records, held-out records, steps, batch size, model)
    "cpu": (800, 16, 100, 4, "tiny:llama"),
    "gpu": (20000, 300, 3000, 32, "tiny:nemotron-h"),
}


def write_records(family: str, style: str, seed: int, n: int, path: Path, avoid: set[str]) -> list[dict]:
    from reasonlab.synth.generate import Mixture, iter_traced
    from reasonlab.synth.records import sft_record, write_records

    records = []
    for traced in iter_traced(seed, Mixture.resolve({family: 1}), workers=1, style=style):
        if traced.trace is not None and traced.puzzle.prompt not in avoid:
            records.append(sft_record(traced))
            if len(records) == n:
                break
    write_records(records, path)
    return records


def arm(args, style: str, out: Path) -> dict:
    from reasonlab.runs.evaluate import load_eval_config, run_eval
    from reasonlab.training.config import SFTConfig
    from reasonlab.training.sft import run_sft

    n_train, n_eval, steps, batch, model = PRESETS[args.preset]
    model = args.model or model
    started = time.perf_counter()
    train = write_records(args.family, style, args.seed, n_train, out / f"{style}-train.jsonl", set())
    seen = {r["messages"][0]["content"] for r in train}
    held = write_records(args.family, style, args.seed + 1000, n_eval, out / f"{style}-eval.jsonl", seen)
    config = SFTConfig.model_validate(
        {
            "name": f"learnability-{style}",
            "output_root": str(out),
            "seed": args.seed,
            "model": {"name_or_path": model},
            "lora": {"enabled": False},
            "data": {"train": [str(out / f"{style}-train.jsonl")]},
            "tracking": {"mlflow": False, "tensorboard": False, "rich_progress": False},
            "train": {
                "max_steps": args.steps or steps,
                "batch_size": batch,
                "learning_rate": 3e-3,
                "lr_scheduler": "constant_with_warmup",
                "warmup_ratio": 0.05,
                "max_length": 4096,
                "logging_steps": 25,
                "save_steps": 100000,
            },
        }
    )
    trained = run_sft(config, out / f"{style}-sft")
    train_s = time.perf_counter() - started
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(trained.output)
    lengths = sorted(len(tokenizer(r["messages"][1]["content"]).input_ids) for r in held)
    eval_config = load_eval_config(
        None,
        [
            f"data.path={out / f'{style}-eval.jsonl'}",
            f"backend.model={trained.output}",
            f"backend.max_batch_size={min(64, n_eval)}",
            "backend.refill_tokens=2048",
            f"generation.max_tokens={int(lengths[-1] * 1.25)}",
            "report=false",
            "ceiling=none",
        ],
    )
    result = run_eval(eval_config, out / f"{style}-eval")
    imitation = result.metrics["imitation"]["overall"]
    return {
        "style": style,
        "model": model,
        "steps": config.train.max_steps,
        "median_trace_tokens": lengths[len(lengths) // 2],
        "train_tokens_seen": config.train.max_steps * batch * lengths[len(lengths) // 2],
        "accuracy": result.metrics["overall"]["accuracy"],
        "perfect_trace_rate": imitation["perfect_trace_rate"],
        "token_agreement": imitation["token_agreement"],
        "teacher_forced_perfect_rate": imitation["teacher_forced_perfect_rate"],
        "median_min_logprob": imitation["median_min_logprob"],
        "mean_low_tokens": imitation["mean_low_tokens"],
        "median_first_divergence": imitation["median_first_divergence"],
        "final_train_loss": next((e["loss"] for e in reversed(trained.log_history) if "loss" in e), None),
        "minutes": (time.perf_counter() - started) / 60,
        "train_minutes": train_s / 60,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--family", default="unit", choices=["unit", "gravity", "numeral", "cipher"])
    parser.add_argument("--styles", nargs=2, default=["compact", "stepwise"])
    parser.add_argument("--preset", default="cpu", choices=sorted(PRESETS))
    parser.add_argument("--steps", type=int, default=None, help="Override the preset's optimiser steps.")
    parser.add_argument("--model", default=None, help="Override the preset's model (tiny:<kind> or a path).")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("runs/learnability"))
    args = parser.parse_args()

    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    results = [arm(args, style, args.out) for style in args.styles]
    summary = {
        "family": args.family,
        "preset": args.preset,
        "seed": args.seed,
        "minutes": (time.perf_counter() - started) / 60,
        "load_average": os.getloadavg()[0],
        "arms": results,
    }
    (args.out / "learnability.json").write_text(json.dumps(summary, indent=2))
    keys = [k for k in results[0] if k not in ("style", "model")]
    print(f"{args.family}, preset {args.preset}, seed {args.seed}: {summary['minutes']:.1f} min")
    print("| metric | " + " | ".join(r["style"] for r in results) + " |")
    print("|---|" + "---:|" * len(results))
    for key in keys:
        cells = [f"{r[key]:.4g}" if isinstance(r[key], float) else str(r[key]) for r in results]
        print(f"| {key} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
