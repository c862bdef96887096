"""``abacus-reorder``: the same abacus puzzle with its examples in another order (same rule, same answer)."""

from __future__ import annotations

import random
from dataclasses import replace

from reasonlab.puzzles.types import Puzzle
from reasonlab_abacus.family import FAMILY


class ReorderExamples:
    name = "abacus-reorder"

    def augment(self, puzzle: Puzzle, rng: random.Random) -> Puzzle | None:
        if not FAMILY.matches(puzzle.prompt):
            return None
        intro, *examples, query = puzzle.prompt.split("\n")
        rng.shuffle(examples)
        return replace(puzzle, prompt="\n".join([intro, *examples, query]))


REORDER = ReorderExamples()
