"""Run by tests/test_distributed.py under ``accelerate launch --cpu --num_processes 2`` (gloo): one LoRA step
of the tiny Nemotron-H, built and wrapped by reasonlab's own training code, on different text per rank.
Each rank writes its local loss and checksums of its LoRA gradients (after the all-reduce) and weights
(after the optimizer step) to OUT/rank<N>.json."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch
from accelerate import Accelerator
from peft import get_peft_model

from reasonlab.training.config import LoraSpec, ModelSpec
from reasonlab.training.modeling import load_model, lora_config


def main(out: Path) -> None:
    accelerator = Accelerator(cpu=True)
    torch.manual_seed(0)  # the same LoRA initialisation on every rank
    model, tokenizer, _ = load_model(
        ModelSpec(name_or_path="tiny:nemotron-h", config_overrides={"chunk_size": 16})
    )
    spec = LoraSpec(r=4, alpha=8, targets=["q_proj", "k_proj", "v_proj", "o_proj"], competition=False)
    model = get_peft_model(model, lora_config(spec, model))
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.5)
    model, optimizer = accelerator.prepare(model, optimizer)
    rank = accelerator.process_index
    text = " ".join(f"In Alice's Wonderland rank {rank} example {i} -> {i * (rank + 3)}" for i in range(6))
    ids = tokenizer(text, return_tensors="pt").input_ids
    loss = model(input_ids=ids, labels=ids).loss
    accelerator.backward(loss)
    trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    record = {
        "rank": rank,
        "world_size": accelerator.num_processes,
        "loss": loss.item(),
        "grads": {n: float(p.grad.double().sum()) for n, p in trainable},
    }
    optimizer.step()
    record["weights"] = {n: float(p.detach().double().sum()) for n, p in trainable}
    (out / f"rank{rank}.json").write_text(json.dumps(record))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
