"""The abacus family's stepwise traces: spell the first example digit by digit, read the shift off its
first digits, spell the query, add the shift to each of its digits, write the answer. Every line is one documented step kind; replay runs the
procedure again on the puzzle and raises on the first line that is not the step it takes there."""

from __future__ import annotations

import re
from dataclasses import dataclass

from reasonlab.grader import extract
from reasonlab.puzzles.trace_style import StepKind
from reasonlab_abacus.family import AbacusInstance

STEP_KINDS = (
    StepKind(
        "digits",
        re.compile(r"digits of (?P<c_number>\d+): (?P<digits>\d(?: \d)*)"),
        "Spells a number printed above digit by digit, so that each digit can be cited.",
    ),
    StepKind(
        "shift",
        re.compile(r"shift = (?P<c_out>\d) - (?P<c_in>\d) = (?P<shift>\d) \(mod 10\)"),
        "The first example's first output digit minus its input digit, mod 10.",
    ),
    StepKind(
        "digit",
        re.compile(r"(?P<c_digit>\d) \+ (?P<c_shift>\d) = (?P<digit>\d) \(mod 10\)"),
        "One query digit plus the shift, mod 10.",
    ),
    StepKind("answer", re.compile(r"answer = (?P<answer>\d+)"), "The shifted digits, in order."),
    StepKind("boxed", re.compile(r"\\boxed\{(?P<c_answer>\d+)\}"), "Repeats the answer in the grader's box."),
)


class AbacusTraceError(ValueError):
    """A trace line that is not the step the procedure takes there."""


def _steps(instance: AbacusInstance) -> list[str]:
    before, after = instance.examples[0]
    shift = (int(after[0]) - int(before[0])) % 10
    digits = [(int(d) + shift) % 10 for d in instance.query]
    answer = "".join(map(str, digits))
    return [
        *(f"digits of {number}: {' '.join(number)}" for number in (before, after)),
        f"shift = {after[0]} - {before[0]} = {shift} (mod 10)",
        f"digits of {instance.query}: {' '.join(instance.query)}",
        *(f"{d} + {shift} = {out} (mod 10)" for d, out in zip(instance.query, digits, strict=True)),
        f"answer = {answer}",
        f"\\boxed{{{answer}}}",
    ]


@dataclass(frozen=True)
class StepwiseAbacusTracer:
    family: str = "abacus"
    style: str = "stepwise"
    step_kinds: tuple[StepKind, ...] = STEP_KINDS

    def trace(self, instance: AbacusInstance) -> str | None:
        return "\n".join(_steps(instance)) if instance.examples else None

    def replay(self, instance: AbacusInstance, text: str) -> str:
        lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
        steps = _steps(instance)
        for number, (line, step) in enumerate(zip(lines, steps, strict=False), 1):
            if line != step:
                raise AbacusTraceError(f"line {number} is {line!r}; the procedure's step there is {step!r}")
        if len(lines) != len(steps):
            raise AbacusTraceError(f"the trace has {len(lines)} lines; the procedure takes {len(steps)}")
        return extract(lines[-1])


STEPWISE = StepwiseAbacusTracer()
