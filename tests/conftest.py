"""Shared fixtures. Tests that need the competition's development data read it from
``../shared/data/wonderland/dev.csv`` (or ``$REASONLAB_DEV_CSV``) and skip with a reason elsewhere."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def dev_csv_path() -> Path:
    return Path(
        os.environ.get("REASONLAB_DEV_CSV", REPO.parent / "shared" / "data" / "wonderland" / "dev.csv")
    )


@pytest.fixture(scope="session")
def dev_csv() -> Path:
    path = dev_csv_path()
    if not path.is_file():
        pytest.skip(f"development data not found at {path} (set REASONLAB_DEV_CSV to its path)")
    return path


@pytest.fixture(scope="session")
def dev_puzzles(dev_csv):
    from reasonlab.puzzles.io import read_puzzles

    return read_puzzles(dev_csv).puzzles


@pytest.fixture(scope="session")
def tiny_model_dir() -> Path:
    """A tiny random-init Nemotron-H (Mamba + attention + MoE) with its local tokenizer, built once."""
    pytest.importorskip("torch")
    from reasonlab.models.tiny import tiny_model

    return tiny_model("nemotron-h")


@pytest.fixture(scope="session")
def tiny_tokenizer(tiny_model_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_model_dir)


@pytest.fixture(scope="session")
def vllm_python() -> str:
    """The Python of a virtualenv with vLLM (``$REASONLAB_VLLM_PYTHON``, which .ci/run sets); skips without."""
    import subprocess

    candidate = os.environ.get("REASONLAB_VLLM_PYTHON", "")
    has_vllm = "import importlib.util, sys; sys.exit(importlib.util.find_spec('vllm') is None)"
    if (
        not candidate
        or not Path(candidate).is_file()
        or subprocess.run([candidate, "-c", has_vllm]).returncode != 0
    ):
        pytest.skip(
            f"no vLLM virtualenv at {candidate or '$REASONLAB_VLLM_PYTHON'} (set REASONLAB_VLLM_PYTHON; .ci/run builds one)"
        )
    return candidate


@pytest.fixture(scope="session")
def tiny_llama_adapter(tmp_path_factory) -> Path:
    """A rank-8 LoRA adapter for the tiny llama model with random (not zero) weights, so it changes outputs."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from reasonlab.models.tiny import tiny_model

    torch.manual_seed(0)
    lora = LoraConfig(
        r=8, lora_alpha=16, target_modules=["q_proj", "v_proj", "down_proj"], init_lora_weights=False
    )
    directory = tmp_path_factory.mktemp("adapter")
    get_peft_model(AutoModelForCausalLM.from_pretrained(tiny_model("llama")), lora).save_pretrained(directory)
    return directory


@pytest.fixture
def tiny_sft_config(tmp_path) -> Path:
    """An SFT config for the tiny default model on 8 one-line records, saving every step."""
    import json

    from reasonlab.prompting import grader_messages

    data = tmp_path / "sft.jsonl"
    data.write_text(
        "".join(
            json.dumps(
                {
                    "messages": grader_messages(f"Write {n}.")
                    + [{"role": "assistant", "content": f"\\boxed{{{n}}}"}]
                }
            )
            + "\n"
            for n in range(8)
        )
    )
    config = tmp_path / "sft.yaml"
    config.write_text(
        f"data: {{train: [{data}]}}\nlora: {{r: 4, alpha: 8, targets: attention}}\n"
        "tracking: {mlflow: false, tensorboard: false, rich_progress: false}\n"
        "train: {batch_size: 4, save_steps: 1, logging_steps: 1, max_length: 128}\n"
    )
    return config
