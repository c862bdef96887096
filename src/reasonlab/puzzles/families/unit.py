"""Unit conversion: y = k·x metres with a secret factor k; answers printed with two decimals."""

from __future__ import annotations

import re
from dataclasses import dataclass

from reasonlab.puzzles.families._numeric import fit_constant, is_determined
from reasonlab.puzzles.types import Solution, Status

_HEADER = "In Alice's Wonderland, a secret unit conversion is applied to measurements."
_EXAMPLE = re.compile(r"^([\d.]+) m becomes ([\d.]+)$", re.M)
_QUERY = re.compile(r"Now, convert the following measurement: ([\d.]+) m\s*$")


@dataclass(frozen=True, slots=True)
class UnitInstance:
    examples: tuple[tuple[str, str], ...]  # (metres, converted) exactly as printed
    query: str


def format_value(y: float) -> str:
    return f"{y:.2f}"


def _identity(x: float) -> float:
    return x


class Unit:
    name = "unit"

    def matches(self, prompt: str) -> bool:
        return prompt.startswith(_HEADER)

    def parse(self, prompt: str) -> UnitInstance:
        examples = tuple(_EXAMPLE.findall(prompt))
        query = _QUERY.search(prompt)
        if not examples or query is None:
            raise ValueError("unit prompt without 'X m becomes Y' examples or a query line")
        return UnitInstance(examples, query.group(1))

    def subtype(self, instance: UnitInstance) -> None:
        return None

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


FAMILY = Unit()
