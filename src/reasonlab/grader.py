"""The competition's contract, to the letter: the grader's answer extraction and comparison, the prompt
suffix, the generation budget and the adapter's largest rank. A leaf: it imports nothing of reasonlab.

Extraction runs over the whole completion (thinking included):

1. ``\\boxed{`` present: each occurrence's content runs to the last ``}`` before the next ``\\boxed{``
   (or the end of the text; with no ``}`` at all, to that limit). The last non-empty content, stripped,
   wins; if every content is empty, the last one.
2. else the "final answer" patterns, case-insensitive, in order; the first pattern that occurs anywhere
   wins with its LAST occurrence;
3. else the last number;
4. else the last non-empty line; else ``NOT_FOUND``.

``legacy=True`` gives the pre-May-2026 step 1 (``\\boxed\\{([^}]*)(?:\\}|$)``: up to the first ``}``).

Comparison, both sides stripped: a binary-string gold answer needs an exact (case-insensitive) match;
else two floats compare with ``math.isclose(rel_tol=1e-2, abs_tol=1e-5)``; else case-insensitive equality.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

# The user turn: the puzzle, a newline, then this instruction.
BOXED_SUFFIX = "Please put your final answer inside `\\boxed{}`. For example: `\\boxed{your answer}`"
MAX_TOKENS = 7680  # new tokens per completion (vLLM max_tokens)
MAX_MODEL_LEN = 8192  # prompt + completion (vLLM max_model_len)
MAX_LORA_RANK = 32  # vLLM max_lora_rank: a larger adapter does not load

NOT_FOUND = "NOT_FOUND"
BOX_OPEN = "\\boxed{"
# The finish reason (OpenAI's and vLLM's) of a completion cut at its token budget. The lab never counts
# such a completion correct, even when an answer was boxed before the cut: the model had not finished,
# so the answer is a guess the budget happened to freeze.
FINISH_LENGTH = "length"

_FINAL_ANSWER_PATTERNS = (
    re.compile(r"The final answer is:\s*([^\n]+)", re.IGNORECASE),
    re.compile(r"Final answer is:\s*([^\n]+)", re.IGNORECASE),
    re.compile(r"Final answer\s*[:：]\s*([^\n]+)", re.IGNORECASE),
)
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_LEGACY_BOX = re.compile(r"\\boxed\{([^}]*)(?:\}|$)")
_BINARY = re.compile(r"[01]+")
REL_TOL = 1e-2
ABS_TOL = 1e-5


def boxed_contents(text: str) -> list[str]:
    """The content of every ``\\boxed{`` under the current rule (unstripped), in order."""
    starts = [m.start() for m in re.finditer(re.escape(BOX_OPEN), text)]
    contents = []
    for i, start in enumerate(starts):
        begin = start + len(BOX_OPEN)
        limit = starts[i + 1] if i + 1 < len(starts) else len(text)
        segment = text[begin:limit]
        close = segment.rfind("}")
        contents.append(segment[:close] if close != -1 else segment)
    return contents


def _extract_boxed(text: str, legacy: bool) -> str | None:
    found = _LEGACY_BOX.findall(text) if legacy else boxed_contents(text)
    if not found:
        return None
    non_empty = [c.strip() for c in found if c.strip()]
    return non_empty[-1] if non_empty else found[-1].strip()


def extract(text: str | None, *, legacy: bool = False) -> str:
    """The answer the grader reads from a completion (``NOT_FOUND`` when there is none)."""
    if text is None:
        return NOT_FOUND
    boxed = _extract_boxed(text, legacy)
    if boxed is not None:
        return boxed
    for pattern in _FINAL_ANSWER_PATTERNS:
        matches = pattern.findall(text)
        if matches:
            return matches[-1].strip()
    numbers = _NUMBER.findall(text)
    if numbers:
        return numbers[-1]
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else NOT_FOUND


def _as_float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def verify(gold: str, predicted: str) -> bool:
    """Whether the grader counts ``predicted`` (an extracted answer) as ``gold``."""
    gold, predicted = str(gold).strip(), str(predicted).strip()
    if _BINARY.fullmatch(gold):
        return predicted.lower() == gold.lower()
    g, p = _as_float(gold), _as_float(predicted)
    if g is not None and p is not None:
        return math.isclose(g, p, rel_tol=REL_TOL, abs_tol=ABS_TOL)
    return predicted.lower() == gold.lower()


def is_correct(
    gold: str, completion: str | None, *, legacy: bool = False, finish_reason: str | None = None
) -> bool:
    """The grader's verdict on a completion; never correct when it was truncated (:data:`FINISH_LENGTH`)."""
    return finish_reason != FINISH_LENGTH and verify(gold, extract(completion, legacy=legacy))


def score(golds: Iterable[str], completions: Iterable[str | None], *, legacy: bool = False) -> float:
    """Fraction of completions the grader counts correct (the competition's score)."""
    results = [is_correct(g, c, legacy=legacy) for g, c in zip(golds, completions, strict=True)]
    return sum(results) / len(results) if results else 0.0
