"""Named answer extractions: from a raw completion to the answer a task's scorer compares.

Each takes ``(completion, request)``; the request's metadata carries what an extraction may need (the
options of a multiple-choice row, the function signature of a HumanEval row).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from reasonlab.grader import NOT_FOUND, extract
from reasonlab.tracks.prepare import LETTERS, boxed_contents_balanced
from reasonlab.tracks.request import EvalRequest

_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")
_THOUSANDS_SEPARATOR = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_CODE_BLOCK = re.compile(r"```[ \t]*(?:python3?|py)?[ \t]*\n(.*?)(?:```|\Z)", re.DOTALL | re.IGNORECASE)
_IMPORT_LINE = re.compile(r"^(?:import|from)\s+\w")
_ANSWER_TAG = re.compile(r"<answer>(.*?)</answer>", re.DOTALL)
_LETTER_ANSWER = re.compile(r"(?:answer|option|choice)\s*(?:is|:)?\s*\(?([A-J])\b\)?", re.IGNORECASE)
_LEADING_LETTER = re.compile(r"^\(?([A-J])(?:[).:\s]|$)")


def final_answer(completion: str, request: EvalRequest | None = None) -> str:
    """The last balanced ``\\boxed{}``, else an ``<answer>`` tag, else the grader's own extraction."""
    boxes = [box.strip() for box in boxed_contents_balanced(completion) if box.strip()]
    if boxes:
        return boxes[-1]
    tags = _ANSWER_TAG.findall(completion)
    if tags:
        return tags[-1].strip()
    return extract(completion)


def number(completion: str, request: EvalRequest | None = None) -> str:
    """A final number: boxed, else after the last ``####``, else the last number in the text; thousands
    separators and currency signs removed (``$1,450,000`` -> ``1450000``)."""
    boxes = [box.strip() for box in boxed_contents_balanced(completion) if box.strip()]
    if boxes:
        answer = boxes[-1]
    elif "####" in completion:
        answer = completion.rsplit("####", 1)[1].strip()
    else:
        numbers = [n.rstrip(",") for n in _NUMBER.findall(completion)]
        answer = numbers[-1] if numbers else NOT_FOUND
    answer = _THOUSANDS_SEPARATOR.sub("", answer)
    return answer.replace("\\$", "").replace("$", "").strip()


def python_code(completion: str, request: EvalRequest) -> str:
    """The last fenced code block (or the whole completion). Against a HumanEval prompt, a body-only
    answer is completed with the prompt's signature, and a whole function gets the prompt's imports
    (models often drop the ``from typing import List`` their signature needs)."""
    blocks = _CODE_BLOCK.findall(completion)
    code = blocks[-1] if blocks else completion
    entry_point = request.metadata.get("entry_point")
    signature = request.metadata.get("signature_prompt")
    if not (entry_point and signature):
        return code
    if not re.search(rf"\bdef\s+{re.escape(entry_point)}\s*\(", code):
        return signature + code
    imports = [line for line in signature.splitlines() if _IMPORT_LINE.match(line)]
    return "\n".join([*imports, code]) if imports else code


def choice_letter(completion: str, request: EvalRequest) -> str:
    """The chosen option's letter: a boxed or stated letter, or the text of one option."""
    options: list[str] = request.metadata["option_texts"]
    valid = LETTERS[: len(options)]
    answer = final_answer(completion)
    leading = _LEADING_LETTER.match(answer)
    if leading and leading.group(1) in valid:
        return leading.group(1)
    for index, text in enumerate(options):
        if answer.strip(" .").casefold() == text.strip(" .").casefold():
            return valid[index]
    stated = [letter.upper() for letter in _LETTER_ANSWER.findall(completion) if letter.upper() in valid]
    return stated[-1] if stated else NOT_FOUND


EXTRACTIONS: dict[str, Callable[[str, EvalRequest], str]] = {
    "final_answer": final_answer,
    "number": number,
    "python_code": python_code,
    "choice_letter": choice_letter,
}
