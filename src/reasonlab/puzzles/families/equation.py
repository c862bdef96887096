"""Equations: ``AB?CD = result`` where each operator character has a secret meaning.

Subtypes: *numeric* (operands are digits) or *symbolic* (digits hidden behind symbols), each either
*deduce* (the query's operator occurs in the examples) or *guess* (it does not).

The pieces: ``equation_rules`` (the 24 rules as data), ``equation_numeric`` and ``equation_symbolic``
(the two searches), ``equation_priors`` (the learned prior that weighs hypotheses), ``equation_vote``
(weighted answers and status), ``equation_synth`` (the generator) and ``equation_trace`` (traces and
their replay).
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from reasonlab.grader import verify
from reasonlab.puzzles.families import equation_synth, equation_trace
from reasonlab.puzzles.families.equation_numeric import hypotheses as numeric_hypotheses
from reasonlab.puzzles.families.equation_numeric import solve_numeric
from reasonlab.puzzles.families.equation_priors import RulePriors, count_rules, default_priors
from reasonlab.puzzles.families.equation_rules import INVENTORY, Rule
from reasonlab.puzzles.families.equation_symbolic import (
    constraint,
    printable_table,
    signature_index,
    solve_given,
    solve_symbolic,
)
from reasonlab.puzzles.families.equation_symbolic import hypotheses as symbolic_hypotheses
from reasonlab.puzzles.types import Puzzle, Solution

_HEADER = "In Alice's Wonderland, a secret set of transformation rules is applied to equations."
_EXAMPLE = re.compile(r"^(\S{5}) = (.*)$", re.M)
_QUERY = re.compile(r"Now, determine the result for: (\S{5})\s*$")


@dataclass(frozen=True, slots=True)
class Equation:
    left: str  # two characters
    operator: str  # one character
    right: str  # two characters

    @classmethod
    def from_text(cls, text: str) -> Equation:
        if len(text) != 5:
            raise ValueError(f"an equation's left side has 5 characters, not {text!r}")
        return cls(text[:2], text[2], text[3:])

    @property
    def text(self) -> str:
        return self.left + self.operator + self.right


@dataclass(frozen=True, slots=True)
class EquationInstance:
    examples: tuple[tuple[Equation, str], ...]  # (left-hand side, result as printed)
    query: Equation

    @property
    def numeric(self) -> bool:
        return (
            all((eq.left + eq.right).isdigit() for eq, _ in self.examples)
            and (self.query.left + self.query.right).isdigit()
        )

    @property
    def deducible(self) -> bool:
        return any(eq.operator == self.query.operator for eq, _ in self.examples)


class EquationFamily:
    name = "equation"

    def matches(self, prompt: str) -> bool:
        return prompt.startswith(_HEADER)

    def parse(self, prompt: str) -> EquationInstance:
        body = prompt.split("\n", 1)[1] if "\n" in prompt else ""
        examples = tuple((Equation.from_text(lhs), rhs) for lhs, rhs in _EXAMPLE.findall(body))
        query = _QUERY.search(prompt)
        if not examples or query is None:
            raise ValueError("equation prompt without 'AB?CD = result' examples or a query line")
        return EquationInstance(examples, Equation.from_text(query.group(1)))

    def subtype(self, instance: EquationInstance) -> str:
        kind = "numeric" if instance.numeric else "symbolic"
        return f"{kind}-{'deduce' if instance.deducible else 'guess'}"

    def hypotheses(self, instance: EquationInstance) -> Iterator[tuple[dict[str, Rule], str | None, float]]:
        """(rule per operator, answer to the query, share) for every hypothesis fitting the examples;
        the share splits a symbolic hypothesis over the digits its query symbols may take. The symbolic
        search stops at the solver's fixed budgets (digit maps, search steps), never on the clock, so the
        enumeration is the same on every machine."""
        if instance.numeric:
            for rules, answer in numeric_hypotheses(instance):
                yield rules, answer, 1.0
            return
        found, _ = symbolic_hypotheses(instance)
        for rules, answer, share, _digits in found:
            yield rules, answer, share

    def solve(self, instance: EquationInstance, priors: RulePriors | None = None) -> Solution:
        """Vote over every hypothesis fitting the examples, weighted by ``priors`` (default: shipped)."""
        priors = priors or default_priors()
        if instance.numeric:
            return solve_numeric(instance, priors)
        return solve_symbolic(instance, priors)

    def prepare(self) -> None:
        """Build the symbolic solver's signature index and printable result tables, and load the shipped
        priors, now: once per process (a few tenths of a second), shared by the workers forked after."""
        signature_index()
        for rule in INVENTORY:
            if not rule.is_join:
                printable_table(rule.name)
        default_priors()

    def prepare_prompts(self, prompts: list[str]) -> None:
        """Build the option tables of the symbolic examples in ``prompts`` (a prompt that does not parse
        is left to its solve, which reports it)."""
        for prompt in prompts:
            try:
                instance = self.parse(prompt)
            except ValueError:
                continue
            if not instance.numeric:
                for equation, result in instance.examples:
                    constraint(equation, result)

    def generate(
        self, rng: random.Random, *, subtype: str | None = None, n_examples: int | None = None
    ) -> Puzzle:
        """A new puzzle of ``subtype`` (numeric|symbolic-deduce|guess; default: the development data's
        shares) with ``n_examples`` examples (default 3-5); see :mod:`equation_synth`."""
        return equation_synth.generate(rng, default_priors(), subtype=subtype, n_examples=n_examples)

    def generate_solved(
        self, rng: random.Random, *, subtype: str | None = None, n_examples: int | None = None
    ) -> tuple[Puzzle, Solution | None]:
        """:meth:`generate`'s puzzle and, for symbolic puzzles, the solver's vote given the generator's own
        digit map and rules (:func:`solve_given`): the expensive search over digit maps is skipped.
        Numeric puzzles get None: their solver is cheap and exact."""
        priors = default_priors()
        puzzle, digits, rules = equation_synth.generate_with_rules(
            rng, priors, subtype=subtype, n_examples=n_examples
        )
        if digits is None:
            return puzzle, None
        return puzzle, solve_given(self.parse(puzzle.prompt).query, digits, rules, priors)

    def trace(self, instance: EquationInstance, solution: Solution | None = None) -> str | None:
        """Each operator's rule checked on its examples, the digit map for symbolic puzzles, the query."""
        return equation_trace.trace(instance, solution or self.solve(instance))

    def replay(self, instance: EquationInstance, trace: str) -> str:
        return equation_trace.replay(instance, trace)


FAMILY = EquationFamily()


def learn_priors(puzzles: Iterable[Puzzle]) -> RulePriors:
    """Rule priors from labelled equation rows: per row, the rule assignments that fit its examples
    and its gold answer (found by the solver's own search), counted by :func:`count_rules`."""

    def explained():
        for puzzle in puzzles:
            if puzzle.answer is None or not FAMILY.matches(puzzle.prompt):
                continue
            instance = FAMILY.parse(puzzle.prompt)
            fitting: dict[tuple, float] = defaultdict(float)
            for rules, answer, share in FAMILY.hypotheses(instance):
                if answer is not None and verify(puzzle.answer, answer):
                    fitting[tuple(sorted(rules.items()))] += share
            yield instance.numeric, fitting

    return count_rules(explained())
