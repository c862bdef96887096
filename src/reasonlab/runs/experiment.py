"""``reasonlab run EXPERIMENT.yaml``: synth -> traces -> train -> eval -> submit, each stage cached.

One config (:class:`ExperimentConfig`) names the whole loop; each stage calls the library function its
command calls, and writes into its own folder of the run directory (:mod:`reasonlab.runs.stages`: a stage
is skipped when its settings and inputs are those it completed with, resumed after a crash, run again
with everything downstream when they changed):

    RUN_DIR/config.yaml, run.json, environment.json   (reasonlab.runs.rundir)
    RUN_DIR/synth/train.csv, heldout.csv     puzzles from the generators; held out: another seed, no
                                             prompt in common with the training puzzles
    RUN_DIR/traces/train.jsonl               SFT records of the training puzzles with a proven trace
    RUN_DIR/train/<phase>/model|adapter      each training phase in turn (SFT or GRPO), one run_sft /
                                             run_grpo run directory each
    RUN_DIR/eval/baseline/, eval/trained/    eval run directories (run_eval) of the untrained and the
                                             trained model
    RUN_DIR/submit/submission.zip            the final adapter packed and checked
    RUN_DIR/experiment.json                  the figures: accuracies, gain, each stage's result

``reasonlab run`` without a file runs the embedded quickstart (``reasonlab/data/quickstart.yaml``): Roman
numerals, a 0.14M-parameter model trained from random on CPU in minutes.
"""

from __future__ import annotations

import re
import time
import warnings
from collections.abc import Callable, Iterable
from contextlib import closing
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag, model_validator

from reasonlab.inference.factory import BackendConfig
from reasonlab.puzzles.types import Puzzle
from reasonlab.runs.config import load_config
from reasonlab.runs.evaluate import DataConfig, GenerationConfig
from reasonlab.runs.rundir import open_run_dir, write_json_atomic
from reasonlab.runs.stages import Stage, StageStatus, run_stages
from reasonlab.synth.config import FamilyKnobs, FamilyMix, TracingSettings
from reasonlab.synth.thoughts import NUMERAL_THOUGHTS, Thought
from reasonlab.training.config import GRPOSpec, LoraSpec, ModelSpec, SFTSpec, Strict, TrackingSpec

EMBEDDED = "quickstart.yaml"
SUMMARY_FILE = "experiment.json"
TRAIN_PUZZLES, HELDOUT_PUZZLES, RECORDS = "train.csv", "heldout.csv", "train.jsonl"
SUBMISSION = "submission.zip"
HELDOUT = "heldout"
# The held-out puzzles come from this seed offset: another stream than the training puzzles'.
HELDOUT_SEED_OFFSET = 1_000_003
STAGES = ("synth", "traces", "train", "eval", "submit")
PHASE_NAME = re.compile(r"[A-Za-z0-9_-]+")


class ExperimentError(RuntimeError):
    """A stage could not produce its outputs (too few puzzles, no record, ...); the message says why."""


class SynthStage(Strict):
    """Puzzles from the generators: a training set, and a held-out set from another seed with no prompt
    in common with it (``reasonlab.synth``)."""

    mix: FamilyMix = Field(
        None, description="Family weights, e.g. {bit: 0.3, gravity: 1} (default: all alike)."
    )
    knobs: FamilyKnobs = Field(
        {}, description="Generator settings by family, e.g. {gravity: {n_examples: 5}}."
    )
    train_puzzles: int = Field(1000, ge=1)
    heldout_puzzles: int = Field(100, ge=1)
    avoid: list[Path] = Field(
        [], description="CSVs whose prompts are never generated (the development set you will score on)."
    )
    workers: int = Field(1, ge=0, description="Processes (0: every core); the same puzzles for any number.")


class TracesStage(TracingSettings):
    """SFT records of the training puzzles that have a proven trace in ``style`` (``reasonlab traces``)."""

    tokenizer: str = Field(
        "none",
        description="Tokenizer that holds each record to the budget: 'tekken', a Hugging Face path, 'auto' "
        "(tekken if installed) or 'none'.",
    )
    workers: int = Field(1, ge=0, description="Processes (0: every core); the same records for any number.")
    thought: Thought = Field(
        "trace",
        description="The think block: trace (the style's proven trace), places or restate (numerals: "
        "shorter thoughts a tiny model learns), answer (empty).",
    )


class SFTPhase(Strict):
    """Supervised fine-tuning on the traces stage's records (``run_sft``)."""

    method: Literal["sft"] = "sft"
    lora: LoraSpec = LoraSpec()
    train: SFTSpec = SFTSpec()


class GRPOPhase(Strict):
    """Reinforcement learning on the synth stage's training puzzles (``run_grpo``)."""

    method: Literal["grpo"] = "grpo"
    lora: LoraSpec = LoraSpec(r=16, alpha=32)
    train: GRPOSpec = GRPOSpec()


def phase_method(value: Any) -> str:
    return value.get("method", "sft") if isinstance(value, dict) else getattr(value, "method", "sft")


Phase = Annotated[
    Annotated[SFTPhase, Tag("sft")] | Annotated[GRPOPhase, Tag("grpo")], Discriminator(phase_method)
]


class EvalStage(Strict):
    """The eval harness (``run_eval``) on the trained model, and on the untrained one for the gain."""

    data: DataConfig = Field(
        DataConfig(path=HELDOUT),
        description="data.path: 'heldout' (the synth stage's held-out puzzles) or a labelled CSV such as dev.csv.",
    )
    baseline: bool = Field(True, description="Also evaluate the untrained model.")
    backend: BackendConfig = Field(
        BackendConfig(kind="hf"), description="How to generate; model and adapter are the trained ones."
    )
    generation: GenerationConfig = GenerationConfig()
    report: bool = True

    @model_validator(mode="after")
    def _model_is_the_experiments(self):
        # Compared with the defaults, not the fields given: a recorded config.yaml holds every field.
        if self.backend.model != BackendConfig().model or self.backend.adapter is not None:
            raise ValueError(
                "eval.backend.model and eval.backend.adapter are the experiment's (the model it trains); "
                "set model.name_or_path instead"
            )
        return self


class SubmitStage(Strict):
    """The last phase's adapter packed into submission.zip and checked as the grader would load it."""

    architecture: Literal["model", "competition"] = Field(
        "model",
        description="Check against the trained model's own architecture (a local model; tiny models), or "
        "Nemotron-3-Nano-30B-A3B's.",
    )


class ExperimentConfig(Strict):
    name: str = "experiment"
    output_root: str = Field("runs", description="Run directories are created under this folder.")
    seed: int = Field(
        0, description="Every stage's seed: puzzles, model initialisation, training, generation."
    )
    model: ModelSpec = ModelSpec()
    synth: SynthStage = SynthStage()
    traces: TracesStage = TracesStage()
    train: dict[str, Phase] = Field(
        default_factory=lambda: {"sft": SFTPhase()},
        description="Training phases in order, by name (their folder): each starts from the previous one's "
        "model (after full training) or continues its adapter (after a LoRA).",
    )
    eval: EvalStage = EvalStage()
    submit: SubmitStage = SubmitStage()
    tracking: TrackingSpec = TrackingSpec(mlflow=False)

    @model_validator(mode="after")
    def _stages_fit_together(self):
        if not self.train:
            raise ValueError("train: name at least one training phase")
        for name in self.train:
            if not PHASE_NAME.fullmatch(name):
                raise ValueError(f"train.{name}: a phase's name is its folder: letters, digits, - and _ only")
        lora_seen = None
        for name, phase in self.train.items():
            if not phase.lora.enabled and lora_seen:
                raise ValueError(
                    f"train.{name}: full training cannot follow the LoRA of phase {lora_seen!r} "
                    "(train every weight first)"
                )
            lora_seen = lora_seen or (name if phase.lora.enabled else None)
        last = list(self.train)[-1]
        if not self.train[last].lora.enabled:
            raise ValueError(f"train.{last}: the last phase must train a LoRA adapter, which submit packs")
        families = set(self.synth.mix or {})
        if self.traces.thought in NUMERAL_THOUGHTS and families != {"numeral"}:
            raise ValueError(
                f"traces.thought: {self.traces.thought} restates a numeral query; set synth.mix to {{numeral: 1}}"
            )
        return self

    def identity(self) -> dict[str, Any]:
        """A run directory holds one experiment, whose stages may change between sessions (each is cached
        by its own settings), so its name is what must stay the same."""
        return {"experiment": self.name}

    def stage_settings(self) -> dict[str, dict[str, Any]]:
        """What defines each stage's outputs (worker counts and monitoring do not)."""
        dump = self.model_dump(mode="json")
        return {
            "synth": {"seed": self.seed, **self.synth.model_dump(mode="json", exclude={"workers"})},
            "traces": self.traces.model_dump(mode="json", exclude={"workers"}),
            # phases as a list: their order is part of what they train (a key hashes mappings sorted)
            "train": {"seed": self.seed, "model": dump["model"], "phases": list(dump["train"].items())},
            "eval": {"seed": self.seed, **dump["eval"]},
            "submit": dump["submit"],
        }


def embedded_config_path() -> Path:
    return Path(str(resources.files("reasonlab") / "data" / EMBEDDED))


def load_experiment_config(path: str | Path | None = None, overrides: Iterable[str] = ()) -> ExperimentConfig:
    """The experiment at ``path`` (the embedded quickstart when None) with ``key=value`` overrides."""
    return load_config(ExperimentConfig, path or embedded_config_path(), overrides)


@dataclass(frozen=True)
class ExperimentResult:
    run_dir: Path
    accuracy_before: float | None  # None without a baseline evaluation
    accuracy_after: float
    submission: Path
    seconds: float
    stages: dict[str, Any]  # each stage's result

    @property
    def gain(self) -> float | None:
        return None if self.accuracy_before is None else self.accuracy_after - self.accuracy_before


StageCallback = Callable[[Stage, StageStatus], None]


def run_experiment(
    config: ExperimentConfig,
    run_dir: str | Path,
    *,
    force: Iterable[str] = (),
    on_stage: StageCallback = lambda stage, status: None,
) -> ExperimentResult:
    """Run (or resume, or reuse) every stage of ``config`` in ``run_dir``; write experiment.json."""
    start = time.perf_counter()
    run = open_run_dir(run_dir, "run", config, seed=config.seed, identity=ExperimentConfig.identity)
    results = run_stages(
        experiment_stages(config, run.path, on_stage), run.path, force=force, on_stage=on_stage
    )
    run.record_device()
    evaluation = results["eval"]
    result = ExperimentResult(
        run.path,
        evaluation["accuracy_before"],
        evaluation["accuracy_after"],
        run.path / results["submit"]["submission"],
        time.perf_counter() - start,
        results,
    )
    summary = {
        "accuracy_before": result.accuracy_before,
        "accuracy_after": result.accuracy_after,
        "gain": result.gain,
        "eval_rows": evaluation["rows"],
        "submission": results["submit"]["submission"],
        "seconds": round(result.seconds, 1),
        "stages": results,
    }
    write_json_atomic(run.path / SUMMARY_FILE, summary)
    return result


def experiment_stages(config: ExperimentConfig, run_dir: Path, on_stage: StageCallback) -> list[Stage]:
    settings = config.stage_settings()
    synth, traces = config.synth, config.traces
    phases = ", then ".join(f"{name} ({_phase_kind(phase)})" for name, phase in config.train.items())
    evaluated = "the untrained and the trained model" if config.eval.baseline else "the trained model"
    return [
        Stage(
            "synth",
            settings["synth"],
            lambda folder, _: _synth(config, folder),
            description=f"synthesising {synth.train_puzzles} + {synth.heldout_puzzles} held-out puzzles "
            f"({_describe_mix(synth.mix)})",
        ),
        Stage(
            "traces",
            settings["traces"],
            lambda folder, _: _traces(config, folder, run_dir),
            ("synth",),
            f"tracing the training puzzles ({traces.style}; thought: {traces.thought})",
        ),
        Stage(
            "train",
            settings["train"],
            lambda folder, _: _train(config, folder, run_dir, on_stage),
            ("synth", "traces"),
            f"training: {phases}",
        ),
        Stage(
            "eval",
            settings["eval"],
            lambda folder, inputs: _eval(config, folder, run_dir, inputs["train"]),
            ("synth", "train"),
            f"evaluating {evaluated}",
        ),
        Stage(
            "submit",
            settings["submit"],
            lambda folder, inputs: _submit(config, folder, run_dir, inputs["train"]),
            ("train",),
            f"packing and checking {SUBMISSION}",
        ),
    ]


def _describe_mix(mix: dict[str, float] | None) -> str:
    return ", ".join(mix) if mix else "every family"


def _phase_kind(phase: SFTPhase | GRPOPhase) -> str:
    return f"{phase.method}, {'LoRA' if phase.lora.enabled else 'every weight'}"


def _relative(path: Path, run_dir: Path) -> str:
    """Results name files relative to the run directory, so that a moved run still finds them."""
    return Path(path).relative_to(run_dir).as_posix()


# -- synth ---------------------------------------------------------------------------------------------


def _synth(config: ExperimentConfig, folder: Path) -> dict[str, Any]:
    from reasonlab.puzzles.io import PuzzleFileError, avoided_prompts
    from reasonlab.synth.generate import Mixture
    from reasonlab.synth.records import write_puzzles_csv

    mixture = Mixture.resolve(config.synth.mix)
    try:
        avoid = avoided_prompts(config.synth.avoid)
    except PuzzleFileError as exc:
        raise ExperimentError(f"synth.avoid: {exc}") from None
    train = _generate(config, mixture, config.seed, config.synth.train_puzzles, avoid)
    heldout = _generate(
        config,
        mixture,
        config.seed + HELDOUT_SEED_OFFSET,
        config.synth.heldout_puzzles,
        avoid | {p.prompt for p in train},
    )
    write_puzzles_csv(train, folder / TRAIN_PUZZLES)
    write_puzzles_csv(heldout, folder / HELDOUT_PUZZLES)
    return {"train_puzzles": len(train), "heldout_puzzles": len(heldout)}


def _generate(config: ExperimentConfig, mixture, seed: int, n: int, avoid: set[str]) -> list[Puzzle]:
    from reasonlab.puzzles.solve import default_workers
    from reasonlab.synth.dataset import select
    from reasonlab.synth.generate import iter_traced

    stream = iter_traced(
        seed,
        mixture,
        workers=config.synth.workers or default_workers(),
        knobs=config.synth.knobs,
        traced=False,
    )
    with closing(stream):
        chosen = select(stream, limit=n, avoid_prompts=avoid, require_trace=False, max_seen=50 * n + 10_000)
    if len(chosen.kept) < n:
        raise ExperimentError(
            f"synth: only {len(chosen.kept)} of {n} new puzzles after {chosen.seen} "
            f"({chosen.duplicates} duplicates, {chosen.avoided} avoided prompts)"
        )
    return [traced.puzzle for traced in chosen.kept]


# -- traces --------------------------------------------------------------------------------------------


def _traces(config: ExperimentConfig, folder: Path, run_dir: Path) -> dict[str, Any]:
    from reasonlab.puzzles.io import read_puzzles
    from reasonlab.puzzles.solve import default_workers
    from reasonlab.synth.check import trace_many
    from reasonlab.synth.dataset import select
    from reasonlab.synth.records import write_records
    from reasonlab.synth.thoughts import thought_record
    from reasonlab.synth.tokens import token_budget

    settings = config.traces
    puzzles = read_puzzles(run_dir / "synth" / TRAIN_PUZZLES).puzzles
    try:
        budget = token_budget(settings.tokenizer, settings.budget, on_missing=warnings.warn)
    except ValueError as exc:
        raise ExperimentError(f"traces.tokenizer: {exc}") from None
    traced = trace_many(
        puzzles,
        workers=settings.workers or default_workers(),
        timeout=settings.timeout_per_puzzle,
        token_budget=budget,
        style=settings.style,
    )
    chosen = select(traced, require_trace=True)
    if not chosen.kept:
        raise ExperimentError(f"traces: no training puzzle has a proven {settings.style} trace")
    write_records((thought_record(t, settings.thought) for t in chosen.kept), folder / RECORDS)
    rejected = {f"{family}: {reason.value}": n for (family, reason), n in sorted(chosen.rejected.items())}
    return {"records": len(chosen.kept), "rejected": rejected}


# -- train ---------------------------------------------------------------------------------------------


def base_model(config: ExperimentConfig) -> str:
    """The untrained model's path (a ``tiny:`` model is built once, from the experiment's seed)."""
    from reasonlab.training.modeling import resolve_model_path

    return resolve_model_path(config.model.name_or_path, config.seed)


def trained_model(config: ExperimentConfig, run_dir: Path, trained: dict[str, Any]) -> Path:
    """The model the final adapter sits on: the last full-training phase's, else the base model."""
    return run_dir / trained["model"] if trained["model"] else Path(base_model(config))


def _train(config: ExperimentConfig, folder: Path, run_dir: Path, on_stage: StageCallback) -> dict[str, Any]:
    """Each phase is itself a cached stage inside ``train/``: after a crash, finished phases are kept."""
    from reasonlab.training.base import ADAPTER, MODEL

    model, adapter = base_model(config), None
    phases: list[Stage] = []
    for name, phase in config.train.items():
        phases.append(
            Stage(
                name,
                phase.model_dump(mode="json"),
                _phase_runner(config, name, phase, model, adapter, run_dir),
                (phases[-1].name,) if phases else (),
                _phase_kind(phase),
            )
        )
        if phase.lora.enabled:
            adapter = str(folder / name / ADAPTER)
        else:
            model = str(folder / name / MODEL)
    results = run_stages(phases, folder, on_stage=on_stage)
    last = results[phases[-1].name]
    final_model = next(
        (
            results[stage.name]["output"]
            for stage in reversed(phases)
            if not results[stage.name]["is_adapter"]
        ),
        None,
    )
    return {
        "model": final_model,  # None: the experiment's own base model
        "adapter": last["output"],
        "phases": {name: result["metrics"] for name, result in results.items()},
    }


def _phase_runner(
    config: ExperimentConfig,
    name: str,
    phase: SFTPhase | GRPOPhase,
    model: str,
    adapter: str | None,
    run_dir: Path,
) -> Callable[[Path, dict], dict[str, Any]]:
    def run(folder: Path, _inputs: dict) -> dict[str, Any]:
        from reasonlab.training.base import last_checkpoint
        from reasonlab.training.config import DataSpec, GRPOConfig, SFTConfig

        lora = phase.lora
        if lora.enabled and adapter is not None and lora.init_from is None:
            lora = lora.model_copy(update={"init_from": adapter})  # a LoRA phase continues the last adapter
        common = dict(
            name=name,
            output_root=config.output_root,
            seed=config.seed,
            model=config.model.model_copy(update={"name_or_path": model}),
            lora=lora,
            train=phase.train,
            tracking=config.tracking,
        )
        resume = last_checkpoint(folder) is not None
        if isinstance(phase, SFTPhase):
            from reasonlab.training.sft import run_sft

            records = run_dir / "traces" / RECORDS
            result = run_sft(SFTConfig(**common, data=DataSpec(train=[str(records)])), folder, resume=resume)
        else:
            from reasonlab.training.grpo import run_grpo

            puzzles = run_dir / "synth" / TRAIN_PUZZLES
            result = run_grpo(
                GRPOConfig(**common, data=DataSpec(train=[str(puzzles)])), folder, resume=resume
            )
        return {
            "output": _relative(result.output, run_dir),
            "is_adapter": result.is_adapter,
            "metrics": result.metrics,
        }

    return run


# -- eval ----------------------------------------------------------------------------------------------


def _eval(config: ExperimentConfig, folder: Path, run_dir: Path, trained: dict[str, Any]) -> dict[str, Any]:
    data = config.eval.data
    if data.path == HELDOUT:
        data = data.model_copy(update={"path": str(run_dir / "synth" / HELDOUT_PUZZLES)})
    before = (
        _evaluate(config, data, base_model(config), None, folder / "baseline")
        if config.eval.baseline
        else None
    )
    model = str(trained_model(config, run_dir, trained))
    after = _evaluate(config, data, model, str(run_dir / trained["adapter"]), folder / "trained")
    return {
        "accuracy_before": before["accuracy"] if before else None,
        "accuracy_after": after["accuracy"],
        "rows": after["rows"],
        "baseline": before,
        "trained": after,
    }


def _evaluate(config: ExperimentConfig, data: DataConfig, model: str, adapter: str | None, out: Path) -> dict:
    """One eval run through the eval command's own function; its overall metrics."""
    from reasonlab.runs.evaluate import EvalConfig, run_eval

    settings = config.eval
    eval_config = EvalConfig(
        seed=config.seed,
        data=data,
        backend=settings.backend.model_copy(update={"model": model, "adapter": adapter}),
        generation=settings.generation,
        report=settings.report,
    )
    return run_eval(eval_config, out).metrics["overall"]


# -- submit --------------------------------------------------------------------------------------------


def _submit(config: ExperimentConfig, folder: Path, run_dir: Path, trained: dict[str, Any]) -> dict[str, Any]:
    from reasonlab.submission.architecture import competition_architecture, load_architecture
    from reasonlab.submission.pack import pack_adapter

    architecture = (
        load_architecture(trained_model(config, run_dir, trained))
        if config.submit.architecture == "model"
        else competition_architecture()
    )
    packed = pack_adapter(run_dir / trained["adapter"], folder / SUBMISSION, architecture)
    report = packed.report
    return {
        "submission": _relative(packed.path, run_dir),
        "checked": report.ok,
        "architecture": report.architecture,
        "rank": report.rank,
        "tensors": report.tensors,
        "converted": packed.converted,
    }
