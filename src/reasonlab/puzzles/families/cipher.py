"""Text cipher: one secret letter substitution, word-aligned, over a fixed 77-word vocabulary.

The examples reveal part of the substitution. Query letters never seen in the examples are filled by
matching each encrypted word against the vocabulary: a word fits when its letter pattern agrees with
the known part of the substitution and the substitution stays one-to-one. When several assignments of
vocabulary words fit the whole query, the solution is ambiguous and the most common word is chosen.
"""

from __future__ import annotations

import random
import re
import string
from dataclasses import dataclass
from itertools import product

from reasonlab.puzzles.families._shape import FixedWording, PromptShape
from reasonlab.puzzles.families._synthesis import (
    EVEN_COUNTS,
    boxed,
    example_count,
    expect,
    final_boxed,
    match_line,
    prompt_text,
    trace_lines,
)
from reasonlab.puzzles.types import Puzzle, Solution, Status

_HEADER = "In Alice's Wonderland, secret encryption rules are used on text."
_EXAMPLE = re.compile(r"^([a-z ]+) -> ([a-z ]+)$", re.M)
_QUERY = re.compile(r"Now, decrypt the following text: ([a-z ]+?)\s*$")


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# The sentence grammar of the development data: every sentence has one of four shapes, each word
# drawn from its class (two words belong to two classes: "secret", and the places that are also objects).
SUBJECTS = _words(
    "alice bird cat dragon hatter king knight mouse princess queen rabbit student teacher turtle wizard"
)
VERBS = _words(
    "chases creates discovers draws dreams explores follows found imagines reads sees studies watches writes"
)
ADJECTIVES = _words(
    "ancient bright clever colorful curious dark golden hidden magical mysterious secret silver strange wise"
)
OBJECTS = _words(
    "book castle crystal door forest garden key map message mirror potion puzzle secret story treasure"
)
PREPOSITIONS = _words("above around beyond in inside near through under")
PLACES = _words(
    "castle cave forest garden island library mountain ocean palace school tower valley village wonderland"
)
SENTENCE_SHAPES: tuple[tuple[tuple[str, ...], ...], ...] = (
    (SUBJECTS, VERBS, OBJECTS),  # "mouse chases mirror"
    (SUBJECTS, VERBS, ("the",), ADJECTIVES, OBJECTS),  # "knight draws the golden map"
    (("the",), ADJECTIVES, SUBJECTS, VERBS),  # "the wise bird reads"
    (SUBJECTS, VERBS, PREPOSITIONS, PLACES),  # "mouse imagines in palace"
)
# Every plaintext word the generator uses (all 77 occur among the examples of the development data).
VOCABULARY: tuple[str, ...] = tuple(
    sorted({word for shape in SENTENCE_SHAPES for cls in shape for word in cls})
)
# The vocabulary by word length, in vocabulary order: a word can only decrypt to one of its length.
_VOCABULARY_BY_LENGTH: dict[int, tuple[str, ...]] = {
    length: tuple(word for word in VOCABULARY if len(word) == length) for length in map(len, VOCABULARY)
}

_MAX_JOINT_ASSIGNMENTS = 10_000

_MAP_LINE = re.compile(r"Letter map from the examples \(cipher>plain\): (.+)")
_WORD_LINE = re.compile(
    r"([a-z]+): ((?:[a-z]>[a-z?] ?)+) = ([a-z?]+)(?:; the only vocabulary word that fits: ([a-z]+))?"
)


@dataclass(frozen=True, slots=True)
class CipherInstance:
    examples: tuple[tuple[str, str], ...]  # (ciphertext, plaintext)
    query: str


def learn_substitution(examples: tuple[tuple[str, str], ...]) -> dict[str, str]:
    """cipher letter -> plain letter, from aligned examples; raises if the examples contradict."""
    mapping: dict[str, str] = {}
    for cipher, plain in examples:
        if len(cipher) != len(plain):
            raise ValueError(f"example lengths differ: {cipher!r} -> {plain!r}")
        for c, p in zip(cipher, plain, strict=True):
            if mapping.setdefault(c, p) != p:
                raise ValueError(f"cipher letter {c!r} maps to both {mapping[c]!r} and {p!r}")
    return mapping


def _fits(word: str, candidate: str, mapping: dict[str, str], used_plain: set[str]) -> dict[str, str] | None:
    """The new letter pairs that make ``word`` decrypt to ``candidate``, or None if impossible."""
    if len(word) != len(candidate):
        return None
    new: dict[str, str] = {}
    for c, p in zip(word, candidate, strict=True):
        known = mapping.get(c) or new.get(c)
        if known is not None:
            if known != p:
                return None
        elif p in used_plain or p in new.values():
            return None
        else:
            new[c] = p
    return new


def _sentence(rng: random.Random) -> str:
    return " ".join(rng.choice(word_class) for word_class in rng.choice(SENTENCE_SHAPES))


def _encrypt(text: str, key: dict[str, str]) -> str:
    return "".join(key.get(ch, ch) for ch in text)


def _candidates(word: str) -> tuple[str, ...]:
    """The vocabulary words of ``word``'s length (the only ones :func:`_fits` can accept), in order."""
    return _VOCABULARY_BY_LENGTH.get(len(word), ())


def _vocabulary_fits(word: str, mapping: dict[str, str]) -> list[tuple[str, dict[str, str]]]:
    """Vocabulary words ``word`` can decrypt to under ``mapping``, with the letter pairs each adds."""
    used = set(mapping.values())
    fits = ((candidate, _fits(word, candidate, mapping, used)) for candidate in _candidates(word))
    return [(candidate, new) for candidate, new in fits if new is not None]


class Cipher(FixedWording):
    name = "cipher"
    shape = PromptShape("cipher", _HEADER, _EXAMPLE, _QUERY)

    def parse(self, prompt: str) -> CipherInstance:
        examples, (query,) = self.shape.split(prompt)
        return CipherInstance(tuple(examples), query)

    def solve(self, instance: CipherInstance) -> Solution:
        mapping = learn_substitution(instance.examples)
        used_plain = set(mapping.values())
        words = instance.query.split()
        per_word = [
            [cand for cand in _candidates(w) if _fits(w, cand, mapping, used_plain) is not None]
            for w in words
        ]
        unseen = sorted({c for c in instance.query if c != " " and c not in mapping})
        if any(not cands for cands in per_word):
            missing = [w for w, cands in zip(words, per_word, strict=True) if not cands]
            direct = " ".join("".join(mapping.get(c, "?") for c in w) for w in words)
            return Solution(
                answer=direct,
                status=Status.UNSOLVED,
                rule=f"no vocabulary word fits {missing}",
                details={"unseen_letters": unseen},
            )
        joint = self._joint_assignments(words, per_word, mapping, used_plain)
        answers = sorted({" ".join(a) for a in joint})
        answer = answers[0] if len(answers) == 1 else self._most_plausible(joint)
        fills = {
            c: p
            for w, d in zip(words, answer.split(), strict=True)
            for c, p in zip(w, d, strict=True)
            if c in unseen
        }
        return Solution(
            answer=answer,
            status=Status.SOLVED if len(answers) == 1 else Status.AMBIGUOUS,
            rule=f"letter substitution ({len(mapping)} letters from examples, {len(unseen)} filled from vocabulary)",
            details={"unseen_letters": unseen, "filled": fills, "candidates": answers[:10]},
        )

    @staticmethod
    def _joint_assignments(words, per_word, mapping, used_plain) -> list[tuple[str, ...]]:
        """Word choices that are consistent with one another (one substitution for the whole query)."""
        found: list[tuple[str, ...]] = []
        for combo in product(*per_word):
            extended, used = dict(mapping), set(used_plain)
            for w, cand in zip(words, combo, strict=True):
                new = _fits(w, cand, extended, used)
                if new is None:
                    break
                extended.update(new)
                used.update(new.values())
            else:
                found.append(combo)
            if len(found) >= _MAX_JOINT_ASSIGNMENTS:
                break
        return found

    @staticmethod
    def _most_plausible(joint: list[tuple[str, ...]]) -> str:
        # Prefer the assignment whose words are most often chosen across the consistent ones,
        # ties broken alphabetically so the choice is reproducible.
        counts: dict[str, int] = {}
        for combo in joint:
            for w in combo:
                counts[w] = counts.get(w, 0) + 1
        best = min(joint, key=lambda combo: (-sum(counts[w] for w in combo), combo))
        return " ".join(best)

    def generate(self, rng: random.Random, *, n_examples: int | None = None) -> Puzzle:
        """A puzzle with ``n_examples`` encrypted sentences (default 3-5) under a random substitution."""
        letters = list(string.ascii_lowercase)
        key = dict(zip(letters, rng.sample(letters, len(letters)), strict=True))
        sentences = [_sentence(rng) for _ in range(example_count(rng, n_examples, EVEN_COUNTS))]
        query = _sentence(rng)
        prompt = prompt_text(
            f"{_HEADER} Here are some examples:",
            [f"{_encrypt(s, key)} -> {s}" for s in sentences],
            f"Now, decrypt the following text: {_encrypt(query, key)}",
        )
        return Puzzle("", prompt, query)

    def trace(self, instance: CipherInstance, solution: Solution | None = None) -> str | None:
        """The letter map the examples show, then the query word by word; a word with letters the
        examples never show is completed from the vocabulary, when exactly one word fits it.
        None when the examples contradict each other or a word admits several completions."""
        try:
            mapping = learn_substitution(instance.examples)
        except ValueError:
            return None
        mapping.pop(" ", None)
        lines = [
            "Letter map from the examples (cipher>plain): "
            + " ".join(f"{c}>{p}" for c, p in sorted(mapping.items()))
        ]
        words = []
        for word in instance.query.split():
            pairs = " ".join(f"{c}>{mapping.get(c, '?')}" for c in word)
            partial = "".join(mapping.get(c, "?") for c in word)
            line = f"{word}: {pairs} = {partial}"
            if "?" in partial:
                fits = _vocabulary_fits(word, mapping)
                if len(fits) != 1:
                    return None
                plain, new_pairs = fits[0]
                mapping.update(new_pairs)
                line += f"; the only vocabulary word that fits: {plain}"
            elif partial not in VOCABULARY:
                return None
            words.append(partial if "?" not in partial else plain)
            lines.append(line)
        lines.append(boxed(" ".join(words)))
        return "\n".join(lines)

    def replay(self, instance: CipherInstance, trace: str) -> str:
        lines = trace_lines(trace)
        query_words = instance.query.split()
        expect(len(lines) == len(query_words) + 2, "cipher trace: map line, one line per word, boxed answer")
        shown = dict(pair.split(">") for pair in match_line(_MAP_LINE, lines[0]).group(1).split(" "))
        learned = learn_substitution(instance.examples)
        learned.pop(" ", None)
        expect(shown == learned, "the letter map is not the one the examples show")
        mapping = dict(shown)
        words = []
        for word, line in zip(query_words, lines[1:-1], strict=True):
            step = match_line(_WORD_LINE, line)
            expect(step.group(1) == word, f"expected the query word {word!r}, got {step.group(1)!r}")
            pairs = [tuple(pair.split(">")) for pair in step.group(2).split()]
            expect([c for c, _ in pairs] == list(word), f"{line!r} does not spell {word!r} letter by letter")
            for c, p in pairs:
                expect(
                    mapping.get(c, "?") == p, f"{c}>{p} disagrees with the map ({c}>{mapping.get(c, '?')})"
                )
            partial = "".join(p for _, p in pairs)
            expect(step.group(3) == partial, f"{step.group(2)} spells {partial}, not {step.group(3)}")
            if "?" in partial:
                fits = _vocabulary_fits(word, mapping)
                expect(
                    len(fits) == 1 and fits[0][0] == step.group(4),
                    f"{step.group(4)!r} is not the one word fitting {partial}",
                )
                mapping.update(fits[0][1])
                words.append(fits[0][0])
            else:
                expect(
                    step.group(4) is None and partial in VOCABULARY, f"{partial!r} is not a vocabulary word"
                )
                words.append(partial)
        answer = " ".join(words)
        expect(final_boxed(lines) == answer, "the boxed answer is not the decrypted words")
        return answer


FAMILY = Cipher()
