"""Step-by-step traces for bit puzzles, and their mechanical replay.

A trace states the rule, checks it output bit by output bit on all examples at once, then applies it to
the query. Each bit position's values over the examples form a *column*, written in hex (top example =
most significant bit) because a model spends about one token per binary digit. Before the rule, two
lines list per output bit what explains its column directly: ``same``, the literals (input bits, negated
input bits, constants) with that column, from which shifts, rotations and negations can be read off; and
``pairs``, the and/or/xor of two input bits with that column (at most three shown, then a count), from
which 2-input rules can be read off. Example::

    Bits are numbered 0-7 from the left; a column lists one bit over the 8 examples, top first, in hex.
    in: b0=A3 b1=5C ...
    out: o0=BD ...
    same: o0=- o1=b0 ... o7=~b6|1
    pairs: o0=xor(b1,b3) o1=xor(b2,b4) ...
    Rule: out = xor(shl1(x), rol3(x))
    o0 = xor(b1,b3) = xor(5C,E1) = BD ok
    ...
    Query: x = 01010110
    o0 = xor(b1,b3) = xor(1,0) = 1
    ...
    Answer: 10111001
    \\boxed{10111001}
"""

from __future__ import annotations

import re

from reasonlab.puzzles.families.bit_grammar import (
    FUNCTION_BY_NAME,
    LITERALS,
    WIDTH,
    expression_text,
    parse_rule,
)
from reasonlab.puzzles.types import Solution

_EXPRESSION = re.compile(r"^(?:(\w+)\((.*)\)|(~?b[0-7]|[01]))$")
_BIT_LINE = re.compile(r"^o([0-7]) = (\S+) = (\S+) = (\S+?)(?: ok)?$")
_RULE_LINE = re.compile(r"^Rule: (?:out = (.+)|each output bit separately)$")
_MAX_LISTED_ANSWERS = 3


def _columns(strings: list[str]) -> list[int]:
    """Column j: bit j of every string, the first string as the most significant bit."""
    return [int("".join(s[j] for s in strings), 2) for j in range(WIDTH)]


def _hex(value: int, n: int) -> str:
    return format(value, f"0{(n + 3) // 4}X")


def _same_line(in_columns: list[int], out_columns: list[int], full: int) -> str:
    """Per output bit, the literals whose column over the examples is that output's column."""
    entries = []
    for position, column in enumerate(out_columns):
        same = [lit for lit in LITERALS if _literal_value(lit, in_columns, full) == column]
        entries.append(f"o{position}={'|'.join(same) or '-'}")
    return "same: " + " ".join(entries)


def _pair_expressions() -> list[tuple[str, int, int]]:
    """(function, literal index, literal index) over two different input bits. An xor is written once:
    plain, or with only its higher bit negated (the other negations give the same functions)."""
    pairs = []
    for function in ("and", "or", "xor"):
        for i in range(2 * WIDTH):
            for j in range(i + 1, 2 * WIDTH):
                if i % WIDTH == j % WIDTH:
                    continue
                if function == "xor" and (i >= WIDTH or (j >= WIDTH and j - WIDTH < i)):
                    continue
                pairs.append((function, i, j))
    return pairs


_PAIRS = _pair_expressions()
_PAIR_TEXTS = [expression_text(function, [LITERALS[i], LITERALS[j]]) for function, i, j in _PAIRS]
_MAX_PAIRS_SHOWN = 3


def _pairs_line(in_columns: list[int], out_columns: list[int], full: int) -> str:
    """Per output bit, the 2-input expressions of input bits whose column is that output's."""
    literal_columns = [_literal_value(lit, in_columns, full) for lit in LITERALS]
    # Each expression's column once, grouped by value (in expression order); output bits look theirs up.
    texts_by_column: dict[int, list[str]] = {}
    for (function, i, j), text in zip(_PAIRS, _PAIR_TEXTS, strict=True):
        column = FUNCTION_BY_NAME[function].evaluate(literal_columns[i], literal_columns[j], full)
        texts_by_column.setdefault(column, []).append(text)
    entries = []
    for position, column in enumerate(out_columns):
        fits = texts_by_column.get(column, [])
        shown = "|".join(fits[:_MAX_PAIRS_SHOWN]) or "-"
        if len(fits) > _MAX_PAIRS_SHOWN:
            shown += f"|+{len(fits) - _MAX_PAIRS_SHOWN}"
        entries.append(f"o{position}={shown}")
    return "pairs: " + " ".join(entries)


def _parse_expression(text: str) -> tuple[str | None, list[str]]:
    match = _EXPRESSION.match(text)
    if match is None:
        raise ValueError(f"not a per-bit expression: {text!r}")
    if match.group(3) is not None:
        return None, [match.group(3)]
    function = FUNCTION_BY_NAME.get(match.group(1))
    operands = match.group(2).split(",")
    if function is None or len(operands) != function.arity:
        raise ValueError(f"not a per-bit expression: {text!r}")
    return function.name, operands


def _literal_value(literal: str, columns: list[int], full: int) -> int:
    if literal in ("0", "1"):
        return full if literal == "1" else 0
    value = columns[int(literal[-1])]
    return full ^ value if literal.startswith("~") else value


def _evaluate(function: str | None, values: list[int], full: int) -> int:
    return values[0] if function is None else FUNCTION_BY_NAME[function].evaluate(*values, full)


def _bit_expressions(solution: Solution) -> tuple[str, list[str]] | None:
    """The rule line and the per-bit expressions a solution's rule amounts to."""
    if solution.details.get("method") == "word":
        return f"out = {solution.details['rule']}", parse_rule(solution.details["rule"]).bit_expressions()
    if solution.details.get("method") == "per-bit":
        return "each output bit separately", list(solution.details["bit_rules"])
    return None


def trace(instance, solution: Solution) -> str | None:
    """The derivation of ``solution`` for ``instance``; None when the solution has no checkable rule."""
    found = _bit_expressions(solution)
    if found is None or solution.answer is None:
        return None
    rule_text, expressions = found
    inputs = [a for a, _ in instance.examples]
    outputs = [b for _, b in instance.examples]
    n = len(inputs)
    full = (1 << n) - 1
    in_columns, out_columns = _columns(inputs), _columns(outputs)
    lines = [
        f"Bits are numbered 0-7 from the left; a column lists one bit over the {n} examples, top first, in hex.",
        "in: " + " ".join(f"b{j}={_hex(v, n)}" for j, v in enumerate(in_columns)),
        "out: " + " ".join(f"o{j}={_hex(v, n)}" for j, v in enumerate(out_columns)),
        _same_line(in_columns, out_columns, full),
        _pairs_line(in_columns, out_columns, full),
        f"Rule: {rule_text}",
    ]
    candidates = solution.details.get("candidates", {})
    if len(candidates) > 1:
        listed = ", ".join(f"{a} ({c})" for a, c in list(candidates.items())[:_MAX_LISTED_ANSWERS])
        lines.append(f"Several rules fit; answers by how many rules give them: {listed}; take the first.")
    for position, expression in enumerate(expressions):
        function, literals = _parse_expression(expression)
        values = [_literal_value(lit, in_columns, full) for lit in literals]
        result = _evaluate(function, values, full)
        if result != out_columns[position]:
            return None
        shown = expression_text(function, [_hex(v, n) for v in values])
        lines.append(f"o{position} = {expression} = {shown} = {_hex(result, n)} ok")
    lines.append(f"Query: x = {instance.query}")
    query_columns = [int(ch) for ch in instance.query]
    answer = []
    for position, expression in enumerate(expressions):
        function, literals = _parse_expression(expression)
        values = [_literal_value(lit, query_columns, 1) for lit in literals]
        bit = _evaluate(function, values, 1)
        answer.append(str(bit))
        lines.append(
            f"o{position} = {expression} = {expression_text(function, [str(v) for v in values])} = {bit}"
        )
    if "".join(answer) != solution.answer:
        return None
    lines += [f"Answer: {solution.answer}", f"\\boxed{{{solution.answer}}}"]
    return "\n".join(lines)


def replay(instance, text: str) -> str:
    """Recompute every step of a trace from the instance; the answer the steps give.

    Raises ``ValueError`` naming the first line whose claim does not follow from the instance or from
    the lines before it.
    """
    inputs = [a for a, _ in instance.examples]
    outputs = [b for _, b in instance.examples]
    n = len(inputs)
    full = (1 << n) - 1
    lines = text.strip().splitlines()
    line_of = {}
    for number, line in enumerate(lines):
        line_of.setdefault(line.split(":")[0], number)

    def fail(number: int, problem: str):
        raise ValueError(f"trace line {number + 1} ({lines[number]!r}): {problem}")

    def claimed_columns(label: str, prefix: str, truth: list[int]) -> None:
        number = line_of.get(label)
        if number is None:
            raise ValueError(f"trace has no '{label}:' line")
        expected = f"{label}: " + " ".join(f"{prefix}{j}={_hex(v, n)}" for j, v in enumerate(truth))
        if lines[number] != expected:
            fail(number, f"columns differ from the examples' ({expected!r})")

    in_columns, out_columns = _columns(inputs), _columns(outputs)
    claimed_columns("in", "b", in_columns)
    claimed_columns("out", "o", out_columns)
    for label, recompute in (("same", _same_line), ("pairs", _pairs_line)):
        expected = recompute(in_columns, out_columns, full)
        number = line_of.get(label)
        if number is None or lines[number] != expected:
            raise ValueError(f"trace's '{label}:' line is missing or wrong ({expected!r})")
    query_start = line_of.get("Query")
    if query_start is None or lines[query_start] != f"Query: x = {instance.query}":
        raise ValueError("trace has no 'Query: x = ...' line with the instance's query")
    example_checks = [(i, _BIT_LINE.match(line)) for i, line in enumerate(lines[:query_start])]
    example_checks = [(i, m) for i, m in example_checks if m]
    query_checks = [(i, _BIT_LINE.match(line)) for i, line in enumerate(lines) if i > query_start]
    query_checks = [(i, m) for i, m in query_checks if m]
    if [int(m.group(1)) for _, m in example_checks] != list(range(WIDTH)):
        raise ValueError("trace does not check output bits o0..o7 in order on the examples")
    if [int(m.group(1)) for _, m in query_checks] != list(range(WIDTH)):
        raise ValueError("trace does not compute output bits o0..o7 in order on the query")

    expressions = []
    for number, match in example_checks:
        position, expression = int(match.group(1)), match.group(2)
        function, literals = _parse_expression(expression)
        values = [_literal_value(lit, in_columns, full) for lit in literals]
        if match.group(3) != expression_text(function, [_hex(v, n) for v in values]):
            fail(number, "operand columns are not the named input bits' columns")
        result = _evaluate(function, values, full)
        if match.group(4) != _hex(result, n):
            fail(number, f"the expression gives {_hex(result, n)}")
        if result != out_columns[position]:
            fail(number, f"the expression does not give output column o{position}")
        expressions.append(expression)

    rule_number = line_of.get("Rule")
    rule_match = _RULE_LINE.match(lines[rule_number]) if rule_number is not None else None
    if rule_match is None:
        raise ValueError("trace has no 'Rule:' line")
    if rule_match.group(1) is not None and parse_rule(rule_match.group(1)).bit_expressions() != expressions:
        fail(rule_number, "the per-bit expressions checked are not this rule's")

    query_bits = [int(ch) for ch in instance.query]
    answer = []
    for (number, match), expression in zip(query_checks, expressions, strict=True):
        if match.group(2) != expression:
            fail(number, "the query uses another expression than the one checked on the examples")
        function, literals = _parse_expression(expression)
        values = [_literal_value(lit, query_bits, 1) for lit in literals]
        if match.group(3) != expression_text(function, [str(v) for v in values]):
            fail(number, "operand bits are not the query's")
        bit = str(_evaluate(function, values, 1))
        if match.group(4) != bit:
            fail(number, f"the expression gives {bit}")
        answer.append(bit)
    result = "".join(answer)
    answer_number = line_of.get("Answer")
    if answer_number is None or lines[answer_number] != f"Answer: {result}":
        raise ValueError(f"trace's 'Answer:' line is missing or differs from the computed bits {result}")
    if lines[-1] != f"\\boxed{{{result}}}":
        fail(len(lines) - 1, f"the boxed answer is not the computed {result}")
    return result
