"""Tiny random-init models with a locally trained tokenizer, for tests and CPU runs without weights.

``build_tiny_model(kind, directory, seed)`` writes a directory that ``AutoModelForCausalLM`` and
``AutoTokenizer`` load like any Hugging Face checkpoint (vLLM and ``vllm serve`` too, for the kinds
they support). Kinds:

- ``nemotron-h``: transformers' native ``NemotronHForCausalLM`` with Mamba-2, attention and MoE layers,
  so module names match the real Nemotron-3-Nano (``backbone.layers.N.mixer.{in_proj,out_proj,
  q_proj,...,experts,shared_experts}``);
- ``nemotron-h-dense``: the same without MoE (plain relu^2 MLP layers), which vLLM on CPU can serve;
- ``llama``: a small ``LlamaForCausalLM``.

``config_overrides`` changes config fields at build time (e.g. ``hidden_size``, ``num_hidden_layers``) for
a larger model of the same kind, when a benchmark needs a forward pass that costs something.

The tokenizer is a byte-level BPE trained in a second on puzzle-like text, with the Nemotron-3 special
tokens and chat template. Everything is deterministic for a seed, and :func:`tiny_model` caches built
models by (kind, seed, version) so tests and runs reuse them.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reasonlab.grader import BOXED_SUFFIX
from reasonlab.prompting import nemotron_chat_template

KINDS = ("nemotron-h", "nemotron-h-dense", "llama")
# Bump when what a build writes changes, so cached copies are rebuilt.
BUILD_VERSION = 2
VOCAB_SIZE = 512
PAD, IM_START, IM_END = "<pad>", "<|im_start|>", "<|im_end|>"
THINK_OPEN, THINK_CLOSE = "<think>", "</think>"
SPECIAL_TOKENS = (PAD, IM_START, IM_END)
# Added as ordinary (non-special) tokens so decoding keeps them in the text, as the grader sees it.
THINK_TOKENS = (THINK_OPEN, THINK_CLOSE)


def default_cache_dir() -> Path:
    return Path(os.environ.get("REASONLAB_TINY_CACHE", Path.home() / ".cache" / "reasonlab" / "tiny-models"))


def _tokenizer_corpus() -> list[str]:
    """Text shaped like the puzzles and their answers: words, digits, bits, Roman numerals, LaTeX box."""
    from importlib import resources

    sample = (resources.files("reasonlab") / "data" / "sample.csv").read_text(encoding="utf-8")
    lines = sample.splitlines()
    extra = [
        BOXED_SUFFIX,
        "The final answer is \\boxed{42}. Let me check the examples step by step.",
        " ".join(str(n) for n in range(200)),
        " ".join(format(n, "08b") for n in range(0, 256, 7)),
        "I II III IV V VI VII VIII IX X XL L XC C",
    ]
    return lines + extra


def build_tokenizer(directory: Path):
    """Train the byte-level BPE and save it (with the chat template) as a fast HF tokenizer."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE - len(THINK_TOKENS),
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    bpe.train_from_iterator(_tokenizer_corpus(), trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe,
        pad_token=PAD,
        eos_token=IM_END,
        bos_token=None,
        additional_special_tokens=[IM_START],
    )
    tokenizer.add_tokens(list(THINK_TOKENS))
    tokenizer.chat_template = nemotron_chat_template()
    tokenizer.padding_side = "left"
    tokenizer.save_pretrained(directory)
    return tokenizer


# Attention heads are 32 wide: the narrowest vLLM's CPU attention supports.
def _model_config(kind: str, tokenizer, overrides: Mapping[str, Any]):
    common = dict(
        vocab_size=len(tokenizer),
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=None,
        tie_word_embeddings=False,
    )
    if kind == "llama":
        from transformers import LlamaConfig

        sizes = dict(
            hidden_size=64,
            intermediate_size=128,
            num_hidden_layers=2,
            num_attention_heads=2,
            num_key_value_heads=1,
            max_position_embeddings=8192,
        )
        return LlamaConfig(**{**sizes, **common, **overrides})
    from transformers import NemotronHConfig

    moe = kind == "nemotron-h"
    layers = ["linear_attention", "moe" if moe else "mlp", "full_attention", "moe" if moe else "mlp"]
    sizes = dict(
        hidden_size=64,
        layers_block_type=layers,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=32,
        intermediate_size=128,
        mamba_num_heads=8,
        mamba_head_dim=16,
        ssm_state_size=16,
        n_groups=2,
        chunk_size=64,
        n_routed_experts=4,
        num_experts_per_tok=2,
        n_shared_experts=1,
        moe_intermediate_size=32,
        moe_shared_expert_intermediate_size=64,
        max_position_embeddings=8192,
    )
    return NemotronHConfig(**{**sizes, **common, **overrides})


def build_tiny_model(
    kind: str, directory: str | Path, *, seed: int = 0, config_overrides: Mapping[str, Any] | None = None
) -> Path:
    """Build the tiny model ``kind`` with random weights from ``seed`` and save it to ``directory``;
    ``config_overrides`` replaces fields of the kind's config (sizes, for a larger model)."""
    import torch
    from transformers import AutoModelForCausalLM, GenerationConfig

    if kind not in KINDS:
        raise ValueError(f"unknown tiny model kind {kind!r}; known: {', '.join(KINDS)}")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tokenizer = build_tokenizer(directory)
    config = _model_config(kind, tokenizer, config_overrides or {})
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.generation_config = GenerationConfig(
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id, do_sample=False
    )
    model.save_pretrained(directory)
    (directory / "reasonlab_tiny.json").write_text(
        json.dumps({"kind": kind, "seed": seed, "version": BUILD_VERSION}), encoding="utf-8"
    )
    return directory


def tiny_model(kind: str = "nemotron-h", *, seed: int = 0, cache_dir: str | Path | None = None) -> Path:
    """The directory of the tiny model (kind, seed), built once and reused from the cache.

    Built in a temporary directory and renamed into place, so concurrent callers never see half a model.
    """
    cache = Path(cache_dir) if cache_dir else default_cache_dir()
    target = cache / f"{kind}-seed{seed}-v{BUILD_VERSION}"
    if (target / "reasonlab_tiny.json").is_file():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=cache))
    try:
        build_tiny_model(kind, staging, seed=seed)
        try:
            staging.rename(target)
        except OSError:
            if not (target / "reasonlab_tiny.json").is_file():
                raise
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return target
