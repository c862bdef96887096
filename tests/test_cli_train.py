"""train/run/tune commands: configs with overrides, run directories, resume, clear errors."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("trl")

from typer.testing import CliRunner  # noqa: E402

from reasonlab.cli.main import app  # noqa: E402

runner = CliRunner()


def test_train_sft_writes_a_run_dir_and_resumes(tmp_path, tiny_sft_config):
    config = tiny_sft_config
    out = tmp_path / "run"
    result = runner.invoke(app, ["train", "sft", str(config), "train.max_steps=1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads((out / "run.json").read_text())["command"] == "train sft"
    assert (out / "adapter" / "adapter_config.json").is_file()
    result = runner.invoke(
        app, ["train", "sft", str(config), "train.max_steps=2", "--out", str(out), "--resume"]
    )
    assert result.exit_code == 0, result.output
    assert (out / "checkpoints" / "checkpoint-2").is_dir()
    log = json.loads((out / "train_metrics.json").read_text())["log"]
    assert [entry["step"] for entry in log if "loss" in entry] == [1, 2]  # step 1 restored, not retrained
    result = runner.invoke(app, ["train", "sft", str(config), "lora.r=8", "--out", str(out)])
    assert result.exit_code == 2 and "another config" in result.output


def test_train_errors_are_one_clear_line(tmp_path):
    config = tmp_path / "bad.yaml"
    config.write_text("lora: {r: 64}\ndata: {train: [missing.jsonl]}\n")
    result = runner.invoke(app, ["train", "sft", str(config), "--out", str(tmp_path / "r")])
    assert result.exit_code == 2 and "max_lora_rank" in result.output
    result = runner.invoke(app, ["train", "sft", str(config), "lora.r=8", "--out", str(tmp_path / "r2")])
    assert result.exit_code == 2 and "missing.jsonl: no such file" in result.output
    result = runner.invoke(app, ["run", "train_puzzles=lots"])
    assert result.exit_code == 2 and "train_puzzles" in result.output
