"""Stepwise cipher traces: letter pairs gathered word by word, then applied letter by letter.

Procedure:

1. ``pairs``: each example word against its plain word, spelled as cipher=plain letter pairs;
2. ``map``: after each example sentence, the letter map so far (the previous map plus that sentence's
   pairs, sorted by cipher letter), so that no pair is cited from far above;
3. ``unknown``: the query's letters the map lacks, written ``x=?``;
4. ``decode``: each query word, letter by letter through the map (``?`` for an unknown letter);
5. for a word with unknown letters, ``candidates``: every word of the same length in the 77-word
   vocabulary (a documented table, :data:`~reasonlab.puzzles.families.cipher.VOCABULARY`) with its
   score ``k/K`` = how many of the K known letters it matches, marked ``ok`` when k = K and every new
   letter it needs is still free (not a plain letter of the map, the same cipher letter always the same
   plain letter), ``taken`` when k = K but a letter is not free; then ``choose``: the first ``ok`` word in
   the listed (alphabetical) order, with the new pairs it adds to the map;
6. the decoded words, boxed.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

from reasonlab.puzzles.families._synthesis import boxed
from reasonlab.puzzles.families.cipher import VOCABULARY, CipherInstance, learn_substitution
from reasonlab.puzzles.trace_style import StepKind
from reasonlab.puzzles.traces._stepwise import ANSWER, replay_steps

PLAN = "Gather letter pairs (cipher=plain) word by word from the examples, then decrypt the query."
MAX_WORD = 12
_PAIR = r"[a-z]=[a-z]"

SECTION = StepKind(
    "section",
    re.compile(rf"(?P<title>{re.escape(PLAN)}|example (?P<example>\d+):|query:)"),
    "name the next part of the procedure (fixed wording)",
)
PAIRS = StepKind(
    "pairs",
    re.compile(rf"(?P<c_cipher>[a-z]+) -> (?P<c_plain>[a-z]+): (?P<pairs>{_PAIR}(?: {_PAIR})*)"),
    "spell an example word against its plain word, one cipher=plain pair per letter",
    lambda m: None if len(m.group("c_cipher")) <= MAX_WORD else f"word over {MAX_WORD} letters",
)
MAP = StepKind(
    "map",
    re.compile(rf"map: (?P<c_pairs>{_PAIR}(?: {_PAIR})*)"),
    "the letter map so far: the previous map and the pairs since, sorted by cipher letter",
)
UNKNOWN = StepKind(
    "unknown",
    re.compile(r"not in the map: (?P<unknown>(?:[a-z]=\?(?: [a-z]=\?)*|none))"),
    "the query's letters the map lacks",
)
DECODE = StepKind(
    "decode",
    re.compile(r"(?P<c_word>[a-z]+): (?P<c_pairs>[a-z]=[a-z?](?: [a-z]=[a-z?])*) -> (?P<plain>[a-z?]+)"),
    "decrypt a query word letter by letter through the map",
    lambda m: None if len(m.group("c_word")) <= MAX_WORD else f"word over {MAX_WORD} letters",
)
CANDIDATES = StepKind(
    "candidates",
    re.compile(
        r"(?P<c_partial>[a-z?]+) could be: (?P<scores>[a-z]+ \d+/\d+(?: ok| taken)?(?:, [a-z]+ \d+/\d+(?: ok| taken)?)*)"
    ),
    "score every vocabulary word of the same length (known letters matched; ok when all match and its "
    "new letters are free)",
    lambda m: None if m.group("scores").count(",") < 30 else "more than 30 candidates",
)
CHOOSE = StepKind(
    "choose",
    re.compile(rf"choose (?P<c_word>[a-z]+), new pairs: (?P<pairs>{_PAIR}(?: {_PAIR})*)"),
    "take the first ok candidate above and the pairs it adds",
    choice=True,
)


def _score(partial: str, word: str, candidate: str, taken: set[str]) -> str:
    """``candidate k/K`` with ``ok`` or ``taken`` (see the module docstring)."""
    known = [i for i, ch in enumerate(partial) if ch != "?"]
    hits = sum(partial[i] == candidate[i] for i in known)
    text = f"{candidate} {hits}/{len(known)}"
    if hits < len(known):
        return text
    new: dict[str, str] = {}
    for i, (c, p) in enumerate(zip(word, candidate, strict=True)):
        if partial[i] != "?":
            continue
        if new.get(c, p) != p or (c not in new and (p in taken or p in new.values())):
            return text + " taken"
        new[c] = p
    return text + " ok"


@dataclass(frozen=True)
class CipherStepwise:
    family: str = "cipher"
    style: str = "stepwise"
    step_kinds: tuple[StepKind, ...] = field(
        default=(SECTION, PAIRS, MAP, UNKNOWN, DECODE, CANDIDATES, CHOOSE, ANSWER)
    )

    def trace(self, instance: CipherInstance) -> str | None:
        try:
            learn_substitution(instance.examples)  # the examples must agree with one another
        except ValueError:
            return None
        lines = [PLAN]
        mapping: dict[str, str] = {}
        for n, (cipher, plain) in enumerate(instance.examples, 1):
            lines.append(f"example {n}:")
            for word, plain_word in zip(cipher.split(), plain.split(), strict=True):
                if len(word) != len(plain_word):
                    return None
                lines.append(
                    f"{word} -> {plain_word}: "
                    + " ".join(f"{c}={p}" for c, p in zip(word, plain_word, strict=True))
                )
                mapping.update(zip(word, plain_word, strict=True))
            lines.append("map: " + " ".join(f"{c}={p}" for c, p in sorted(mapping.items())))
        lines.append("query:")
        unknown = sorted({c for c in instance.query.replace(" ", "") if c not in mapping})
        lines.append("not in the map: " + (" ".join(f"{c}=?" for c in unknown) or "none"))
        words = []
        for word in instance.query.split():
            if len(word) > MAX_WORD:
                return None
            partial = "".join(mapping.get(c, "?") for c in word)
            lines.append(
                f"{word}: " + " ".join(f"{c}={mapping.get(c, '?')}" for c in word) + f" -> {partial}"
            )
            if "?" in partial:
                taken = set(mapping.values())
                scores = [_score(partial, word, v, taken) for v in VOCABULARY if len(v) == len(word)]
                fits = [s.split()[0] for s in scores if s.endswith(" ok")]
                if not fits:
                    return None
                lines.append(f"{partial} could be: " + ", ".join(scores))
                chosen = fits[0]
                new = {c: p for c, p in zip(word, chosen, strict=True) if c not in mapping}
                mapping.update(new)
                lines.append(
                    f"choose {chosen}, new pairs: " + " ".join(f"{c}={p}" for c, p in sorted(new.items()))
                )
                partial = chosen
            words.append(partial)
        lines.append(boxed(" ".join(words)))
        return "\n".join(lines)

    def replay(self, instance: CipherInstance, text: str) -> str:
        return replay_steps(self, instance, text)


STEPWISE = CipherStepwise()


@dataclass(frozen=True)
class VocabularyDrills:
    """Drills on the catalog step 5 recalls: the vocabulary's words of one length, in listed order."""

    family: str = "cipher"
    style: str = "stepwise"

    def drills(self, rng: random.Random, n: int) -> list[tuple[str, str]]:
        lengths = sorted({len(word) for word in VOCABULARY})
        pairs = []
        for _ in range(n):
            length = rng.choice(lengths)
            words = [word for word in VOCABULARY if len(word) == length]
            pairs.append(
                (
                    f"In Alice's Wonderland cipher puzzles, which vocabulary words have {length} letters?",
                    f"The {len(words)} vocabulary words of {length} letters: {', '.join(words)}.",
                )
            )
        return pairs


DRILLS = VocabularyDrills()
