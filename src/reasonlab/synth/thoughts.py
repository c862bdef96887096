"""What an SFT record's think block holds: the proven trace, or a shorter thought a tiny model can learn.

- ``trace``: the trace of the record's style (stepwise, compact, a plugin's), as proven by ``traces``;
- ``places`` (numerals): the query restated as the prompt words it, one line per decimal place, then the
  numeral (:func:`place_trace`); what the CPU quickstart trains its 0.14M-parameter model on;
- ``restate`` (numerals): ``61 -> LXI``, the conversion at once (21-25% on the quickstart's seed 0: the
  model converted well but often the wrong number, and whether it learned the copy hung on CPU kernels);
- ``answer``: an empty thought, the boxed answer only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from reasonlab.synth.records import sft_record

if TYPE_CHECKING:
    from reasonlab.synth.check import TracedPuzzle

Thought = Literal["trace", "places", "restate", "answer"]
#: Thoughts that restate a numeral puzzle's query, so only for the numeral family.
NUMERAL_THOUGHTS: tuple[Thought, ...] = ("places", "restate")


def place_trace(number: int) -> str:
    """The query restated, one line per decimal place, then the numeral.

    61 -> "the number 61 / 60 = LX / 1 = I / LXI". The first line repeats the prompt's own words and
    tokens (``the number 61``), so the model finds the query by matching them; each place line copies a
    digit from the line above and looks its part up in a table of 9 digits x 3 places; the last line
    joins the parts. A zero place keeps its line (``0 = -``), so the shape depends only on the number of
    digits.
    """
    from reasonlab.puzzles.families.numeral import to_roman

    digits = str(number)
    lines = [f"the number {digits}"]
    parts = []
    for index, digit in enumerate(digits):
        value = digit + "0" * (len(digits) - 1 - index)
        part = to_roman(int(value)) if digit != "0" else ""
        lines.append(f"{value} = {part or '-'}")
        parts.append(part)
    lines.append("".join(parts))
    return "\n".join(lines)


def thought_text(thought: Thought, traced: TracedPuzzle) -> str:
    if thought == "trace":
        return traced.trace or ""
    if thought == "answer":
        return ""
    from reasonlab.puzzles.families import get_family

    query = get_family(traced.family).parse(traced.puzzle.prompt).query
    if thought == "places":
        return place_trace(query)
    return f"{query} -> {traced.traced_answer}"


def thought_record(traced: TracedPuzzle, thought: Thought) -> dict[str, Any]:
    """The SFT record of a traced puzzle, its think block holding ``thought``."""
    return sft_record(traced, think=thought_text(thought, traced))
