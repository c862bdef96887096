"""Equation accuracy on the development data, per subtype (skipped where the data is absent)."""

from __future__ import annotations

from reasonlab.grader import verify
from reasonlab.puzzles.families.equation import FAMILY

# measured (shipped priors, learned on all of dev.csv): numeric-deduce 0.969, numeric-guess 0.516,
# symbolic-deduce 0.741, symbolic-guess 0.361; out of sample (2-fold, benchmarks/bench_equation.py
# --cross-validate): numeric-deduce 0.963, numeric-guess 0.526
TARGETS = {"numeric-deduce": 0.96, "numeric-guess": 0.50, "symbolic-deduce": 0.72, "symbolic-guess": 0.30}


def test_dev_accuracy_per_subtype(dev_puzzles):
    scores: dict[str, list[bool]] = {subtype: [] for subtype in TARGETS}
    for puzzle in dev_puzzles:
        if not FAMILY.matches(puzzle.prompt):
            continue
        instance = FAMILY.parse(puzzle.prompt)
        answer = FAMILY.solve(instance).answer
        scores[FAMILY.subtype(instance)].append(answer is not None and verify(puzzle.answer, answer))
    measured = {subtype: sum(hits) / len(hits) for subtype, hits in scores.items()}
    assert all(measured[s] >= target for s, target in TARGETS.items()), measured
