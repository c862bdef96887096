"""Gravity: d = 0.5·g·t² with a secret g; answers printed as Python's ``str(round(d, 2))``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from reasonlab.puzzles.families._numeric import fit_constant, is_determined
from reasonlab.puzzles.types import Solution, Status

_HEADER = "In Alice's Wonderland, the gravitational constant has been secretly changed."
_EXAMPLE = re.compile(r"^For t = ([\d.]+)s, distance = ([\d.]+) m$", re.M)
_QUERY = re.compile(r"Now, determine the falling distance for t = ([\d.]+)s given d = 0\.5\*g\*t\^2\.\s*$")


@dataclass(frozen=True, slots=True)
class GravityInstance:
    examples: tuple[tuple[str, str], ...]  # (t, d) exactly as printed
    query: str  # t as printed


def format_distance(d: float) -> str:
    return str(round(d, 2))


def _basis(t: float) -> float:
    return 0.5 * t * t


class Gravity:
    name = "gravity"

    def matches(self, prompt: str) -> bool:
        return prompt.startswith(_HEADER)

    def parse(self, prompt: str) -> GravityInstance:
        examples = tuple(_EXAMPLE.findall(prompt))
        query = _QUERY.search(prompt)
        if not examples or query is None:
            raise ValueError("gravity prompt without 'For t = ...' examples or a query line")
        return GravityInstance(examples, query.group(1))

    def subtype(self, instance: GravityInstance) -> None:
        return None

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


FAMILY = Gravity()
