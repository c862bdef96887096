"""Data augmentations: transformations of a labelled puzzle into another with the same rule.

None is built in yet; plugins register theirs under the entry point group ``reasonlab.augmentations``,
each an object satisfying :class:`Augmentation`. ``reasonlab augment`` applies them to a puzzle file.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import replace
from typing import Protocol, runtime_checkable

from reasonlab.plugins import Registry
from reasonlab.puzzles.types import Puzzle


@runtime_checkable
class Augmentation(Protocol):
    name: str

    def augment(self, puzzle: Puzzle, rng: random.Random) -> Puzzle | None:
        """A variant of ``puzzle`` in its family's exact text, with its gold answer; None when it has none."""


AUGMENTATIONS: Registry[Augmentation] = Registry("augmentations", Augmentation, {})


def augment_puzzles(puzzles: Sequence[Puzzle], names: Sequence[str], seed: int = 0) -> list[Puzzle]:
    """``puzzles``, then each named augmentation's variant of each of them (where it gives one whose
    prompt is new), with id ``<id>-<augmentation>``. Each variant draws from its own generator seeded by
    (seed, puzzle id, augmentation), so the output does not depend on the order of ``names``."""
    augmentations = [AUGMENTATIONS.get(name) for name in names]
    seen = {puzzle.prompt for puzzle in puzzles}
    augmented = list(puzzles)
    for puzzle in puzzles:
        for augmentation in augmentations:
            variant = augmentation.augment(puzzle, random.Random(f"{seed}:{puzzle.id}:{augmentation.name}"))
            if variant is None or variant.prompt in seen:
                continue
            seen.add(variant.prompt)
            augmented.append(replace(variant, id=f"{puzzle.id}-{augmentation.name}"))
    return augmented
