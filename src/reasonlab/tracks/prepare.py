"""Named document preparations: fields a task's templates need that its source does not hold as such.

A task file names one of these under ``prepare``; each takes a source document and returns extra fields
(merged over the document) for the ``id``, ``prompt``, ``gold`` and ``reference`` templates and metadata.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from reasonlab.grader import boxed_contents

LETTERS = "ABCDEFGHIJ"
_OPTION_LINE = re.compile(r"^\s*([A-J])\.\s*(.*)$")


def _choices(options: list[str], gold_index: int) -> dict[str, Any]:
    return {
        "options": "\n".join(f"{LETTERS[i]}. {text}" for i, text in enumerate(options)),
        "option_texts": options,
        "gold_letter": LETTERS[gold_index],
    }


def gsm8k(doc: dict) -> dict:
    # The short answers write thousands with commas ("1,450,000"); compare the number itself.
    return {"gold_number": doc["short_answer"].replace(",", "")}


def math_solution(doc: dict) -> dict:
    """MATH gold is the last ``\\boxed{}`` of the worked solution (the ``answer`` field is sometimes mangled)."""
    boxes = boxed_contents_balanced(doc["solution"])
    if not boxes:
        raise ValueError(
            f"solution of MATH problem {doc.get('unique_id', doc.get('index'))} has no \\boxed{{}}"
        )
    return {"gold_answer": boxes[-1]}


def boxed_contents_balanced(text: str) -> list[str]:
    """Contents of every ``\\boxed{...}`` with braces matched (LaTeX solutions nest braces and go on after)."""
    found = []
    for match in re.finditer(r"\\boxed\s*\{", text):
        depth, start = 1, match.end()
        for position in range(start, len(text)):
            depth += {"{": 1, "}": -1}.get(text[position], 0)
            if depth == 0:
                found.append(text[start:position])
                break
    return found or [c for c in boxed_contents(text) if c.strip()]


def humaneval(doc: dict) -> dict:
    return {"tests": f"{doc['test']}\n\ncheck({doc['entry_point']})\n", "signature_prompt": doc["prompt"]}


def mbpp(doc: dict) -> dict:
    # The setup code (e.g. building the trees a test walks) may use names the solution defines: it runs
    # after the solution, right before the asserts.
    return {
        "tests": "\n".join([doc["test_setup_code"], *doc["test_list"]]) + "\n",
        "example_test": doc["test_list"][0],
    }


def csqa(doc: dict) -> dict:
    """CommonsenseQA as stored: one ``query`` with the question and lettered options."""
    lines = doc["query"].removeprefix("Question:").strip().splitlines()
    options = [m.group(2).strip() for line in lines if (m := _OPTION_LINE.match(line))]
    question = "\n".join(line for line in lines if not _OPTION_LINE.match(line) and line.strip() != "Answer:")
    return {"question": question.strip(), **_choices(options, int(doc["gold"]))}


def piqa(doc: dict) -> dict:
    return {"question": doc["goal"], **_choices([doc["sol1"], doc["sol2"]], int(doc["label"]))}


def winogrande(doc: dict) -> dict:
    return {
        "question": f"Fill in the blank: {doc['sentence'].replace('_', '___')}",
        **_choices([doc["option1"], doc["option2"]], int(doc["answer"]) - 1),
    }


PREPARATIONS: dict[str, Callable[[dict], dict]] = {
    "gsm8k": gsm8k,
    "math_solution": math_solution,
    "humaneval": humaneval,
    "mbpp": mbpp,
    "csqa": csqa,
    "piqa": piqa,
    "winogrande": winogrande,
}
