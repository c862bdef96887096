"""Entry point: ``reasonlab --help`` lists every command."""

from __future__ import annotations

import typer

from reasonlab.cli import analysis as analysis_commands
from reasonlab.cli import augment as augment_commands
from reasonlab.cli import bench as bench_commands
from reasonlab.cli import doctor as doctor_commands
from reasonlab.cli import evaluate as eval_commands
from reasonlab.cli import experiment as experiment_commands
from reasonlab.cli import plugins as plugin_commands
from reasonlab.cli import puzzles as puzzle_commands
from reasonlab.cli import reproduce as reproduce_commands
from reasonlab.cli import split as split_commands
from reasonlab.cli import submit as submit_commands
from reasonlab.cli import synth as synth_commands
from reasonlab.cli import tracks as track_commands
from reasonlab.cli import train as train_commands

app = typer.Typer(
    name="reasonlab",
    help="A reproducible lab for improving an open model's reasoning on the Wonderland puzzles.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
puzzle_commands.register(app)
experiment_commands.register(app)
submit_commands.register(app)
eval_commands.register(app)
track_commands.register(app)
synth_commands.register(app)
train_commands.register(app)
split_commands.register(app)
bench_commands.register(app)
doctor_commands.register(app)
reproduce_commands.register(app)
analysis_commands.register(app)
plugin_commands.register(app)
augment_commands.register(app)


if __name__ == "__main__":
    app()
