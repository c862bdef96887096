"""The quickstart's figures: held-out accuracy before/after training and wall time, over seeds.

    python benchmarks/bench_quickstart.py --seeds 0 1 --out runs/bench-quickstart

Targets: trained beats untrained by >= 50 accuracy points; under 10 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from reasonlab.quickstart import QuickstartConfig, run_quickstart


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--out", type=Path, default=Path("runs/bench-quickstart"))
    args = parser.parse_args()
    results = []
    for seed in args.seeds:
        config = QuickstartConfig(seed=seed, output_root=str(args.out))
        result = run_quickstart(config, args.out / f"seed-{seed}")
        results.append(result)
        print(
            f"seed {seed}: untrained {result.accuracy_before:.1%} -> trained {result.accuracy_after:.1%} "
            f"({result.gain * 100:+.1f} points), {result.seconds / 60:.1f} min"
        )
    print(
        f"median gain {statistics.median(r.gain for r in results) * 100:+.1f} points, "
        f"median time {statistics.median(r.seconds for r in results) / 60:.1f} min over {len(results)} seed(s)"
    )


if __name__ == "__main__":
    main()
