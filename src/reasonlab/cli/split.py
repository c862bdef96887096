"""``reasonlab split``: a seeded train/validation split stratified by family and subtype."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated

import typer

from reasonlab.cli._console import console, fail
from reasonlab.puzzles.classify import classify
from reasonlab.puzzles.io import PuzzleFileError, read_puzzles


def split(
    input_csv: Annotated[Path, typer.Argument(help="Competition CSV with id,prompt,answer.")],
    out_dir: Annotated[Path, typer.Option("--out-dir", help="Where to write train.csv and val.csv.")],
    val_fraction: Annotated[float, typer.Option(help="Share of each family/subtype held out.")] = 0.1,
    seed: Annotated[int, typer.Option(help="Seed of the split.")] = 0,
) -> None:
    """Split a puzzle file into train.csv and val.csv, each family and subtype in the same proportion.

    Keep the validation prompts out of synthetic data with `reasonlab synth --avoid OUT_DIR/val.csv`.
    """
    from reasonlab.puzzles.split import stratified_split
    from reasonlab.synth.records import write_puzzles_csv

    try:
        puzzles = read_puzzles(input_csv).puzzles
        train, val = stratified_split(puzzles, val_fraction, seed)
    except (PuzzleFileError, ValueError) as exc:
        raise fail(str(exc)) from None
    write_puzzles_csv(train, out_dir / "train.csv")
    write_puzzles_csv(val, out_dir / "val.csv")
    held = Counter(classify(p.prompt).label for p in val)
    console.print(
        f"{len(train)} train, {len(val)} validation rows -> {out_dir} (seed {seed}); validation per "
        "stratum: " + ", ".join(f"{label} {count}" for label, count in sorted(held.items()))
    )
    console.print(f"keep them out of synthetic data: reasonlab synth ... --avoid {out_dir / 'val.csv'}")


def register(app: typer.Typer) -> None:
    app.command()(split)
