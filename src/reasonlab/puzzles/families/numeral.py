"""Numeral system: always Roman numerals (1–100 in the competition); the examples confirm it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from reasonlab.puzzles.types import Solution, Status

_HEADER = "In Alice's Wonderland, numbers are secretly converted into a different numeral system."
_EXAMPLE = re.compile(r"^(\d+) -> ([A-Za-z]+)$", re.M)
_QUERY = re.compile(r"Now, write the number (\d+) in the Wonderland numeral system\.\s*$")

_ROMAN = (
    (1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
    (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class NumeralInstance:
    examples: tuple[tuple[int, str], ...]
    query: int


def to_roman(n: int) -> str:
    if not 0 < n < 4000:
        raise ValueError(f"Roman numerals cover 1..3999, not {n}")
    out = []
    for value, symbol in _ROMAN:
        count, n = divmod(n, value)
        out.append(symbol * count)
    return "".join(out)


class Numeral:
    name = "numeral"

    def matches(self, prompt: str) -> bool:
        return prompt.startswith(_HEADER)

    def parse(self, prompt: str) -> NumeralInstance:
        examples = tuple((int(n), s) for n, s in _EXAMPLE.findall(prompt))
        query = _QUERY.search(prompt)
        if not examples or query is None:
            raise ValueError("numeral prompt without 'N -> numeral' examples or a query line")
        return NumeralInstance(examples, int(query.group(1)))

    def subtype(self, instance: NumeralInstance) -> None:
        return None

    def solve(self, instance: NumeralInstance) -> Solution:
        mismatches = [(n, s) for n, s in instance.examples if to_roman(n) != s]
        if mismatches:
            return Solution.unsolved(f"examples are not standard Roman numerals: {mismatches[:3]}")
        return Solution(
            answer=to_roman(instance.query),
            status=Status.SOLVED,
            rule=f"standard Roman numerals (all {len(instance.examples)} examples agree)",
        )


FAMILY = Numeral()
