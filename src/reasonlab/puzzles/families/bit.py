"""Bit manipulation: a secret 8-bit -> 8-bit transformation shown by 7–10 examples.

Solving searches the rule grammar of :mod:`bit_grammar` for every rule that maps each example input to
its output. Rules are ordered by simplicity: fewer operands first (one atom < a 2-input function < a
3-input function), then by function (and, or, xor, maj, par3, ch, sel_nand_xnor, ao, oa, ax, ox, xa, xo),
then by atoms (x, shl, shr, rol by increasing amount, then their negations): fewer operands means fewer
unforced choices, which is the usual reading of "the simplest explanation". When the fitting rules
disagree on the query, each answer gets one vote per fitting rule and the most voted answer wins (ties go
to the answer of the simplest rule); the rule reported is the simplest one giving that answer. Measured
on dev.csv (954 bit rows), the vote, the strictly simplest rule and a vote among the simplest level's
rules are equally accurate (944 right, 8 of the 10 misses shared): the vote is kept because it is the
Bayes choice under a uniform prior over the grammar's rules and its weights say how open the answer is.
When no whole-word rule fits, each output bit is explained on its own (:mod:`bit_columns`).
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from reasonlab.puzzles.families import bit_trace
from reasonlab.puzzles.families._shape import FixedWording, PromptShape
from reasonlab.puzzles.families.bit_columns import solve_by_columns
from reasonlab.puzzles.families.bit_grammar import (
    ATOMS,
    FUNCTION_BY_NAME,
    RULE_KINDS,
    Rule,
    fitting_rules,
    prepare_tables,
)
from reasonlab.puzzles.types import Puzzle, Solution, Status

_HEADER = "In Alice's Wonderland, a secret bit manipulation rule transforms 8-bit binary numbers."
_INTRO = (
    _HEADER + " The transformation involves operations like bit shifts, rotations, XOR, AND, OR, NOT, and "
    "possibly majority or choice functions.\n\nHere are some examples of input -> output:\n"
)
_QUERY_LINE = "\n\nNow, determine the output for: "
_TRIES_PER_RULE = 20
_LISTED_ANSWERS = 5  # candidate answers named in an ambiguous solution's rule text
EXAMPLE_COUNTS = (7, 8, 9, 10)  # the competition's range; dev.csv has each about equally often
# How often the generator draws each rule kind by default. Fitted (non-negative least squares) so that
# generated puzzles match dev.csv in how often each kind of rule fits the examples and how often the
# answer stays open: a statistic of the examples, not of any row's answer. Kinds the fit gave no weight
# (lone atoms, par3, ao, ax, oa) still arise as special cases of these, as they do in dev.csv.
DEFAULT_KIND_WEIGHTS: dict[str, float] = {
    "and": 0.10,
    "or": 0.07,
    "xor": 0.29,
    "maj": 0.17,
    "ch": 0.06,
    "sel_nand_xnor": 0.09,
    "ox": 0.07,
    "xa": 0.02,
    "xo": 0.19,
}
_EXAMPLE = re.compile(r"^([01]{8}) -> ([01]{8})$", re.M)
_QUERY = re.compile(r"Now, determine the output for: ([01]{8})\s*$")


@dataclass(frozen=True, slots=True)
class BitInstance:
    examples: tuple[tuple[str, str], ...]
    query: str


def bits(value: int) -> str:
    return format(value, "08b")


def solve_instance(instance: BitInstance) -> Solution:
    inputs = [int(a, 2) for a, _ in instance.examples]
    outputs = [int(b, 2) for _, b in instance.examples]
    query = int(instance.query, 2)
    rules = fitting_rules(inputs, outputs, query)  # in simplicity order
    if not rules:
        return _solve_per_bit(instance)
    answers = [answer for _, _, answer in rules]
    votes = Counter(answers)
    # ``votes`` holds the answers in the order of their simplest explaining rules: a lower rank is simpler.
    rank = {a: i for i, a in enumerate(votes)}
    value = max(votes, key=lambda a: (votes[a], -rank[a]))
    answer = bits(value)
    function, atoms, _ = rules[answers.index(value)]
    rule = Rule(function, atoms)
    status = Status.SOLVED if len(votes) == 1 else Status.AMBIGUOUS
    text = f"out = {rule.text}"
    if status is Status.AMBIGUOUS:
        ranked = [f"{bits(a)} ({count})" for a, count in votes.most_common(_LISTED_ANSWERS)]
        if len(votes) > _LISTED_ANSWERS:
            ranked.append(f"{len(votes) - _LISTED_ANSWERS} more")
        text += f"; {len(rules)} rules fit and disagree on the query; took the answer most give: {', '.join(ranked)}"
    return Solution(
        answer,
        status,
        text,
        {
            "method": "word",
            "rule": rule.text,
            "rules_fitting": len(rules),
            "candidates": {bits(a): count for a, count in votes.most_common()},
        },
    )


def _solve_per_bit(instance: BitInstance) -> Solution:
    inputs = [a for a, _ in instance.examples]
    outputs = [b for _, b in instance.examples]
    result = solve_by_columns(inputs, outputs, instance.query)
    if result is None:
        return Solution.unsolved("no whole-word rule fits, and some output bit fits no per-bit expression")
    status = Status.AMBIGUOUS if result.ambiguous_bits else Status.SOLVED
    text = "per output bit: " + "; ".join(f"o{i} = {r}" for i, r in enumerate(result.rules))
    if result.ambiguous_bits:
        text += f"; bits {list(result.ambiguous_bits)} chosen by majority of the simplest fitting expressions"
    return Solution(
        result.answer,
        status,
        text,
        {"method": "per-bit", "bit_rules": list(result.rules), "ambiguous_bits": list(result.ambiguous_bits)},
    )


def render(instance: BitInstance) -> str:
    """The competition's prompt text for an instance (``parse`` inverts it)."""
    examples = "\n".join(f"{a} -> {b}" for a, b in instance.examples)
    return f"{_INTRO}{examples}{_QUERY_LINE}{instance.query}"


def sample_rule(
    rng: random.Random, kinds: Sequence[str] | Mapping[str, float] = DEFAULT_KIND_WEIGHTS
) -> Rule:
    """A rule drawn uniformly among the canonical rules of one kind; the kind is drawn from ``kinds``,
    uniformly from a sequence or by weight from a mapping."""
    if isinstance(kinds, Mapping):
        kind = rng.choices(list(kinds), weights=list(kinds.values()))[0]
    else:
        kind = rng.choice(list(kinds))
    if kind == "atom":
        return Rule(None, (rng.randrange(len(ATOMS)),))
    function = FUNCTION_BY_NAME[kind]
    args = rng.sample(range(len(ATOMS)), function.arity)
    if function.fully_symmetric:
        args.sort()
    elif function.symmetric_prefix:
        args[:2] = sorted(args[:2])
    return Rule(kind, tuple(args))


def generate_instance(
    rng: random.Random,
    *,
    kinds: Sequence[str] | Mapping[str, float] = DEFAULT_KIND_WEIGHTS,
    n_examples: int | None = None,
    deducible: bool = False,
) -> tuple[BitInstance, Rule]:
    """A new instance and its secret rule.

    Inputs are distinct uniform bytes and the query differs from every example input, as in dev.csv.
    ``deducible`` redraws the examples until every fitting rule agrees on the query (and, after a few
    tries, the rule: so it leans towards rules that few examples pin down).
    """
    for kind in kinds:
        if kind not in RULE_KINDS:
            raise ValueError(f"unknown bit rule kind {kind!r}; known: {', '.join(RULE_KINDS)}")
    if n_examples is not None and not 1 <= n_examples <= 255:
        raise ValueError(f"n_examples must be between 1 and 255, got {n_examples}")
    while True:
        rule = sample_rule(rng, kinds)
        # Some rules are hard to pin down with few examples; after a few tries another rule is drawn.
        for _ in range(_TRIES_PER_RULE):
            count = n_examples if n_examples is not None else rng.choice(EXAMPLE_COUNTS)
            values = rng.sample(range(256), count + 1)
            examples = tuple((bits(v), bits(rule.apply(v))) for v in values[:-1])
            instance = BitInstance(examples, bits(values[-1]))
            if not deducible or solve_instance(instance).status is Status.SOLVED:
                return instance, rule


class Bit(FixedWording):
    name = "bit"
    shape = PromptShape("bit", _HEADER, _EXAMPLE, _QUERY)

    def parse(self, prompt: str) -> BitInstance:
        examples, (query,) = self.shape.split(prompt)
        return BitInstance(tuple(examples), query)

    def solve(self, instance: BitInstance) -> Solution:
        return solve_instance(instance)

    def prepare(self) -> None:
        """Build the rule search's pattern tables for every input byte now (a few milliseconds)."""
        prepare_tables()

    def generate(
        self,
        rng: random.Random,
        *,
        kinds: Sequence[str] | Mapping[str, float] = DEFAULT_KIND_WEIGHTS,
        n_examples: int | None = None,
        deducible: bool = False,
    ) -> Puzzle:
        """A puzzle in the competition's text. Knobs: ``kinds`` (the complexity knob: rule kinds to draw
        from, a sequence drawn uniformly or a mapping kind -> weight; kinds are "atom", "and", "or",
        "xor", "maj", "par3", "ch", "sel_nand_xnor", "ao", "oa", "ax", "ox", "xa", "xo"; default
        :data:`DEFAULT_KIND_WEIGHTS`), ``n_examples`` (default: 7–10 at random), ``deducible`` (only puzzles whose
        examples determine the answer)."""
        return self.generate_solved(rng, kinds=kinds, n_examples=n_examples, deducible=deducible)[0]

    def generate_solved(
        self,
        rng: random.Random,
        *,
        kinds: Sequence[str] | Mapping[str, float] = DEFAULT_KIND_WEIGHTS,
        n_examples: int | None = None,
        deducible: bool = False,
    ) -> tuple[Puzzle, Solution]:
        """:meth:`generate`'s puzzle (same draws) with a solution stating the generator's own rule, which
        fits every example by construction: a trace can render it without searching the grammar."""
        instance, rule = generate_instance(rng, kinds=kinds, n_examples=n_examples, deducible=deducible)
        answer = bits(rule.apply(int(instance.query, 2)))
        solution = Solution(
            answer, Status.SOLVED, f"out = {rule.text}", {"method": "word", "rule": rule.text}
        )
        return Puzzle("", render(instance), answer), solution

    def trace(self, instance: BitInstance, solution: Solution) -> str | None:
        return bit_trace.trace(instance, solution)

    def replay(self, instance: BitInstance, trace: str) -> str:
        return bit_trace.replay(instance, trace)


FAMILY = Bit()
