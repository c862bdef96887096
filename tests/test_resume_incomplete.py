"""`train --resume` after a kill while a checkpoint was being saved."""

from __future__ import annotations

import json
import shutil

import pytest

pytest.importorskip("trl")

from typer.testing import CliRunner  # noqa: E402

from reasonlab.cli.main import app  # noqa: E402

runner = CliRunner()


def test_resume_skips_a_checkpoint_cut_short_by_a_kill_and_says_so(tmp_path, tiny_sft_config):
    config = tiny_sft_config
    out = tmp_path / "run"
    result = runner.invoke(app, ["train", "sft", str(config), "train.max_steps=1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    # A kill while step 2 was being saved: the weights half-written, no trainer state yet.
    checkpoints = out / "checkpoints"
    cut = checkpoints / "checkpoint-2"
    cut.mkdir()
    weights = (checkpoints / "checkpoint-1" / "adapter_model.safetensors").read_bytes()
    (cut / "adapter_model.safetensors").write_bytes(weights[: len(weights) // 2])
    shutil.copy(checkpoints / "checkpoint-1" / "adapter_config.json", cut)

    result = runner.invoke(
        app, ["train", "sft", str(config), "train.max_steps=2", "--out", str(out), "--resume"]
    )
    assert result.exit_code == 0, result.output
    assert "checkpoint-2 is incomplete" in result.output.replace("\n", "")
    assert (checkpoints / "checkpoint-2.incomplete").is_dir()  # kept aside, not deleted
    assert json.loads((checkpoints / "checkpoint-2" / "trainer_state.json").read_text())["global_step"] == 2
    log = json.loads((out / "train_metrics.json").read_text())["log"]
    assert [entry["step"] for entry in log if "loss" in entry] == [1, 2]  # resumed from step 1
