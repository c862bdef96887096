"""The ``stepwise`` bit trace: a printed search for the fewest input words that explain every output bit.

Model of the rule. Output bit ``i`` (0 = leftmost) is one fixed boolean function of a few *words* read
at ``i``: ``x`` reads input bit ``i``, ``shlK`` bit ``i+K``, ``shrK`` bit ``i-K`` (0 past either end), and
``rolK`` bit ``(i+K) mod 8``; K = 1..7, so 22 words. A set of words *fits* when one truth table, shared
by all eight output bits, maps every (example, output bit) *key* (the words' bits there) to its output
bit. This contains every rule of the grammar (shifts, rotations, not, and/or/xor, the 3-input
functions): negations and the function are read off the table, never guessed.

The procedure, each step printed:

1. *Pairs*: for every pair of examples, the XOR of their inputs and its number of ones; then the pairs
   ordered by that number (closest first: they are separated by the fewest words).
2. *Conflicts*: two observations (example, output bit) with different output bits must differ in the
   bit of some chosen word. Conflicts are taken in a fixed order: two examples at one output bit
   (pairs in order, bits 0-7), then one example at two output bits, then two examples at two bits.
3. *Search*, in rounds of 1, 2, then 3 words (the grammar's functions take at most three). Below the
   round's size the search branches on the first conflict the set does not separate: it adds each
   separating word in word order, a word once tried being left out of its later siblings. For the
   last word, the candidates are narrowed conflict by conflict until every conflict is separated; each
   survivor fits: its table is read bit by bit and applied to the query.
4. *Choice*: the fitting sets of the first round that has any are the candidates. Each answer bit is
   the value most candidates give, a tie going to the first candidate; a key the table has not seen
   takes the value most of that table's cells have (a tie: 0).

Measured on dev.csv (954 bit rows; ``benchmarks/bench_bit_traces.py``): 942 answers right (the grammar
solver's vote: 944), 940 of them within the 7,680-token budget under the tekken proxy; assistant turns
of median 1,368 tokens. The lines cite what they use where it is near: narrowing keeps words of the
line above, a table sorts the cells just read, the query is the prompt's; each choice (a vote, the
answer) cites the candidates printed above it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from reasonlab.puzzles.families._synthesis import TraceError, boxed, final_boxed, trace_lines
from reasonlab.puzzles.trace_style import StepKind

WIDTH = 8
MAX_WORDS = 3  # the grammar's functions take at most three words


def _word_names() -> tuple[str, ...]:
    return ("x", *(f"{kind}{k}" for kind in ("shl", "shr", "rol") for k in range(1, WIDTH)))


WORDS = _word_names()


def _source(word: str, position: int) -> int | None:
    """The input bit ``word`` reads at output bit ``position``, or None where it reads a constant 0."""
    if word == "x":
        return position
    kind, k = word[:3], int(word[3:])
    if kind == "shl":
        return position + k if position + k < WIDTH else None
    if kind == "shr":
        return position - k if position - k >= 0 else None
    return (position + k) % WIDTH


# Shared by every trace (computed once per process): where each word reads at each output bit, and for
# each output bit and input bit the words reading that input bit there (a bitmask over WORDS).
SOURCES: tuple[tuple[int | None, ...], ...] = tuple(
    tuple(_source(word, position) for position in range(WIDTH)) for word in WORDS
)
_READERS: tuple[tuple[int, ...], ...] = tuple(
    tuple(sum(1 << w for w in range(len(WORDS)) if SOURCES[w][position] == bit) for bit in range(WIDTH))
    for position in range(WIDTH)
)

HEADER = (
    "Words: x reads input bit i; shlK bit i+K, shrK bit i-K (0 past either end); rolK bit (i+K) mod 8;"
    " K=1..7; bits i=0..7 from the left."
)
RULE = (
    "Find the fewest words such that one table of their bits gives every output bit: two observations"
    " with different output bits must differ in some chosen word's bit."
)
TIE_BREAK = "Vote per bit over the candidates: most votes wins, a tie goes to c1."


def _words_text(words: tuple[int, ...]) -> str:
    return ",".join(WORDS[w] for w in words) or "-"


def _members(mask: int) -> list[int]:
    return [w for w in range(len(WORDS)) if mask >> w & 1]


def _list_text(mask: int) -> str:
    return " ".join(WORDS[w] for w in _members(mask)) or "none"


def _read(string: str, word: int, position: int) -> str:
    """The bit ``WORDS[word]`` reads from ``string`` at output bit ``position``."""
    source = SOURCES[word][position]
    return "0" if source is None else string[source]


def _key(string: str, words: tuple[int, ...], position: int) -> str:
    return "".join(_read(string, w, position) for w in words)


class _Search:
    """The search of the module docstring, writing its lines as it goes.

    A conflict is held as ``(separating words, a, i, b, j)``: example ``a`` at output bit ``i`` against
    example ``b`` at bit ``j``.
    """

    def __init__(self, examples: tuple[tuple[str, str], ...], query: str) -> None:
        self.inputs = [a for a, _ in examples]
        self.outputs = [b for _, b in examples]
        self.query = query
        self.lines: list[str] = [HEADER, RULE]
        n = len(examples)
        values = [int(a, 2) for a in self.inputs]
        pairs = [(a, b) for a in range(n) for b in range(a + 1, n)]
        self.diff = {(a, b): format(values[a] ^ values[b], "08b") for a, b in pairs}
        self.order = sorted(pairs, key=lambda p: (self.diff[p].count("1"), p))
        # The words reading a 1 in each observation: two observations differ on their XOR.
        ones = [
            [sum(_READERS[i][bit] for bit in range(WIDTH) if string[bit] == "1") for i in range(WIDTH)]
            for string in self.inputs
        ]
        self.ones, out = ones, self.outputs
        # Two examples at one bit, then one example at two bits: few, and checked by every set.
        self.near = [
            (ones[a][i] ^ ones[b][i], a, i, b, i)
            for a, b in self.order
            for i in range(WIDTH)
            if out[a][i] != out[b][i]
        ] + [
            (ones[e][i] ^ ones[e][j], e, i, e, j)
            for e in range(n)
            for i in range(WIDTH)
            for j in range(i + 1, WIDTH)
            if out[e][i] != out[e][j]
        ]
        self.far: list[tuple[int, int, int, int, int]] | None = None  # two examples at two bits, when needed
        self.found: list[tuple[tuple[int, ...], str]] = []

    def far_conflicts(self) -> list[tuple[int, int, int, int, int]]:
        if self.far is None:
            ones, out = self.ones, self.outputs
            self.far = [
                (ones[a][i] ^ ones[b][j], a, i, b, j)
                for a, b in self.order
                for i in range(WIDTH)
                for j in range(WIDTH)
                if i != j and out[a][i] != out[b][j]
            ]
        return self.far

    def evidence(self, conflict: tuple[int, int, int, int, int]) -> str:
        _, a, i, b, j = conflict
        if i == j:
            return f"e{a + 1}e{b + 1} d {self.diff[(a, b)]} o{i}"
        return f"e{a + 1}.o{i}={self.outputs[a][i]} e{b + 1}.o{j}={self.outputs[b][j]}"

    def run(self) -> bool:
        n = len(self.inputs)
        for a in range(n - 1):
            entries = ", ".join(
                f"e{b + 1} {self.diff[(a, b)]} {self.diff[(a, b)].count('1')}" for b in range(a + 1, n)
            )
            self.lines.append(f"e{a + 1}: {entries}")
        self.lines.append("order: " + (" ".join(f"e{a + 1}e{b + 1}" for a, b in self.order) or "none"))
        if not self.near and not self.clash(()):
            self.lines.append("Round 0: no output bit differs from another.")
            self.fit(())
            return True
        for size in range(1, MAX_WORDS + 1):
            self.lines.append(f"Round {size}: sets of {size} word{'s' if size > 1 else ''}.")
            self.visit((), 0, size)
            if self.found:
                return True
        return False

    def first_unseparated(self, mask: int):
        for conflict in self.near:
            if not conflict[0] & mask:
                return conflict
        for conflict in self.far_conflicts():
            if not conflict[0] & mask:
                return conflict
        return None

    def visit(self, words: tuple[int, ...], excluded: int, size: int) -> None:
        """Extend ``words`` to ``size`` words; the words in ``excluded`` were tried by earlier siblings."""
        mask = sum(1 << w for w in words)
        first = self.first_unseparated(mask)
        if first is None:  # fits with fewer words: an earlier round would have stopped
            return
        if len(words) + 1 < size:
            children = first[0] & ~mask & ~excluded
            self.lines.append(f"{_words_text(words)}: {self.evidence(first)} -> add {_list_text(children)}")
            for w in _members(children):
                self.visit(tuple(sorted((*words, w))), excluded, size)
                excluded |= 1 << w
            return
        candidates = first[0] & ~mask & ~excluded
        self.lines.append(f"{_words_text(words)} + 1: {self.evidence(first)} -> {_list_text(candidates)}")
        pair = first[1:4:2] if first[2] == first[4] else None
        candidates, pair = self.narrow(mask, candidates, pair, self.near)
        # Two examples at two bits: scanned only while some candidate's table still clashes.
        if candidates and any(self.clash(tuple(sorted((*words, w)))) for w in _members(candidates)):
            candidates, _ = self.narrow(mask, candidates, pair, self.far_conflicts(), words)
        for w in _members(candidates):
            self.fit(tuple(sorted((*words, w))))

    def narrow(self, mask: int, candidates: int, pair, conflicts, words: tuple[int, ...] | None = None):
        """Keep the candidates separating each conflict ``mask`` leaves unseparated; with ``words``, stop
        as soon as every candidate's table is free of clashes. Further bits of the pair (two examples)
        the line above narrowed on go on that line. Returns the candidates and the last line's pair."""
        for conflict in conflicts:
            separating = conflict[0]
            if not candidates:
                break
            if separating & mask or not candidates & ~separating:
                continue
            candidates &= separating
            _, a, i, b, j = conflict
            if i == j and (a, b) == pair:
                self.lines[-1] += f", o{i} -> {_list_text(candidates)}"
            else:
                self.lines.append(f"{self.evidence(conflict)} -> {_list_text(candidates)}")
                pair = (a, b) if i == j else None
            if words is not None and not any(
                self.clash(tuple(sorted((*words, w)))) for w in _members(candidates)
            ):
                break
        return candidates, pair

    def clash(self, words: tuple[int, ...]) -> bool:
        """Whether two observations with different output bits share a key of ``words``."""
        table: dict[str, str] = {}
        for string, out in zip(self.inputs, self.outputs, strict=True):
            for position in range(WIDTH):
                if table.setdefault(_key(string, words, position), out[position]) != out[position]:
                    return True
        return False

    def fit(self, words: tuple[int, ...]) -> None:
        """Read the table of a fitting set bit by bit, then look the query's keys up in it."""
        self.lines.append(f"fits {_words_text(words)}")
        table: dict[str, str] = {}
        for position in range(WIDTH):
            cells: dict[str, str] = {}
            for string, out in zip(self.inputs, self.outputs, strict=True):
                key = _key(string, words, position)
                if key not in table:
                    cells.setdefault(key, out[position])
            table.update(cells)
            listed = " ".join(f"{k or '-'}={v}" for k, v in sorted(cells.items())) or "none new"
            self.lines.append(f"o{position}: {listed}")
        ones = sum(v == "1" for v in table.values())
        unseen = "1" if 2 * ones > len(table) else "0"
        self.lines.append(
            "table: " + " ".join(f"{k or '-'}={v}" for k, v in sorted(table.items())) + f"; unseen={unseen}"
        )
        keys = [_key(self.query, words, position) for position in range(WIDTH)]
        bits = [table.get(k, unseen) for k in keys]
        looked_up = " ".join(f"{k or '-'}={bit}" for k, bit in zip(keys, bits, strict=True))
        answer = "".join(bits)
        self.lines.append(f"query {self.query} keys {looked_up} -> {answer}")
        self.found.append((words, answer))


def _vote(values: list[str]) -> str:
    """One answer bit from the candidates' values for it: the majority, a tie going to the first."""
    ones, zeros = values.count("1"), values.count("0")
    return values[0] if ones == zeros else "1" if ones > zeros else "0"


def write(examples: tuple[tuple[str, str], ...], query: str) -> str | None:
    """The stepwise trace for a bit puzzle's examples and query; None when no set of 3 words fits."""
    search = _Search(examples, query)
    if not search.run():
        return None
    lines = search.lines
    answers = [answer for _, answer in search.found]
    for number, (words, answer) in enumerate(search.found, 1):
        lines.append(f"c{number} {_words_text(words)}: {answer}")
    if len(answers) == 1:
        answer = answers[0]
        lines.append(f"Answer: c1 = {answer}")
    else:
        lines.append(TIE_BREAK)
        bits = []
        for position in range(WIDTH):
            values = [a[position] for a in answers]
            bits.append(_vote(values))
            lines.append(f"o{position}: {' '.join(values)} -> {bits[-1]}")
        answer = "".join(bits)
        lines.append(f"Answer: {answer}")
    lines.append(boxed(answer))
    return "\n".join(lines)


# -- step kinds: every line of a trace fullmatches exactly one ------------------------------------------

_WORD = r"(?:x|sh[lr][1-7]|rol[1-7])"
_SET = rf"(?:-|{_WORD}(?:,{_WORD}){{0,2}})"
_LIST = rf"(?:none|{_WORD}(?: {_WORD}){{0,21}})"
_PAIR_EVIDENCE = r"e\d+e\d+ d [01]{8} o[0-7]"
_OBS_EVIDENCE = r"e\d+\.o[0-7]=[01] e\d+\.o[0-7]=[01]"
_EVIDENCE = rf"(?:{_PAIR_EVIDENCE}|{_OBS_EVIDENCE})"
_CELL = r"(?:-|[01]{1,3})=[01]"
_MORE = rf"(?:, o[0-7] -> {_LIST})*"


def _at_most_bits(match: re.Match[str]) -> str | None:
    steps = match.group("more").count(" -> ") + 1
    return f"{steps} narrowing steps on one line > 8" if steps > WIDTH else None


def _at_most(group: str, limit: int, what: str):
    def bound(match: re.Match[str]) -> str | None:
        count = len(re.split(r"[\s,]+", match.group(group).strip()))
        return f"{count} {what} > {limit}" if count > limit else None

    return bound


STEP_KINDS: tuple[StepKind, ...] = (
    StepKind("words", re.compile(re.escape(HEADER)), "States which input bit each word reads (fixed text)."),
    StepKind("goal", re.compile(re.escape(RULE)), "States what the search looks for (fixed text)."),
    StepKind(
        "pairs",
        re.compile(r"e(?P<first>\d+): (?P<entries>e\d+ [01]{8} \d(?:, e\d+ [01]{8} \d)*)"),
        "XORs one example's input with each later example's input and counts the ones.",
        bound=_at_most("entries", 27, "tokens (9 pairs)"),
    ),
    StepKind(
        "order",
        re.compile(r"order: (?P<pairs>none|e\d+e\d+(?: e\d+e\d+)*)"),
        "Orders the pairs by their count of ones, then by position in the pair rows.",
        bound=_at_most("pairs", 45, "pairs"),
    ),
    StepKind(
        "round", re.compile(r"Round (?P<size>[1-3]): sets of [1-3] words?\."), "Starts the sets of one size."
    ),
    StepKind(
        "constant",
        re.compile(r"Round 0: no output bit differs from another\."),
        "Notes that every output bit of every example is the same: the empty set fits.",
    ),
    StepKind(
        "branch",
        re.compile(rf"(?P<set>{_SET}): (?P<evidence>{_EVIDENCE}) -> add (?P<children>{_LIST})"),
        "Takes the first conflict the set leaves unseparated and lists the untried words separating it.",
    ),
    StepKind(
        "narrow-start",
        re.compile(
            rf"(?P<set>{_SET}) \+ 1: (?P<evidence>{_EVIDENCE}) -> (?P<candidates>{_LIST})(?P<more>{_MORE})"
        ),
        "Lists the untried words separating the set's first unseparated conflict (its last-word"
        " candidates); further bits of the same pair narrow them on the same line.",
        bound=_at_most_bits,
    ),
    StepKind(
        "narrow",
        re.compile(
            rf"(?P<evidence>{_EVIDENCE}) -> (?:none|(?P<c_kept>{_WORD}(?: {_WORD}){{0,21}}))(?P<more>{_MORE})"
        ),
        "Keeps the candidates above that also separate the next conflict they do not all separate;"
        " further bits of the same pair narrow them on the same line.",
        bound=_at_most_bits,
    ),
    StepKind("fits", re.compile(rf"fits (?P<set>{_SET})"), "Names a set that separates every conflict."),
    StepKind(
        "cells",
        re.compile(rf"o(?P<position>[0-7]): (?P<cells>none new|{_CELL}(?: {_CELL}){{0,7}})"),
        "Reads the set's key and output bit of every example at one output bit; lists keys not yet listed.",
    ),
    StepKind(
        "table",
        re.compile(rf"table: (?P<c_cells>{_CELL}(?: {_CELL}){{0,7}}); unseen=(?P<unseen>[01])"),
        "Sorts the cells listed above into one table; unseen keys take its majority value (tie: 0).",
    ),
    StepKind(
        "lookup",
        re.compile(
            rf"query (?P<c_query>[01]{{8}}) keys (?P<keys>{_CELL}(?: {_CELL}){{7}}) -> (?P<answer>[01]{{8}})"
        ),
        "Reads the query's key at each output bit, looks it up in the table above (unseen keys take its"
        " unseen value) and writes the eight bits in order.",
    ),
    StepKind(
        "candidate",
        re.compile(rf"c(?P<number>\d+) (?P<set>{_SET}): (?P<answer>[01]{{8}})"),
        "Copies a fitting set's query answer from its lookup line.",
        bound=lambda m: None if int(m.group("number")) <= 64 else "more than 64 candidates",
    ),
    StepKind("tie-break", re.compile(re.escape(TIE_BREAK)), "States the documented vote (fixed text)."),
    StepKind(
        "vote",
        re.compile(r"o(?P<position>[0-7]): (?P<c_values>[01](?: [01]){1,63}) -> (?P<bit>[01])"),
        "Chooses one answer bit: the value most candidates give, a tie going to c1.",
        choice=True,
    ),
    StepKind(
        "answer-one",
        re.compile(r"Answer: c1 = (?P<c_answer>[01]{8})"),
        "Commits to the only candidate's answer.",
        choice=True,
    ),
    StepKind(
        "answer-votes", re.compile(r"Answer: (?P<answer>[01]{8})"), "Writes the eight voted bits in order."
    ),
    StepKind(
        "boxed", re.compile(r"\\boxed\{(?P<c_answer>[01]{8})\}"), "Repeats the answer in the grader's box."
    ),
)


@dataclass(frozen=True)
class StepwiseBitTracer:
    family: str = "bit"
    style: str = "stepwise"
    step_kinds: tuple[StepKind, ...] = STEP_KINDS

    def trace(self, instance: Any) -> str | None:
        return write(instance.examples, instance.query)

    def replay(self, instance: Any, text: str) -> str:
        """Re-execute the search on the instance: every line must be the step the procedure takes there."""
        expected = write(instance.examples, instance.query)
        if expected is None:
            raise TraceError("no set of at most 3 words fits these examples: nothing to replay")
        lines, steps = trace_lines(text), expected.splitlines()
        for number, (line, step) in enumerate(zip(lines, steps, strict=False), 1):
            if line != step:
                raise TraceError(f"line {number} is {line!r}; the procedure's step there is {step!r}")
        if len(lines) != len(steps):
            raise TraceError(f"the trace has {len(lines)} lines; the procedure takes {len(steps)} steps")
        return final_boxed(lines)


STEPWISE = StepwiseBitTracer()
