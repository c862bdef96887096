"""Every shipped evaluation config loads and validates."""

from __future__ import annotations

from pathlib import Path

import pytest

from reasonlab.runs.evaluate import load_eval_config

CONFIGS = sorted((Path(__file__).resolve().parents[1] / "configs").glob("*-eval.yaml"))


@pytest.mark.parametrize("path", CONFIGS, ids=[p.name for p in CONFIGS])
def test_shipped_eval_config_validates(path):
    config = load_eval_config(path)
    assert config.generation.max_tokens == 7680 and config.generation.temperature == 0.0


def test_kaggle_config_uses_the_grader_engine():
    config = load_eval_config(Path(CONFIGS[0]).with_name("kaggle-eval.yaml"))
    assert config.backend.kind == "vllm" and config.prompt.system_prompt is None
