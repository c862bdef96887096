"""Round trip (generator gold = solver answer) and proven traces, for every family with a generator.

Families gain generators over time; until then their tests are skipped with "no generator yet".
"""

from __future__ import annotations

import os
import random
from collections import Counter

import pytest

from reasonlab.grader import verify
from reasonlab.puzzles.families import FAMILY_NAMES, get_family
from reasonlab.puzzles.types import Status
from reasonlab.synth.check import Rejection, can_generate, check_trace, trace_puzzle

# Families whose solvers are fast enough to check 10,000 puzzles in the always-on suite.
FAST = {"gravity": 10_000, "unit": 10_000, "cipher": 10_000, "numeral": 10_000}
SMALL = 300
TRACE_PROBLEMS = {Rejection.TRACE_FAILED, Rejection.MISCLASSIFIED, Rejection.UNPARSABLE, Rejection.ERROR}


def _family_or_skip(name: str):
    family = get_family(name)
    if not can_generate(family):
        pytest.skip(f"{name}: no generator yet")
    return family


def _generated(name: str, count: int):
    rng = random.Random(f"round-trip:{name}")
    family = get_family(name)
    return [family.generate(rng) for _ in range(count)]


def _round_trip(name: str, count: int) -> None:
    family = _family_or_skip(name)
    deducible = agree = 0
    for puzzle in _generated(name, count):
        solution = family.solve(family.parse(puzzle.prompt))
        if solution.status == Status.SOLVED:
            deducible += 1
            agree += verify(puzzle.answer, solution.answer)
    assert deducible > 0
    assert agree / deducible >= 0.995, (
        f"{name}: solver agrees with gold on {agree}/{deducible} deducible puzzles"
    )


def _traces_are_proven(name: str, count: int) -> Counter:
    _family_or_skip(name)
    outcomes = Counter()
    for puzzle in _generated(name, count):
        traced = trace_puzzle(puzzle, style="compact", expected_family=name)
        outcomes[traced.rejection] += 1
        assert traced.rejection not in TRACE_PROBLEMS, f"{puzzle.prompt}\n{traced.rejection}: {traced.detail}"
        if traced.trace is not None:
            family = get_family(name)
            assert check_trace(family, family.parse(puzzle.prompt), traced.trace, puzzle.answer).ok
    return outcomes


@pytest.mark.parametrize("name", FAMILY_NAMES)
def test_round_trip_small(name):
    _round_trip(name, FAST.get(name, SMALL))


@pytest.mark.parametrize("name", FAMILY_NAMES)
def test_every_emitted_trace_replays_and_verifies_small(name):
    outcomes = _traces_are_proven(name, min(FAST.get(name, SMALL), 2_000))
    if name in FAST:
        assert outcomes[None] / sum(outcomes.values()) >= 0.995, outcomes


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("REASONLAB_SLOW"), reason="minutes per family; set REASONLAB_SLOW=1")
@pytest.mark.parametrize("name", [n for n in FAMILY_NAMES if n not in FAST])
def test_round_trip_and_traces_on_10k(name):
    _round_trip(name, 10_000)
    _traces_are_proven(name, 10_000)


def _mutated(trace: str, rng: random.Random) -> str:
    """One digit or letter of the trace replaced by another of its kind."""
    positions = [i for i, ch in enumerate(trace) if ch.isalnum()]
    i = rng.choice(positions)
    pool = "0123456789" if trace[i].isdigit() else "abcdefghijklmnopqrstuvwxyz"
    if trace[i].isupper():
        pool = "IVXLCDM"
    replacement = rng.choice([ch for ch in pool if ch != trace[i]])
    return trace[:i] + replacement + trace[i + 1 :]


@pytest.mark.parametrize("name", sorted(FAST))
def test_a_corrupted_trace_fails_its_check(name):
    family = get_family(name)
    rng = random.Random(0)
    caught = total = 0
    for puzzle in _generated(name, 200):
        instance = family.parse(puzzle.prompt)
        trace = family.trace(instance, family.solve(instance))
        bad = _mutated(trace, rng)
        total += 1
        caught += not check_trace(family, instance, bad, puzzle.answer).ok
    assert caught == total


@pytest.mark.parametrize("name", sorted(FAST))
def test_real_dev_rows_get_proven_traces(name, dev_puzzles):
    family = get_family(name)
    rows = [p for p in dev_puzzles if family.matches(p.prompt)]
    outcomes = Counter(trace_puzzle(p, style="compact").rejection for p in rows)
    assert outcomes[None] / len(rows) >= 0.995, outcomes
