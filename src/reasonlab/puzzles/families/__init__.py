"""One module per puzzle family; each exposes ``FAMILY``, an object satisfying :class:`Family`.

The registry is ordered: :func:`family_of` asks each family in turn whether a prompt is its own.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from functools import cache
from typing import Any, Protocol, runtime_checkable

from reasonlab.puzzles.types import Solution

FAMILY_NAMES: tuple[str, ...] = ("bit", "gravity", "unit", "cipher", "numeral", "equation")


@runtime_checkable
class Family(Protocol):
    name: str

    def matches(self, prompt: str) -> bool:
        """Whether ``prompt`` belongs to this family (a cheap test on its fixed wording)."""

    def parse(self, prompt: str) -> Any:
        """The typed instance: examples and query. Raises ``ValueError`` on malformed text."""

    def subtype(self, instance: Any) -> str | None:
        """A finer class within the family (equations: numeric|symbolic × deduce|guess), else None."""

    def solve(self, instance: Any) -> Solution:
        """Infer the rule from the examples only and answer the query."""

    # Synthesis (data augmentation) and traces; families add these as they gain generators:
    #   generate(rng: random.Random, **knobs) -> Puzzle
    #       a new puzzle in the competition's exact text, with its gold answer (id left to the caller);
    #   trace(instance, solution) -> str | None
    #       step-by-step derivation a model can imitate, ending in \boxed{answer}; None if not traceable;
    #   replay(instance, trace) -> str
    #       re-run the trace's steps mechanically and return the answer they produce (raises on a bad step).
    # Optional: prepare() -> None builds a family's per-process tables (see prepare_families);
    #   generate_solved(rng, **knobs) -> (Puzzle, Solution | None): generate's puzzle (same draws) with a
    #   solution built from the generator's own rule, traced without solving (None: solve as usual).
    # Equation knobs: generate(rng, subtype="numeric-deduce"|"numeric-guess"|"symbolic-deduce"|
    #   "symbolic-guess"|None, n_examples=None).


@cache
def get_family(name: str) -> Family:
    if name not in FAMILY_NAMES:
        raise KeyError(f"unknown family {name!r}; known: {', '.join(FAMILY_NAMES)}")
    module = importlib.import_module(f"reasonlab.puzzles.families.{name}")
    return module.FAMILY


def all_families() -> list[Family]:
    return [get_family(name) for name in FAMILY_NAMES]


def family_of(prompt: str) -> Family | None:
    for family in all_families():
        if family.matches(prompt):
            return family
    return None


def prepare_families(prompts: Iterable[str]) -> None:
    """Build the precomputed tables of the families these prompts belong to, once, in this process:
    worker processes forked afterwards share them, and no puzzle's time limit pays for them."""
    needed = {family.name: family for family in map(family_of, prompts) if family is not None}
    for family in needed.values():
        prepare = getattr(family, "prepare", None)
        if callable(prepare):
            prepare()
