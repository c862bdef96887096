"""Training's Rich display is TRL's RichProgressCallback, fed the throughput our own callback adds."""

from __future__ import annotations

import pytest

pytest.importorskip("trl")


def test_rich_display_is_trls_and_sees_the_throughput(tmp_path, tiny_sft_config, monkeypatch):
    from transformers.trainer_callback import ProgressCallback
    from trl.trainer.callbacks import RichProgressCallback

    from reasonlab.runs.config import load_config
    from reasonlab.training.config import SFTConfig
    from reasonlab.training.sft import run_sft

    shown: list[dict] = []
    tqdm_steps: list[int] = []
    trl_on_log = RichProgressCallback.on_log

    def recording_on_log(self, args, state, control, logs=None, **kwargs):
        shown.append(dict(logs or {}))
        return trl_on_log(self, args, state, control, logs=logs, **kwargs)

    monkeypatch.setattr(RichProgressCallback, "on_log", recording_on_log)
    monkeypatch.setattr(ProgressCallback, "on_step_end", lambda self, *a, **k: tqdm_steps.append(1))
    config = load_config(
        SFTConfig,
        tiny_sft_config,
        ["tracking.rich_progress=true", "train.max_steps=2", f"output_root={tmp_path}"],
    )
    run_sft(config, tmp_path / "run")
    assert any("tokens_per_second" in logs and "loss" in logs for logs in shown)
    assert not tqdm_steps  # the Rich display replaces the Trainer's tqdm bar
