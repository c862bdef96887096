"""Learn the equation rule priors from labelled rows and write them as a small JSON of counts.

    python scripts/learn_equation_priors.py [DEV_CSV] [--out src/reasonlab/data/equation_priors.json]

For every labelled equation row, the rule assignments that fit its examples and its gold answer are
found by the solver's own search; each operator's rule counts (split evenly among the fitting rules)
are summed per operator class. Only these aggregate counts are written: never ids, prompts or answers.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

from reasonlab.puzzles.families.equation import FAMILY
from reasonlab.puzzles.families.equation_priors import PRIORS_RESOURCE, count_rules
from reasonlab.puzzles.io import read_puzzles
from reasonlab.scoring.metric import verify

REPO = Path(__file__).resolve().parents[1]
# long enough that only the fixed hypothesis cap bounds the search, so the counts are reproducible
LEARNING_TIME_BUDGET_S = 60.0


def explained_rows(puzzles):
    for puzzle in puzzles:
        if puzzle.answer is None or not FAMILY.matches(puzzle.prompt):
            continue
        instance = FAMILY.parse(puzzle.prompt)
        fitting: dict[tuple, float] = defaultdict(float)
        for rules, answer, share in FAMILY.hypotheses(instance, time_budget=LEARNING_TIME_BUDGET_S):
            if answer is not None and verify(puzzle.answer, answer):
                fitting[tuple(sorted(rules.items()))] += share
        yield instance.numeric, fitting


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", nargs="?", default=REPO.parent / "shared/data/wonderland/dev.csv", type=Path)
    parser.add_argument("--out", default=REPO / "src/reasonlab/data" / PRIORS_RESOURCE, type=Path)
    args = parser.parse_args()
    priors = count_rules(explained_rows(read_puzzles(args.csv).puzzles))
    args.out.write_text(json.dumps(priors.to_json(), indent=1) + "\n")
    total = {cls: round(sum(table.values())) for cls, table in priors.counts.items()}
    print(f"wrote {args.out}: operators counted per class {total}")


if __name__ == "__main__":
    main()
