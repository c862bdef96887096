"""`reasonlab run EXPERIMENT.yaml`: every stage through the library, each cached by its settings and inputs,
resumed after a crash, rerun with what reads it when its settings change; reproduce gives the same figures.

One tiny experiment (24 numeral puzzles, 2 + 1 SFT steps and 1 GRPO step, 3 held out) is taken through a lifetime:
a crash in its last training phase, the rerun that resumes it, a rerun with nothing to do, and a rerun with
another eval setting."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

pytest.importorskip("trl")

from reasonlab.cli.main import app  # noqa: E402
from reasonlab.prompting import user_prompt  # noqa: E402
from reasonlab.puzzles.io import read_puzzles  # noqa: E402
from reasonlab.runs.config import ConfigError  # noqa: E402
from reasonlab.runs.experiment import (  # noqa: E402
    SUMMARY_FILE,
    ExperimentConfig,
    experiment_stages,
    load_experiment_config,
    run_experiment,
)
from reasonlab.runs.stages import read_marker, stage_keys  # noqa: E402
from reasonlab.submission.architecture import load_architecture  # noqa: E402
from reasonlab.submission.check import check_submission  # noqa: E402

runner = CliRunner()
CONFIGS = Path(__file__).resolve().parents[1] / "configs"
TINY = [
    "synth.train_puzzles=24",
    "synth.heldout_puzzles=3",
    "train.full.train.max_steps=2",
    "train.full.train.batch_size=8",
    "train.full.train.max_length=256",
    "train.lora.train.max_steps=1",
    "train.lora.train.batch_size=8",
    "train.lora.train.max_length=256",
    # then reinforcement learning on the training puzzles, continuing the LoRA
    "train.rl.method=grpo",
    "train.rl.train.max_steps=1",
    "train.rl.train.batch_size=2",
    "train.rl.train.num_generations=2",
    "train.rl.train.max_completion_length=8",
    "eval.generation.max_tokens=4",
    "tracking.tensorboard=false",
    "tracking.rich_progress=false",
]


def _run(config: ExperimentConfig, run_dir: Path) -> dict[str, str]:
    """Each stage's (and training phase's) status in one run."""
    seen: dict[str, str] = {}
    run_experiment(config, run_dir, on_stage=lambda stage, status: seen.__setitem__(stage.name, status.value))
    return seen


@pytest.fixture(scope="module")
def lifetime(tmp_path_factory):
    """The run directory and each session's stage statuses."""
    run_dir = tmp_path_factory.mktemp("experiment") / "run"
    config = load_experiment_config(None, TINY)
    sessions: dict[str, object] = {}
    import reasonlab.training.sft as sft

    real_run_sft = sft.run_sft

    def killed_in_the_lora_phase(sft_config, folder, **options):
        if Path(folder).name == "lora":
            (Path(folder) / "partial-work").write_text("left by the crashed attempt")
            raise RuntimeError("killed mid-training")
        return real_run_sft(sft_config, folder, **options)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sft, "run_sft", killed_in_the_lora_phase)
        crashed: dict[str, str] = {}
        with pytest.raises(RuntimeError, match="killed mid-training"):
            run_experiment(
                config, run_dir, on_stage=lambda stage, status: crashed.__setitem__(stage.name, status.value)
            )
    sessions["crashed"] = crashed
    sessions["markers after the crash"] = {
        name: read_marker(run_dir / name).get("complete")
        for name in ("synth", "traces", "train", "train/full", "train/lora", "eval")
    }
    sessions["resumed"] = _run(config, run_dir)
    sessions["summary"] = json.loads((run_dir / SUMMARY_FILE).read_text())
    weights = run_dir / "train" / "full" / "model" / "model.safetensors"
    sessions["weights mtime"] = weights.stat().st_mtime_ns
    sessions["again"] = _run(config, run_dir)
    sessions["weights mtime again"] = weights.stat().st_mtime_ns
    # The same experiment from its YAML with another eval setting, through the command line.
    config_file = run_dir.parent / "experiment.yaml"
    config_file.write_text(yaml.safe_dump(config.model_dump(mode="json")))
    sessions["cli"] = runner.invoke(
        app, ["run", str(config_file), "eval.generation.max_tokens=6", "--out", str(run_dir)]
    )
    return run_dir, sessions


def test_a_crash_mid_training_resumes_from_the_last_complete_stage(lifetime):
    run_dir, sessions = lifetime
    assert sessions["crashed"] == dict.fromkeys(["synth", "traces", "train", "full", "lora"], "running")
    assert sessions["markers after the crash"] == {
        "synth": True,
        "traces": True,
        "train": False,
        "train/full": True,
        "train/lora": False,
        "eval": None,
    }
    assert sessions["resumed"] == {
        "synth": "cached",
        "traces": "cached",
        "train": "resumed",
        "full": "cached",
        "lora": "resumed",
        "rl": "running",
        "eval": "running",
        "submit": "running",
    }
    # The phase resumed in its own folder, which still holds the crashed attempt's files.
    assert (run_dir / "train" / "lora" / "partial-work").is_file()


def test_every_stage_writes_its_outputs(lifetime):
    run_dir, sessions = lifetime
    summary = sessions["summary"]
    assert summary["stages"]["synth"] == {"train_puzzles": 24, "heldout_puzzles": 3}
    assert summary["stages"]["traces"]["records"] == 24 and summary["eval_rows"] == 3
    assert 0 <= summary["accuracy_before"] <= 1 and 0 <= summary["accuracy_after"] <= 1
    records = [json.loads(line) for line in (run_dir / "traces" / "train.jsonl").read_text().splitlines()]
    heldout = read_puzzles(run_dir / "synth" / "heldout.csv").puzzles
    assert not {r["messages"][0]["content"] for r in records} & {user_prompt(p.prompt) for p in heldout}
    assert records[0]["messages"][1]["content"].startswith("<think>\nthe number ")  # thought: places
    for evaluated in ("baseline", "trained"):
        assert json.loads((run_dir / "eval" / evaluated / "metrics.json").read_text())["overall"]["rows"] == 3
    trained = run_dir / summary["stages"]["train"]["model"]
    assert check_submission(run_dir / summary["submission"], load_architecture(trained)).ok
    # The GRPO phase continued the SFT phase's adapter (rank 8), not a new one of its own default rank.
    assert summary["stages"]["train"]["adapter"] == "train/rl/adapter"
    adapter = json.loads((run_dir / "train" / "rl" / "adapter" / "adapter_config.json").read_text())
    assert adapter["r"] == 8


def test_a_finished_experiment_is_all_cached(lifetime):
    _, sessions = lifetime
    assert sessions["again"] == dict.fromkeys(["synth", "traces", "train", "eval", "submit"], "cached")
    assert sessions["weights mtime again"] == sessions["weights mtime"]


def test_a_changed_eval_setting_reruns_eval_only(lifetime):
    run_dir, sessions = lifetime
    result = sessions["cli"]
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("· ")]
    assert [line.split(":")[0] for line in lines] == ["· synth", "· traces", "· train", "· eval", "· submit"]
    assert [line.endswith("(cached)") for line in lines] == [True, True, True, False, True]
    assert "held-out numeral accuracy: untrained " in result.output
    assert f"submission: {run_dir / 'submit' / 'submission.zip'} (checked)" in result.output
    assert read_marker(run_dir / "eval")["settings"]["generation"]["max_tokens"] == 6


def test_the_experiment_reproduces_with_identical_figures(lifetime, tmp_path):
    run_dir, _ = lifetime
    result = runner.invoke(app, ["reproduce", str(run_dir), "--out", str(tmp_path / "again")])
    assert result.exit_code == 0, result.output
    assert "identical: every figure of 'run' matches" in " ".join(result.output.split())


def _keys(config: ExperimentConfig) -> dict[str, str]:
    return stage_keys(experiment_stages(config, Path("unused"), lambda stage, status: None))


def test_stage_keys_follow_what_each_stage_reads():
    before = _keys(load_experiment_config(None, TINY))

    def changed(*overrides: str) -> list[str]:
        after = _keys(load_experiment_config(None, [*TINY, *overrides]))
        return [name for name in before if after[name] != before[name]]

    assert changed("eval.generation.max_tokens=8") == ["eval"]
    assert changed("submit.architecture=competition") == ["submit"]
    assert changed("train.lora.train.learning_rate=0.01") == ["train", "eval", "submit"]
    assert changed("traces.thought=answer") == ["traces", "train", "eval", "submit"]
    assert changed("synth.train_puzzles=30") == ["synth", "traces", "train", "eval", "submit"]
    # The phases' order is part of what they train.
    swapped = load_experiment_config(None, TINY).model_dump()
    swapped["train"] = {name: swapped["train"][name] for name in ("full", "rl", "lora")}
    assert _keys(ExperimentConfig.model_validate(swapped))["train"] != before["train"]
    assert changed("seed=1") == ["synth", "traces", "train", "eval", "submit"]
    # How many processes or how training is watched does not change any output.
    assert changed("synth.workers=2", "traces.workers=2", "tracking.tensorboard=true") == []


def test_a_bad_key_is_named(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        yaml.safe_dump({"synth": {"mix": {"numeral": 1}}, "train": {"lora": {"train": {"max_stepz": 3}}}})
    )
    result = runner.invoke(app, ["run", str(bad)])
    assert result.exit_code == 2
    assert "train.lora.sft.train.max_stepz: Extra inputs are not permitted" in " ".join(result.output.split())
    with pytest.raises(ConfigError, match="eval.backend.model and eval.backend.adapter are the experiment's"):
        load_experiment_config(None, ["eval.backend.model=tiny:llama"])
    with pytest.raises(ConfigError, match="full training cannot follow the LoRA of phase 'full'"):
        load_experiment_config(None, ["train.full.lora.enabled=true", "train.lora.lora.enabled=false"])
    bad.write_text(yaml.safe_dump({"train": {"../elsewhere": {"method": "sft"}}}))
    with pytest.raises(ConfigError, match="a phase's name is its folder"):
        load_experiment_config(bad)
    with pytest.raises(ConfigError, match="places restates a numeral query"):
        load_experiment_config(None, ["synth.mix.bit=1"])
    result = runner.invoke(app, ["run", "--force", "tracing"])
    assert result.exit_code == 2 and "--force tracing: no such stage" in result.output


def test_a_stage_input_that_cannot_be_read_is_named_without_a_traceback(tmp_path):
    broken = tmp_path / "avoid.csv"
    broken.write_text("id,prompt,answer\nx\n", encoding="utf-8")  # a row without its prompt
    result = runner.invoke(app, ["run", *TINY, f"synth.avoid=[{broken}]", "--out", str(tmp_path / "a")])
    assert result.exit_code == 1 and "synth.avoid:" in result.output and "Traceback" not in result.output
    nowhere = tmp_path / "nowhere"
    result = runner.invoke(app, ["run", *TINY, f"traces.tokenizer={nowhere}", "--out", str(tmp_path / "b")])
    assert result.exit_code == 1
    assert "traces.tokenizer: cannot load tokenizer" in " ".join(result.output.split())


def test_the_shipped_example_validates():
    config = load_experiment_config(CONFIGS / "experiment.yaml")
    assert [phase.method for phase in config.train.values()] == ["sft", "grpo"]
