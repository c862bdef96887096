"""The stepwise bit tracer: its search on hand-built rules, its vote, replay, the step-kind contract."""

from __future__ import annotations

import random
import re
from collections import Counter

import pytest

from reasonlab.puzzles.audit import audit_trace
from reasonlab.puzzles.families._synthesis import TraceError
from reasonlab.puzzles.families.bit import FAMILY, BitInstance, render
from reasonlab.puzzles.families.bit_grammar import parse_rule
from reasonlab.puzzles.trace_style import Tracer, get_tracer
from reasonlab.puzzles.traces.bit import STEPWISE, TIE_BREAK


def _instance(rule_text: str, seed: int = 0, n: int = 10) -> tuple[BitInstance, str]:
    """Ten distinct random inputs under a written rule, and the rule's answer for the query."""
    rule = parse_rule(rule_text)
    values = random.Random(seed).sample(range(256), n + 1)
    examples = tuple((format(v, "08b"), format(rule.apply(v), "08b")) for v in values[:-1])
    query = values[-1]
    return BitInstance(examples, format(query, "08b")), format(rule.apply(query), "08b")


def _answer(trace: str) -> str:
    return re.fullmatch(r"\\boxed\{([01]{8})\}", trace.splitlines()[-1]).group(1)


def _fitting_sets(trace: str) -> list[str]:
    return re.findall(r"^fits (\S+)$", trace, re.M)


def _round_of_first_fit(trace: str) -> int:
    lines = trace.splitlines()
    first_fit = next(
        i for i, line in enumerate(lines) if line.startswith("fits ") or line.startswith("Round 0")
    )
    rounds = [int(m.group(1)) for line in lines[:first_fit] if (m := re.match(r"Round (\d)", line))]
    return rounds[-1] if rounds else 0


def _assert_contract(instance: BitInstance, trace: str) -> None:
    assert audit_trace(render(instance), trace, STEPWISE).violations == ()


@pytest.mark.parametrize(
    ("rule", "fitting"),
    [
        ("shl2(x)", "shl2"),
        ("shr3(x)", "shr3"),
        ("rol5(x)", "rol5"),
        ("not(x)", "x"),
        ("not(shr1(x))", "shr1"),
    ],
)
def test_one_word_rules_fit_in_the_first_round(rule, fitting):
    instance, expected = _instance(rule)
    trace = STEPWISE.trace(instance)
    assert _round_of_first_fit(trace) == 1
    assert _fitting_sets(trace) == [fitting]
    assert _answer(trace) == expected
    _assert_contract(instance, trace)


def test_a_negation_is_read_off_the_table():
    instance, _ = _instance("not(x)")
    trace = STEPWISE.trace(instance)
    assert "table: 0=1 1=0; unseen=0" in trace.splitlines()


@pytest.mark.parametrize(
    "rule",
    ["and(shl1(x), rol3(x))", "or(x, shr2(x))", "xor(not(shl1(x)), rol4(x))", "xor(shr2(x), rol5(x))"],
)
def test_two_word_functions_fit_in_the_second_round(rule):
    instance, expected = _instance(rule)
    trace = STEPWISE.trace(instance)
    assert _round_of_first_fit(trace) == 2
    assert _answer(trace) == expected
    _assert_contract(instance, trace)


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        ("maj(x, shl1(x), rol2(x))", "x,shl1,rol2"),
        ("ch(shr1(x), x, rol3(x))", "x,shr1,rol3"),
        ("xo(x, not(shl2(x)), shr3(x))", "x,shl2,shr3"),
        ("par3(x, shl3(x), rol5(x))", "x,shl3,rol5"),
        ("sel_nand_xnor(rol1(x), shl4(x), not(shr2(x)))", "shl4,shr2,rol1"),
    ],
)
def test_three_word_functions_fit_in_the_third_round(rule, words):
    instance, expected = _instance(rule)
    trace = STEPWISE.trace(instance)
    assert _round_of_first_fit(trace) == 3
    assert words in _fitting_sets(trace)
    assert _answer(trace) == expected
    _assert_contract(instance, trace)


def test_constant_output_is_the_empty_set():
    instance, expected = _instance("and(x, not(x))")
    trace = STEPWISE.trace(instance)
    assert "Round 0: no output bit differs from another." in trace
    assert _answer(trace) == expected == "00000000"
    _assert_contract(instance, trace)


def _ambiguous_instance() -> BitInstance:
    """A generated puzzle with few examples on which the fitting sets split evenly on some answer bit,
    so that both the majority and the tie-break are exercised."""
    rng = random.Random(7)
    while True:
        instance = FAMILY.parse(FAMILY.generate(rng, n_examples=7).prompt)
        answers = re.findall(r"^c\d+ \S+: ([01]{8})$", STEPWISE.trace(instance), re.M)
        ones = [sum(a[i] == "1" for a in answers) for i in range(8)]
        if len(answers) > 2 and any(2 * count == len(answers) for count in ones):
            return instance


def test_ambiguous_rows_list_the_candidates_and_vote_per_bit():
    instance = _ambiguous_instance()
    trace = STEPWISE.trace(instance)
    lines = trace.splitlines()
    answers = re.findall(r"^c\d+ \S+: ([01]{8})$", trace, re.M)
    assert TIE_BREAK in lines
    assert lines.index(TIE_BREAK) > max(i for i, line in enumerate(lines) if re.match(r"c\d+ ", line))
    voted = ""
    for position in range(8):
        votes = Counter(a[position] for a in answers)
        voted += answers[0][position] if votes["1"] == votes["0"] else votes.most_common(1)[0][0]
    assert _answer(trace) == voted
    _assert_contract(instance, trace)


def test_same_prompt_same_bytes():
    instance, _ = _instance("maj(x, shl1(x), rol2(x))")
    reparsed = FAMILY.parse(render(instance))
    assert STEPWISE.trace(instance) == STEPWISE.trace(reparsed) == STEPWISE.trace(instance)


def test_replay_returns_the_traced_answer():
    instance, expected = _instance("xor(shr2(x), rol5(x))")
    trace = STEPWISE.trace(instance)
    assert STEPWISE.replay(instance, trace) == expected


@pytest.mark.parametrize(
    "tamper",
    [
        lambda lines: [
            line.replace("fits ", "fits x,") if line.startswith("fits ") else line for line in lines
        ],
        lambda lines: lines[:5] + lines[6:],
        lambda lines: (
            lines[:-1] + ["\\boxed{" + "".join("1" if b == "0" else "0" for b in lines[-1][7:15]) + "}"]
        ),
        lambda lines: [
            re.sub(r"=([01])$", lambda m: "=" + str(1 - int(m.group(1))), line)
            if line.startswith("o3:")
            else line
            for line in lines
        ],
        lambda lines: [re.sub(r" d ([01]{8})", " d 00000001", line, count=1) for line in lines],
    ],
    ids=["fitting-set", "dropped-line", "boxed-answer", "table-cell", "pair-xor"],
)
def test_replay_rejects_tampered_traces(tamper):
    instance, _ = _instance("xo(x, shl2(x), shr3(x))")
    lines = STEPWISE.trace(instance).splitlines()
    tampered = tamper(lines)
    assert tampered != lines
    with pytest.raises(TraceError):
        STEPWISE.replay(instance, "\n".join(tampered))


def test_generated_puzzles_keep_the_contract():
    rng = random.Random(3)
    for _ in range(40):
        puzzle = FAMILY.generate(rng)
        instance = FAMILY.parse(puzzle.prompt)
        trace = STEPWISE.trace(instance)
        assert audit_trace(puzzle.prompt, trace, STEPWISE).violations == ()
        assert STEPWISE.replay(instance, trace) == _answer(trace)


def test_registered_as_the_bit_stepwise_tracer():
    tracer = get_tracer("bit", "stepwise")
    assert tracer is STEPWISE
    assert isinstance(tracer, Tracer)


def test_dev_rows_are_traced_correctly_within_the_budget(dev_puzzles):
    pytest.importorskip("mistral_common")
    from reasonlab.grader import MAX_TOKENS, extract, verify
    from reasonlab.prompting import user_prompt
    from reasonlab.synth.records import assistant_text
    from reasonlab.synth.tokens import cached_counter

    counter = cached_counter("tekken")
    rows = [p for p in dev_puzzles if FAMILY.matches(p.prompt)]
    good = 0
    for puzzle in rows:
        instance = FAMILY.parse(puzzle.prompt)
        trace = STEPWISE.trace(instance)
        if trace is None or not audit_trace(puzzle.prompt, trace, STEPWISE).ok:
            continue
        answer = STEPWISE.replay(instance, trace)
        turn = assistant_text(trace, answer)
        prompt_tokens, turn_tokens = counter.count([user_prompt(puzzle.prompt), turn])
        good += verify(puzzle.answer, extract(turn)) and prompt_tokens + turn_tokens <= MAX_TOKENS
    assert good / len(rows) >= 0.985
