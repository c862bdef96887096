"""Rebuild the built-in sample (src/reasonlab/data/sample.csv, used by `reasonlab run`) from the generators.

    python scripts/make_sample.py [--per-family 2] [--seed 2026]

Generated, not copied from the competition's data, so the repository holds no real rows: ``--per-family``
puzzles of each family, and one of each equation subtype. Refuses (and keeps the current sample) while
some family has no generator, so that the sample covers all six.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from reasonlab.puzzles.families import FAMILY_NAMES
from reasonlab.puzzles.families.equation_synth import SUBTYPES
from reasonlab.synth.check import can_generate, families_with
from reasonlab.synth.generate import Mixture, generate_one
from reasonlab.synth.records import write_puzzles_csv

SAMPLE = Path(__file__).resolve().parents[1] / "src" / "reasonlab" / "data" / "sample.csv"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--per-family", type=int, default=2)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--out", type=Path, default=SAMPLE)
    args = parser.parse_args()
    _, missing = families_with(can_generate)
    if missing:
        raise SystemExit(f"no generator yet for {', '.join(missing)}: keeping {args.out}")
    variants = [(name, {}) for name in FAMILY_NAMES if name != "equation" for _ in range(args.per_family)]
    variants += [("equation", {"subtype": subtype}) for subtype in SUBTYPES]
    puzzles = [
        generate_one(args.seed, index, Mixture.resolve({name: 1}), {name: knobs})[1]
        for index, (name, knobs) in enumerate(variants)
    ]
    write_puzzles_csv(puzzles, args.out)
    print(f"wrote {len(puzzles)} generated puzzles to {args.out}")


if __name__ == "__main__":
    main()
