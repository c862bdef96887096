"""Monitoring: TensorBoard and MLflow through the Trainer's own integrations, throughput, TRL's Rich display.

MLflow defaults to a local file store (``<output_root>/mlruns``, browse it with ``mlflow ui
--backend-store-uri <output_root>/mlruns``): no server, and an order of magnitude faster to open than a
SQLite store. MLflow 3 keeps that backend in maintenance mode and refuses it unless
``MLFLOW_ALLOW_FILE_STORE`` is set, which is done here for file URIs only. ``tracking.mlflow_tracking_uri``
points at a shared server instead.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from transformers import TrainerCallback

from reasonlab.training.config import TrackingSpec


def mlflow_uri(spec: TrackingSpec, output_root: str | Path) -> str:
    return spec.mlflow_tracking_uri or Path(output_root, "mlruns").resolve().as_uri()


def configure_reporting(spec: TrackingSpec, output_root: str | Path) -> list[str]:
    """The Trainer's ``report_to`` list; sets the environment the MLflow integration reads."""
    report_to = []
    if spec.tensorboard:
        report_to.append("tensorboard")
    if spec.mlflow:
        uri = mlflow_uri(spec, output_root)
        os.environ["MLFLOW_TRACKING_URI"] = uri
        os.environ["MLFLOW_EXPERIMENT_NAME"] = spec.experiment
        os.environ["MLFLOW_FLATTEN_PARAMS"] = "1"
        if uri.startswith("file:"):
            os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
        report_to.append("mlflow")
    return report_to


class ThroughputCallback(TrainerCallback):
    """Adds ``tokens_per_second`` (trained tokens, all processes) to each log, before the loggers see it."""

    def __init__(self):
        self._last: tuple[float, float] | None = None

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs is None or "num_tokens" not in logs:
            return
        now, tokens = time.perf_counter(), float(logs["num_tokens"])
        if self._last is not None and now > self._last[0]:
            logs["tokens_per_second"] = round((tokens - self._last[1]) / (now - self._last[0]), 1)
        self._last = (now, tokens)


def quiet_library_progress(spec: TrackingSpec) -> None:
    """With the Rich display on, the libraries' own tqdm bars (tokenizing, loading, saving) are noise."""
    if spec.rich_progress:
        import datasets
        from transformers.utils import logging as transformers_logging

        datasets.disable_progress_bars()
        transformers_logging.disable_progress_bar()


def attach_monitoring(trainer, spec: TrackingSpec) -> None:
    """Throughput first (so every logger, TRL's Rich display included, records it) and, if asked, TRL's Rich
    display (a step bar and a table of the latest logs) instead of tqdm. TRL has no throughput callback
    (``num_tokens`` is a count, not a rate), so that one stays ours."""
    from transformers.trainer_callback import PrinterCallback, ProgressCallback
    from trl.trainer.callbacks import RichProgressCallback

    trainer.callback_handler.callbacks.insert(0, ThroughputCallback())
    if spec.rich_progress:
        trainer.remove_callback(ProgressCallback)
        trainer.remove_callback(PrinterCallback)
        trainer.add_callback(RichProgressCallback())
