"""Equation traces: state each operator's rule (and, for symbolic puzzles, the digit of each symbol),
check it on every example with the arithmetic written out, then apply it to the query.

    Digits: %=3 |=4 "=2                      (symbolic puzzles only)
    Operator /: rule flip_rsub_suffix = rev(DC-BA), op after it if negative
    34/44: BA=43 DC=44, 44-43 = 1 -> 1
    Operator /: the query's rule            (or: Operator ?: not in the examples; chosen rule NAME ...)
    69/52: BA=96 DC=25, 25-96 = -71 -> 17/
    \\boxed{17/}

:func:`replay` re-derives every step from the puzzle and the stated rules and digits, and raises
:class:`TraceError` at the first line that does not follow.
"""

from __future__ import annotations

import re

from reasonlab.puzzles.families._synthesis import (
    TraceError,
    boxed,
    expect,
    final_boxed,
    match_line,
    trace_lines,
)
from reasonlab.puzzles.families.equation_rules import RULES_BY_NAME, Rule
from reasonlab.puzzles.types import Solution

_DIGITS = re.compile(r"Digits:\s*(.*)")
_RULE = re.compile(r"Operator (.): (?:not in the examples; most likely )?rule (\w+) = .*")
_STEP = re.compile(r"(\S{5})(?: = (\d\d.\d\d))?: (.*) -> (\S+?)(?: = (\S+))?")
_QUERY_HEAD = "Query:"

_SYMBOL = {"add": "+", "sub": "-", "rsub": "-", "mul": "*"}


def working(rule: Rule, left: str, right: str) -> str:
    """The arithmetic of one application, e.g. ``BA=43 DC=44, 44-43 = 1`` (digits only; the sign
    character is added by the rendering that follows)."""
    if rule.combine == "join":
        return f"concatenate {left} {right}"
    if rule.combine == "join_swap":
        return f"concatenate {right} {left}"
    names = ("BA", "DC") if rule.flip else ("AB", "CD")
    a, c = (left[::-1], right[::-1]) if rule.flip else (left, right)
    x, y = int(a), int(c)
    offset = f"{rule.offset:+d}" if rule.offset else ""
    match rule.combine:
        case "absdiff":
            expr = f"|{x}-{y}|{offset}"
        case "mod":
            expr = f"{max(x, y)} mod {min(x, y)}"
        case "rsub":
            expr = f"{y}-{x}{offset}"
        case _:
            expr = f"{x}{_SYMBOL[rule.combine]}{y}{offset}"
    value = rule.value(x, y)
    shown = f"{names[0]}={a} {names[1]}={c}, {expr} = {value}"
    return shown + (", reversed" if rule.flip else "")


def _step(lhs: str, digits_lhs: str | None, rule: Rule, result: str, encoded: str | None) -> str:
    left, right = (digits_lhs or lhs)[:2], (digits_lhs or lhs)[3:]
    head = f"{lhs} = {digits_lhs}" if digits_lhs else lhs
    tail = f" = {encoded}" if encoded is not None else ""
    return f"{head}: {working(rule, left, right)} -> {result}{tail}"


def _encode(result: str, digits: dict[str, int], op: str) -> str:
    symbol_of = {str(d): s for s, d in digits.items()}
    return "".join(op if ch == op else symbol_of[ch] for ch in result)


def trace(instance, solution: Solution) -> str | None:
    rule_names = solution.details.get("rules")
    if solution.answer is None or not rule_names:
        return None
    rules = {op: RULES_BY_NAME[name] for op, name in rule_names.items()}
    numeric = instance.numeric
    digits: dict[str, int] = {} if numeric else dict(solution.details.get("evidence") or {})
    lines = []
    if not numeric:
        lines.append(
            "Digits: " + " ".join(f"{s}={d}" for s, d in sorted(digits.items(), key=lambda kv: kv[1]))
        )
    seen = {eq.operator for eq, _ in instance.examples}
    for op in sorted(seen, key=lambda o: [eq.operator for eq, _ in instance.examples].index(o)):
        lines.append(f"Operator {op}: rule {rules[op].name} = {rules[op].describe()}")
        for eq, _ in instance.examples:
            if eq.operator == op:
                line = _line(eq.text, rules[op], digits, numeric)
                if line is None:
                    return None
                lines.append(line)
    query = instance.query
    if query.operator in seen:
        lines.append(f"{_QUERY_HEAD} {query.text} uses operator {query.operator}")
    else:
        rule = rules[query.operator]
        lines.append(f"{_QUERY_HEAD} {query.text}; operator {query.operator} is new")
        lines.append(
            f"Operator {query.operator}: not in the examples; most likely rule {rule.name} = {rule.describe()}"
        )
    line = _line(query.text, rules[query.operator], digits, numeric)
    if line is None:
        return None
    lines.append(line)
    answer = _STEP.fullmatch(line)
    produced = answer.group(5) or answer.group(4) if answer else None
    if produced != solution.answer:
        return None
    lines.append(boxed(solution.answer))
    return "\n".join(lines)


def _line(lhs: str, rule: Rule, digits: dict[str, int], numeric: bool) -> str | None:
    op = lhs[2]
    if numeric:
        return _step(lhs, None, rule, rule.apply(lhs[:2], lhs[3:], op), None)
    if rule.is_join:
        return _step(lhs, None, rule, rule.apply(lhs[:2], lhs[3:], op), None)
    if any(s not in digits for s in lhs[:2] + lhs[3:]):
        return None
    digits_lhs = "".join(str(digits[s]) if i != 2 else op for i, s in enumerate(lhs))
    result = rule.apply(digits_lhs[:2], digits_lhs[3:], op)
    if result is None:
        return None
    try:
        encoded = _encode(result, digits, op)
    except KeyError:
        return None
    return _step(lhs, digits_lhs, rule, result, encoded)


def replay(instance, text: str) -> str:
    lines = trace_lines(text)
    numeric = instance.numeric
    digits: dict[str, int] = {}
    if not numeric:
        pairs = match_line(_DIGITS, lines[0]).group(1).split()
        for pair in pairs:
            expect(len(pair) == 3 and pair[1] == "=" and pair[2].isdigit(), f"bad digit pair {pair!r}")
            expect(pair[0] not in digits, f"symbol {pair[0]} given two digits")
            digits[pair[0]] = int(pair[2])
        expect(len(set(digits.values())) == len(digits), "two symbols share a digit")
        lines = lines[1:]
    examples = {eq.text: result for eq, result in instance.examples}
    rules: dict[str, Rule] = {}
    checked: set[str] = set()
    current: str | None = None
    answer = None
    query = instance.query
    at_query = False
    for line in lines[:-1]:
        if line.startswith("Operator "):
            found = match_line(_RULE, line)
            op, name = found.group(1), found.group(2)
            expect(name in RULES_BY_NAME, f"unknown rule {name!r}")
            expect(op not in rules, f"operator {op} given two rules")
            rule = RULES_BY_NAME[name]
            expect(line.endswith(rule.describe()), f"{line!r} misstates rule {name}")
            rules[op] = rule
            current = op
            continue
        if line.startswith(_QUERY_HEAD):
            expect(line.split()[1].rstrip(";") == query.text, f"{line!r} is not the puzzle's query")
            at_query = True
            continue
        expected = _line(
            match_line(_STEP, line).group(1), rules.get(line[2]) or _missing(line), digits, numeric
        )
        expect(expected == line, f"{line!r} does not follow; the rule gives {expected!r}")
        step = _STEP.fullmatch(line)
        lhs, shown = step.group(1), step.group(5) or step.group(4)
        if at_query:
            expect(lhs == query.text and answer is None, f"{line!r} is not the query's one application")
            answer = shown
        elif lhs in examples:
            expect(line[2] == current, f"{line!r} is not under its operator's rule line")
            expect(examples[lhs] == shown, f"{lhs} gives {examples[lhs]!r} in the puzzle, not {shown!r}")
            checked.add(lhs)
        else:
            raise TraceError(f"{lhs!r} is neither an example nor the query")
    expect(checked == set(examples), "the trace does not check every example")
    expect(answer is not None, "the trace never applies a rule to the query")
    expect(final_boxed(lines) == answer, f"the boxed answer is not {answer!r}")
    return answer


def _missing(line: str) -> Rule:
    raise TraceError(f"{line!r} uses operator {line[2]} before stating its rule")
