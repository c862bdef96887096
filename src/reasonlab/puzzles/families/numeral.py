"""Numeral system: always Roman numerals (1–100 in the competition); the examples confirm it."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from reasonlab.puzzles.families._shape import FixedWording, PromptShape
from reasonlab.puzzles.families._synthesis import (
    boxed,
    example_count,
    expect,
    final_boxed,
    match_line,
    prompt_text,
    trace_lines,
)
from reasonlab.puzzles.types import Puzzle, Solution, Status

_HEADER = "In Alice's Wonderland, numbers are secretly converted into a different numeral system."
_EXAMPLE = re.compile(r"^(\d+) -> ([A-Za-z]+)$", re.M)
_QUERY = re.compile(r"Now, write the number (\d+) in the Wonderland numeral system\.\s*$")

_ROMAN = (
    (1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
    (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"),
)  # fmt: skip

NUMBER_RANGE = (1, 100)
# Example counts in the development data (3: 39%, 4: 30%, 5: 31%), unlike the other families' even split.
EXAMPLE_COUNT_WEIGHTS = {3: 0.39, 4: 0.30, 5: 0.31}

_RULE = re.compile(r"Standard Roman numerals, as every example shows: (.+)\.")
_SHOWN = re.compile(r"(\d+)=([IVXLCDM]+)")
_CONVERSION = re.compile(r"(\d+) = ([\d +]+) = ([IVXLCDM +]+)")


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


def _place_values(n: int) -> list[int]:
    """``n`` split by decimal place, zero places dropped: 67 -> [60, 7], 100 -> [100]."""
    parts, scale = [], 1
    while n:
        n, digit = divmod(n, 10)
        if digit:
            parts.append(digit * scale)
        scale *= 10
    return parts[::-1]


class Numeral(FixedWording):
    name = "numeral"
    shape = PromptShape("numeral", _HEADER, _EXAMPLE, _QUERY)

    def parse(self, prompt: str) -> NumeralInstance:
        examples, (query,) = self.shape.split(prompt)
        return NumeralInstance(tuple((int(n), s) for n, s in examples), int(query))

    def solve(self, instance: NumeralInstance) -> Solution:
        mismatches = [(n, s) for n, s in instance.examples if to_roman(n) != s]
        if mismatches:
            return Solution.unsolved(f"examples are not standard Roman numerals: {mismatches[:3]}")
        return Solution(
            answer=to_roman(instance.query),
            status=Status.SOLVED,
            rule=f"standard Roman numerals (all {len(instance.examples)} examples agree)",
        )

    def generate(self, rng: random.Random, *, n_examples: int | None = None) -> Puzzle:
        """A puzzle with ``n_examples`` conversions (default 3-5) of numbers in 1-100."""
        numbers = [
            rng.randint(*NUMBER_RANGE) for _ in range(example_count(rng, n_examples, EXAMPLE_COUNT_WEIGHTS))
        ]
        query = rng.randint(*NUMBER_RANGE)
        prompt = prompt_text(
            f"{_HEADER} Some examples are given below:",
            [f"{n} -> {to_roman(n)}" for n in numbers],
            f"Now, write the number {query} in the Wonderland numeral system.",
        )
        return Puzzle("", prompt, to_roman(query))

    def trace(self, instance: NumeralInstance, solution: Solution | None = None) -> str | None:
        """Confirm the numeral system on the examples, then convert the query place by place."""
        if any(to_roman(n) != s for n, s in instance.examples):
            return None
        parts = _place_values(instance.query)
        answer = to_roman(instance.query)
        shown = ", ".join(f"{n}={s}" for n, s in instance.examples)
        return "\n".join(
            [
                f"Standard Roman numerals, as every example shows: {shown}.",
                f"{instance.query} = {' + '.join(map(str, parts))} = {' + '.join(to_roman(p) for p in parts)}",
                boxed(answer),
            ]
        )

    def replay(self, instance: NumeralInstance, trace: str) -> str:
        lines = trace_lines(trace)
        expect(len(lines) == 3, "numeral trace: expected 3 lines")
        shown = [_SHOWN.fullmatch(item) for item in match_line(_RULE, lines[0]).group(1).split(", ")]
        expect(all(shown), f"malformed examples in {lines[0]!r}")
        expect(
            [(int(m.group(1)), m.group(2)) for m in shown] == list(instance.examples),
            "the rule line does not list the puzzle's examples",
        )
        for m in shown:
            expect(to_roman(int(m.group(1))) == m.group(2), f"{m.group(0)} is not a standard Roman numeral")
        step = match_line(_CONVERSION, lines[1])
        expect(int(step.group(1)) == instance.query, "the conversion is not of the query")
        parts = [int(p) for p in step.group(2).split(" + ")]
        numerals = step.group(3).split(" + ")
        expect(parts == _place_values(instance.query), f"{step.group(2)} is not {instance.query} by place")
        expect(len(numerals) == len(parts), "one numeral per place value")
        for value, numeral in zip(parts, numerals, strict=True):
            expect(to_roman(value) == numeral, f"{value} is {to_roman(value)}, not {numeral}")
        answer = "".join(numerals)
        expect(final_boxed(lines) == answer, "the boxed answer is not the joined numerals")
        return answer


FAMILY = Numeral()
