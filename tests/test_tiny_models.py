"""Tiny random-init models: real architectures, real module names, deterministic, loadable by transformers."""

from __future__ import annotations

import hashlib

import pytest

from reasonlab.models.tiny import IM_END, THINK_CLOSE, THINK_OPEN, build_tiny_model


def _digest(directory) -> str:
    return hashlib.sha256((directory / "model.safetensors").read_bytes()).hexdigest()


def test_same_seed_same_weights_other_seed_differs(tmp_path):
    a = build_tiny_model("llama", tmp_path / "a", seed=3)
    b = build_tiny_model("llama", tmp_path / "b", seed=3)
    c = build_tiny_model("llama", tmp_path / "c", seed=4)
    assert _digest(a) == _digest(b) != _digest(c)
    assert (a / "tokenizer.json").read_bytes() == (b / "tokenizer.json").read_bytes()


def test_nemotron_h_has_mamba_attention_and_moe_modules(tiny_model_dir):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    names = {name.rsplit(".", 1)[-1] for name, _ in model.named_modules()}
    assert {"in_proj", "out_proj", "conv1d", "q_proj", "k_proj", "v_proj", "o_proj"} <= names
    assert {"experts", "shared_experts", "gate"} <= names
    assert type(model).__name__ == "NemotronHForCausalLM"


def test_dense_variant_has_no_experts(tmp_path):
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(build_tiny_model("nemotron-h-dense", tmp_path / "d"))
    assert "moe" not in config.layers_block_type and "linear_attention" in config.layers_block_type


def test_tokenizer_keeps_think_tags_and_ends_turns(tiny_tokenizer):
    assert tiny_tokenizer.eos_token == IM_END
    ids = tiny_tokenizer(f"{THINK_OPEN}\n12{THINK_CLOSE}", add_special_tokens=False).input_ids
    assert tiny_tokenizer.convert_tokens_to_ids(THINK_OPEN) in ids
    assert tiny_tokenizer.decode(ids, skip_special_tokens=True) == f"{THINK_OPEN}\n12{THINK_CLOSE}"


@pytest.mark.parametrize("kind", ["nemotron-h", "llama"])
def test_greedy_generation_is_reproducible(kind, tmp_path):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    directory = build_tiny_model(kind, tmp_path / kind)
    tokenizer = AutoTokenizer.from_pretrained(directory)
    inputs = tokenizer("In Alice's Wonderland", return_tensors="pt")
    runs = []
    for _ in range(2):
        model = AutoModelForCausalLM.from_pretrained(directory)
        with torch.no_grad():
            runs.append(model.generate(**inputs, max_new_tokens=8, do_sample=False).tolist())
    assert runs[0] == runs[1] and len(runs[0][0]) > inputs.input_ids.shape[1]
