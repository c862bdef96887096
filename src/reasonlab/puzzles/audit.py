"""The mechanical audit of learnable traces: can a model execute this trace line by line?

The rules the top teams held their traces to (TRACES.md), checked on the data flow each line declares
through its tracer's :class:`~reasonlab.puzzles.trace_style.StepKind` (cited ``c_*`` groups, ``bound``,
``choice``):

- *no hidden compute*: every line fullmatches one of the tracer's documented step kinds and stays within
  that kind's bound (a style without step kinds, such as ``compact``, fails on every line);
- *locality*: every value a line cites appears verbatim in the prompt or in the previous ``window``
  lines of the trace;
- *reference integrity*: every cited value appears verbatim somewhere above it (prompt or trace);
  a value printed above but beyond the window breaks locality only;
- *evidence before choice*: a ``choice`` line's cited evidence was printed by the trace itself, above it;
- *few uniform step kinds*: a tracer documents at most ``max_step_kinds`` kinds; the counts of lines per
  kind are reported so that rare structures show.

"Verbatim" means as a whole token: a number is not matched inside a longer number (``5`` is not in
``3.5`` or ``15``) and a word not inside a longer word.

:func:`audit_trace` audits one (prompt, trace, tracer); :func:`audit_records` audits SFT records (each
carrying ``family`` and ``style``), as ``reasonlab traces audit FILE`` does.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import Any

from reasonlab.puzzles.trace_style import StepKind, Tracer, find_tracer

DEFAULT_WINDOW = 20
MAX_STEP_KINDS = 24


class Rule(StrEnum):
    HIDDEN_COMPUTE = "no hidden compute"
    LOCALITY = "locality"
    REFERENCE = "reference integrity"
    EVIDENCE = "evidence before choice"
    STEP_KINDS = "few uniform step kinds"


@dataclass(frozen=True, slots=True)
class Violation:
    rule: Rule
    line: int  # 1-based line of the trace; 0 for the trace (or tracer) as a whole
    detail: str


@dataclass(frozen=True)
class TraceAudit:
    violations: tuple[Violation, ...]
    kinds: Counter  # step kind name -> lines of it

    @property
    def ok(self) -> bool:
        return not self.violations


@lru_cache(maxsize=1 << 16)
def _token_pattern(token: str) -> re.Pattern[str]:
    """``token`` as a whole token: a number not inside a longer number, a word not inside a word."""

    def edge(ch: str, ahead: bool) -> str:
        if ch.isdigit():
            return r"(?![0-9])(?!\.[0-9])" if ahead else r"(?<![0-9])(?<![0-9]\.)"
        if ch.isalpha():
            return r"(?![A-Za-z])" if ahead else r"(?<![A-Za-z])"
        return ""

    return re.compile(edge(token[0], False) + re.escape(token) + edge(token[-1], True))


def printed(token: str, text: str) -> bool:
    """Whether ``token`` appears in ``text`` as a whole token."""
    return _token_pattern(token).search(text) is not None


# A plain number or word is printed in a text exactly when it is one of the text's maximal numbers or
# words (the whole-token rule above), so those are looked up in sets; other tokens are searched for.
_PLAIN = re.compile(r"\d+(?:\.\d+)*|[A-Za-z]+")


def _plain_tokens(text: str) -> frozenset[str]:
    return frozenset(_PLAIN.findall(text))


def match_step(kinds: Iterable[StepKind], line: str) -> tuple[StepKind, re.Match[str]] | None:
    """The first of ``kinds`` that fullmatches ``line`` (stripped), with its match."""
    for kind in kinds:
        found = kind.pattern.fullmatch(line)
        if found is not None:
            return kind, found
    return None


class _Seen:
    """Where the trace printed each token so far, for the locality and reference questions."""

    def __init__(self, prompt: str, lines: list[str]) -> None:
        self.prompt, self.lines = prompt, lines
        self.prompt_tokens = _plain_tokens(prompt)
        self.last_line: dict[str, int] = {}  # plain token -> last line index (0-based) printing it
        self.searched: dict[str, bool] = {}  # other tokens -> printed in the prompt

    def add(self, i: int) -> None:
        for token in _plain_tokens(self.lines[i]):
            self.last_line[token] = i

    def in_prompt(self, token: str) -> bool:
        if _PLAIN.fullmatch(token):
            return token in self.prompt_tokens
        if token not in self.searched:
            self.searched[token] = printed(token, self.prompt)
        return self.searched[token]

    def above(self, token: str, i: int, window: int | None = None) -> bool:
        """Printed by lines ``i - window .. i - 1`` (all lines above ``i`` without a window)."""
        first = 0 if window is None else max(0, i - window)
        if _PLAIN.fullmatch(token):
            return self.last_line.get(token, -1) >= first
        return printed(token, "\n".join(self.lines[first:i]))


def audit_trace(
    prompt: str,
    trace: str,
    tracer: Tracer,
    *,
    window: int = DEFAULT_WINDOW,
    max_step_kinds: int = MAX_STEP_KINDS,
) -> TraceAudit:
    """Audit ``trace`` (the text inside the think block) as ``tracer`` documents it, against the user
    turn ``prompt``."""
    violations: list[Violation] = []
    kinds: Counter = Counter()
    if len(tracer.step_kinds) > max_step_kinds:
        violations.append(
            Violation(
                Rule.STEP_KINDS, 0, f"{len(tracer.step_kinds)} step kinds documented (> {max_step_kinds})"
            )
        )
    numbered = [(n, line.strip()) for n, line in enumerate(trace.splitlines(), 1) if line.strip()]
    seen = _Seen(prompt, [text for _, text in numbered])
    for i, (number, line) in enumerate(numbered):
        step = match_step(tracer.step_kinds, line)
        if step is None:
            violations.append(
                Violation(Rule.HIDDEN_COMPUTE, number, f"no documented step kind: {line[:80]!r}")
            )
            seen.add(i)
            continue
        kind, found = step
        kinds[kind.name] += 1
        too_much = kind.bound(found) if kind.bound else None
        if too_much:
            violations.append(
                Violation(Rule.HIDDEN_COMPUTE, number, f"{kind.name} over its bound: {too_much}")
            )
        for token in kind.cited(found):
            if kind.choice and not seen.above(token, i):
                violations.append(
                    Violation(
                        Rule.EVIDENCE,
                        number,
                        f"{kind.name} chooses on {token!r}, which the trace has not printed above",
                    )
                )
                continue
            if seen.in_prompt(token) or seen.above(token, i, window):
                continue
            if seen.above(token, i):
                violations.append(
                    Violation(Rule.LOCALITY, number, f"{token!r} was printed more than {window} lines above")
                )
            else:
                violations.append(
                    Violation(Rule.REFERENCE, number, f"{token!r} is not printed above ({kind.name})")
                )
        seen.add(i)
    return TraceAudit(tuple(violations), kinds)


# ------------------------------------------------------------------------------------------ SFT records

THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"


def record_parts(record: Mapping[str, Any]) -> tuple[str, str]:
    """(user turn, trace inside the think block) of an SFT record."""
    messages = record["messages"]
    user = next(m["content"] for m in messages if m["role"] == "user")
    assistant = next(m["content"] for m in messages if m["role"] == "assistant")
    start = assistant.find(THINK_OPEN)
    end = assistant.find(THINK_CLOSE)
    thought = assistant[start + len(THINK_OPEN) : end] if 0 <= start < end else assistant
    return user, thought


@dataclass
class AuditReport:
    window: int
    records: int = 0
    drills: int = 0  # drill records, which teach a catalog and are not traces (not audited)
    passed: int = 0
    violations: list[tuple[str, Violation]] = field(default_factory=list)  # (record id, violation)
    kinds: Counter = field(default_factory=Counter)  # (family, style, kind) -> lines
    traces: Counter = field(default_factory=Counter)  # (family, style) -> records
    failed: Counter = field(default_factory=Counter)  # (family, style) -> records with a violation

    @property
    def ok(self) -> bool:
        return not self.violations

    def by_rule(self) -> dict[Rule, list[tuple[str, Violation]]]:
        grouped: dict[Rule, list[tuple[str, Violation]]] = {}
        for record_id, violation in self.violations:
            grouped.setdefault(violation.rule, []).append((record_id, violation))
        return grouped


def audit_records(
    records: Iterable[Mapping[str, Any]],
    *,
    window: int = DEFAULT_WINDOW,
    max_step_kinds: int = MAX_STEP_KINDS,
) -> AuditReport:
    """Audit SFT records, each with ``family`` and ``style`` (records without a style are ``compact``,
    the only style before styles existed); drill records are counted, not audited."""
    report = AuditReport(window)
    for record in records:
        if record.get("drill"):
            report.drills += 1
            continue
        report.records += 1
        family, style = record.get("family") or "?", record.get("style") or "compact"
        report.traces[family, style] += 1
        tracer = find_tracer(family, style)
        if tracer is None:
            report.failed[family, style] += 1
            report.violations.append(
                (
                    str(record.get("id")),
                    Violation(Rule.HIDDEN_COMPUTE, 0, f"no {style!r} tracer for family {family!r}"),
                )
            )
            continue
        prompt, trace = record_parts(record)
        result = audit_trace(prompt, trace, tracer, window=window, max_step_kinds=max_step_kinds)
        for kind, count in result.kinds.items():
            report.kinds[family, style, kind] += count
        if result.ok:
            report.passed += 1
        else:
            report.failed[family, style] += 1
            report.violations.extend((str(record.get("id")), v) for v in result.violations)
    return report
