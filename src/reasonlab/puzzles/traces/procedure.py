"""Traces written by a deterministic procedure over the parsed prompt: the text of a finished run,
and replay by re-executing the procedure, which requires every given line to be the one it produces."""

from __future__ import annotations

from collections.abc import Iterable

from reasonlab.grader import BOX_OPEN
from reasonlab.puzzles.families._synthesis import TraceError, final_boxed, trace_lines


def finished(lines: Iterable[str]) -> str | None:
    """The trace of a run, or None when it stopped before a ``\\boxed{}`` answer."""
    lines = list(lines)
    if not lines or not lines[-1].startswith(BOX_OPEN):
        return None
    return "\n".join(lines)


def replay_against(text: str, expected: Iterable[str], unfinished: str) -> str:
    """The boxed answer of ``text`` when each of its lines is the procedure's (``expected``); raises
    :class:`TraceError` at the first line that is not, or with ``unfinished`` when the procedure
    itself gives no answer."""
    given = trace_lines(text)
    expected = list(expected)
    for number, (line, want) in enumerate(zip(given, expected, strict=False), start=1):
        if line != want:
            raise TraceError(f"line {number} {line!r} does not follow; the step gives {want!r}")
    if len(given) != len(expected):
        raise TraceError(f"the trace has {len(given)} lines; the procedure gives {len(expected)}")
    if finished(expected) is None:
        raise TraceError(unfinished)
    return final_boxed(given)
