"""The Dormouse's abacus: every digit of a number is shifted by the same secret amount, wrapping from 9
back to 0. The examples fix the shift; the query asks for the shifted number.

The family satisfies reasonlab's ``Family`` protocol (matches, parse, subtype, solve) and the optional
``Generator`` and ``Traceable`` ones (generate; trace, replay), which reasonlab checks when it registers it.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from reasonlab.puzzles.types import Puzzle, Solution, Status

INTRO = (
    "In Alice's Wonderland, the Dormouse's abacus secretly shifts every digit by the same amount, "
    "wrapping from 9 back to 0. Here are some examples:"
)
QUERY = "Now, determine what the abacus makes of: "
_EXAMPLE = re.compile(r"(\d+) -> (\d+)")


@dataclass(frozen=True)
class AbacusInstance:
    examples: tuple[tuple[str, str], ...]
    query: str


def shifted(number: str, shift: int) -> str:
    return "".join(str((int(digit) + shift) % 10) for digit in number)


class AbacusFamily:
    name = "abacus"

    def matches(self, prompt: str) -> bool:
        return prompt.startswith(INTRO)

    def parse(self, prompt: str) -> AbacusInstance:
        lines = prompt.strip().splitlines()
        if len(lines) < 3 or lines[0] != INTRO or not lines[-1].startswith(QUERY):
            raise ValueError("not an abacus puzzle: expected the intro, examples, then the query line")
        examples = []
        for line in lines[1:-1]:
            found = _EXAMPLE.fullmatch(line.strip())
            if found is None or len(found[1]) != len(found[2]):
                raise ValueError(f"bad abacus example {line!r}")
            examples.append((found[1], found[2]))
        query = lines[-1][len(QUERY) :].strip()
        if not query.isdigit():
            raise ValueError(f"bad abacus query {query!r}")
        return AbacusInstance(tuple(examples), query)

    def subtype(self, instance: AbacusInstance) -> str | None:
        return None

    def solve(self, instance: AbacusInstance) -> Solution:
        shifts = {
            (int(out) - int(inp)) % 10
            for before, after in instance.examples
            for inp, out in zip(before, after, strict=True)
        }
        if len(shifts) != 1:
            return Solution.unsolved(f"the examples shift digits by {sorted(shifts)}, not one amount")
        (shift,) = shifts
        return Solution(shifted(instance.query, shift), Status.SOLVED, f"every digit + {shift} mod 10")

    def generate(self, rng: random.Random, *, n_examples: int | None = None, digits: int = 4) -> Puzzle:
        """A puzzle with ``n_examples`` examples (3-5 when None) of ``digits``-digit numbers."""
        shift = rng.randint(1, 9)
        count = n_examples or rng.randint(3, 5)
        numbers = ["".join(rng.choice("0123456789") for _ in range(digits)) for _ in range(count + 1)]
        *inputs, query = numbers
        lines = [INTRO, *(f"{n} -> {shifted(n, shift)}" for n in inputs), QUERY + query]
        return Puzzle(id="", prompt="\n".join(lines), answer=shifted(query, shift))

    def trace(self, instance: AbacusInstance, solution: Solution) -> str | None:
        from reasonlab_abacus.tracer import STEPWISE

        return STEPWISE.trace(instance)

    def replay(self, instance: AbacusInstance, trace: str) -> str:
        from reasonlab_abacus.tracer import STEPWISE

        return STEPWISE.replay(instance, trace)


FAMILY = AbacusFamily()
