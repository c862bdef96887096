"""GPU smoke test with the real model (not part of CI): train, pack, load in vLLM as the grader does.

    python scripts/gpu_smoke.py --model /path/to/NVIDIA-Nemotron-3-Nano-30B-A3B-BF16 --out runs/gpu-smoke

1. LoRA SFT for a few steps (rank 32, Mamba in_proj + live out_proj, experts, attention, lm_head) on
   synthesised traced puzzles; the first step's gradient norm of every LoRA module is recorded (the run stops
   if one is dead), and the peak GPU memory;
2. ``reasonlab submit pack`` (fused experts -> one LoRA per expert) and ``check``;
3. vLLM with the grader's engine flags loads the base model and the adapter, and answers held-out puzzles
   greedily five ways: base, the adapter, and the adapter's routed-expert, lm_head and Mamba out_proj
   weights alone. Completions that differ from the base show the adapter is applied; each "only" variant
   shows whether vLLM applies that part at all (some FusedMoE paths drop expert LoRA silently; whether vLLM
   applies an lm_head LoRA is disputed).

Needs a GPU with ~80 GB free, the model's weights, vllm and the train extra. Writes smoke.json to --out.
"""

from __future__ import annotations

import argparse
import gc
import json
import shutil
import zipfile
from pathlib import Path


def synthesise(out: Path, n_train: int, n_eval: int, seed: int) -> tuple[Path, list]:
    from reasonlab.synth.generate import Mixture, iter_traced
    from reasonlab.synth.records import sft_record, write_records

    mixture = Mixture.resolve({"numeral": 1, "unit": 1, "gravity": 1, "cipher": 1})
    records, held_out = [], []
    for traced in iter_traced(seed, mixture, workers=1):
        if traced.trace is None:
            continue
        if len(records) < n_train:
            records.append(sft_record(traced))
        elif len(held_out) < n_eval:
            held_out.append(traced.puzzle)
        else:
            break
    path = out / "smoke-train.jsonl"
    write_records(records, path)
    return path, held_out


def train(model: str, data: Path, out: Path, steps: int) -> Path:
    from reasonlab.training.config import SFTConfig
    from reasonlab.training.sft import run_sft

    config = SFTConfig.model_validate(
        {
            "name": "gpu-smoke",
            "output_root": str(out),
            "model": {"name_or_path": model},
            "lora": {"r": 32, "alpha": 16, "targets": ["competition-attention", "lm_head"]},
            "data": {"train": [str(data)]},
            # A high learning rate so that a few steps move the outputs visibly.
            "train": {
                "max_steps": steps,
                "batch_size": 1,
                "learning_rate": 1e-3,
                "max_length": 4096,
                "gradient_checkpointing": True,
                "logging_steps": 1,
                "save_steps": steps,
            },
            "tracking": {"mlflow": False},
        }
    )
    return run_sft(config, out / "sft").output


ONLY = {"experts_only": ".mixer.experts.", "lm_head_only": ".lm_head.", "out_proj_only": ".out_proj."}


def only(adapter_zip: Path, directory: Path, part: str) -> Path:
    """The packed adapter with every LoRA B zeroed except those of modules whose key contains ``part``."""
    from safetensors.torch import load_file, save_file

    directory.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(adapter_zip) as archive:
        archive.extractall(directory)
    weights = directory / "adapter_model.safetensors"
    tensors = load_file(weights)
    for key, value in tensors.items():
        if ".lora_B." in key and part not in key:
            tensors[key] = value.zero_()
    save_file(tensors, weights)
    return directory


def vllm_outputs(
    model: str, adapters: dict[str, Path | None], puzzles: list, max_tokens: int
) -> dict[str, list[str]]:
    from transformers import AutoTokenizer
    from vllm import LLM, SamplingParams
    from vllm.lora.request import LoRARequest

    from reasonlab.prompting import grader_messages

    tokenizer = AutoTokenizer.from_pretrained(model, trust_remote_code=True)
    prompts = [
        tokenizer.apply_chat_template(
            grader_messages(p.prompt), tokenize=False, add_generation_prompt=True, enable_thinking=True
        )
        for p in puzzles
    ]
    # The grader's engine flags (COMPETITION.md), with a shorter context for a smoke test.
    llm = LLM(
        model=model,
        enable_lora=True,
        max_lora_rank=32,
        max_loras=1,
        max_model_len=8192,
        max_num_seqs=64,
        gpu_memory_utilization=0.85,
        enable_prefix_caching=True,
        enable_chunked_prefill=True,
        trust_remote_code=True,
    )
    params = SamplingParams(temperature=0.0, top_p=1.0, max_tokens=max_tokens)
    results = {}
    for index, (name, path) in enumerate(adapters.items(), 1):
        request = LoRARequest(name, index, str(path)) if path else None
        outputs = llm.generate(prompts, params, lora_request=request)
        results[name] = [o.outputs[0].text for o in outputs]
    del llm
    gc.collect()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--model", required=True, help="Directory (or hub id) of Nemotron-3-Nano-30B-A3B-BF16."
    )
    parser.add_argument("--out", type=Path, default=Path("runs/gpu-smoke"))
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--train-puzzles", type=int, default=64)
    parser.add_argument("--eval-puzzles", type=int, default=32)
    parser.add_argument("--max-tokens", type=int, default=1024)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import torch

    from reasonlab.grader import score
    from reasonlab.submission.check import check_submission
    from reasonlab.submission.pack import pack_adapter

    args.out.mkdir(parents=True, exist_ok=True)
    data, held_out = synthesise(args.out, args.train_puzzles, args.eval_puzzles, args.seed)
    torch.cuda.reset_peak_memory_stats()
    adapter = train(args.model, data, args.out, args.steps)
    peak_gib = torch.cuda.max_memory_allocated() / 2**30
    norms = json.loads((args.out / "sft" / "train_metrics.json").read_text())["first_step_lora_grad_norms"]
    torch.cuda.empty_cache()
    packed = pack_adapter(adapter, args.out / "submission.zip")
    report = check_submission(packed.path)
    print(f"pack: converted={packed.converted} check ok={report.ok} ({report.tensors} tensors)")
    unpacked = args.out / "unpacked"
    shutil.rmtree(unpacked, ignore_errors=True)
    with zipfile.ZipFile(packed.path) as archive:
        archive.extractall(unpacked)
    variants = {"base": None, "adapter": unpacked} | {
        name: only(packed.path, args.out / name, part) for name, part in ONLY.items()
    }
    outputs = vllm_outputs(args.model, variants, held_out, args.max_tokens)
    gold = [p.answer for p in held_out]
    summary = {
        "check_ok": report.ok,
        "accuracy": {name: score(gold, texts) for name, texts in outputs.items()},
        "differs_from_base": {
            name: sum(a != b for a, b in zip(texts, outputs["base"], strict=True))
            for name, texts in outputs.items()
            if name != "base"
        },
        "puzzles": len(held_out),
        "train_peak_gib": round(peak_gib, 2),
        "first_step_grad_norm": {
            part: [n for m, n in norms.items() if m.endswith(part)] for part in ("lm_head", "out_proj")
        },
    }
    (args.out / "smoke.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))
    if not summary["differs_from_base"]["adapter"]:
        raise SystemExit("the adapter changed no completion: vLLM did not apply it")
    for name in ONLY:
        if not summary["differs_from_base"][name]:
            print(f"warning: {name}: that part of the LoRA changed nothing: this vLLM does not apply it")


if __name__ == "__main__":
    main()
