"""``reasonlab compare RUN_A RUN_B``: is B really better than A? Paired, on the rows both runs answered.

Both runs' completions are scored into :class:`~reasonlab.scoring.rows.EvalRow` by the tasks of run A's
config (the puzzles' gold answers from its data, or a given gold CSV; each track task by its own scorer);
the difference comes with a paired-bootstrap 95% interval and McNemar's exact p-value, overall, per task
and per puzzle family.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reasonlab.runs.evaluate import run_config, score_stored, select_requests
from reasonlab.scoring.rows import EvalRow, RowGroups
from reasonlab.scoring.stats import PairedComparison, paired_comparison


@dataclass
class RunComparison:
    overall: PairedComparison
    by_task: dict[str, PairedComparison]
    by_family: dict[str, PairedComparison]
    only_in_a: int
    only_in_b: int

    def to_dict(self) -> dict:
        return {
            "overall": self.overall.to_dict(),
            "by_task": {k: v.to_dict() for k, v in self.by_task.items()},
            "by_family": {k: v.to_dict() for k, v in self.by_family.items()},
            "only_in_a": self.only_in_a,
            "only_in_b": self.only_in_b,
        }


def compare_runs(
    run_a: str | Path,
    run_b: str | Path,
    *,
    gold_csv: str | Path | None = None,
    legacy: bool = False,
    seed: int = 0,
) -> RunComparison:
    run_a, run_b = Path(run_a), Path(run_b)
    tasks, requests = select_requests(run_config(run_a, gold=gold_csv), legacy=legacy)
    rows_a, rows_b = score_stored(run_a, tasks, requests), score_stored(run_b, tasks, requests)
    common = [r.id for r in requests if r.id in rows_a and r.id in rows_b]
    if not common:
        # A comparison of nothing would print 0% vs 0% and a p-value of 1, which reads as "no difference".
        raise ValueError(
            f"{run_a} and {run_b} have no common rows among the {len(requests)} requests of {run_a}'s "
            f"tasks ({len(rows_a)} and {len(rows_b)} scored): nothing to compare"
        )
    paired = [rows_a[row_id] for row_id in common]
    groups = RowGroups.of(paired)

    def compared(rows: list[EvalRow]) -> PairedComparison:
        return paired_comparison([r.correct for r in rows], [rows_b[r.id].correct for r in rows], seed=seed)

    return RunComparison(
        overall=compared(paired),
        by_task={name: compared(rows) for name, rows in groups.by_task.items()},
        by_family={name: compared(rows) for name, rows in groups.by_family.items()},
        only_in_a=sum(1 for i in rows_a if i not in rows_b),
        only_in_b=sum(1 for i in rows_b if i not in rows_a),
    )
