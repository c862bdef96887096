"""Data augmentations: transformations of a labelled puzzle into another with the same rule.

None is built in yet; plugins register theirs under the entry point group ``reasonlab.augmentations``,
each an object satisfying :class:`Augmentation`.
"""

from __future__ import annotations

import random
from typing import Protocol, runtime_checkable

from reasonlab.plugins import Registry
from reasonlab.puzzles.types import Puzzle


@runtime_checkable
class Augmentation(Protocol):
    name: str

    def augment(self, puzzle: Puzzle, rng: random.Random) -> Puzzle | None:
        """A variant of ``puzzle`` in its family's exact text, with its gold answer; None when it has none."""


AUGMENTATIONS: Registry[Augmentation] = Registry("augmentations", Augmentation, {})
