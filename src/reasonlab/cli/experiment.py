"""``reasonlab run [EXPERIMENT.yaml]``: synth -> traces -> train -> eval -> submit, each stage cached; without
a file, the embedded quickstart (Roman numerals, a tiny model, on CPU, in minutes)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from reasonlab.cli._console import console, fail, stdout


def run(
    arguments: Annotated[
        list[str] | None,
        typer.Argument(
            help="EXPERIMENT.yaml (optional: without it, the embedded quickstart, configs/quickstart.yaml) "
            "then key=value overrides, e.g. seed=1 synth.train_puzzles=1000 train.full.train.max_steps=50 "
            "(fields: reasonlab.runs.experiment.ExperimentConfig).",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Run directory (reuse one to resume and skip finished stages)."),
    ] = None,
    force: Annotated[
        list[str] | None,
        typer.Option(
            "--force",
            help="Run this stage again (synth, traces, train, eval, submit; repeatable), and every stage that reads its outputs.",
        ),
    ] = None,
) -> None:
    """Run an experiment: synthesise puzzles, trace them, train, evaluate the untrained and the trained
    model, pack and check submission.zip. A stage whose settings and inputs are unchanged is skipped; one
    cut short resumes."""
    missing = [
        name for name in ("torch", "transformers", "peft", "trl") if importlib.util.find_spec(name) is None
    ]
    if missing:
        from reasonlab.runs.doctor import PINNED_TORCH

        raise fail(
            f'reasonlab run needs {", ".join(missing)}: pip install "torch=={PINNED_TORCH}" -e ".[eval,train]"'
        )
    from reasonlab.runs.config import ConfigError, split_arguments
    from reasonlab.runs.experiment import (
        HELDOUT,
        STAGES,
        ExperimentError,
        load_experiment_config,
        run_experiment,
    )
    from reasonlab.runs.rundir import RunDirError, default_run_dir
    from reasonlab.runs.stages import StageStatus

    try:
        config_path, overrides = split_arguments(arguments or [])
        config = load_experiment_config(config_path, overrides)
    except ConfigError as exc:
        raise fail(str(exc)) from None
    unknown = [stage for stage in force or () if stage not in STAGES]
    if unknown:
        raise fail(f"--force {unknown[0]}: no such stage; stages: {', '.join(STAGES)}")
    run_dir = out or default_run_dir(config.name, config.output_root)
    console.print(Text(f"{config.name} -> {run_dir}"))

    def on_stage(stage, status: StageStatus) -> None:
        note = {StageStatus.CACHED: " (cached)", StageStatus.RESUMED: " (resuming)"}.get(status, "")
        console.print(
            Text.assemble(("· ", "bold"), f"{stage.name}: {stage.description}{note}"), soft_wrap=True
        )

    try:
        result = run_experiment(config, run_dir, force=force or (), on_stage=on_stage)
    except RunDirError as exc:  # the directory holds another experiment
        raise fail(str(exc)) from None
    except ExperimentError as exc:
        raise fail(str(exc), code=1) from None
    mix = config.synth.mix or {}
    data = f"held-out {next(iter(mix))}" if len(mix) == 1 else "held-out"
    if config.eval.data.path != HELDOUT:
        data = Path(config.eval.data.path).name
    minutes = f"in {result.seconds / 60:.1f} min"
    if result.gain is None:
        stdout.print(f"{data} accuracy: trained {result.accuracy_after:.1%} {minutes}", soft_wrap=True)
    else:
        stdout.print(
            f"{data} accuracy: untrained {result.accuracy_before:.1%} -> trained {result.accuracy_after:.1%} "
            f"({result.gain * 100:+.1f} points) {minutes}",
            soft_wrap=True,
        )
    stdout.print(Text(f"submission: {result.submission} (checked)"), soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command()(run)
