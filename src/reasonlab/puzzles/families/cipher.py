"""Text cipher: one secret letter substitution, word-aligned, over a fixed 77-word vocabulary.

The examples reveal part of the substitution. Query letters never seen in the examples are filled by
matching each encrypted word against the vocabulary: a word fits when its letter pattern agrees with
the known part of the substitution and the substitution stays one-to-one. When several assignments of
vocabulary words fit the whole query, the solution is ambiguous and the most common word is chosen.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import product

from reasonlab.puzzles.types import Solution, Status

_HEADER = "In Alice's Wonderland, secret encryption rules are used on text."
_EXAMPLE = re.compile(r"^([a-z ]+) -> ([a-z ]+)$", re.M)
_QUERY = re.compile(r"Now, decrypt the following text: ([a-z ]+?)\s*$")

# Every plaintext word the generator uses (all 77 occur among the examples of the development data).
VOCABULARY: tuple[str, ...] = tuple(
    "above alice ancient around beyond bird book bright castle cat cave chases clever colorful creates "
    "crystal curious dark discovers door dragon draws dreams explores follows forest found garden golden "
    "hatter hidden imagines in inside island key king knight library magical map message mirror mountain "
    "mouse mysterious near ocean palace potion princess puzzle queen rabbit reads school secret sees "
    "silver story strange student studies teacher the through tower treasure turtle under valley village "
    "watches wise wizard wonderland writes".split()
)

_MAX_JOINT_ASSIGNMENTS = 10_000


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


class Cipher:
    name = "cipher"

    def matches(self, prompt: str) -> bool:
        return prompt.startswith(_HEADER)

    def parse(self, prompt: str) -> CipherInstance:
        examples = tuple(_EXAMPLE.findall(prompt))
        query = _QUERY.search(prompt)
        if not examples or query is None:
            raise ValueError("cipher prompt without 'cipher -> plain' examples or a query line")
        return CipherInstance(examples, query.group(1))

    def subtype(self, instance: CipherInstance) -> None:
        return None

    def solve(self, instance: CipherInstance) -> Solution:
        mapping = learn_substitution(instance.examples)
        used_plain = set(mapping.values())
        words = instance.query.split()
        per_word = [
            [cand for cand in VOCABULARY if _fits(w, cand, mapping, used_plain) is not None] for w in words
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


FAMILY = Cipher()
