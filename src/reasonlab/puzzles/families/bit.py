"""Bit manipulation: a secret 8-bit -> 8-bit transformation shown by 7–10 examples."""

from __future__ import annotations

import re
from dataclasses import dataclass

from reasonlab.puzzles.types import Solution

_HEADER = "In Alice's Wonderland, a secret bit manipulation rule transforms 8-bit binary numbers."
_EXAMPLE = re.compile(r"^([01]{8}) -> ([01]{8})$", re.M)
_QUERY = re.compile(r"Now, determine the output for: ([01]{8})\s*$")


@dataclass(frozen=True, slots=True)
class BitInstance:
    examples: tuple[tuple[str, str], ...]
    query: str


class Bit:
    name = "bit"

    def matches(self, prompt: str) -> bool:
        return prompt.startswith(_HEADER)

    def parse(self, prompt: str) -> BitInstance:
        examples = tuple(_EXAMPLE.findall(prompt))
        query = _QUERY.search(prompt)
        if not examples or query is None:
            raise ValueError("bit prompt without 'bits -> bits' examples or a query line")
        return BitInstance(examples, query.group(1))

    def subtype(self, instance: BitInstance) -> None:
        return None

    def solve(self, instance: BitInstance) -> Solution:
        return Solution.unsolved("no bit-manipulation solver yet")


FAMILY = Bit()
