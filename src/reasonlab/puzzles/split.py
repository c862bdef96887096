"""A seeded train/validation split of a puzzle file, stratified by family and subtype.

Each stratum (``bit``, ``equation/symbolic-guess``, ...) gives the same share of its rows to validation, so a
rare subtype is represented in both parts instead of landing wholly in one. Synthesis then keeps every
validation prompt out of its output (``reasonlab synth --avoid VAL.csv``), so the validation score measures
generalisation, not recall.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence

from reasonlab.puzzles.classify import classify
from reasonlab.puzzles.types import Puzzle


def stratified_split(
    puzzles: Sequence[Puzzle], val_fraction: float, seed: int = 0
) -> tuple[list[Puzzle], list[Puzzle]]:
    """(train, validation), each in the input's order. Every stratum sends ``round(fraction * rows)`` of its
    rows, chosen by a generator seeded with ``seed`` and the stratum's name, to validation."""
    if not 0 < val_fraction < 1:
        raise ValueError(f"the validation fraction must be between 0 and 1, got {val_fraction}")
    strata: dict[str, list[int]] = defaultdict(list)
    for index, puzzle in enumerate(puzzles):
        strata[classify(puzzle.prompt).label].append(index)
    chosen: set[int] = set()
    for label, indices in sorted(strata.items()):
        rng = random.Random(f"{seed}:{label}")
        chosen.update(rng.sample(indices, round(val_fraction * len(indices))))
    train = [p for i, p in enumerate(puzzles) if i not in chosen]
    val = [p for i, p in enumerate(puzzles) if i in chosen]
    return train, val
