"""``reasonlab reproduce RUN_DIR``: run a recorded run again from its own record, and diff the results.

A run directory holds what defines it (``config.yaml``, the resolved config; ``run.json``, the command and
seed; ``environment.json``, the packages and commit). Reproducing re-runs that command on that config into
a new directory and compares the two results field by field. Timings (seconds, tokens/s, overheads) vary
from run to run by nature and are left out; every other figure must be equal. On CPU, with the same
package versions, a reasonlab run gives identical metrics; where versions differ, the diff says which.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reasonlab.runs.config import load_config
from reasonlab.runs.rundir import CONFIG_FILE, ENVIRONMENT_FILE, RUN_FILE

# Keys whose values are timings, different on every run by nature.
VOLATILE = re.compile(
    r"second|per_s|_s$|overhead|minutes|duration|time|started|throughput|samples_per|steps_per"
)


class ReproduceError(ValueError):
    pass


@dataclass(frozen=True)
class Recipe:
    """How to re-run one command: its config class, the function that runs it, the result file to diff."""

    config_class: Callable[[], type]
    run: Callable[[Any, Path], None]
    result: str


def _eval_recipe() -> Recipe:
    from reasonlab.runs.evaluate import EvalConfig, run_eval

    return Recipe(lambda: EvalConfig, lambda config, out: run_eval(config, out), "metrics.json")


def _train_recipe(kind: str) -> Recipe:
    from reasonlab.runs.rundir import open_run_dir as reopen

    def run(config, out: Path) -> None:
        reopen(out, f"train {kind}", config, seed=config.seed, identity=type(config).identity)
        if kind == "sft":
            from reasonlab.training.sft import run_sft

            run_sft(config, out)
        else:
            from reasonlab.training.grpo import run_grpo

            run_grpo(config, out)

    def config_class():
        from reasonlab.training.config import GRPOConfig, SFTConfig

        return SFTConfig if kind == "sft" else GRPOConfig

    return Recipe(config_class, run, "train_metrics.json")


def _experiment_recipe() -> Recipe:
    from reasonlab.runs.experiment import SUMMARY_FILE, ExperimentConfig, run_experiment

    return Recipe(lambda: ExperimentConfig, lambda config, out: run_experiment(config, out), SUMMARY_FILE)


RECIPES: dict[str, Callable[[], Recipe]] = {
    "eval": _eval_recipe,
    "train sft": lambda: _train_recipe("sft"),
    "train grpo": lambda: _train_recipe("grpo"),
    "run": _experiment_recipe,
}


def diff(a: Any, b: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """Every (path, a, b) where two JSON values differ, timings left out."""
    if isinstance(a, dict) and isinstance(b, dict):
        found = []
        for key in sorted(set(a) | set(b)):
            if VOLATILE.search(str(key)):
                continue
            found += diff(a.get(key), b.get(key), f"{path}.{key}" if path else str(key))
        return found
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in diff(x, y, f"{path}[{i}]")]
    return [] if a == b else [(path, a, b)]


@dataclass(frozen=True)
class Reproduction:
    original: Path
    copy: Path
    command: str
    differences: list[tuple[str, Any, Any]]  # results that differ (timings left out)
    package_changes: dict[str, tuple[str | None, str | None]]  # versions that differ between the runs

    @property
    def identical(self) -> bool:
        return not self.differences


def _read_json(path: Path) -> dict:
    if not path.is_file():
        raise ReproduceError(f"{path} not found: not a complete reasonlab run directory")
    return json.loads(path.read_text(encoding="utf-8"))


def reproduce(run_dir: str | Path, out: str | Path) -> Reproduction:
    """Re-run ``run_dir``'s command from its recorded config into ``out``; diff the results."""
    run_dir, out = Path(run_dir), Path(out)
    if out.resolve() == run_dir.resolve():
        raise ReproduceError("--out must be a new directory, not the run being reproduced")
    if (out / RUN_FILE).exists():
        raise ReproduceError(f"{out} already holds a run; choose a new --out")
    recorded = _read_json(run_dir / RUN_FILE)
    command = recorded.get("command")
    if command not in RECIPES:
        raise ReproduceError(
            f"{run_dir}: cannot reproduce a {command!r} run (reproducible: {', '.join(RECIPES)})"
        )
    recipe = RECIPES[command]()
    original_result = _read_json(run_dir / recipe.result)
    config = load_config(recipe.config_class(), run_dir / CONFIG_FILE)
    recipe.run(config, out)
    packages_then = _read_json(run_dir / ENVIRONMENT_FILE).get("packages", {})
    packages_now = _read_json(out / ENVIRONMENT_FILE).get("packages", {})
    changes = {
        name: (packages_then.get(name), packages_now.get(name))
        for name in sorted(set(packages_then) | set(packages_now))
        if packages_then.get(name) != packages_now.get(name)
    }
    then = _located(original_result, run_dir)
    now = _located(_read_json(out / recipe.result), out)
    return Reproduction(run_dir, out, command, diff(then, now), changes)


def _located(result: dict, run_dir: Path) -> dict:
    """``result`` with the run directory's own path written as ``RUN_DIR``: a file inside the run (the
    submission, say) is the same figure in both runs, though their directories differ."""
    text = json.dumps(result)
    for form in {str(run_dir), str(run_dir.resolve())}:
        text = text.replace(json.dumps(form)[1:-1], "RUN_DIR")
    return json.loads(text)
