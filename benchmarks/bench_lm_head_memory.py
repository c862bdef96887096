"""What training an lm_head LoRA costs in activation memory: the tensors one SFT step keeps for backward,
under TRL's fused chunked head (no lm_head LoRA possible) and under reasonlab's loss through the wrapped head
(full logits), on the tiny Nemotron-H; then the same per-token difference for the real model's vocabulary.

    OMP_NUM_THREADS=1 python benchmarks/bench_lm_head_memory.py --tokens 1024
"""

from __future__ import annotations

import argparse

import torch
from trl.trainer.utils import add_fused_lm_head


def saved_bytes(loss_fn) -> int:
    """Bytes of the distinct storages autograd saves for backward while ``loss_fn`` runs."""
    storages: dict[int, int] = {}

    def pack(tensor):
        storage = tensor.untyped_storage()
        storages[storage.data_ptr()] = storage.nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        loss_fn().backward()
    return sum(storages.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=1024)
    parser.add_argument("--real-vocab", type=int, default=131072)
    args = parser.parse_args()

    from reasonlab.training.config import LoraSpec, SFTConfig
    from reasonlab.training.live_lora import wrap_lora
    from reasonlab.training.modeling import load_model, lora_config

    model, _, _ = load_model(SFTConfig.model_fields["model"].default)
    vocab = model.config.vocab_size
    add_fused_lm_head(model)
    wrapped = wrap_lora(model, lora_config(LoraSpec(r=4, alpha=8, targets=["mamba", "lm_head"]), model))
    wrapped.train()
    torch.manual_seed(0)
    ids = torch.randint(0, vocab, (1, args.tokens))

    def fused():
        return wrapped(input_ids=ids, labels=ids, fused_lm_head=True, use_cache=False).loss

    def through_head():
        logits = wrapped(input_ids=ids, use_cache=False).logits[:, :-1].float()
        return torch.nn.functional.cross_entropy(logits.transpose(1, 2), ids[:, 1:])

    fused_bytes, head_bytes = saved_bytes(fused), saved_bytes(through_head)
    per_token_per_vocab = (head_bytes - fused_bytes) / args.tokens / vocab
    print(f"tiny Nemotron-H, vocab {vocab}, {args.tokens} tokens: saved for backward")
    print(f"  TRL fused head:          {fused_bytes / 2**20:8.2f} MiB")
    print(f"  loss through the head:   {head_bytes / 2**20:8.2f} MiB")
    print(f"  difference: {per_token_per_vocab:.2f} bytes per token per vocabulary entry")
    real = per_token_per_vocab * args.real_vocab * 8192 / 2**30
    print(f"  real vocab {args.real_vocab}, 8,192-token sequence: about {real:.1f} GiB more per sequence")


if __name__ == "__main__":
    main()
