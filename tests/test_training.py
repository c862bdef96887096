"""SFT, GRPO, resume and tuning on the tiny local Nemotron-H; rewards and target presets."""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("trl")

from reasonlab.prompting import grader_messages  # noqa: E402
from reasonlab.training.config import GRPOConfig, RewardSpec, SFTConfig  # noqa: E402
from reasonlab.training.modeling import load_model, lora_config  # noqa: E402
from reasonlab.training.rewards import RewardError, build_reward, conciseness, correctness, format_  # noqa: E402
from reasonlab.training.targets import TargetError  # noqa: E402

QUIET = {"mlflow": False, "rich_progress": False}


def reply(n: int) -> str:
    return f"<think>\nthe number is {n}\n</think>\n\\boxed{{{n}}}"


@pytest.fixture(scope="module")
def sft_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "sft.jsonl"
    with path.open("w") as handle:
        for n in range(24):
            messages = grader_messages(f"Write {n}.") + [{"role": "assistant", "content": reply(n)}]
            handle.write(json.dumps({"messages": messages}) + "\n")
    return path


def sft_config(tmp_path, sft_file, **train) -> SFTConfig:
    return SFTConfig.model_validate(
        {
            "output_root": str(tmp_path),
            "data": {"train": [str(sft_file)], "eval_fraction": 0.25},
            "lora": {"r": 4, "alpha": 8, "targets": "competition-attention"},
            "tracking": QUIET,
            "train": {"max_steps": 4, "batch_size": 4, "save_steps": 2, "logging_steps": 1, "max_length": 128}
            | train,
        }
    )


def test_lora_sft_trains_only_the_adapter_and_logs(tmp_path, sft_file):
    from transformers import TrainerCallback

    from reasonlab.training.sft import run_sft

    class Recorder(TrainerCallback):  # runs after the Trainer's own loggers, so it sees what they logged
        logs: list[dict] = []

        def on_log(self, args, state, control, logs=None, **kwargs):
            self.logs.append(dict(logs))

    config = sft_config(tmp_path, sft_file, learning_rate=5e-3)
    result = run_sft(config, tmp_path / "run", callbacks=[Recorder()])
    assert result.is_adapter and (result.output / "adapter_config.json").is_file()
    saved = json.loads((result.output / "adapter_config.json").read_text())
    assert saved["r"] == 4 and saved["target_parameters"] == ["experts.up_proj", "experts.down_proj"]
    losses = [entry["loss"] for entry in result.log_history if "loss" in entry]
    assert len(losses) == 4 and losses[-1] < losses[0]
    assert any("tokens_per_second" in logs and "grad_norm" in logs for logs in Recorder.logs)
    assert "eval_loss" in result.metrics
    assert list((tmp_path / "run" / "tensorboard").iterdir())


def test_grpo_two_steps_logs_each_reward(tmp_path):
    from reasonlab.training.grpo import run_grpo

    puzzles = tmp_path / "puzzles.jsonl"
    puzzles.write_text(
        "".join(
            json.dumps({"id": str(n), "prompt": f"Write {n}.", "answer": str(n)}) + "\n" for n in range(4)
        )
    )
    config = GRPOConfig.model_validate(
        {
            "output_root": str(tmp_path),
            "data": {"train": [str(puzzles)]},
            "lora": {"r": 4, "alpha": 8, "targets": "attention"},
            "tracking": QUIET,
            "train": {
                "max_steps": 2,
                "batch_size": 4,
                "num_generations": 4,
                "max_completion_length": 8,
                "logging_steps": 1,
            },
        }
    )
    result = run_grpo(config, tmp_path / "grpo")
    logged = [entry for entry in result.log_history if "reward" in entry]
    assert len(logged) == 2
    for name in ("correctness_reward", "format_reward", "conciseness_reward"):
        assert f"rewards/{name}/mean" in logged[0]
    assert (result.output / "adapter_model.safetensors").is_file()


def test_tune_runs_three_trials_each_in_its_run_dir(tmp_path, sft_file):
    from reasonlab.training.tune import TuneConfig, run_tune

    base = sft_config(tmp_path, sft_file, max_steps=2).model_dump()
    config = TuneConfig(
        base=base,
        n_trials=3,
        output_root=str(tmp_path),
        space=[
            {"key": "train.learning_rate", "low": 1e-4, "high": 1e-2, "log": True},
            {"key": "lora.r", "kind": "categorical", "choices": [2, 4]},
        ],
    )
    result = run_tune(config, tmp_path / "study")
    assert result.best_value is not None and set(result.best_params) == {"train.learning_rate", "lora.r"}
    assert result.plot.stat().st_size > 0
    rows = result.table.read_text().splitlines()
    assert len(rows) == 4
    for n in range(3):
        assert (tmp_path / "study" / f"trial-{n:03d}" / "adapter" / "adapter_config.json").is_file()
    with pytest.raises(ValueError, match="max_lora_rank"):
        TuneConfig(base=base, space=[{"key": "lora.r", "kind": "int", "low": 8, "high": 64}])


def test_rewards_follow_the_metric_and_trl_contract():
    completions = [
        [{"role": "assistant", "content": reply(7)}],
        [{"role": "assistant", "content": "no idea \\boxed{8}"}],
        [{"role": "assistant", "content": "thinking forever"}],
    ]
    answers = ["7", "7", "7"]
    assert correctness()(None, completions, answer=answers) == [1.0, 0.0, 0.0]
    assert format_()(None, completions) == [1.0, 0.0, 0.0]
    assert format_()(None, [reply(1) + " \\boxed{2}"]) == [0.5]
    scores = conciseness(budget=100, free_fraction=0.5)(
        None, completions, completion_ids=[[0] * 10, [0] * 75, [0] * 500]
    )
    assert scores == [0.0, -0.5, -1.0]
    custom = build_reward(
        RewardSpec(name="reasonlab.training.rewards:format_", options={"require_thinking": False})
    )
    assert custom(None, ["\\boxed{3}"]) == [1.0]
    with pytest.raises(RewardError, match="cannot be imported"):
        build_reward(RewardSpec(name="nowhere.module:fn"))


def test_lora_config_refusals():
    model, _, _ = load_model(SFTConfig.model_fields["model"].default)
    spec = SFTConfig.model_fields["lora"].default
    with pytest.raises(TargetError, match="max_lora_rank"):
        lora_config(spec.model_copy(update={"r": 64}), model)
    with pytest.raises(ValueError, match="max_lora_rank"):
        type(spec).model_validate({"r": 64})
    assert lora_config(spec.model_copy(update={"targets": ["attention", "lm_head"]}), model) is not None
    with pytest.raises(TargetError, match="dropout"):
        lora_config(spec.model_copy(update={"dropout": 0.05}), model)
    with pytest.raises(TargetError, match="needs layout: native"):
        lora_config(spec.model_copy(update={"layout": "per-expert"}), model)
    config = lora_config(spec.model_copy(update={"targets": "competition"}), model)
    assert config.target_parameters == ["experts.up_proj", "experts.down_proj"]


def test_family_weights_resample_the_mixture(tmp_path):
    from collections import Counter

    from reasonlab.training.data import DataError, load_sft_dataset

    path = tmp_path / "mixed.jsonl"
    rows = [("bit", n) for n in range(30)] + [("numeral", n) for n in range(10)]
    path.write_text(
        "".join(
            json.dumps(
                {
                    "family": f,
                    "messages": grader_messages(f"{f} {n}") + [{"role": "assistant", "content": reply(n)}],
                }
            )
            + "\n"
            for f, n in rows
        )
    )
    dataset = load_sft_dataset([str(path)], family_weights={"bit": 1, "numeral": 3}, seed=1)
    families = Counter(row["prompt"][0]["content"].split()[0] for row in dataset)
    assert families == {"bit": 10, "numeral": 30}
    assert load_sft_dataset([str(path)], family_weights={"bit": 1, "numeral": 3}, seed=1)[:5] == dataset[:5]
    with pytest.raises(DataError, match="gravity"):
        load_sft_dataset([str(path)], family_weights={"gravity": 1})


@pytest.mark.parametrize(
    ("name", "model"),
    [
        ("nemotron-sft.yaml", "SFTConfig"),
        ("nemotron-grpo.yaml", "GRPOConfig"),
        ("tune-sft.yaml", "TuneConfig"),
        ("recipe-canonical-sft.yaml", "SFTConfig"),
        ("recipe-memorise.yaml", "SFTConfig"),
        ("recipe-execute.yaml", "SFTConfig"),
    ],
)
def test_shipped_configs_validate(name, model):
    from pathlib import Path

    import yaml

    from reasonlab.runs.config import load_config
    from reasonlab.training import config as configs
    from reasonlab.training import tune

    configs_dir = Path(__file__).resolve().parents[1] / "configs"
    load_config(getattr(configs, model, None) or getattr(tune, model), configs_dir / name)
    for accelerate in (configs_dir / "accelerate").glob("*.yaml"):
        assert yaml.safe_load(accelerate.read_text())["distributed_type"] in ("MULTI_GPU", "DEEPSPEED")


def test_recipes_adapt_lm_head_and_out_proj_within_the_grader_limits():
    from pathlib import Path

    from reasonlab.runs.config import load_config
    from reasonlab.training.targets import expand_parts, resolve_targets

    configs_dir = Path(__file__).resolve().parents[1] / "configs"
    for name in ("recipe-canonical-sft.yaml", "recipe-memorise.yaml", "recipe-execute.yaml"):
        config = load_config(SFTConfig, configs_dir / name)
        assert config.lora.r <= 32 and config.lora.competition and not config.lora.use_dora
        assert config.train.batch_size * config.train.gradient_accumulation_steps == 16
        parts = expand_parts(config.lora.targets)
        assert "lm_head" in parts and "mamba" in parts
        assert "out_proj" in resolve_targets(config.lora.targets).target_modules
