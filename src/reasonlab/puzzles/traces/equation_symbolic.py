"""Stepwise traces of symbolic equations (placeholder until the catalog search lands)."""

from __future__ import annotations

from reasonlab.puzzles.families._synthesis import TraceError
from reasonlab.puzzles.trace_style import StepKind

SYMBOLIC_STEP_KINDS: tuple[StepKind, ...] = ()


def trace_symbolic(instance) -> str | None:
    return None


def replay_symbolic(instance, text: str) -> str:
    raise TraceError("symbolic equations have no stepwise trace yet")
