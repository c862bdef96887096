"""The step-kind contract of :mod:`reasonlab.puzzles.trace_style`, checked line by line.

A stand-in for the audit (``reasonlab traces audit``) for tracers written before it: every line but
the last fullmatches one declared :class:`StepKind`, stays within the kind's bound, and every token
it cites (``c_*`` groups) appears verbatim in the prompt or in the ``window`` lines above it; a
choice kind's citations must have been printed by the trace itself.
"""

from __future__ import annotations

from collections.abc import Sequence

from reasonlab.puzzles.trace_style import StepKind

DEFAULT_WINDOW = 20


def violations(
    step_kinds: Sequence[StepKind], prompt: str, trace: str, window: int = DEFAULT_WINDOW
) -> list[str]:
    """Messages naming each line that breaks the contract (empty when the trace keeps it)."""
    lines = trace.split("\n")
    problems = []
    for number, line in enumerate(lines):
        kinds = [(kind, kind.pattern.fullmatch(line)) for kind in step_kinds]
        matched = [(kind, found) for kind, found in kinds if found]
        if len(matched) != 1:
            problems.append(f"line {number + 1}: {len(matched)} step kinds match {line!r}")
            continue
        kind, found = matched[0]
        if kind.bound is not None and (message := kind.bound(found)):
            problems.append(f"line {number + 1} ({kind.name}): {message}")
        above = "\n".join(lines[max(0, number - window) : number])
        sources = above if kind.choice else f"{prompt}\n{above}"
        for token in kind.cited(found):
            if token not in sources:
                where = "the trace above" if kind.choice else "the prompt or the lines above"
                problems.append(f"line {number + 1} ({kind.name}): {token!r} is not in {where}")
    return problems
