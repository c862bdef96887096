"""Stepwise numeral traces: place values and table lookups.

Procedure, for each example (to confirm the numeral system) and then the query: split the number by
place value, high-order first (zero places dropped: 40 = 40, 100 = 100); look each part up in the Roman
table (1-9, 10-90 by tens, 100: a documented table of 19 entries); write the parts in order. An
example's line names the numeral the prompt shows, so a wrong system fails on the evidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from reasonlab.puzzles.families._synthesis import boxed
from reasonlab.puzzles.families.numeral import NumeralInstance, to_roman
from reasonlab.puzzles.trace_style import StepKind
from reasonlab.puzzles.traces._stepwise import ANSWER, replay_steps

PLAN = "Roman numerals: split by place value, look each part up, write the parts in order."
#: The lookup table the traces recall: every place value of 1..100.
TABLE: dict[int, str] = {v: to_roman(v) for v in [*range(1, 10), *range(10, 100, 10), 100]}

SECTION = StepKind(
    "section",
    re.compile(rf"(?P<title>{re.escape(PLAN)}|example (?P<c_example>\d+):|query (?P<c_query>\d+):)"),
    "name the number worked on next (fixed wording; the number cited)",
)
PLACES = StepKind(
    "places",
    re.compile(r"(?P<c_n>\d+) = (?P<parts>\d+(?: \+ \d+)*)"),
    "split a number by place value, high-order first",
    lambda m: None if len(m.group("parts").split(" + ")) <= 3 else "more than 3 places",
)
LOOKUP = StepKind(
    "lookup",
    re.compile(r"(?P<c_value>\d+) = (?P<numeral>[IVXLCDM]+)"),
    "look one place value up in the Roman table",
    lambda m: None if int(m.group("c_value")) in TABLE else f"{m.group('c_value')} is not in the table",
)
JOIN = StepKind(
    "join",
    re.compile(
        r"(?P<c_parts>[IVXLCDM]+(?: \+ [IVXLCDM]+)*) = (?P<numeral>[IVXLCDM]+)"
        r"(?:, as the example shows: (?P<c_shown>\d+ -> [IVXLCDM]+))?"
    ),
    "write the looked-up parts in order (an example's line cites the numeral the prompt shows)",
    lambda m: None if len(m.group("c_parts").split(" + ")) <= 3 else "more than 3 parts",
    separators=re.compile(r"[\s,+]+"),
)


def _place_values(n: int) -> list[int]:
    digits = str(n)
    parts = [int(d) * 10 ** (len(digits) - 1 - i) for i, d in enumerate(digits)]
    return [p for p in parts if p] or [n]


def _convert(lines: list[str], n: int, shown: str | None) -> str:
    parts = _place_values(n)
    lines.append(f"{n} = {' + '.join(map(str, parts))}")
    numerals = [TABLE[p] for p in parts]
    lines.extend(f"{p} = {r}" for p, r in zip(parts, numerals, strict=True))
    joined = "".join(numerals)
    check = f", as the example shows: {n} -> {shown}" if shown is not None else ""
    lines.append(f"{' + '.join(numerals)} = {joined}{check}")
    return joined


@dataclass(frozen=True)
class NumeralStepwise:
    family: str = "numeral"
    style: str = "stepwise"
    step_kinds: tuple[StepKind, ...] = field(default=(SECTION, PLACES, LOOKUP, JOIN, ANSWER))

    def trace(self, instance: NumeralInstance) -> str | None:
        if any(not 0 < n <= 100 for n, _ in instance.examples) or not 0 < instance.query <= 100:
            return None
        lines = [PLAN]
        for n, shown in instance.examples:
            lines.append(f"example {n}:")
            if _convert(lines, n, shown) != shown:
                return None  # not the Roman system: the traces know no other
        lines.append(f"query {instance.query}:")
        lines.append(boxed(_convert(lines, instance.query, None)))
        return "\n".join(lines)

    def replay(self, instance: NumeralInstance, text: str) -> str:
        return replay_steps(self, instance, text)


STEPWISE = NumeralStepwise()
