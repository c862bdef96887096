"""Hyperparameter search with Optuna: a declared space over any config key, pruning on the evaluation
metric as training goes, each trial a normal run directory, a table and a plot of all trials at the end.

The study is stored in ``<study dir>/study.journal``, so an interrupted search continues where it stopped.
"""

from __future__ import annotations

import copy
import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from transformers import TrainerCallback

from reasonlab.grader import MAX_LORA_RANK
from reasonlab.training.config import GRPOConfig, SFTConfig, Strict


class SearchParam(Strict):
    key: str = Field(description="Dotted config key, e.g. train.learning_rate or lora.r.")
    kind: Literal["float", "int", "categorical"] = "float"
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: float | None = None
    choices: list | None = None

    @model_validator(mode="after")
    def _bounds(self):
        if self.kind == "categorical":
            if not self.choices:
                raise ValueError(f"{self.key}: a categorical parameter needs choices")
        elif self.low is None or self.high is None or self.low > self.high:
            raise ValueError(f"{self.key}: needs low <= high")
        return self


class TuneConfig(Strict):
    name: str = "tune"
    output_root: str = "runs"
    seed: int = 0
    trainer: Literal["sft", "grpo"] = "sft"
    base: dict = Field(description="The training config every trial starts from (as in an sft/grpo YAML).")
    space: list[SearchParam]
    n_trials: int = Field(10, ge=1)
    timeout_s: float | None = None
    metric: str = Field("eval_loss", description="A logged metric of the final evaluation (eval_loss ...).")
    direction: Literal["minimize", "maximize"] = "minimize"
    pruner: Literal["median", "none"] = "median"

    @model_validator(mode="after")
    def _rank_within_grader_limit(self):
        competition = self.base.get("lora", {}).get("competition", True)
        for param in self.space:
            if param.key == "lora.r" and competition:
                highest = max(param.choices) if param.kind == "categorical" else param.high
                if highest > MAX_LORA_RANK:
                    raise ValueError(
                        f"lora.r may reach {highest}, above the grader's max_lora_rank={MAX_LORA_RANK}"
                    )
        return self


@dataclass(frozen=True)
class TuneResult:
    study_dir: Path
    best_value: float | None
    best_params: dict
    table: Path
    plot: Path


def set_key(config: dict, dotted: str, value) -> None:
    node = config
    *parents, leaf = dotted.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value


def suggest(trial, param: SearchParam):
    if param.kind == "categorical":
        return trial.suggest_categorical(param.key, param.choices)
    if param.kind == "int":
        return trial.suggest_int(
            param.key, int(param.low), int(param.high), step=int(param.step or 1), log=param.log
        )
    return trial.suggest_float(param.key, param.low, param.high, step=param.step, log=param.log)


class _PruningCallback(TrainerCallback):
    """Reports each evaluation to Optuna and stops a trial that is doing worse than the others had.

    Stopping (rather than raising) lets the trainer close its loggers and save what it has."""

    def __init__(self, trial, metric: str):
        self.trial, self.metric = trial, metric
        self.pruned_at: int | None = None

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        if self.pruned_at is None and metrics and self.metric in metrics:
            self.trial.report(float(metrics[self.metric]), state.global_step)
            if self.trial.should_prune():
                self.pruned_at = state.global_step
                control.should_training_stop = True


def run_tune(config: TuneConfig, study_dir: Path, open_trial_dir=None) -> TuneResult:
    """Run the search. ``open_trial_dir(path, kind, trial_config, seed=seed)`` records each trial's run directory."""
    import optuna

    from reasonlab.training.grpo import run_grpo
    from reasonlab.training.sft import run_sft

    study_dir = Path(study_dir)
    study_dir.mkdir(parents=True, exist_ok=True)
    config_class, train = (SFTConfig, run_sft) if config.trainer == "sft" else (GRPOConfig, run_grpo)
    config_class.model_validate(config.base)  # a bad base config fails before any trial

    def objective(trial):
        values = copy.deepcopy(config.base)
        for param in config.space:
            set_key(values, param.key, suggest(trial, param))
        values.setdefault("output_root", config.output_root)
        values.setdefault("seed", config.seed)
        trial_config = config_class.model_validate(values)
        trial_dir = study_dir / f"trial-{trial.number:03d}"
        if open_trial_dir is not None:
            trial_dir = open_trial_dir(trial_dir, config.trainer, trial_config, seed=config.seed).path
        pruning = _PruningCallback(trial, config.metric)
        result = train(trial_config, trial_dir, callbacks=[pruning])
        trial.set_user_attr("run_dir", str(trial_dir))
        if pruning.pruned_at is not None:
            raise optuna.TrialPruned(f"pruned at step {pruning.pruned_at}")
        if config.metric not in result.metrics:
            raise KeyError(
                f"metric {config.metric!r} was not logged (have {sorted(result.metrics)}); "
                "give the base config evaluation data (data.eval or data.eval_fraction)"
            )
        return float(result.metrics[config.metric])

    storage = optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(study_dir / "study.journal"))
    )
    pruner = (
        optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=0)
        if config.pruner == "median"
        else None
    )
    study = optuna.create_study(
        study_name=config.name,
        storage=storage,
        load_if_exists=True,
        direction=config.direction,
        sampler=optuna.samplers.TPESampler(seed=config.seed),
        pruner=pruner or optuna.pruners.NopPruner(),
    )
    remaining = config.n_trials - sum(t.state.is_finished() for t in study.trials)
    if remaining > 0:
        study.optimize(objective, n_trials=remaining, timeout=config.timeout_s, catch=())
    return summarise(study, study_dir, config.metric)


def summarise(study, study_dir: Path, metric: str) -> TuneResult:
    frame = study.trials_dataframe(attrs=("number", "state", "value", "params", "duration", "user_attrs"))
    if "duration" in frame:
        frame["duration"] = frame["duration"].dt.total_seconds().round(1)
        frame = frame.rename(columns={"duration": "seconds"})
    table = study_dir / "trials.csv"
    frame.to_csv(table, index=False)
    complete = [t for t in study.trials if t.value is not None]
    plot = study_dir / "trials.png"
    _plot_history(study, metric, plot)
    best_value = study.best_value if complete else None
    best_params = study.best_params if complete else {}
    (study_dir / "best.json").write_text(json.dumps({"value": best_value, "params": best_params}, indent=2))
    return TuneResult(study_dir, best_value, best_params, table, plot)


def _plot_history(study, metric: str, path: Path) -> None:
    """Optuna's own plots: the optimisation history (each trial and the best so far) and, when trials
    reported as they trained, their learning curves (where pruning cut them)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from optuna.visualization import matplotlib as optuna_plots

    with warnings.catch_warnings():  # optuna marks its matplotlib backend experimental
        warnings.simplefilter("ignore")
        history = optuna_plots.plot_optimization_history(study, target_name=metric)
        history.figure.set_size_inches(7, 4)
        history.figure.tight_layout()
        history.figure.savefig(path, dpi=100)
        plt.close(history.figure)
        if any(t.intermediate_values for t in study.trials):
            curves = optuna_plots.plot_intermediate_values(study)
            curves.figure.set_size_inches(7, 4)
            curves.figure.tight_layout()
            curves.figure.savefig(path.with_name("intermediate.png"), dpi=100)
            plt.close(curves.figure)
