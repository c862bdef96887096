"""``reasonlab run``: the quickstart loop (synthesise, evaluate, train, evaluate, pack), tiny, on CPU."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Annotated

import typer

from reasonlab.cli._console import console, fail, stdout


def run(
    arguments: Annotated[
        list[str] | None,
        typer.Argument(
            help="CONFIG.yaml (optional: without it, the embedded default, configs/quickstart.yaml) then "
            "key=value overrides, e.g. train_puzzles=1000 full_training.max_steps=50.",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Run directory (reuse one to resume).")
    ] = None,
) -> None:
    """The whole loop on a tiny model, on CPU: synthesise Roman-numeral puzzles, evaluate the untrained model,
    train it (every weight, then a LoRA), evaluate again, pack and check submission.zip."""
    missing = [
        name for name in ("torch", "transformers", "peft", "trl") if importlib.util.find_spec(name) is None
    ]
    if missing:
        raise fail(
            f'the quickstart needs {", ".join(missing)}: pip install "torch==2.13.0" -e ".[eval,train]"'
        )
    from reasonlab.quickstart import load_quickstart_config, run_quickstart
    from reasonlab.runs.config import ConfigError, split_arguments
    from reasonlab.runs.rundir import RunDirError, default_run_dir, open_run_dir

    try:
        config_path, overrides = split_arguments(arguments or [])
        config = load_quickstart_config(config_path, overrides)
        run_dir = open_run_dir(
            out or default_run_dir(config.name, config.output_root), "run", config, seed=config.seed
        )
    except (ConfigError, RunDirError) as exc:
        raise fail(str(exc)) from None
    console.print(f"quickstart -> {run_dir.path}")
    result = run_quickstart(config, run_dir.path, on_stage=lambda stage: console.print(f"[bold]·[/] {stage}"))
    run_dir.record_device()
    stdout.print(
        f"held-out {config.family} accuracy: untrained {result.accuracy_before:.1%} -> trained "
        f"{result.accuracy_after:.1%} ({result.gain * 100:+.1f} points) in {result.seconds / 60:.1f} min"
    )
    stdout.print(f"submission: {result.submission} (checked)")


def register(app: typer.Typer) -> None:
    app.command()(run)
