"""The grader's inference cost without the weights (GPU; not part of CI): vLLM on the real Nemotron-3-Nano
architecture with random weights, measured over batch sizes, with and without a rank-32 LoRA and n-gram
speculation.

    python scripts/gpu_bench.py --out runs/gpu-bench [--batches 1 8 64 256] [--max-tokens 7680]

Nothing is downloaded: the model directory is built here from the shipped configuration
(``reasonlab/data/nemotron-3-nano-30b-a3b.json``) with vLLM's ``load_format="dummy"`` (random weights), a
tokenizer of the same vocabulary size (mistral-common's 131,072-token tekken, converted offline; needs the
``synth`` extra) and the Nemotron-3 chat template; the LoRA is a random rank-32 adapter in the grader's
layout, packed and checked by ``reasonlab submit``. Engine flags are the grader's. Every request runs to
``--max-tokens`` (``ignore_eos``; random weights never stop by themselves), so a point's tokens/s is the
grader's worst case: a batch of full-budget generations. A full default sweep takes roughly
``sum(batches) * max_tokens / throughput`` seconds per variant: pass fewer batches or tokens for a quick look.
Writes ``bench.json`` to --out: per variant (lora on/off x ngram on/off) and batch size, tokens/s,
requests/s, seconds, and the GPU memory in use at the variant's end (vLLM reserves its
``gpu_memory_utilization`` share up front). Each variant runs in a process of its own: an engine keeps its
GPU memory until its process ends, so a second engine in the same process might not fit.

``--prepare-only`` does, on any machine, everything before the first engine: the model directory, the
packed and checked adapter, the architecture built on the meta device from that directory (its parameter
count), and the chat-templated prompts. Run it first so that a lent GPU's minutes go to measuring.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from importlib import resources
from pathlib import Path


def model_directory(root: Path) -> Path:
    """config.json from the shipped architecture, plus the tekken tokenizer with Nemotron-3's chat template."""
    from transformers import PreTrainedTokenizerFast

    from reasonlab.prompting import nemotron_chat_template
    from reasonlab.synth.tokens import tekken_tokenizer_file

    shipped = json.loads((resources.files("reasonlab") / "data" / "nemotron-3-nano-30b-a3b.json").read_text())
    config = {k: v for k, v in shipped.items() if k not in ("name", "source")}
    config.update(
        {"torch_dtype": "bfloat16", "max_position_embeddings": 8192, "eos_token_id": 2, "bos_token_id": 1}
    )
    root.mkdir(parents=True, exist_ok=True)
    (root / "config.json").write_text(json.dumps(config, indent=2))
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_file=str(tekken_tokenizer_file()), eos_token="</s>", bos_token="<s>"
    )
    tokenizer.chat_template = nemotron_chat_template()
    assert len(tokenizer) == config["vocab_size"], (len(tokenizer), config["vocab_size"])
    tokenizer.save_pretrained(root)
    return root


def random_adapter(out: Path, rank: int) -> Path:
    """A random rank-``rank`` LoRA on Mamba in/out_proj and attention, in the grader's layout, packed and
    checked like a submission."""
    import torch
    from safetensors.torch import save_file

    from reasonlab.submission.architecture import competition_architecture
    from reasonlab.submission.pack import pack_adapter

    arch = competition_architecture()
    tensors, targets = {}, set()
    for layer, kind in enumerate(arch.layer_kinds):
        for module, (rows, cols) in arch.mixer_linears(kind).items():
            if module.startswith(("experts.", "shared_experts.", "up_proj", "down_proj")):
                continue  # routed-expert LoRA loading differs between vLLM versions; attention + Mamba here
            key = f"base_model.model.backbone.layers.{layer}.mixer.{module}"
            tensors[f"{key}.lora_A.weight"] = (torch.randn(rank, cols) * 0.01).to(torch.bfloat16)
            tensors[f"{key}.lora_B.weight"] = (torch.randn(rows, rank) * 0.01).to(torch.bfloat16)
            targets.add(module)
    adapter = out / "adapter"
    adapter.mkdir(parents=True, exist_ok=True)
    (adapter / "adapter_config.json").write_text(
        json.dumps(
            {
                "peft_type": "LORA",
                "r": rank,
                "lora_alpha": rank,
                "target_modules": sorted(targets),
                "base_model_name_or_path": arch.name,
                "task_type": "CAUSAL_LM",
            }
        )
    )
    save_file(tensors, adapter / "adapter_model.safetensors")
    pack_adapter(adapter, out / "submission.zip")
    return adapter


def chat_prompts(tokenizer, count: int) -> list[str]:
    """``count`` puzzle prompts of the embedded eval sample, as the grader renders them for its engine."""
    from reasonlab.inference.prompts import prompt_text, puzzle_requests
    from reasonlab.puzzles.io import read_puzzles
    from reasonlab.runs.evaluate import data_path, load_eval_config

    requests = puzzle_requests(read_puzzles(data_path(load_eval_config(None))).puzzles)
    return [prompt_text(tokenizer, requests[i % len(requests)], enable_thinking=True) for i in range(count)]


def check_prepared(model: Path, out: Path) -> dict:
    """What can be checked without a GPU: the architecture from ``model`` on the meta device, the prompts."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    config = AutoConfig.from_pretrained(model)
    with torch.device("meta"):
        built = AutoModelForCausalLM.from_config(config)
    tokenizer = AutoTokenizer.from_pretrained(model)
    prompt = chat_prompts(tokenizer, 1)[0]
    return {
        "architecture": type(built).__name__,
        "parameters": sum(p.numel() for p in built.parameters()),
        "vocab_size": len(tokenizer),
        "prompt_tokens": len(tokenizer(prompt, add_special_tokens=False)["input_ids"]),
        "submission": str(out / "submission.zip"),
    }


def run_variant(args: argparse.Namespace) -> list[dict]:
    """One variant's points, measured in this process."""
    import torch
    from vllm import LLM, SamplingParams
    from vllm.lora.request import LoRARequest

    from reasonlab.inference.vllm_backend import GRADER_ENGINE_ARGS

    lora, ngram = "lora" in args.variant, "ngram" in args.variant
    engine = {**GRADER_ENGINE_ARGS, "max_num_seqs": max(args.batches)}
    if ngram:
        engine["speculative_config"] = {
            "method": "ngram",
            "num_speculative_tokens": 5,
            "prompt_lookup_max": 4,
        }
    llm = LLM(model=str(args.out / "model"), load_format="dummy", enable_lora=lora, seed=0, **engine)
    sampling = SamplingParams(temperature=0.0, max_tokens=args.max_tokens, ignore_eos=True)
    request = LoRARequest("adapter", 1, str(args.out / "adapter")) if lora else None
    prompts = chat_prompts(llm.get_tokenizer(), max(args.batches))
    points = []
    for batch in args.batches:
        torch.cuda.synchronize()
        began = time.perf_counter()
        outputs = llm.generate(prompts[:batch], sampling, lora_request=request, use_tqdm=False)
        seconds = time.perf_counter() - began
        tokens = sum(len(o.outputs[0].token_ids) for o in outputs)
        points.append(
            {
                "variant": args.variant,
                "batch": batch,
                "tokens": tokens,
                "seconds": seconds,
                "tokens_per_s": tokens / seconds,
                "requests_per_s": batch / seconds,
            }
        )
        print(json.dumps(points[-1]), flush=True)
    free, total = torch.cuda.mem_get_info()
    points[-1]["gpu_used_bytes"] = total - free
    return points


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", type=Path, default=Path("runs/gpu-bench"), help="Where bench.json goes.")
    parser.add_argument(
        "--batches", type=int, nargs="+", default=[1, 8, 64, 256], help="Requests per generate call."
    )
    parser.add_argument("--max-tokens", type=int, default=7680, help="Tokens per request (the grader's).")
    parser.add_argument(
        "--variants",
        nargs="+",
        choices=["base", "lora", "ngram", "lora+ngram"],
        default=["base", "lora", "ngram", "lora+ngram"],
        help="LoRA and n-gram speculation on or off.",
    )
    parser.add_argument("--prepare-only", action="store_true", help="Prepare and check on CPU, then stop.")
    parser.add_argument("--variant", help=argparse.SUPPRESS)  # a child process: measure this one variant
    args = parser.parse_args()
    if args.variant is not None:
        (args.out / f"points-{args.variant}.json").write_text(json.dumps(run_variant(args)))
        return
    model_directory(args.out / "model")
    random_adapter(args.out, rank=32)
    if args.prepare_only:
        print(json.dumps(check_prepared(args.out / "model", args.out)))
        return
    from reasonlab.inference.vllm_backend import GRADER_ENGINE_ARGS

    results = []
    for variant in args.variants:
        child = [sys.executable, __file__, "--variant", variant, "--out", str(args.out)]
        child += ["--max-tokens", str(args.max_tokens), "--batches", *map(str, args.batches)]
        subprocess.run(child, check=True)
        results += json.loads((args.out / f"points-{variant}.json").read_text())
    (args.out / "bench.json").write_text(
        json.dumps(
            {"max_tokens": args.max_tokens, "engine": GRADER_ENGINE_ARGS, "results": results}, indent=2
        )
    )
    shutil.rmtree(args.out / "adapter", ignore_errors=True)


if __name__ == "__main__":
    main()
