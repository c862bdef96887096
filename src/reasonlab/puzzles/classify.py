"""Which family (and subtype) a prompt belongs to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reasonlab.puzzles.families import Family, family_of


@dataclass(frozen=True, slots=True)
class Classification:
    family: str
    subtype: str | None = None

    @property
    def label(self) -> str:
        return f"{self.family}/{self.subtype}" if self.subtype else self.family


class UnknownFamilyError(ValueError):
    pass


def parse_prompt(prompt: str) -> tuple[Family, Any]:
    """The family of ``prompt`` and its parsed instance; raises :class:`UnknownFamilyError` if no family
    claims it and ``ValueError`` if its family cannot parse it."""
    family = family_of(prompt)
    if family is None:
        head = prompt.strip().splitlines()[0][:80] if prompt.strip() else "<empty>"
        raise UnknownFamilyError(f"no puzzle family matches a prompt starting {head!r}")
    return family, family.parse(prompt)


def classify(prompt: str) -> Classification:
    """Family and subtype of ``prompt``; raises :class:`UnknownFamilyError` if no family claims it
    and ``ValueError`` if its family cannot parse it."""
    family, instance = parse_prompt(prompt)
    return Classification(family.name, family.subtype(instance))
