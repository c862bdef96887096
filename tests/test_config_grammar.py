"""One config grammar for every command: CONFIG.yaml, then dotted key=value overrides, then the command's
own options, validated by pydantic through reasonlab.runs.config.load_config, with an unknown key named."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from reasonlab.cli.main import app
from reasonlab.cli.puzzles import sample_csv
from reasonlab.runs.config import ConfigError, split_arguments

runner = CliRunner()
CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def _yaml(path: Path, settings: dict) -> Path:
    path.write_text(yaml.safe_dump(settings))
    return path


def _commands(tmp_path: Path) -> dict[str, list[str]]:
    """Each command with a valid config (the shipped one, or a small one written here)."""
    traces = _yaml(tmp_path / "traces.yaml", {"input": str(sample_csv()), "out": str(tmp_path / "t.jsonl")})
    return {
        "eval": ["eval", str(CONFIGS / "solver-eval.yaml")],
        "bench": ["bench"],
        "run": ["run", str(CONFIGS / "quickstart.yaml")],
        "train sft": ["train", "sft", str(CONFIGS / "nemotron-sft.yaml")],
        "train grpo": ["train", "grpo", str(CONFIGS / "nemotron-grpo.yaml")],
        "tune": ["tune", str(CONFIGS / "tune-sft.yaml")],
        "synth": ["synth", str(CONFIGS / "synth.yaml")],
        "traces": ["traces", str(traces)],
    }


@pytest.mark.parametrize(
    "command", ["eval", "bench", "run", "train sft", "train grpo", "tune", "synth", "traces"]
)
def test_every_command_names_an_unknown_key(tmp_path, command):
    arguments = _commands(tmp_path)[command]
    result = runner.invoke(app, [*arguments, "seed=1", "no_such_setting.depth=3"])
    assert result.exit_code == 2, result.output
    message = " ".join(result.output.split())  # Rich wraps to the terminal's width
    assert "no_such_setting: Extra inputs are not permitted" in message


def test_split_arguments_takes_one_config_then_overrides():
    assert split_arguments(["a.yaml", "x.y=1", "z=2"]) == (Path("a.yaml"), ["x.y=1", "z=2"])
    assert split_arguments(["x=1"]) == (None, ["x=1"])
    with pytest.raises(ConfigError, match="only one config"):
        split_arguments(["a.yaml", "b.yaml"])


def test_synth_config_overrides_and_options_give_the_options_only_run(tmp_path):
    by_options = tmp_path / "options.jsonl"
    common = ["--tokenizer", "none", "--workers", "1", "--avoid", str(sample_csv())]
    result = runner.invoke(
        app,
        ["synth", "--n", "6", "--seed", "4", "--mix", "gravity=1,unit=2", "--knob", "gravity.n_examples=4"]
        + ["--out", str(by_options), *common],
    )
    assert result.exit_code == 0, result.output
    config = _yaml(
        tmp_path / "synth.yaml",
        {"n": 9, "out": str(tmp_path / "unused.jsonl"), "mix": {"gravity": 1, "unit": 2}, "seed": 1},
    )
    by_config = tmp_path / "config.jsonl"
    result = runner.invoke(
        app,
        [
            "synth",
            str(config),
            "seed=4",
            "knobs.gravity.n_examples=4",
            f"out={by_config}",
            "--n",
            "6",
            *common,
        ],
    )
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "unused.jsonl").exists()
    assert by_config.read_bytes() == by_options.read_bytes() and len(by_config.read_text().splitlines()) == 6
    refused = runner.invoke(app, ["synth", str(config), "mix.planets=1"])
    assert refused.exit_code == 2 and "planets" in refused.output


def test_traces_config_form_gives_the_input_form(tmp_path):
    by_input = tmp_path / "input.jsonl"
    common = ["--tokenizer", "none", "--workers", "1", "--style", "compact"]
    result = runner.invoke(app, ["traces", str(sample_csv()), "--out", str(by_input), *common])
    assert result.exit_code == 0, result.output
    config = _yaml(tmp_path / "traces.yaml", {"input": str(sample_csv()), "style": "stepwise"})
    by_config = tmp_path / "config.jsonl"
    result = runner.invoke(app, ["traces", str(config), f"out={by_config}", *common])
    assert result.exit_code == 0, result.output
    assert by_config.read_bytes() == by_input.read_bytes() and by_config.stat().st_size > 0


def test_shipped_synth_config_validates():
    from reasonlab.runs.config import load_config
    from reasonlab.synth.config import SynthConfig

    config = load_config(SynthConfig, CONFIGS / "synth.yaml", ["ray=auto", "n=10"])
    assert config.records and config.ray == "auto" and config.n == 10
    assert set(config.mix) == {"bit", "cipher", "equation", "gravity", "numeral", "unit"}
