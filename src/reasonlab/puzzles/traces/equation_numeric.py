"""Stepwise traces of numeric equations: every rule of the inventory tried on every example, in writing.

The procedure a model executes, one line per step:

1. Per operator (in order of first appearance), per example: read the operands (``AB CD`` and the
   reversed ``BA DC``), then one line per *rule group* still alive: the group's arithmetic on the
   operands (an addition, a subtraction, a modulo by quotient and remainder, or a product built from
   two products by one digit), then each surviving rule of the group rendered from that value
   (offset, reversal, sign character) and compared with the example's result: ``ok`` keeps the
   rule, ``no`` strikes it for good. A ``state`` line then restates what survives for every
   operator seen so far, so the evidence stays within a few lines of where it is used.
2. Prompt-level regularities as printed steps: an operator left with arithmetic rules of one mode
   fixes the puzzle's mode (``mode`` line), an operator left with one arithmetic group takes that
   group from the others (``group`` line); each strike is followed by the new state.
3. The query's operator: one rule left is taken. Several left first meet the plain-meaning
   preference (puzzles nearly always give exactly one arithmetic operator its plain meaning, so when
   the other operators settle that count, the rules keeping it at one are preferred: ``plain``
   line), then the documented prior: :func:`prior_order`, one memorised row per operator class,
   mode and taken groups, the rules most likely first; the first is taken (``prior`` line). An
   operator the examples never show (a *guess* row) first fixes every example operator that way,
   then lists the rules the regularities leave it (``unseen`` line) and takes the first in prior
   order.
4. The query computed with the chosen rule in the same kind of line, the answer, ``\\boxed{}``.

Replay re-executes the procedure on the prompt and requires every line to be the one it produces.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

from reasonlab.puzzles.families._synthesis import boxed
from reasonlab.puzzles.families.equation_priors import (
    ARITHMETIC_GROUPS,
    default_priors,
    operator_class,
    puzzle_style,
)
from reasonlab.puzzles.families.equation_rules import INVENTORY, RULES_BY_NAME, Rule, render
from reasonlab.puzzles.trace_style import StepKind
from reasonlab.puzzles.traces.procedure import finished, replay_against

# The rule groups as the trace tries them: one arithmetic line each, then its rules.
GROUP_ORDER = ("join", "add", "sub", "mod", "mul", "flip_add", "flip_sub", "flip_mod", "flip_mul")


def trace_group(rule: Rule) -> str:
    """The trace's group of a rule: the value its line computes (``sub`` holds sub, absdiff and the
    reversed difference; ``mod`` is its own line)."""
    if rule.is_join:
        return "join"
    base = {"add": "add", "mul": "mul", "mod": "mod"}.get(rule.combine, "sub")
    return f"flip_{base}" if rule.flip else base


@cache
def prior_weights(operator_class_name: str, mode: str, taken: tuple[str, ...]) -> dict[str, float]:
    """The documented prior, one row per context: an operator of this class, in a puzzle of this mode
    (``flip``, ``plain`` or ``open``) whose other operators hold the ``taken`` arithmetic groups. The
    rules it may take, each with its probability under the shipped priors (a join by its class's
    join share; an arithmetic rule by its group's share among the free groups and its variant's share
    in the mode), normalised over the row. A table of 8 classes x 3 modes x 8 group sets."""
    priors = default_priors()
    cls = operator_class_name
    free = [g for g in ARITHMETIC_GROUPS if g not in taken]
    free_affinity = sum(priors.group_affinity[cls][g] for g in free)
    flip_share = priors.flip_share[puzzle_style([cls])]
    weights: dict[str, float] = {}
    for rule in INVENTORY:
        if rule.is_join:
            weights[rule.name] = priors.join_share[cls] * priors.join_variant[cls][rule.name]
            continue
        if rule.group in taken or (mode != "open" and rule.flip != (mode == "flip")):
            continue
        weight = (
            (1 - priors.join_share[cls])
            * priors.group_affinity[cls][rule.group]
            / free_affinity
            * priors.class_variant[cls, rule.group, rule.flip][rule.name]
        )
        if mode == "open":
            weight *= flip_share if rule.flip else 1 - flip_share
        weights[rule.name] = weight
    total = sum(weights.values())
    return {name: weight / total for name, weight in weights.items()}


@cache
def prior_order(operator_class_name: str, mode: str, taken: tuple[str, ...]) -> tuple[str, ...]:
    """:func:`prior_weights`'s row as an order: the rules most likely first (inventory order on ties)."""
    weights = prior_weights(operator_class_name, mode, taken)
    position = {rule.name: i for i, rule in enumerate(INVENTORY)}
    return tuple(sorted(weights, key=lambda name: (-weights[name], position[name])))


# ---------------------------------------------------------------------------------------------------
# Arithmetic lines


def _product_lines(group: str, left: str, right: str) -> tuple[list[str], str]:
    """``left*right`` (two-digit operands as printed) built from two products by one digit; the lines
    and the final ``left*right = x0+y = z`` text."""
    a, (tens, units) = int(left), divmod(int(right), 10)
    high, low = divmod(a, 10)
    lines = [
        f"{group} {left}*{digit} = {high * digit * 10}+{low * digit} = {a * digit}" for digit in (tens, units)
    ]
    return lines, f"{left}*{right} = {a * tens}0+{a * units} = {a * int(right)}"


def _work(group: str, left: str, right: str) -> tuple[list[str], str]:
    """Lines before the group's line, and the work its line shows (empty for the joins), on the
    operands as the group reads them (two digits each, leading zeros kept)."""
    base = group.removeprefix("flip_")
    a, b = int(left), int(right)
    if base == "join":
        return [], ""
    if base == "add":
        return [], f" {left}+{right} = {a + b}"
    if base == "sub":
        return [], f" {left}-{right} = {a - b}"
    if base == "mul":
        lines, text = _product_lines(group, left, right)
        return lines, f" {text}"
    (high, shown_high), (low, shown_low) = sorted([(a, left), (b, right)], reverse=True)
    if low == 0:
        return [], f" {shown_high} mod {shown_low} = none"
    product = low * (high // low)
    return (
        [],
        f" {shown_high} mod {shown_low}: {shown_low}*{high // low} = {product}, {shown_high}-{product} = {high - product}",
    )


def _item(rule: Rule, left: str, right: str, operator: str, want: str | None) -> tuple[str, bool]:
    """One rule of a group line: its value, the rendering, and the verdict against ``want``."""
    if rule.is_join:
        value = printed = rule.apply(left, right, operator)
    else:
        a, b = (left[::-1], right[::-1]) if rule.flip else (left, right)
        number = rule.value(int(a), int(b))
        value = "none" if number is None else str(number)
        printed = "none" if number is None else render(number, rule.flip, rule.sign, operator)
    fits = printed == want
    verdict = "" if want is None else (" ok" if fits else " no")
    return f"{rule.name} {value} -> {printed}{verdict}", fits


def group_lines(
    group: str, rules: list[Rule], left: str, right: str, operator: str, want: str | None
) -> tuple[list[str], list[Rule]]:
    """The lines trying ``rules`` (all of ``group``) on operands ``left right``; the rules that fit."""
    a, b = (left[::-1], right[::-1]) if group.startswith("flip_") else (left, right)
    before, work = _work(group, a, b)
    items, kept = [], []
    for rule in rules:
        text, fits = _item(rule, left, right, operator, want)
        items.append(text)
        if fits:
            kept.append(rule)
    return [*before, f"{group}{work}: {'; '.join(items)}"], kept


def operand_line(head: str, equation: str) -> str:
    left, right = equation[:2], equation[3:]
    return f"{head}: AB {left} CD {right} BA {left[::-1]} DC {right[::-1]}"


# ---------------------------------------------------------------------------------------------------
# The procedure


@dataclass
class _State:
    order: list[str]  # operators in order of first appearance
    rules: dict[str, list[Rule]]

    def line(self) -> str:
        parts = [f"{op} = {' '.join(r.name for r in self.rules[op])}" for op in self.order]
        return "state: " + ", ".join(parts)

    def settled_mode(self) -> tuple[str, bool] | None:
        """An operator whose rules are all arithmetic of one mode, and that mode."""
        for op in self.order:
            rules = self.rules[op]
            modes = {r.flip for r in rules}
            if rules and not any(r.is_join for r in rules) and len(modes) == 1:
                mode = modes.pop()
                if any(not r.is_join and r.flip != mode for o in self.order for r in self.rules[o]):
                    return op, mode
        return None

    def settled_group(self) -> tuple[str, str] | None:
        """An operator whose rules are all of one arithmetic group that another operator still has."""
        for op in self.order:
            groups = {r.group for r in self.rules[op]}
            if len(groups) == 1 and not self.rules[op][0].is_join:
                group = groups.pop()
                if any(r.group == group for o in self.order if o != op for r in self.rules[o]):
                    return op, group
        return None


def _mode_name(flip: bool) -> str:
    return "flip" if flip else "plain"


def _regularities(state: _State) -> Iterator[str]:
    """Strike what the puzzle regularities forbid, one printed step at a time, until nothing changes."""
    while True:
        mode = state.settled_mode()
        if mode is not None:
            op, flip = mode
            struck = [r for o in state.order for r in state.rules[o] if not r.is_join and r.flip != flip]
            for o in state.order:
                state.rules[o] = [r for r in state.rules[o] if r.is_join or r.flip == flip]
            yield (
                f"mode {_mode_name(flip)}: {op} has only {_mode_name(flip)} rules, strike "
                + " ".join(r.name for r in struck)
            )
            yield state.line()
            continue
        group = state.settled_group()
        if group is not None:
            op, name = group
            struck = [r for o in state.order if o != op for r in state.rules[o] if r.group == name]
            for o in state.order:
                if o != op:
                    state.rules[o] = [r for r in state.rules[o] if r.group != name]
            yield f"group {name}: {op} has only {name} rules, strike " + " ".join(r.name for r in struck)
            yield state.line()
            continue
        return


def _plain_preference(state: _State, op: str) -> Iterator[str]:
    """Puzzles nearly always give exactly one arithmetic operator its plain meaning (``add``, ``sub`` or
    ``mul`` in the puzzle's mode, no offset, usual sign): when the other arithmetic operators settle
    that count, prefer the rules of ``op`` that keep it at one."""
    rules = state.rules[op]
    arithmetic = [
        o for o in state.order if o != op and state.rules[o] and not any(r.is_join for r in state.rules[o])
    ]
    plain = [o for o in arithmetic if all(r.plain_meaning for r in state.rules[o])]
    if plain:
        preferred, reason = [r for r in rules if not r.plain_meaning], f"{plain[0]} has a plain rule"
    elif arithmetic and all(not r.plain_meaning for o in arithmetic for r in state.rules[o]):
        preferred, reason = (
            [r for r in rules if r.plain_meaning],
            f"{' '.join(arithmetic)} {'has' if len(arithmetic) == 1 else 'have'} no plain rule",
        )
    else:
        return
    if preferred and len(preferred) < len(rules):
        state.rules[op] = preferred
        yield f"plain: {reason}, so {op} prefers " + " ".join(r.name for r in preferred)


def _context(state: _State, op: str) -> tuple[str, str, tuple[str, ...]]:
    """The row of the prior table for ``op``: its class, the puzzle's mode, the groups others hold."""
    settled = [state.rules[o][0] for o in state.order if o != op and len(state.rules[o]) == 1]
    modes = {r.flip for o in state.order if o != op for r in state.rules[o] if not r.is_join}
    mode = _mode_name(modes.pop()) if len(modes) == 1 else "open"
    taken = tuple(sorted({r.group for r in settled if not r.is_join}))
    return operator_class(op, True), mode, taken


def _choose(state: _State, op: str, *, plain_count: bool = True) -> Iterator[str]:
    """Take the first of ``op``'s rules in prior order (printed when there is a choice), after the
    plain-meaning preference when ``plain_count``."""
    if plain_count and len(state.rules[op]) > 1:
        yield from _plain_preference(state, op)
    rules = state.rules[op]
    if len(rules) > 1:
        cls, mode, taken = _context(state, op)
        order = prior_order(cls, mode, taken)
        rank = {name: i for i, name in enumerate(order)}
        ordered = sorted(rules, key=lambda r: (rank.get(r.name, len(rank)), r.name))
        yield (
            f"prior {op} ({cls}, {mode}, taken {' '.join(taken) or 'none'}): "
            + ", ".join(r.name for r in ordered)
            + f" -> {ordered[0].name}"
        )
        state.rules[op] = [ordered[0]]
        yield state.line()


def _unseen_candidates(state: _State) -> tuple[str, list[Rule]]:
    """What the fixed rules of the other operators leave an unseen operator: the joins, and the free
    arithmetic groups in the puzzle's mode (either mode when none is fixed)."""
    fixed = [rules[0] for rules in state.rules.values() if rules]
    modes = {r.flip for r in fixed if not r.is_join}
    taken = sorted({r.group for r in fixed if not r.is_join})
    candidates = [
        r for r in INVENTORY if r.is_join or (r.group not in taken and (not modes or r.flip in modes))
    ]
    mode = _mode_name(next(iter(modes))) if modes else "open"
    return f"mode {mode}, taken {' '.join(taken) or 'none'}", candidates


def _vote(state: _State, query) -> Iterator[str]:
    """An unseen operator's answer: the prior table's row for its context with each rule's weight in
    percent, the query computed under every rule the row holds, and the answer whose rules weigh most
    (the first listed on a tie). Returns the answer."""
    op = query.operator
    cls, mode, taken = _context(state, op)
    weights = prior_weights(cls, mode, taken)
    names = {rule.name for rule in state.rules[op]}
    ranked = [RULES_BY_NAME[name] for name in prior_order(cls, mode, taken) if name in names]
    percent = {rule.name: round(100 * weights[rule.name]) for rule in ranked}
    yield (
        f"weights {op} ({cls}, {mode}, taken {' '.join(taken) or 'none'}): "
        + ", ".join(f"{rule.name} {percent[rule.name]}" for rule in ranked)
    )
    yield operand_line(f"query {query.text}", query.text)
    for group in GROUP_ORDER:
        alive = [rule for rule in ranked if trace_group(rule) == group]
        if alive:
            lines, _ = group_lines(group, alive, query.left, query.right, op, None)
            yield from lines
    votes: dict[str, list[int]] = {}
    for rule in ranked:
        answer = rule.apply(query.left, query.right, op)
        if answer is not None:
            votes.setdefault(answer, []).append(percent[rule.name])
    best = max(votes, key=lambda answer: sum(votes[answer]))  # the first listed wins a tie
    parts = [
        f"{answer} = {parts[0]}"
        if len(parts) == 1
        else f"{answer} = {'+'.join(map(str, parts))} = {sum(parts)}"
        for answer, parts in votes.items()
    ]
    yield f"vote: {', '.join(parts)} -> {best}"
    return best


def numeric_lines(instance) -> Iterator[str]:
    """The trace's lines; stops early (the caller sees no answer line) when no rule fits an operator."""
    order = list(dict.fromkeys(eq.operator for eq, _ in instance.examples))
    state = _State(order=[], rules={})
    for op in order:
        examples = [(eq, result) for eq, result in instance.examples if eq.operator == op]
        state.order.append(op)
        state.rules[op] = list(INVENTORY)
        for eq, result in examples:
            yield operand_line(f"example {eq.text} = {result}", eq.text)
            kept: list[Rule] = []
            for group in GROUP_ORDER:
                alive = [r for r in state.rules[op] if trace_group(r) == group]
                if alive:
                    lines, fits = group_lines(group, alive, eq.left, eq.right, op, result)
                    yield from lines
                    kept += fits
            state.rules[op] = kept
            yield state.line()
            if not kept:
                return
    yield from _regularities(state)
    if any(not rules for rules in state.rules.values()):
        return
    query = instance.query
    if query.operator in state.rules:
        yield from _choose(state, query.operator)
    else:
        for op in order:
            yield from _choose(state, op)
            yield from _regularities(state)
        facts, candidates = _unseen_candidates(state)
        yield f"unseen {query.operator}: {facts} -> " + " ".join(r.name for r in candidates)
        state.order.append(query.operator)
        state.rules[query.operator] = candidates
        answer = yield from _vote(state, query)
        yield f"answer {answer}"
        yield boxed(answer)
        return
    rule = state.rules[query.operator][0]
    yield operand_line(f"query {query.text}", query.text)
    lines, _ = group_lines(trace_group(rule), [rule], query.left, query.right, query.operator, None)
    yield from lines
    answer = rule.apply(query.left, query.right, query.operator)
    if answer is None:
        return
    yield f"answer {answer}"
    yield boxed(answer)


def trace_numeric(instance) -> str | None:
    return finished(numeric_lines(instance))


def replay_numeric(instance, text: str) -> str:
    """Re-execute the procedure on the prompt: every line must be the one it produces."""
    return replay_against(
        text,
        numeric_lines(instance),
        "no rule of the inventory fits some operator: the procedure gives no answer",
    )


# ---------------------------------------------------------------------------------------------------
# Step kinds

_RULE = r"[a-z_0-9]+"
_ITEM = rf"{_RULE} (?:-?\d+|none) -> \S+"
_OPS = r"\d\d"


def _items_bound(match: re.Match[str]) -> str | None:
    count = match.group("items").count(" -> ")
    return None if count <= 6 else f"{count} rules on one line (at most 6, one group)"


def _digit_bound(match: re.Match[str]) -> str | None:
    return None if len(match.group("d")) == 1 else "a partial product multiplies by one digit"


NUMERIC_STEP_KINDS: tuple[StepKind, ...] = (
    StepKind(
        "operands",
        re.compile(
            r"(?P<head>example|query) (?P<c_eq>\d\d\S\d\d)(?: = (?P<c_result>\S+))?: "
            r"AB (?P<ab>\d\d) CD (?P<cd>\d\d) BA (?P<ba>\d\d) DC (?P<dc>\d\d)"
        ),
        "copy an equation's two operands and write each reversed",
    ),
    StepKind(
        "partial_product",
        re.compile(
            rf"(?P<group>(?:flip_)?mul) (?P<c_a>{_OPS})\*(?P<d>\d+) = (?P<tens>\d+)\+(?P<units>\d+) = (?P<p>\d+)"
        ),
        "multiply a two-digit operand by one digit: tens times the digit, units times the digit, add",
        bound=_digit_bound,
    ),
    StepKind(
        "join_group",
        re.compile(rf"join: (?P<items>{_ITEM}(?: (?:ok|no))?(?:; {_ITEM}(?: (?:ok|no))?)*)"),
        "concatenate the operands both ways and compare each with the result",
        bound=_items_bound,
    ),
    StepKind(
        "add_sub_group",
        re.compile(
            rf"(?P<group>(?:flip_)?(?:add|sub)) (?P<c_a>{_OPS})(?P<sign>[+-])(?P<c_b>{_OPS}) = (?P<v>-?\d+): "
            rf"(?P<items>{_ITEM}(?: (?:ok|no))?(?:; {_ITEM}(?: (?:ok|no))?)*)"
        ),
        "add or subtract the operands once, then render each rule of the group (offset, absolute value, "
        "reversal, sign) and compare it with the result",
        bound=_items_bound,
    ),
    StepKind(
        "mod_group",
        re.compile(
            rf"(?P<group>(?:flip_)?mod) (?P<c_a>{_OPS}) mod (?P<c_b>{_OPS})"
            r"(?:: \d+\*\d+ = \d+, \d+-\d+ = \d+| = none): "
            rf"(?P<items>{_ITEM}(?: (?:ok|no))?)"
        ),
        "the larger operand modulo the smaller: the smaller times the quotient, subtracted; render, compare",
        bound=_items_bound,
    ),
    StepKind(
        "mul_group",
        re.compile(
            rf"(?P<group>(?:flip_)?mul) (?P<c_a>{_OPS})\*(?P<c_b>{_OPS}) = (?P<c_tens>\d+)0\+(?P<c_units>\d+) "
            rf"= (?P<v>\d+): (?P<items>{_ITEM}(?: (?:ok|no))?(?:; {_ITEM}(?: (?:ok|no))?)*)"
        ),
        "add the two partial products above (the tens one shifted), then render and compare each rule",
        bound=_items_bound,
    ),
    StepKind(
        "state",
        re.compile(r"state: (?P<c_rules>.*)"),
        "restate the rules each operator keeps: those marked ok above, less those struck",
        choice=True,
    ),
    StepKind(
        "mode",
        re.compile(
            r"mode (?P<mode>flip|plain): (?P<c_op>\S) has only (?:flip|plain) rules, strike(?P<c_struck>.*)"
        ),
        "one operator's arithmetic rules share a mode, so the puzzle's: strike the other mode's rules",
        choice=True,
    ),
    StepKind(
        "group",
        re.compile(r"group (?P<group>add|sub|mul): (?P<c_op>\S) has only \w+ rules, strike(?P<c_struck>.*)"),
        "one operator holds an arithmetic group alone: strike that group from the other operators",
        choice=True,
    ),
    StepKind(
        "plain",
        re.compile(
            r"plain: (?P<c_ops>.+) (?:has a plain rule|ha(?:s|ve) no plain rule), so (?P<c_op>\S) prefers (?P<c_rules>[\w ]+)"
        ),
        "one arithmetic operator per puzzle keeps its plain meaning: prefer the rules that keep that count at one",
        choice=True,
    ),
    StepKind(
        "prior",
        re.compile(r"prior (?P<c_op>\S) \((?P<cls>[^)]+)\): (?P<c_rules>[\w, ]+) -> (?P<rule>\w+)"),
        "order an operator's remaining rules by the memorised prior of its class and take the first",
        choice=True,
    ),
    StepKind(
        "unseen",
        re.compile(r"unseen (?P<c_op>\S): mode (?P<mode>\w+), taken (?P<taken>[\w ]+) -> (?P<rules>[\w ]+)"),
        "an operator absent from the examples may take a join or a free group in the puzzle's mode",
    ),
    StepKind(
        "weights",
        re.compile(r"weights (?P<c_op>\S) \((?P<cls>[^)]+)\): (?P<c_rules>\w+ \d+(?:, \w+ \d+)*)"),
        "recall an unseen operator's row of the prior table with each rule's weight in percent",
        separators=re.compile(r"\s+\d+(?:,\s*|$)"),  # cites the rule names; the weights are recalled
    ),
    StepKind(
        "vote",
        re.compile(r"vote: (?P<c_votes>.+) -> (?P<answer>\S+)"),
        "add the weights of the rules giving each answer and take the heaviest (the first on a tie)",
        choice=True,
        separators=re.compile(r"\s*=\s*\d+(?=,|$)|[\s,+=]+"),  # cites answers and weights, not the sums
    ),
    StepKind(
        "answer",
        re.compile(r"answer (?P<c_answer>\S+)"),
        "copy the query's rendered result",
    ),
    StepKind(
        "boxed",
        re.compile(r"\\boxed\{(?P<c_answer>.+)\}"),
        "box the answer",
    ),
)
