"""Per-output-bit rule search: the fallback when no whole-word rule of the grammar fits the examples.

Each output bit is explained on its own as a function (from the same list as whole-word rules) of
*literals*: input bits, their negations, and the constants 0 and 1. Bits are numbered as the strings are
written, 0 = leftmost. Among the expressions that fit one bit's column, the fewest-operand ones vote.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from reasonlab.puzzles.families.bit_grammar import FUNCTION_BY_NAME, LITERALS, WIDTH, expression_text, search


@dataclass(frozen=True, slots=True)
class BitColumnResult:
    answer: str
    rules: tuple[str, ...]  # the chosen expression per output bit, as text
    ambiguous_bits: tuple[int, ...]  # output bits whose fitting expressions disagree on the query


def _column(strings: list[str], position: int) -> int:
    return sum(1 << e for e, s in enumerate(strings) if s[position] == "1")


def solve_by_columns(inputs: list[str], outputs: list[str], query: str) -> BitColumnResult | None:
    """Explain each output bit separately; None when some bit fits no expression at all."""
    n = len(inputs)
    full = (1 << n) - 1
    # Packed over the examples plus the query as the extra top bit, so one evaluation predicts it too.
    strings = inputs + [query]
    plain = [_column(strings, j) for j in range(WIDTH)]
    everything = (1 << (n + 1)) - 1
    literals = plain + [everything ^ v for v in plain] + [0, everything]

    answer, chosen, ambiguous = [], [], []
    for position in range(WIDTH):
        target = _column(outputs, position)
        fits = search([v & full for v in literals], target, full)
        if not fits:
            return None
        fewest = min(len(args) for _, args in fits)
        votes: Counter[str] = Counter()
        first_text: dict[str, str] = {}
        for function, args in fits:
            if len(args) != fewest:
                continue
            operands = [literals[i] for i in args]
            value = (
                operands[0]
                if function is None
                else FUNCTION_BY_NAME[function].evaluate(*operands, everything)
            )
            bit = str(value >> n & 1)
            votes[bit] += 1
            text = expression_text(function, [LITERALS[i] for i in args])
            first_text.setdefault(bit, text)
        bit = max(votes, key=lambda b: (votes[b], b == "0"))
        if len(votes) > 1:
            ambiguous.append(position)
        answer.append(bit)
        chosen.append(first_text[bit])
    return BitColumnResult("".join(answer), tuple(chosen), tuple(ambiguous))
