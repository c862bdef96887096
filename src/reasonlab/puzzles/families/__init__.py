"""One module per puzzle family; each exposes ``FAMILY``, an object satisfying :class:`Family`.

What a family can do beyond parsing and solving is declared by the typed protocols it satisfies
(:class:`Generator`, :class:`SolvedGenerator`, :class:`Traceable`, :class:`Preparable`), checked with
``isinstance``. Families are registered in :data:`FAMILIES`: the built-ins, then those of installed
plugins (entry point group ``reasonlab.families``), each checked against :class:`Family` when first used.

The registry is ordered: :func:`family_of` asks each family in turn whether a prompt is its own, the
built-ins first, so a plugin cannot claim a competition prompt.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from functools import cache
from typing import Any, Protocol, runtime_checkable

from reasonlab.plugins import Registry
from reasonlab.puzzles.types import Puzzle, Solution

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


@runtime_checkable
class Generator(Protocol):
    """A family that synthesises puzzles (data augmentation)."""

    def generate(self, rng: random.Random, **knobs: Any) -> Puzzle:
        """A new puzzle in the competition's exact text, with its gold answer (id left to the caller).
        Its keyword-only parameters are the knobs ``reasonlab synth --knob FAMILY.KNOB=VALUE`` sets."""


@runtime_checkable
class SolvedGenerator(Protocol):
    """A generator that hands over its own rule, so synthesis traces it without solving."""

    def generate_solved(self, rng: random.Random, **knobs: Any) -> tuple[Puzzle, Solution | None]:
        """``generate``'s puzzle (same draws) with a solution from the generator's own rule, traced
        without solving (None: solve as usual)."""


@runtime_checkable
class Traceable(Protocol):
    """A family that writes its own (original-style) traces and replays them."""

    def trace(self, instance: Any, solution: Solution) -> str | None:
        """Step-by-step derivation a model can imitate, ending in \\boxed{answer}; None if not traceable."""

    def replay(self, instance: Any, trace: str) -> str:
        """Re-run the trace's steps mechanically and return the answer they produce (raises on a bad step)."""


@runtime_checkable
class Preparable(Protocol):
    """A family with per-process tables, built once before workers fork (see :func:`prepare_families`)."""

    def prepare(self) -> None: ...


@runtime_checkable
class PromptPreparable(Protocol):
    """A family with per-process tables that depend on the prompts to solve, built for them before workers
    fork (see :func:`prepare_families`)."""

    def prepare_prompts(self, prompts: list[str]) -> None: ...


def _name_matches(name: str, family: Family) -> str | None:
    return None if family.name == name else f"its object is named {family.name!r}, registered as {name!r}"


FAMILIES: Registry[Family] = Registry(
    "families",
    Family,
    {name: f"reasonlab.puzzles.families.{name}:FAMILY" for name in FAMILY_NAMES},
    check=_name_matches,
)


def get_family(name: str) -> Family:
    return FAMILIES.get(name)


def family_names() -> list[str]:
    """Every registered family: the built-ins (:data:`FAMILY_NAMES`), then those of plugins."""
    return FAMILIES.names()


def all_families() -> list[Family]:
    return list(_loaded_families())


@cache
def _loaded_families() -> tuple[Family, ...]:
    """Every registered family, loaded and checked once (the registry's names and objects never change
    once read; a family that fails its check is not cached and fails again)."""
    return tuple(get_family(name) for name in family_names())


def family_of(prompt: str) -> Family | None:
    for family in _loaded_families():
        if family.matches(prompt):
            return family
    return None


def prepare_all(families: Iterable[Family]) -> None:
    """Build the tables of those of ``families`` that have any (:class:`Preparable`), in this process."""
    for family in families:
        if isinstance(family, Preparable):
            family.prepare()


def prepare_families(prompts: Iterable[str]) -> None:
    """Build the precomputed tables of the families these prompts belong to, once, in this process:
    worker processes forked afterwards share them (rather than each building its own), and no puzzle's
    time limit pays for them. A :class:`PromptPreparable` family also builds those its prompts need."""
    own: dict[str, tuple[Family, list[str]]] = {}
    for prompt in prompts:
        family = family_of(prompt)
        if family is not None:
            own.setdefault(family.name, (family, []))[1].append(prompt)
    prepare_all(family for family, _ in own.values())
    for family, family_prompts in own.values():
        if isinstance(family, PromptPreparable):
            family.prepare_prompts(family_prompts)
