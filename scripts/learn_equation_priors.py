"""Learn the equation rule priors from labelled rows and write them as a small JSON of counts.

    python scripts/learn_equation_priors.py [DEV_CSV] [--out src/reasonlab/data/equation_priors.json]

For every labelled equation row, the rule assignments that fit its examples and its gold answer are
found by the solver's own search; expectation-maximisation turns them into rule counts per operator
class (reasonlab.puzzles.families.equation_priors). Only these aggregate counts are written: never
ids, prompts or answers. `python benchmarks/bench_equation.py --cross-validate` measures how well
priors learned on one half of the rows serve the other half.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from reasonlab.puzzles.families.equation import learn_priors
from reasonlab.puzzles.families.equation_priors import PRIORS_RESOURCE
from reasonlab.puzzles.io import read_puzzles

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", nargs="?", default=REPO.parent / "shared/data/wonderland/dev.csv", type=Path)
    parser.add_argument("--out", default=REPO / "src/reasonlab/data" / PRIORS_RESOURCE, type=Path)
    args = parser.parse_args()
    priors = learn_priors(read_puzzles(args.csv).puzzles)
    args.out.write_text(json.dumps(priors.to_json(), indent=1) + "\n")
    total = {cls: round(sum(table.values())) for cls, table in priors.counts.items()}
    print(f"wrote {args.out}: operators counted per class {total}")


if __name__ == "__main__":
    main()
