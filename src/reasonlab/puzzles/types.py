"""The data every family shares: a puzzle row, a solver's verdict."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


@dataclass(frozen=True, slots=True)
class Puzzle:
    """One competition row. ``answer`` is None for unlabelled (test) rows."""

    id: str
    prompt: str
    answer: str | None = None


class Status(StrEnum):
    SOLVED = "solved"  # the examples determine the answer
    AMBIGUOUS = "ambiguous"  # several rules fit the examples; the answer is the solver's best choice
    UNSOLVED = "unsolved"  # no rule found (or family without a solver)
    TIMEOUT = "timeout"  # the per-puzzle time limit ran out
    ERROR = "error"  # the solver raised; ``rule`` holds the message


@dataclass(slots=True)
class Solution:
    """A solver's answer, formatted exactly as the competition's gold answers are.

    ``rule`` is a human-readable statement of the inferred rule; ``details`` holds family-specific
    evidence (candidate answers, unseen letters, ...) that traces and reports use.
    """

    answer: str | None
    status: Status
    rule: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def unsolved(cls, reason: str) -> Solution:
        return cls(answer=None, status=Status.UNSOLVED, rule=reason)
