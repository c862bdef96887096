"""Unit conversion: y = k·x metres with a secret factor k; answers printed with two decimals."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from reasonlab.puzzles.families._numeric import fit_constant, is_determined
from reasonlab.puzzles.families._shape import FixedWording, PromptShape
from reasonlab.puzzles.families._synthesis import (
    EVEN_COUNTS,
    boxed,
    checked_sum,
    example_count,
    expect,
    final_boxed,
    hundredths,
    match_line,
    prompt_text,
    sum_line,
    trace_lines,
)
from reasonlab.puzzles.types import Puzzle, Solution, Status

_HEADER = "In Alice's Wonderland, a secret unit conversion is applied to measurements."
_EXAMPLE = re.compile(r"^([\d.]+) m becomes ([\d.]+)$", re.M)
_QUERY = re.compile(r"Now, convert the following measurement: ([\d.]+) m\s*$")

# What the development data shows: the factor uniform in [0.5, 2], metres on a 0.01 grid in [5, 50].
FACTOR_RANGE = (0.5, 2.0)
METRES_RANGE = (5.0, 50.0)

_RULE_LINE = "y = k*x, so k = sum(y)/sum(x) over the examples."
_K = re.compile(r"k = ([\d.]+)/([\d.]+) = ([\d.]+)")
_ANSWER = re.compile(r"x = ([\d.]+): y = ([\d.]+)\*\1 = ([\d.]+)")


@dataclass(frozen=True, slots=True)
class UnitInstance:
    examples: tuple[tuple[str, str], ...]  # (metres, converted) exactly as printed
    query: str


def format_value(y: float) -> str:
    return f"{y:.2f}"


def _identity(x: float) -> float:
    return x


def _estimate_k(sum_y: Decimal, sum_x: Decimal) -> Decimal:
    return (sum_y / sum_x).quantize(Decimal("0.000001"), ROUND_HALF_UP)


def _converted(k: Decimal, x: Decimal) -> str:
    return str((k * x).quantize(Decimal("0.01"), ROUND_HALF_UP))


class Unit(FixedWording):
    name = "unit"
    shape = PromptShape("unit", _HEADER, _EXAMPLE, _QUERY)

    def parse(self, prompt: str) -> UnitInstance:
        examples, (query,) = self.shape.split(prompt)
        return UnitInstance(tuple(examples), query)

    def solve(self, instance: UnitInstance) -> Solution:
        fit = fit_constant([(float(x), y) for x, y in instance.examples], _identity)
        q = float(instance.query)
        answer = format_value(fit.estimate * q)
        determined = fit.consistent and is_determined(fit, q, format_value)
        return Solution(
            answer=answer,
            status=Status.SOLVED if determined else Status.AMBIGUOUS,
            rule=f"y = {fit.estimate:.5f} * x",
            details={"factor": fit.estimate, "factor_interval": (fit.low, fit.high)},
        )

    def generate(
        self, rng: random.Random, *, n_examples: int | None = None, factor: float | None = None
    ) -> Puzzle:
        """A puzzle with ``n_examples`` conversions (default 3-5) by ``factor`` (default random)."""
        factor = rng.uniform(*FACTOR_RANGE) if factor is None else factor
        metres = [hundredths(rng, *METRES_RANGE) for _ in range(example_count(rng, n_examples, EVEN_COUNTS))]
        query = hundredths(rng, *METRES_RANGE)
        lines = [f"{x} m becomes {format_value(factor * x)}" for x in metres]
        prompt = prompt_text(
            f"{_HEADER} For example:", lines, f"Now, convert the following measurement: {query} m"
        )
        return Puzzle("", prompt, format_value(factor * query))

    def trace(self, instance: UnitInstance, solution: Solution | None = None) -> str:
        """Pool the examples (k = Σy/Σx), then apply k to the query."""
        xs = [Decimal(x) for x, _ in instance.examples]
        ys = [Decimal(y) for _, y in instance.examples]
        k = _estimate_k(sum(ys), sum(xs))
        q = Decimal(instance.query)
        answer = _converted(k, q)
        return "\n".join(
            [
                _RULE_LINE,
                sum_line("x", xs),
                sum_line("y", ys),
                f"k = {sum(ys)}/{sum(xs)} = {k}",
                f"x = {q}: y = {k}*{q} = {answer}",
                boxed(answer),
            ]
        )

    def replay(self, instance: UnitInstance, trace: str) -> str:
        lines = trace_lines(trace)
        expect(
            len(lines) == 6 and lines[0] == _RULE_LINE, "unit trace: expected 6 lines opening with the rule"
        )
        sum_x = checked_sum("x", lines[1], [Decimal(x) for x, _ in instance.examples])
        sum_y = checked_sum("y", lines[2], [Decimal(y) for _, y in instance.examples])
        k_step = match_line(_K, lines[3])
        expect(
            (Decimal(k_step.group(1)), Decimal(k_step.group(2))) == (sum_y, sum_x), "k is not sum(y)/sum(x)"
        )
        k = Decimal(k_step.group(3))
        expect(k == _estimate_k(sum_y, sum_x), f"{sum_y}/{sum_x} is not {k}")
        step = match_line(_ANSWER, lines[4])
        q = Decimal(step.group(1))
        expect(q == Decimal(instance.query), "the last step does not convert the query")
        expect(Decimal(step.group(2)) == k, "the last step does not use the computed k")
        answer = _converted(k, q)
        expect(step.group(3) == answer, f"{k}*{q} rounds to {answer}, not {step.group(3)}")
        expect(final_boxed(lines) == answer, "the boxed answer is not the converted value")
        return answer


FAMILY = Unit()
