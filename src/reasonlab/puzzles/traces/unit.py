"""Stepwise unit-conversion traces: y = k*x, pooled over the examples.

Procedure: add up the examples' metres and their converted values (two terms a line); divide the sums
by long division (k to 6 places, truncated); multiply the query by k digit place by digit place; round
to 2 decimals as the competition prints them (zeros kept). Step kinds: the fixed section lines, the
shared arithmetic kinds (:mod:`~reasonlab.puzzles.traces.arithmetic`) and the boxed answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from reasonlab.puzzles.families._synthesis import boxed
from reasonlab.puzzles.families.unit import UnitInstance
from reasonlab.puzzles.trace_style import StepKind
from reasonlab.puzzles.traces import arithmetic
from reasonlab.puzzles.traces._stepwise import ANSWER, replay_steps

K_DECIMALS = 6
PLAN = "y = k*x, so k = sum(y)/sum(x) over the examples."

SECTION = StepKind(
    "section",
    re.compile(
        r"(?P<title>"
        + re.escape(PLAN)
        + r"|sum of x:|sum of y:|k = sum\(y\)/sum\(x\):|y = k\*x for x = (?P<c_x>\d+(?:\.\d+)?):)"
    ),
    "name the next part of the procedure (fixed wording; the query's x cited)",
)


@dataclass(frozen=True)
class UnitStepwise:
    family: str = "unit"
    style: str = "stepwise"
    grain: arithmetic.Granularity = arithmetic.FINE
    step_kinds: tuple[StepKind, ...] = field(default=(*arithmetic.STEP_KINDS, SECTION, ANSWER))

    def trace(self, instance: UnitInstance) -> str:
        lines = [PLAN, "sum of x:"]
        sum_x = arithmetic.write_sum(lines, [Decimal(x) for x, _ in instance.examples], self.grain)
        lines.append("sum of y:")
        sum_y = arithmetic.write_sum(lines, [Decimal(y) for _, y in instance.examples], self.grain)
        lines.append("k = sum(y)/sum(x):")
        k = arithmetic.write_quotient(lines, sum_y, sum_x, K_DECIMALS)
        lines.append(f"y = k*x for x = {instance.query}:")
        value = arithmetic.write_product(lines, Decimal(instance.query), k, self.grain)
        answer = arithmetic.write_round(lines, value, 2)
        lines.append(boxed(answer))
        return "\n".join(lines)

    def replay(self, instance: UnitInstance, text: str) -> str:
        return replay_steps(self, instance, text)


STEPWISE = UnitStepwise()
