"""Trace styles: how a family writes the procedure a model must execute, and how that is checked.

A *tracer* turns a parsed prompt into a trace, one line per step, and nothing else: it never sees the
gold answer or a generator's hidden rule (the gold only accepts or rejects the finished trace), and the
same prompt always gives the same bytes. Each family offers one tracer per style:

- ``compact``: the original traces, short proofs for a checker (kept for comparison);
- ``stepwise``: procedures a model can run, every line one documented :class:`StepKind`.

Every line of a stepwise trace fullmatches one of its tracer's step kinds. A step kind's regular
expression declares the line's data flow through its named groups, which is what the audit
(:mod:`reasonlab.puzzles.audit`) checks mechanically:

- a group named ``c_<anything>`` is *cited*: a value the line uses. Each whitespace- or comma-separated
  token of it (or separated by the kind's own ``separators``) must appear verbatim in the prompt or in the previous ``window`` lines;
- any other named group is the line's own result or structure.

``bound`` states the kind's limit on work (operand digits, list length, ...) and returns a message when a
line exceeds it. A ``choice`` kind commits to something (a rule, a digit, a letter): its cited values
are the evidence and must have been printed by the trace itself, above it.
"""

from __future__ import annotations

import importlib
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from reasonlab.plugins import Registry

TRACE_STYLES: tuple[str, ...] = ("compact", "stepwise")
DEFAULT_STYLE = "stepwise"


@dataclass(frozen=True)
class StepKind:
    """One documented kind of trace line: a bounded computation on values printed above it."""

    name: str
    pattern: re.Pattern[str]  # fullmatches the stripped line
    doc: str  # the computation the line performs, in one sentence
    bound: Callable[[re.Match[str]], str | None] | None = None  # a message when the line does too much
    choice: bool = False  # commits to a rule, digit or letter on the evidence it cites
    # what separates the tokens of a cited group (arithmetic kinds add "+": operators are not values)
    separators: re.Pattern[str] = re.compile(r"[\s,]+")

    def cited(self, match: re.Match[str]) -> list[str]:
        """The tokens this line cites (its ``c_*`` groups), in order."""
        return [
            token
            for name, value in match.groupdict().items()
            if name.startswith("c_") and value
            for token in self.separators.split(value.strip())
            if token
        ]


@runtime_checkable
class Tracer(Protocol):
    """Writes and replays one family's traces in one style."""

    family: str
    style: str
    step_kinds: tuple[StepKind, ...]  # empty for styles not designed as documented steps (compact)

    def trace(self, instance: Any) -> str | None:
        """The trace for a parsed prompt, ending in a ``\\boxed{...}`` line; None when not traceable."""

    def replay(self, instance: Any, text: str) -> str:
        """Re-execute every step of ``text`` and return the answer they produce; raises ``TraceError``."""


@runtime_checkable
class DrillSource(Protocol):
    """Drill records for a style whose traces recall a memorised catalog (signatures, rule tables):
    "memorise, then execute" trains on the catalog before the traces that use it."""

    family: str
    style: str

    def drills(self, rng: random.Random, n: int) -> list[tuple[str, str]]:
        """``n`` (user turn, assistant turn) pairs, each asking for and giving catalog entries."""


def _tracer_matches(name: str, tracer: Tracer) -> str | None:
    if name == f"{tracer.family}.{tracer.style}":
        return None
    return f"its tracer is for {tracer.family}.{tracer.style}, registered as {name!r} (FAMILY.STYLE)"


# Tracers by "FAMILY.STYLE": the built-ins, then plugins' (entry point group ``reasonlab.trace_styles``).
_FAMILIES = ("bit", "gravity", "unit", "cipher", "numeral", "equation")
TRACERS: Registry[Tracer] = Registry(
    "trace_styles",
    Tracer,
    {
        **{f"{name}.compact": f"reasonlab.puzzles.traces.compact:{name.upper()}" for name in _FAMILIES},
        **{f"{name}.stepwise": f"reasonlab.puzzles.traces.{name}:STEPWISE" for name in _FAMILIES},
    },
    check=_tracer_matches,
)


def trace_styles() -> list[str]:
    """The built-in styles, then any style only a plugin's tracer writes."""
    plugin_styles = [name.rpartition(".")[2] for name in TRACERS.names()]
    return list(dict.fromkeys([*TRACE_STYLES, *plugin_styles]))


def get_tracer(family: str, style: str) -> Tracer:
    if style not in trace_styles():
        raise KeyError(f"unknown trace style {style!r}; known: {', '.join(trace_styles())}")
    name = f"{family}.{style}"
    if name not in TRACERS:
        raise KeyError(f"family {family!r} has no {style!r} tracer")
    return TRACERS.get(name)


def _load(target: str) -> Any | None:
    """The object at ``module:attribute``, or None when that module (or attribute) does not exist yet."""
    module, attribute = target.split(":")
    try:
        loaded = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name is not None and module.startswith(exc.name):
            return None  # the module itself (or its package) is missing, not one of its imports
        raise
    return getattr(loaded, attribute, None)


def find_tracer(family: str, style: str) -> Tracer | None:
    """The tracer of ``family`` in ``style``, or None where none is registered (unknown styles raise)."""
    if style not in trace_styles():
        raise KeyError(f"unknown trace style {style!r}; known: {', '.join(trace_styles())}")
    name = f"{family}.{style}"
    return TRACERS.get(name) if name in TRACERS else None


# Styles whose traces recall a catalog, and where their drills live.
_DRILLS: dict[tuple[str, str], str] = {
    ("equation", "stepwise"): "reasonlab.puzzles.traces.equation_symbolic:DRILLS",
    ("cipher", "stepwise"): "reasonlab.puzzles.traces.cipher:DRILLS",
}


def register_drills(family: str, style: str, target: str) -> None:
    """Make ``module:attribute`` the drill source of ``family`` in ``style``."""
    _DRILLS[(family, style)] = target


def get_drills(family: str, style: str) -> DrillSource | None:
    """The drill source of ``family`` in ``style``, or None when its traces recall no catalog."""
    target = _DRILLS.get((family, style))
    if target is None:
        return None
    module, attribute = target.split(":")
    drills = getattr(importlib.import_module(module), attribute)
    if not isinstance(drills, DrillSource):
        raise TypeError(f"{target} does not satisfy the DrillSource protocol")
    return drills


def find_drills(family: str, style: str) -> DrillSource | None:
    """:func:`get_drills`, or None also where the registered drill module is not written yet."""
    target = _DRILLS.get((family, style))
    drills = _load(target) if target else None
    if drills is not None and not isinstance(drills, DrillSource):
        raise TypeError(f"{target} does not satisfy the DrillSource protocol")
    return drills
