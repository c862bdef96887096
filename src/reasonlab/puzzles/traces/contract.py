"""The :class:`~reasonlab.puzzles.trace_style.StepKind` contract of one trace, checked line by line.

A small stand-in for the generic audit (:mod:`reasonlab.puzzles.audit`), so that a tracer can be held
to the contract by its own tests and benchmark: every line fullmatches exactly one declared kind; each
token a line cites (its ``c_*`` groups) appears verbatim in the prompt or in the previous ``window``
lines, and for a choice kind in the trace's own previous lines; every kind's bound holds.
"""

from __future__ import annotations

from collections.abc import Sequence

from reasonlab.puzzles.trace_style import StepKind

DEFAULT_WINDOW = 20


def contract_violations(
    step_kinds: Sequence[StepKind], prompt: str, trace: str, window: int = DEFAULT_WINDOW
) -> list[str]:
    """One message per broken rule, naming the line (1-based); empty when the trace keeps the contract."""
    problems = []
    lines = [line.strip() for line in trace.strip().splitlines()]
    for number, line in enumerate(lines, 1):
        matches = [(kind, m) for kind in step_kinds if (m := kind.pattern.fullmatch(line))]
        if len(matches) != 1:
            names = ", ".join(kind.name for kind, _ in matches) or "none"
            problems.append(f"line {number}: matches {len(matches)} step kinds ({names}): {line!r}")
            continue
        kind, match = matches[0]
        if kind.bound is not None and (excess := kind.bound(match)):
            problems.append(f"line {number} ({kind.name}): {excess}")
        above = "\n".join(lines[max(0, number - 1 - window) : number - 1])
        sources = above if kind.choice else f"{prompt}\n{above}"
        for token in kind.cited(match):
            if token not in sources:
                where = "the trace's previous lines" if kind.choice else "the prompt or the previous lines"
                problems.append(
                    f"line {number} ({kind.name}): cites {token!r}, not in {where} (window {window})"
                )
    return problems
