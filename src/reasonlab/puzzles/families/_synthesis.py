"""Helpers the families share for generating puzzles and writing/replaying traces.

Generation draws every random choice from the caller's ``random.Random`` so that a seed fixes the
puzzle. Traces are plain text lines that :func:`replay` implementations re-execute; a step that does
not follow from the puzzle raises :class:`TraceError` naming the line.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from decimal import Decimal

from reasonlab.grader import BOX_OPEN

# Example counts 3-5, equally likely (the development data's shares are within sampling noise of it).
EVEN_COUNTS: Mapping[int, float] = {3: 1.0, 4: 1.0, 5: 1.0}


class TraceError(ValueError):
    """A trace step that does not follow from the puzzle or from the steps before it."""


def example_count(rng: random.Random, requested: int | None, weights: Mapping[int, float]) -> int:
    """``requested`` if given (must be positive), else a count drawn with the family's measured weights."""
    if requested is not None:
        if requested < 1:
            raise ValueError(f"n_examples must be at least 1, not {requested}")
        return requested
    counts = sorted(weights)
    return rng.choices(counts, weights=[weights[c] for c in counts])[0]


def hundredths(rng: random.Random, low: float, high: float) -> float:
    """A value in [low, high] on a 0.01 grid, as the competition prints its inputs (``str`` of it)."""
    return rng.randint(round(low * 100), round(high * 100)) / 100


def boxed(answer: str) -> str:
    return f"{BOX_OPEN}{answer}}}"


def trace_lines(trace: str) -> list[str]:
    return [line.strip() for line in trace.strip().splitlines() if line.strip()]


def final_boxed(lines: list[str]) -> str:
    """The content of the trace's closing ``\\boxed{...}`` line."""
    last = lines[-1] if lines else ""
    if not (last.startswith(BOX_OPEN) and last.endswith("}")):
        raise TraceError(f"the trace must end with a {BOX_OPEN}...}} line, not {last!r}")
    return last[len(BOX_OPEN) : -1]


def match_line(pattern: re.Pattern[str], line: str) -> re.Match[str]:
    found = pattern.fullmatch(line)
    if found is None:
        raise TraceError(f"expected a line like {pattern.pattern!r}, got {line!r}")
    return found


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise TraceError(message)


def sum_line(name: str, terms: list[Decimal]) -> str:
    """``sum(name) = a+b+c = total`` with exact decimal arithmetic."""
    return f"sum({name}) = {'+'.join(str(t) for t in terms)} = {sum(terms)}"


def checked_sum(name: str, line: str, expected_terms: list[Decimal]) -> Decimal:
    """Replay a :func:`sum_line`: the right terms, added correctly; returns the total."""
    step = match_line(re.compile(rf"sum\({re.escape(name)}\) = ([\d.+]+) = ([\d.]+)"), line)
    terms = [Decimal(t) for t in step.group(1).split("+")]
    expect(terms == expected_terms, f"{line!r} does not add the right terms")
    expect(sum(terms) == Decimal(step.group(2)), f"{line!r}: the sum is {sum(terms)}")
    return Decimal(step.group(2))


def prompt_text(intro: str, example_lines: list[str], query_line: str) -> str:
    """The competition's layout: an intro line, one line per example, the query line."""
    return "\n".join([intro, *example_lines, query_line])
