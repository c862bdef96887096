"""The ``stepwise`` style of the equation family: numeric and symbolic puzzles have their own procedure.

Numeric equations show their operands, so each rule is tried on each example in writing
(:mod:`.equation_numeric`). Symbolic equations hide the digits behind symbols: the trace recalls
memorised catalog entries and runs a bounded depth-first search over digit assignments
(:mod:`.equation_symbolic`). Both are functions of the parsed prompt only.
"""

from __future__ import annotations

from dataclasses import dataclass

from reasonlab.puzzles.trace_style import StepKind
from reasonlab.puzzles.traces.equation_numeric import NUMERIC_STEP_KINDS, replay_numeric, trace_numeric
from reasonlab.puzzles.traces.equation_symbolic import SYMBOLIC_STEP_KINDS, replay_symbolic, trace_symbolic


@dataclass(frozen=True)
class EquationStepwise:
    family: str = "equation"
    style: str = "stepwise"
    step_kinds: tuple[StepKind, ...] = NUMERIC_STEP_KINDS + SYMBOLIC_STEP_KINDS

    def trace(self, instance) -> str | None:
        return trace_numeric(instance) if instance.numeric else trace_symbolic(instance)

    def replay(self, instance, text: str) -> str:
        return replay_numeric(instance, text) if instance.numeric else replay_symbolic(instance, text)


STEPWISE = EquationStepwise()
