"""The ``compact`` style: each family's original trace, a short proof for a checker.

Kept for comparison with ``stepwise``. These traces were not designed as documented steps, so they
declare no step kinds and the audit flags them. The family's solver picks the solution they write up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reasonlab.puzzles.families import get_family
from reasonlab.puzzles.trace_style import StepKind


@dataclass(frozen=True)
class CompactTracer:
    family: str
    style: str = "compact"
    step_kinds: tuple[StepKind, ...] = ()

    def trace(self, instance: Any) -> str | None:
        family = get_family(self.family)
        solution = family.solve(instance)
        if solution.answer is None:
            return None
        return family.trace(instance, solution)

    def replay(self, instance: Any, text: str) -> str:
        return get_family(self.family).replay(instance, text)


BIT = CompactTracer("bit")
GRAVITY = CompactTracer("gravity")
UNIT = CompactTracer("unit")
CIPHER = CompactTracer("cipher")
NUMERAL = CompactTracer("numeral")
EQUATION = CompactTracer("equation")
