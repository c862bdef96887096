"""Generated puzzles against the development data: same templates, close distributions.

Statistics and thresholds (10,000 generated puzzles per family against the family's ~950 dev rows):
- templates: the set of line skeletons (values replaced by placeholders) is identical;
- example counts and answer lengths (cipher: in words, others: in characters): total variation
  distance < 0.05; answer lengths in characters: Kolmogorov-Smirnov statistic < 0.05;
- numeric inputs and outputs: two-sample Kolmogorov-Smirnov statistic < 0.05 (the 0.1% critical value
  for these sample sizes is about 0.06), and the inputs span the dev range, exceeding it by at most 1% of its width;
- cipher: every dev sentence fits the generator's grammar, and the four sentence shapes have shares
  within total variation 0.05 of the dev shares.
"""

from __future__ import annotations

import bisect
import random
import re
from collections import Counter

import pytest

from reasonlab.puzzles.classify import classify
from reasonlab.puzzles.families import get_family
from reasonlab.puzzles.families.cipher import SENTENCE_SHAPES, VOCABULARY

FAMILIES = ("gravity", "unit", "cipher", "numeral")
N_GENERATED = 10_000
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def _skeleton_line(family: str, line: str) -> str:
    if family == "cipher":
        line = re.sub(r"^[a-z ]+ -> [a-z ]+$", "<cipher> -> <plain>", line)
        line = re.sub(r"text: [a-z ]+$", "text: <cipher>", line)
    if family == "numeral":
        line = re.sub(r"-> [IVXLCDM]+$", "-> <numeral>", line)
    return _NUMBER.sub("#", line)


def skeletons(family: str, prompts) -> set[tuple[str, ...]]:
    return {tuple(_skeleton_line(family, line) for line in p.split("\n")) for p in prompts}


def total_variation(a, b) -> float:
    ca, cb = Counter(a), Counter(b)
    na, nb = sum(ca.values()), sum(cb.values())
    return 0.5 * sum(abs(ca[k] / na - cb[k] / nb) for k in set(ca) | set(cb))


def ks_statistic(a, b) -> float:
    a, b = sorted(a), sorted(b)
    return max(
        abs(bisect.bisect_right(a, x) / len(a) - bisect.bisect_right(b, x) / len(b)) for x in set(a) | set(b)
    )


def profile(family: str, puzzles) -> dict[str, list]:
    """Per-row statistics: example count, answer length, and the family's printed values."""
    fam = get_family(family)
    stats: dict[str, list] = {
        "examples": [],
        "answer_length": [],
        "answer_chars": [],
        "inputs": [],
        "outputs": [],
    }
    for p in puzzles:
        inst = fam.parse(p.prompt)
        stats["examples"].append(len(inst.examples))
        # cipher answers are measured in words (3-5), the others in characters
        stats["answer_length"].append(len(p.answer.split()) if family == "cipher" else len(p.answer))
        stats["answer_chars"].append(len(p.answer))
        if family in ("gravity", "unit"):
            stats["inputs"] += [float(x) for x, _ in inst.examples] + [float(inst.query)]
            stats["outputs"] += [float(y) for _, y in inst.examples] + [float(p.answer)]
        elif family == "numeral":
            stats["inputs"] += [n for n, _ in inst.examples] + [inst.query]
        else:
            stats["outputs"] += [plain for _, plain in inst.examples] + [p.answer]
    return stats


@pytest.fixture(scope="module")
def generated():
    out = {}
    for family in FAMILIES:
        rng = random.Random(f"fidelity:{family}")
        out[family] = [get_family(family).generate(rng) for _ in range(N_GENERATED)]
    return out


@pytest.fixture(scope="module")
def dev_by_family(dev_puzzles):
    groups: dict[str, list] = {}
    for p in dev_puzzles:
        groups.setdefault(classify(p.prompt).family, []).append(p)
    return groups


@pytest.mark.parametrize("family", FAMILIES)
def test_templates_are_identical_line_by_line(family, generated, dev_by_family):
    assert skeletons(family, (p.prompt for p in generated[family])) == skeletons(
        family, (p.prompt for p in dev_by_family[family])
    )


@pytest.mark.parametrize("family", FAMILIES)
def test_classifier_and_parser_accept_every_generated_puzzle(family, generated):
    assert all(classify(p.prompt).family == family for p in generated[family])


@pytest.mark.parametrize("family", FAMILIES)
def test_example_counts_and_answer_lengths_match_dev(family, generated, dev_by_family):
    ours, theirs = profile(family, generated[family]), profile(family, dev_by_family[family])
    assert set(ours["examples"]) == set(theirs["examples"])
    assert total_variation(ours["examples"], theirs["examples"]) < 0.05
    assert total_variation(ours["answer_length"], theirs["answer_length"]) < 0.05
    assert ks_statistic(ours["answer_chars"], theirs["answer_chars"]) < 0.05


@pytest.mark.parametrize("family", ["gravity", "unit", "numeral"])
def test_numeric_values_match_dev(family, generated, dev_by_family):
    ours, theirs = profile(family, generated[family]), profile(family, dev_by_family[family])
    low, high = min(theirs["inputs"]), max(theirs["inputs"])
    slack = 0.01 * (high - low)
    assert low - slack <= min(ours["inputs"]) <= low and high <= max(ours["inputs"]) <= high + slack
    assert ks_statistic(ours["inputs"], theirs["inputs"]) < 0.05
    if theirs["outputs"]:
        assert ks_statistic(ours["outputs"], theirs["outputs"]) < 0.05


def _shape_of(sentence: str) -> int | None:
    words = sentence.split()
    for index, shape in enumerate(SENTENCE_SHAPES):
        if len(shape) == len(words) and all(w in cls for w, cls in zip(words, shape, strict=True)):
            return index
    return None


def test_cipher_sentences_follow_the_dev_grammar(generated, dev_by_family):
    dev_sentences = profile("cipher", dev_by_family["cipher"])["outputs"]
    ours = profile("cipher", generated["cipher"])["outputs"]
    dev_shapes = [_shape_of(s) for s in dev_sentences]
    assert None not in dev_shapes
    assert {w for s in dev_sentences for w in s.split()} == set(VOCABULARY)
    assert total_variation([_shape_of(s) for s in ours], dev_shapes) < 0.05


def test_cipher_key_is_a_bijection_over_the_alphabet(generated):
    from reasonlab.puzzles.families.cipher import learn_substitution

    for p in generated["cipher"][:500]:
        mapping = learn_substitution(get_family("cipher").parse(p.prompt).examples)
        assert len(set(mapping.values())) == len(mapping)


@pytest.mark.parametrize("family", FAMILIES)
def test_same_seed_same_puzzles_and_knobs_apply(family):
    fam = get_family(family)
    first = [fam.generate(random.Random(7)) for _ in range(3)]
    again = [fam.generate(random.Random(7)) for _ in range(3)]
    assert first == again
    fixed = fam.generate(random.Random(1), n_examples=8)
    assert len(fam.parse(fixed.prompt).examples) == 8
