"""New equation puzzles in the competition's exact text, drawn from the same rule inventory.

A puzzle has 1-3 operators; each gets a rule drawn from the learned priors (by operator class) among
those the regularities still allow (one flip mode, one rule per group); operands are uniform two-digit
strings ``00``-``99``. Symbolic puzzles then write each digit as one of ten symbols drawn from the
same 26-character pool as the operators. The shares below were measured on the development data.
"""

from __future__ import annotations

import random

from reasonlab.puzzles.families._synthesis import example_count, prompt_text
from reasonlab.puzzles.families.equation_priors import RulePriors
from reasonlab.puzzles.families.equation_rules import Rule
from reasonlab.puzzles.types import Puzzle

INTRO = (
    "In Alice's Wonderland, a secret set of transformation rules is applied to equations. "
    "Below are a few examples:"
)
QUERY = "Now, determine the result for: {}"
POOL = "!\"#$%&'()*+-/:<>?@[\\]^`{|}"  # operators and digit symbols alike
SUBTYPES = {"numeric-deduce": 356, "numeric-guess": 95, "symbolic-deduce": 401, "symbolic-guess": 83}
# example counts per subtype (guess rows have fewer examples: fewer chances to show the query's operator)
EXAMPLE_COUNTS = {
    "numeric-deduce": {3: 123, 4: 109, 5: 124},
    "numeric-guess": {3: 51, 4: 29, 5: 15},
    "symbolic-deduce": {3: 112, 4: 142, 5: 147},
    "symbolic-guess": {3: 33, 4: 25, 5: 25},
}
# operators among the examples: deduce rows show 1-3, guess rows 1-2 (plus the query's unseen one)
EXAMPLE_OPERATORS = {"deduce": {1: 2, 2: 45, 3: 53}, "guess": {1: 20, 2: 80}}
# How often a prompt's operators are + - * (per character) or one of the 23 others (shared), by kind:
# the standard characters serve about one operator in six in numeric prompts, one in five in symbolic.
OPERATOR_WEIGHTS = {
    "numeric": ({"+": 146, "-": 170, "*": 158}, 573),
    "symbolic": ({"+": 279, "-": 285, "*": 281}, 414),
}


def _weighted(rng: random.Random, weights: dict) -> object:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def _operators(rng: random.Random, count: int, numeric: bool) -> list[str]:
    standard, others = OPERATOR_WEIGHTS["numeric" if numeric else "symbolic"]
    other_weight = others / (len(POOL) - len(standard))
    chosen: list[str] = []
    while len(chosen) < count:
        weights = {ch: standard.get(ch, other_weight) for ch in POOL if ch not in chosen}
        chosen.append(_weighted(rng, weights))
    return chosen


def _operands(rng: random.Random) -> tuple[str, str]:
    return f"{rng.randint(0, 99):02d}", f"{rng.randint(0, 99):02d}"


def generate(
    rng: random.Random,
    priors: RulePriors,
    *,
    subtype: str | None = None,
    n_examples: int | None = None,
) -> Puzzle:
    """A puzzle of ``subtype`` (numeric|symbolic-deduce|guess; default drawn with the development
    data's shares) with ``n_examples`` examples (default 3-5); its answer is the query under the rule."""
    return generate_with_rules(rng, priors, subtype=subtype, n_examples=n_examples)[0]


def generate_with_rules(
    rng: random.Random,
    priors: RulePriors,
    *,
    subtype: str | None = None,
    n_examples: int | None = None,
) -> tuple[Puzzle, dict[str, int] | None, dict[str, Rule]]:
    """:func:`generate`'s puzzle (same draws), the digits of the symbols whose arithmetic the examples
    show (None for numeric puzzles) and the rules of the operators the examples use."""
    subtype = subtype or _weighted(rng, SUBTYPES)
    if subtype not in SUBTYPES:
        raise ValueError(f"unknown equation subtype {subtype!r}; known: {', '.join(SUBTYPES)}")
    kind, inference = subtype.split("-")
    numeric = kind == "numeric"
    count = example_count(rng, n_examples, EXAMPLE_COUNTS[subtype])
    shown = min(count, _weighted(rng, EXAMPLE_OPERATORS[inference]))
    operators = _operators(rng, shown + (inference == "guess"), numeric)
    rules = priors.sample(rng, operators, numeric)
    example_ops = operators[:shown] + [rng.choice(operators[:shown]) for _ in range(count - shown)]
    rng.shuffle(example_ops)
    query_op = operators[-1] if inference == "guess" else rng.choice(operators)

    equations: list[tuple[str, str, str, str]] = []
    used: set[str] = set()
    for op in [*example_ops, query_op]:
        while True:
            left, right = _operands(rng)
            result = rules[op].apply(left, right, op)
            if result is not None and left + op + right not in used:
                break
        used.add(left + op + right)
        equations.append((left, op, right, result))

    if numeric:
        encode = str
    else:
        symbols = rng.sample([ch for ch in POOL if ch not in operators], 10)
        table = str.maketrans("0123456789", "".join(symbols))

        def encode(text: str) -> str:
            return text.translate(table)

    lines = [f"{encode(a)}{op}{encode(b)} = {encode(r)}" for a, op, b, r in equations[:-1]]
    a, op, b, answer = equations[-1]
    prompt = prompt_text(INTRO, lines, QUERY.format(f"{encode(a)}{op}{encode(b)}"))
    puzzle = Puzzle("", prompt, encode(answer))
    seen_rules = {o: rules[o] for o in example_ops}
    if numeric:
        return puzzle, None, seen_rules
    shown_digits = {
        d for a, o, b, r in equations[:-1] if not rules[o].is_join for d in a + b + r if d.isdigit()
    }
    return puzzle, {symbols[int(d)]: int(d) for d in sorted(shown_digits)}, seen_rules
