"""Gravity: d = 0.5·g·t² with a secret g; answers printed as Python's ``str(round(d, 2))``."""

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

_HEADER = "In Alice's Wonderland, the gravitational constant has been secretly changed."
_EXAMPLE = re.compile(r"^For t = ([\d.]+)s, distance = ([\d.]+) m$", re.M)
_QUERY = re.compile(r"Now, determine the falling distance for t = ([\d.]+)s given d = 0\.5\*g\*t\^2\.\s*$")

# What the development data shows: g uniform in [4.9, 19.6], t on a 0.01 grid in [1, 5].
G_RANGE = (4.9, 19.6)
T_RANGE = (1.0, 5.0)

_RULE_LINE = "d = 0.5*g*t^2, so g = 2*sum(d)/sum(t^2) over the examples."
_SQUARES = re.compile(r"t\^2: (.+)")
_SQUARE = re.compile(r"([\d.]+)\^2=([\d.]+)")
_G = re.compile(r"g = 2\*([\d.]+)/([\d.]+) = ([\d.]+)")
_ANSWER = re.compile(r"t = ([\d.]+): d = 0\.5\*([\d.]+)\*\1\^2 = 0\.5\*\2\*([\d.]+) = ([\d.]+)")


@dataclass(frozen=True, slots=True)
class GravityInstance:
    examples: tuple[tuple[str, str], ...]  # (t, d) exactly as printed
    query: str  # t as printed


def format_distance(d: float) -> str:
    return str(round(d, 2))


def _basis(t: float) -> float:
    return 0.5 * t * t


def _printed(value: Decimal) -> str:
    """A distance as the competition prints it: rounded to 2 decimals, trailing zeros dropped."""
    return format_distance(float(value.quantize(Decimal("0.01"), ROUND_HALF_UP)))


def _estimate_g(sum_d: Decimal, sum_t2: Decimal) -> Decimal:
    return (2 * sum_d / sum_t2).quantize(Decimal("0.0001"), ROUND_HALF_UP)


class Gravity(FixedWording):
    name = "gravity"
    shape = PromptShape("gravity", _HEADER, _EXAMPLE, _QUERY)

    def parse(self, prompt: str) -> GravityInstance:
        examples, (query,) = self.shape.split(prompt)
        return GravityInstance(tuple(examples), query)

    def solve(self, instance: GravityInstance) -> Solution:
        fit = fit_constant([(float(t), d) for t, d in instance.examples], _basis)
        q = _basis(float(instance.query))
        answer = format_distance(fit.estimate * q)
        determined = fit.consistent and is_determined(fit, q, format_distance)
        return Solution(
            answer=answer,
            status=Status.SOLVED if determined else Status.AMBIGUOUS,
            rule=f"d = 0.5*g*t^2 with g = {fit.estimate:.4f}",
            details={"g": fit.estimate, "g_interval": (fit.low, fit.high)},
        )

    def generate(
        self, rng: random.Random, *, n_examples: int | None = None, g: float | None = None
    ) -> Puzzle:
        """A puzzle with ``n_examples`` observations (default 3-5) under gravity ``g`` (default random)."""
        g = rng.uniform(*G_RANGE) if g is None else g
        times = [hundredths(rng, *T_RANGE) for _ in range(example_count(rng, n_examples, EVEN_COUNTS))]
        query = hundredths(rng, *T_RANGE)
        lines = [f"For t = {t}s, distance = {format_distance(0.5 * g * t * t)} m" for t in times]
        prompt = prompt_text(
            f"{_HEADER} Here are some example observations:",
            lines,
            f"Now, determine the falling distance for t = {query}s given d = 0.5*g*t^2.",
        )
        return Puzzle("", prompt, format_distance(0.5 * g * query * query))

    def trace(self, instance: GravityInstance, solution: Solution | None = None) -> str:
        """Pool the examples (g = 2·Σd/Σt²), then apply g to the query; exact decimals until g."""
        times = [Decimal(t) for t, _ in instance.examples]
        squares = [t * t for t in times]
        distances = [Decimal(d) for _, d in instance.examples]
        sum_t2, sum_d = sum(squares), sum(distances)
        g = _estimate_g(sum_d, sum_t2)
        q = Decimal(instance.query)
        answer = _printed(Decimal("0.5") * g * q * q)
        return "\n".join(
            [
                _RULE_LINE,
                "t^2: " + ", ".join(f"{t}^2={s}" for t, s in zip(times, squares, strict=True)),
                sum_line("t^2", squares),
                sum_line("d", distances),
                f"g = 2*{sum_d}/{sum_t2} = {g}",
                f"t = {q}: d = 0.5*{g}*{q}^2 = 0.5*{g}*{q * q} = {answer}",
                boxed(answer),
            ]
        )

    def replay(self, instance: GravityInstance, trace: str) -> str:
        lines = trace_lines(trace)
        expect(
            len(lines) == 7 and lines[0] == _RULE_LINE,
            "gravity trace: expected 7 lines opening with the rule",
        )
        squares = [_SQUARE.fullmatch(item) for item in match_line(_SQUARES, lines[1]).group(1).split(", ")]
        expect(all(squares), f"malformed squares line {lines[1]!r}")
        shown_times = [m.group(1) for m in squares]
        expect(
            [Decimal(t) for t in shown_times] == [Decimal(t) for t, _ in instance.examples],
            "the squared times are not the examples' times",
        )
        for m in squares:
            expect(Decimal(m.group(1)) ** 2 == Decimal(m.group(2)), f"{m.group(0)} is wrong")
        sum_t2 = checked_sum("t^2", lines[2], [Decimal(m.group(2)) for m in squares])
        sum_d = checked_sum("d", lines[3], [Decimal(d) for _, d in instance.examples])
        g_step = match_line(_G, lines[4])
        expect(
            (Decimal(g_step.group(1)), Decimal(g_step.group(2))) == (sum_d, sum_t2),
            "g is not computed from the sums",
        )
        g = Decimal(g_step.group(3))
        expect(g == _estimate_g(sum_d, sum_t2), f"2*{sum_d}/{sum_t2} is not {g}")
        step = match_line(_ANSWER, lines[5])
        q = Decimal(step.group(1))
        expect(q == Decimal(instance.query), "the last step does not use the query's time")
        expect(Decimal(step.group(2)) == g, "the last step does not use the computed g")
        expect(Decimal(step.group(3)) == q * q, f"{q}^2 is not {step.group(3)}")
        answer = _printed(Decimal("0.5") * g * q * q)
        expect(step.group(4) == answer, f"0.5*{g}*{q * q} rounds to {answer}, not {step.group(4)}")
        expect(final_boxed(lines) == answer, "the boxed answer is not the computed distance")
        return answer


FAMILY = Gravity()
