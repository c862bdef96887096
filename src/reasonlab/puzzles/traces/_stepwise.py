"""What the stepwise tracers share: the closing answer line, and a replay that re-executes every step.

A stepwise replay (1) finds each line's documented step kind, (2) re-executes every arithmetic line from
its own numbers (:func:`~reasonlab.puzzles.traces.arithmetic.check_step`, independent of the writer),
and (3) checks that the lines are the procedure the prompt determines (the tracer's own lines for this
instance, so the right values feed each step in the right order). The answer is the boxed line's.
"""

from __future__ import annotations

import re
from typing import Any

from reasonlab.puzzles.audit import match_step
from reasonlab.puzzles.families._synthesis import expect, final_boxed, trace_lines
from reasonlab.puzzles.trace_style import StepKind
from reasonlab.puzzles.traces import arithmetic

ANSWER = StepKind(
    "answer",
    re.compile(r"\\boxed\{(?P<c_answer>[^}]*)\}"),
    "box the result of the last steps",
)


def replay_steps(tracer: Any, instance: Any, text: str) -> str:
    """Re-execute ``text`` as ``tracer`` documents it (see the module docstring); returns its answer."""
    lines = trace_lines(text)
    for line in lines:
        step = match_step(tracer.step_kinds, line)
        expect(step is not None, f"no {tracer.family} step kind matches {line!r}")
        kind, found = step
        if any(kind is arithmetic_kind for arithmetic_kind in arithmetic.STEP_KINDS):
            arithmetic.check_step(kind, found)
    expected = tracer.trace(instance)
    expect(expected is not None, f"the prompt admits no {tracer.family} stepwise trace")
    for n, (line, want) in enumerate(zip(lines, trace_lines(expected), strict=False), 1):
        expect(line == want, f"line {n}: {line!r} does not follow from the steps above (expected {want!r})")
    expect(len(lines) == len(trace_lines(expected)), "the trace stops early or runs on")
    return final_boxed(lines)
