"""A math-verify worker process: one JSON ``[gold, answer]`` per stdin line, one JSON bool per stdout line.

Run as a script by :mod:`reasonlab.scoring.math_answers` (it imports nothing of the harness), so that
math-verify's signal-based timeouts can stay off and the harness bounds each comparison from outside.
"""

import json
import logging
import sys


def as_latex(answer: str) -> str:
    """math-verify reads an answer best when it is boxed (bare ``3, \\frac{\\pi}{2}`` is ambiguous)."""
    return f"$\\boxed{{{answer}}}$"


def equivalent(gold: str, answer: str) -> bool:
    from math_verify import parse, verify

    gold_parsed = parse(as_latex(gold), parsing_timeout=None)
    answer_parsed = parse(as_latex(answer), parsing_timeout=None)
    if not gold_parsed or not answer_parsed:
        return gold.strip() == answer.strip()
    return bool(verify(gold_parsed, answer_parsed, timeout_seconds=None))


def main() -> None:
    import math_verify  # noqa: F401  (imported before "ready" so that start-up is not timed as a comparison)

    # It warns on every call that its timeouts are off: bounding them is the harness's job.
    logging.getLogger("math_verify").setLevel(logging.ERROR)
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    for line in sys.stdin:
        gold, answer = json.loads(line)
        try:
            verdict = equivalent(gold, answer)
        except Exception:
            verdict = False
        sys.stdout.write(json.dumps(verdict) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
