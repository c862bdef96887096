"""Commands for training: train sft, train grpo, tune."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from reasonlab.cli._console import console, fail, stdout

train_app = typer.Typer(help="Train a LoRA adapter (or a tiny model) with TRL.", no_args_is_help=True)

ConfigArgument = Annotated[Path, typer.Argument(help="The YAML config (see configs/).")]
OverridesArgument = Annotated[
    list[str] | None,
    typer.Argument(help="key=value overrides, e.g. train.max_steps=10 lora.r=16.", show_default=False),
]
OutOption = Annotated[
    Path | None, typer.Option("--out", "-o", help="Run directory (default: <output_root>/<name>-<time>).")
]
ResumeOption = Annotated[bool, typer.Option("--resume", help="Continue from the last checkpoint in --out.")]


def _load(config_class, path: Path, overrides: list[str] | None):
    from reasonlab.runs.config import ConfigError, load_config

    try:
        return load_config(config_class, path, overrides or [])
    except ConfigError as exc:
        raise fail(str(exc)) from None


def _train(kind: str, config_class, run, path: Path, overrides, out: Path | None, resume: bool) -> None:
    from reasonlab.runs.rundir import RunDirError, default_run_dir, open_run_dir
    from reasonlab.training.base import TrainingError
    from reasonlab.training.data import DataError
    from reasonlab.training.rewards import RewardError
    from reasonlab.training.targets import TargetError

    config = _load(config_class, path, overrides)
    if resume and out is None:
        raise fail("--resume needs --out, the run directory to continue")
    out = out or default_run_dir(config.name, config.output_root)
    try:
        run_dir = open_run_dir(out, f"train {kind}", config, seed=config.seed, identity=type(config).identity)
    except RunDirError as exc:
        raise fail(str(exc)) from None
    console.print(
        f"train {kind}: model [bold]{escape(str(config.model.name_or_path))}[/] -> {escape(str(run_dir.path))}"
    )
    try:
        result = run(config, run_dir.path, resume=resume)
    except (DataError, TargetError, RewardError, TrainingError) as exc:
        raise fail(str(exc)) from None
    run_dir.record_device()
    shown = {k: v for k, v in result.metrics.items() if isinstance(v, int | float)}
    table = Table(title=f"{kind} {run_dir.path.name}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in sorted(shown.items()):
        table.add_row(key, f"{value:.4g}")
    stdout.print(table)
    what = "adapter" if result.is_adapter else "model"
    console.print(f"{what}: {result.output}")
    if result.is_adapter:
        console.print(f"next: reasonlab submit pack {result.output} -o submission.zip")


@train_app.command()
def sft(
    config: ConfigArgument,
    overrides: OverridesArgument = None,
    out: OutOption = None,
    resume: ResumeOption = False,
):
    """Supervised fine-tuning on SFT records (reasonlab synth output), loss on the assistant turn only."""
    from reasonlab.training.config import SFTConfig
    from reasonlab.training.sft import run_sft

    run = functools.partial(run_sft, on_mixture=console.print)
    _train("sft", SFTConfig, run, config, overrides, out, resume)


@train_app.command()
def grpo(
    config: ConfigArgument,
    overrides: OverridesArgument = None,
    out: OutOption = None,
    resume: ResumeOption = False,
):
    """GRPO on puzzles with gold answers; rewards: correctness (the grader's metric), format, conciseness."""
    from reasonlab.training.config import GRPOConfig
    from reasonlab.training.grpo import run_grpo

    _train("grpo", GRPOConfig, run_grpo, config, overrides, out, resume)


def tune(config: ConfigArgument, overrides: OverridesArgument = None, out: OutOption = None):
    """Search hyperparameters with Optuna (pruning); each trial is a run directory; rerun --out to continue."""
    from reasonlab.runs.rundir import default_run_dir, open_run_dir
    from reasonlab.training.tune import TuneConfig, run_tune

    settings = _load(TuneConfig, config, overrides)
    out = out or default_run_dir(settings.name, settings.output_root)
    study = open_run_dir(out, "tune", settings, seed=settings.seed)
    console.print(f"tune: {settings.n_trials} trials of {settings.trainer} -> {study.path}")
    result = run_tune(settings, study.path, open_trial_dir=open_run_dir)
    import pandas

    frame = pandas.read_csv(result.table)
    table = Table(title=f"trials ({settings.metric}, {settings.direction})")
    for column in frame.columns:
        table.add_column(str(column).removeprefix("params_").removeprefix("user_attrs_"))
    for row in frame.itertuples(index=False):
        table.add_row(*(f"{v:.4g}" if isinstance(v, float) else str(v) for v in row))
    stdout.print(table)
    console.print(f"best {settings.metric} = {result.best_value} with {result.best_params}")
    console.print(f"table {result.table}, plot {result.plot}")


def register(app: typer.Typer) -> None:
    app.add_typer(train_app, name="train")
    app.command()(tune)
