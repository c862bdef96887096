"""Stepwise gravity traces: d = k*t^2 with k = g/2, pooled over the examples.

Procedure: square each example's time digit place by digit place, adding the squares up as it goes;
add up the distances; divide the two sums by long division (k to 6 places, truncated); square the
query's time, multiply by k, round to 2 decimals as the competition prints distances (trailing zeros
dropped). Step kinds: the fixed section lines, the shared arithmetic kinds
(:mod:`~reasonlab.puzzles.traces.arithmetic`) and the boxed answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from reasonlab.puzzles.families._synthesis import boxed
from reasonlab.puzzles.families.gravity import GravityInstance
from reasonlab.puzzles.trace_style import StepKind
from reasonlab.puzzles.traces import arithmetic
from reasonlab.puzzles.traces._stepwise import ANSWER, replay_steps

K_DECIMALS = 6
PLAN = "d = k*t^2 with k = g/2, so k = sum(d)/sum(t^2) over the examples."

SECTION = StepKind(
    "section",
    re.compile(
        r"(?P<title>"
        + re.escape(PLAN)
        + r"|t\^2 of each example, added up:|sum of d:|k = sum\(d\)/sum\(t\^2\):"
        + r"|d = k\*t\^2 for t = (?P<c_t>\d+(?:\.\d+)?):)"
    ),
    "name the next part of the procedure (fixed wording; the query's t cited)",
)


@dataclass(frozen=True)
class GravityStepwise:
    family: str = "gravity"
    style: str = "stepwise"
    grain: arithmetic.Granularity = arithmetic.FINE
    step_kinds: tuple[StepKind, ...] = field(default=(*arithmetic.STEP_KINDS, SECTION, ANSWER))

    def trace(self, instance: GravityInstance) -> str:
        lines = [PLAN, "t^2 of each example, added up:"]
        sum_t2 = None
        for t, _ in instance.examples:
            square = arithmetic.write_product(lines, Decimal(t), Decimal(t), self.grain)
            sum_t2 = square if sum_t2 is None else arithmetic.write_sum(lines, [sum_t2, square], self.grain)
        lines.append("sum of d:")
        sum_d = arithmetic.write_sum(lines, [Decimal(d) for _, d in instance.examples], self.grain)
        lines.append("k = sum(d)/sum(t^2):")
        k = arithmetic.write_quotient(lines, sum_d, sum_t2, K_DECIMALS)
        lines.append(f"d = k*t^2 for t = {instance.query}:")
        q = Decimal(instance.query)
        square = arithmetic.write_product(lines, q, q, self.grain)
        distance = arithmetic.write_product(lines, square, k, self.grain)
        answer = arithmetic.write_round(lines, distance, 2, drop_zeros=True)
        lines.append(boxed(answer))
        return "\n".join(lines)

    def replay(self, instance: GravityInstance, text: str) -> str:
        return replay_steps(self, instance, text)


STEPWISE = GravityStepwise()
