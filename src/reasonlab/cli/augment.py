"""``reasonlab augment``: a puzzle file plus the variants registered augmentations make of its rows."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from reasonlab.cli._console import console, fail
from reasonlab.plugins import PluginError
from reasonlab.puzzles.io import PuzzleFileError, read_puzzles


def augment(
    input_csv: Annotated[Path, typer.Argument(help="Puzzle CSV with id,prompt,answer.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the puzzles and their variants.")],
    using: Annotated[
        list[str],
        typer.Option("--with", help="An augmentation by name (repeatable); see `reasonlab plugins list`."),
    ],
    seed: Annotated[int, typer.Option(help="Same seed, same variants.")] = 0,
) -> None:
    """Write every puzzle of INPUT_CSV, then each augmentation's variant of it (ids <id>-<augmentation>)."""
    from reasonlab.synth.augment import augment_puzzles
    from reasonlab.synth.records import write_puzzles_csv

    try:
        puzzles = read_puzzles(input_csv).puzzles
        augmented = augment_puzzles(puzzles, using, seed)
    except (PuzzleFileError, PluginError, KeyError) as exc:
        raise fail(str(exc)) from None
    write_puzzles_csv(augmented, out)
    console.print(f"{len(puzzles)} puzzles + {len(augmented) - len(puzzles)} variants -> {out}")


def register(app: typer.Typer) -> None:
    app.command()(augment)
