"""``reasonlab compare RUN_A RUN_B``: is B really better than A? Paired, on the rows both runs answered.

Each run is re-scored from its completions with the grader's metric against the gold answers of run A's
data (or a given gold CSV); the difference comes with a paired-bootstrap 95% interval and McNemar's exact
p-value, overall and per family.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from reasonlab.grader import is_correct
from reasonlab.inference.store import CompletionStore
from reasonlab.puzzles.classify import classify
from reasonlab.puzzles.io import read_puzzles
from reasonlab.runs.evaluate import COMPLETIONS_FILE, data_path, load_eval_config
from reasonlab.runs.rundir import CONFIG_FILE, RUN_FILE
from reasonlab.scoring.stats import PairedComparison, paired_comparison


@dataclass
class RunComparison:
    overall: PairedComparison
    by_family: dict[str, PairedComparison]
    only_in_a: int
    only_in_b: int

    def to_dict(self) -> dict:
        return {
            "overall": self.overall.to_dict(),
            "by_family": {k: v.to_dict() for k, v in self.by_family.items()},
            "only_in_a": self.only_in_a,
            "only_in_b": self.only_in_b,
        }


def _records(run_dir: Path) -> dict[str, dict]:
    import json

    run_file = run_dir / RUN_FILE
    if not run_file.is_file():
        raise FileNotFoundError(f"{run_dir}: not a run directory (no {RUN_FILE})")
    digest = json.loads(run_file.read_text(encoding="utf-8"))["config_hash"]
    store = CompletionStore(run_dir / COMPLETIONS_FILE, digest)
    store.close()
    return store.records


def compare_runs(
    run_a: str | Path,
    run_b: str | Path,
    *,
    gold_csv: str | Path | None = None,
    legacy: bool = False,
    seed: int = 0,
) -> RunComparison:
    run_a, run_b = Path(run_a), Path(run_b)
    gold_path = Path(gold_csv) if gold_csv else data_path(load_eval_config(run_a / CONFIG_FILE))
    gold = {p.id: p for p in read_puzzles(gold_path).puzzles}
    records_a, records_b = _records(run_a), _records(run_b)
    common = [i for i in records_a if i in records_b and i in gold]
    if not common:
        # A comparison of nothing would print 0% vs 0% and a p-value of 1, which reads as "no difference".
        raise ValueError(
            f"{run_a} and {run_b} have no common rows with gold answers in {gold_path} "
            f"({len(records_a)} and {len(records_b)} completions): nothing to compare"
        )
    correct: dict[str, tuple[list[bool], list[bool]]] = defaultdict(lambda: ([], []))
    for row_id in common:
        puzzle = gold[row_id]
        a, b = (
            is_correct(
                puzzle.answer,
                r[row_id]["completion"],
                legacy=legacy,
                finish_reason=r[row_id].get("finish_reason"),
            )
            for r in (records_a, records_b)
        )
        family = records_a[row_id].get("family") or classify(puzzle.prompt).family
        for key in ("overall", family):
            correct[key][0].append(a)
            correct[key][1].append(b)
    overall = paired_comparison(*correct.pop("overall", ([], [])), seed=seed)
    return RunComparison(
        overall=overall,
        by_family={k: paired_comparison(a, b, seed=seed) for k, (a, b) in sorted(correct.items())},
        only_in_a=sum(1 for i in records_a if i not in records_b),
        only_in_b=sum(1 for i in records_b if i not in records_a),
    )
