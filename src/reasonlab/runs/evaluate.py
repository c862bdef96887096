"""``reasonlab eval``: a grader-exact evaluation run, resumable, written to one run directory.

Everything evaluated is a task (:mod:`reasonlab.tracks`): the Wonderland puzzles of ``data.path``
(:mod:`reasonlab.tracks.wonderland`) and the tasks named in ``data.tasks``. Every row takes one path:

    task.requests()  ->  backend requests  ->  backend.generate()  ->  stored as it arrives
    -> task.score() (its extraction and scorer)  ->  EvalRow  ->  metrics, scorecard, report

    RUN_DIR/config.yaml, run.json, environment.json   (see reasonlab.runs.rundir)
    RUN_DIR/completions.jsonl   one line per row as it completes: id, task, family, subtype, completion,
                                answer, tokens, finish reason, seconds (reasonlab.scoring.rows.StoredCompletion)
    RUN_DIR/sessions.jsonl      wall and backend seconds of each session (a resumed run has several)
    RUN_DIR/metrics.json        reasonlab.runs.metrics: overall, by task / family / subtype / track
    RUN_DIR/report.html, report.md

A run's identity is its backend, generation and prompt settings: rerunning into the same directory
skips every row already completed under that identity, so a killed run resumes where it stopped.

``data.path`` may also be SFT records (JSONL/Parquet from ``synth`` or ``traces``): each row then carries a
reference trace, and the run adds imitation metrics (``reasonlab.runs.imitation``; ``RUN_DIR/imitation.jsonl``
holds each row's teacher-forced scores) for backends that score references (hf, vllm), and the
perfect-trace rate for every backend.

``data.tasks`` adds track tasks (math, code, logic, commonsense; see ``reasonlab tasks list``) to the
run, beside or instead of the puzzles: the same backend, store, metrics and report, each task row
scored by its own task (the grader's metric, math-verify, the code sandbox, reasoning-gym checkers,
choice matching), with per-track groups (``by_track``) and, with ``data.samples`` > 1, ``pass_at_k``
per task.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from reasonlab.grader import MAX_TOKENS
from reasonlab.inference.base import Backend, GenerationSettings, ReferenceScorer
from reasonlab.inference.factory import BackendConfig, make_backend
from reasonlab.inference.prompts import backend_requests
from reasonlab.inference.store import CompletionStore, stored_records
from reasonlab.puzzles.types import Puzzle
from reasonlab.runs.config import load_config, read_yaml
from reasonlab.runs.imitation import (
    imitation_metrics,
    is_perfect,
    line_classifier,
    step_kinds_for,
    trace_imitation,
)
from reasonlab.runs.metrics import DEFAULT_BUDGETS, compute_metrics
from reasonlab.runs.rundir import CONFIG_FILE, RUN_FILE, RunDir, open_run_dir, write_json_atomic
from reasonlab.runs.scorecard import build_scorecard, ceiling_from_run, solve_inline
from reasonlab.runs.seeds import seed_everything
from reasonlab.scoring.rows import WONDERLAND, EvalRow, question_id
from reasonlab.tracks import EvalRequest, EvalTask, load_task
from reasonlab.tracks.evaluation import pass_at_k_by_task, score_records, task_requests
from reasonlab.tracks.wonderland import WonderlandTask, sample_csv, wonderland_task

SAMPLE_DATA = "sample"
COMPLETIONS_FILE = "completions.jsonl"
SESSIONS_FILE = "sessions.jsonl"
IMITATION_FILE = "imitation.jsonl"
METRICS_FILE = "metrics.json"
DEFAULT_CONFIG = "eval-tiny.yaml"


class DataConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str = Field(
        SAMPLE_DATA,
        description="The puzzles (the 'wonderland' task): a labelled CSV (id,prompt,answer), SFT records "
        "(JSONL/Parquet with messages: adds imitation metrics against their traces); 'sample' for the "
        "built-in rows.",
    )
    limit: int | None = Field(None, ge=1, description="First N rows (after the family filter; of each task).")
    families: list[str] | None = None
    tasks: list[str] = Field(
        [],
        description="Tasks beside the puzzles: names from `reasonlab tasks list` or task YAML files "
        "('wonderland' is the puzzles of data.path).",
    )
    puzzles: bool | None = Field(
        None, description="Include puzzles (default: yes, unless only other tasks are named)."
    )
    samples: int = Field(
        1, ge=1, description="Completions per question of every task (pass@k for every k up to it)."
    )
    fewshot: int | None = Field(
        None,
        ge=0,
        description="Few-shot examples per track task (default: the task's own); the puzzles' worked "
        "examples are prompt.few_shot.",
    )

    def include_puzzles(self) -> bool:
        if self.puzzles is not None:
            return self.puzzles
        return not self.tasks or bool(self.families) or WONDERLAND in self.tasks


class GenerationConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_tokens: int = Field(MAX_TOKENS, ge=1)
    temperature: float = Field(0.0, ge=0)
    top_p: float = Field(1.0, gt=0, le=1)
    enable_thinking: bool = True


class FewShotExample(BaseModel):
    puzzle: str
    reply: str


class PromptConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    system_prompt: str | None = None
    few_shot: list[FewShotExample] = []


class EvalConfig(BaseModel):
    """Defaults are the grader's: greedy, 7,680 new tokens, thinking on, no system prompt."""

    model_config = ConfigDict(extra="forbid")

    seed: int = 0
    data: DataConfig = DataConfig()
    backend: BackendConfig = BackendConfig()
    generation: GenerationConfig = GenerationConfig()
    prompt: PromptConfig = PromptConfig()
    legacy_extraction: bool = False
    budgets: list[int] = list(DEFAULT_BUDGETS)
    report: bool = True
    teacher_forcing: bool = Field(
        True, description="Score rows' reference traces under teacher forcing (hf, vllm backends)."
    )
    ceiling: str = Field(
        "inline",
        description="The scorecard's solver ceiling: 'inline' (solve the rows), the directory of a "
        "solver-backend eval run, or 'none'.",
    )

    def identity(self) -> dict[str, Any]:
        """What defines the completions (not which rows, nor how fast)."""
        identity = {
            "seed": self.seed,
            "backend": self.backend.identity(),
            "generation": self.generation.model_dump(mode="json"),
            "prompt": self.prompt.model_dump(mode="json"),
        }
        if self.data.fewshot is not None:  # changes the tasks' messages
            identity["task_fewshot"] = self.data.fewshot
        return identity


def default_config_path() -> Path:
    return Path(str(resources.files("reasonlab") / "data" / DEFAULT_CONFIG))


def load_eval_config(path: str | Path | None, overrides: list[str] = ()) -> EvalConfig:
    """The YAML at ``path`` (the embedded tiny CPU default when None) with ``key=value`` overrides."""
    if path is None:
        return load_config(EvalConfig, None, overrides, defaults=read_yaml(default_config_path()))
    return load_config(EvalConfig, path, overrides)


def data_path(config: EvalConfig) -> Path:
    return sample_csv() if config.data.path == SAMPLE_DATA else Path(config.data.path)


def puzzle_task(config: EvalConfig, *, legacy: bool | None = None) -> WonderlandTask:
    """The Wonderland task over the config's data: its family filter, worked examples and extraction."""
    return wonderland_task(
        data_path(config),
        families=config.data.families,
        few_shot=[(e.puzzle, e.reply) for e in config.prompt.few_shot],
        legacy_extraction=config.legacy_extraction if legacy is None else legacy,
    )


def select_tasks(config: EvalConfig, *, legacy: bool | None = None) -> list[EvalTask]:
    """The run's tasks: the puzzles of ``data.path`` (unless only other tasks are named), then ``data.tasks``."""
    tasks: list[EvalTask] = [puzzle_task(config, legacy=legacy)] if config.data.include_puzzles() else []
    return tasks + [load_task(name) for name in config.data.tasks if name != WONDERLAND]


def select_requests(
    config: EvalConfig, *, legacy: bool | None = None
) -> tuple[dict[str, EvalTask], list[EvalRequest]]:
    """The run's tasks by name and their requests: the first ``data.limit`` of each task (puzzles after the
    family filter), each asked ``data.samples`` times."""
    return task_requests(
        select_tasks(config, legacy=legacy),
        limit=config.data.limit,
        fewshot=config.data.fewshot,
        samples=config.data.samples,
    )


def select_puzzles(config: EvalConfig) -> list[Puzzle]:
    """The puzzles of the config's data (``reasonlab bench`` times the rows an eval would ask)."""
    requests = puzzle_task(config).requests(limit=config.data.limit)
    return [Puzzle(r.id, r.puzzle or "", r.gold) for r in requests]


@dataclass
class EvalResult:
    run: RunDir
    metrics: dict[str, Any]
    generated_rows: int
    reused_rows: int
    rows: list[EvalRow]


def read_sessions(path: Path) -> dict[str, float]:
    totals = {"wall_s": 0.0, "backend_s": 0.0, "generated_tokens": 0}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                session = json.loads(line)
                for key in totals:
                    totals[key] += session.get(key, 0)
    return totals


def _settings(config: EvalConfig) -> GenerationSettings:
    return GenerationSettings(**config.generation.model_dump(), seed=config.seed)


def _teacher_force(
    config: EvalConfig, backend: ReferenceScorer, requests: Sequence[EvalRequest], store: CompletionStore
) -> None:
    """Score the requests' reference traces and store each row's imitation metrics."""
    by_id = {r.id: r for r in requests}
    prompts = backend_requests(requests, system_prompt=config.prompt.system_prompt)
    texts = [r.trace or "" for r in requests]
    for score in backend.score_references(prompts, texts, _settings(config)):
        request = by_id[score.id]
        kinds = step_kinds_for(request.family, request.trace_style)
        classify_line = line_classifier(kinds) if kinds else None
        store.append({"id": score.id, **trace_imitation(score.tokens, request.trace or "", classify_line)})


def _generate(
    config: EvalConfig,
    backend: Backend,
    tasks: dict[str, EvalTask],
    requests: Sequence[EvalRequest],
    store: CompletionStore,
    on_row: Callable[[], None],
) -> dict:
    """Generate the pending requests into the store, each line with the answer its task's extraction reads;
    returns this session's timing."""
    started = time.perf_counter()
    by_id = {r.id: r for r in requests}
    prompts = backend_requests(requests, system_prompt=config.prompt.system_prompt)
    backend_s, generated_tokens = 0.0, 0
    completions = backend.generate(prompts, _settings(config))
    while True:
        waited = time.perf_counter()
        completion = next(completions, None)
        backend_s += time.perf_counter() - waited
        if completion is None:
            break
        request = by_id[completion.id]
        store.append(
            {
                "id": completion.id,
                "task": request.task,
                "family": request.family,
                "subtype": request.subtype,
                "completion": completion.text,
                "answer": tasks[request.task].extract(request, completion.text),
                "prompt_tokens": completion.prompt_tokens,
                "completion_tokens": completion.completion_tokens,
                "finish_reason": completion.finish_reason,
                "seconds": round(completion.seconds, 4),
                "error": completion.error,
            }
        )
        generated_tokens += completion.completion_tokens
        on_row()
    return {
        "rows": len(prompts),
        "backend_s": backend_s,
        "wall_s": time.perf_counter() - started,
        "generated_tokens": generated_tokens,
    }


def with_imitation(rows: Sequence[EvalRow], scores: dict[str, dict[str, Any]]) -> list[EvalRow]:
    """Each row that has a reference trace marked ``perfect`` (free generation) and given its ``imitation``
    (teacher forcing, where it was scored)."""
    marked = []
    for row in rows:
        if row.reference is not None:
            imitation = scores.get(row.id)
            row = replace(
                row,
                perfect=is_perfect(row.completion, row.reference),
                imitation={k: v for k, v in imitation.items() if k not in ("id", "config_hash")}
                if imitation
                else None,
            )
        marked.append(row)
    return marked


def solver_ceiling(config: EvalConfig, puzzles: Sequence[Puzzle]) -> dict[str, bool] | None:
    if config.ceiling == "none":
        return None
    if config.ceiling == "inline":
        # A process pool costs more than it saves on a few rows.
        return solve_inline(puzzles, workers=1 if len(puzzles) < 200 else None)
    return ceiling_from_run(Path(config.ceiling), puzzles)


def _questions(requests: Sequence[EvalRequest]) -> list[Puzzle]:
    """The puzzles among the requests, once each (the solvers' ceiling is per question)."""
    puzzles = {
        question_id(r.id): Puzzle(question_id(r.id), r.puzzle, r.gold)
        for r in requests
        if r.puzzle is not None
    }
    return list(puzzles.values())


def _add_scorecard(
    metrics: dict[str, Any], config: EvalConfig, rows: list[EvalRow], requests: Sequence[EvalRequest]
) -> None:
    """Imitation aggregates and the scorecard (solver ceiling, gap, imitation) of the puzzle rows."""
    puzzle_rows = [row for row in rows if row.family is not None]
    if any(row.reference is not None for row in puzzle_rows):
        metrics["imitation"] = imitation_metrics(puzzle_rows)
    if puzzle_rows:
        metrics["scorecard"] = build_scorecard(
            puzzle_rows,
            solver_ceiling(config, _questions(requests)),
            metrics.get("imitation"),
            seed=config.seed,
        )


def run_eval(
    config: EvalConfig,
    out: str | Path,
    *,
    on_start: Callable[[int, int], None] = lambda pending, done: None,
    on_row: Callable[[], None] = lambda: None,
) -> EvalResult:
    """Evaluate (or resume) into ``out``: completions, imitation scores, metrics and report."""
    run = open_run_dir(out, "eval", config, seed=config.seed, identity=EvalConfig.identity)
    seed_everything(config.seed)
    tasks, requests = select_requests(config)
    row_ids = [r.id for r in requests]
    traced = [r for r in requests if r.trace is not None] if config.teacher_forcing else []
    with (
        CompletionStore(run.file(COMPLETIONS_FILE), run.config_hash) as store,
        CompletionStore(run.file(IMITATION_FILE), run.config_hash) as imitation_store,
    ):
        pending_ids = set(store.pending(row_ids))
        to_score = set(imitation_store.pending(r.id for r in traced))
        on_start(len(pending_ids), len(row_ids) - len(pending_ids))
        if pending_ids or to_score:
            building = time.perf_counter()
            backend = make_backend(config.backend, seed=config.seed)
            setup_s = time.perf_counter() - building  # the backend's own start (model load): not harness time
            try:
                if pending_ids:
                    pending = [r for r in requests if r.id in pending_ids]
                    session = _generate(config, backend, tasks, pending, store, on_row)
                    session["setup_s"] = setup_s
                    with run.file(SESSIONS_FILE).open("a", encoding="utf-8") as fh:
                        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
                        fh.write(json.dumps({**session, "utc": stamp}) + "\n")
                if to_score and isinstance(backend, ReferenceScorer):
                    scored = [r for r in traced if r.id in to_score]
                    _teacher_force(config, backend, scored, imitation_store)
            finally:
                backend.close()
            run.record_device()
        records = store.records
        imitation_scores = imitation_store.records
    rows = with_imitation(score_records(tasks, requests, records), imitation_scores)
    metrics = compute_metrics(
        rows,
        expected_rows=len(row_ids),
        timing=read_sessions(run.file(SESSIONS_FILE)),
        budgets=config.budgets,
    )
    if config.data.samples > 1:
        metrics["pass_at_k"] = pass_at_k_by_task(rows, range(1, config.data.samples + 1))
    _add_scorecard(metrics, config, rows, requests)
    metrics["config_hash"] = run.config_hash
    metrics["max_tokens"] = config.generation.max_tokens
    write_json_atomic(run.file(METRICS_FILE), metrics)
    if config.report:
        from reasonlab.runs.report import write_reports

        write_reports(run.path, metrics, rows, title=f"reasonlab eval: {run.path.name}")
    return EvalResult(
        run,
        metrics,
        generated_rows=len(pending_ids),
        reused_rows=len(row_ids) - len(pending_ids),
        rows=rows,
    )


def require_run_dir(run_dir: str | Path) -> Path:
    run_dir = Path(run_dir)
    if not (run_dir / RUN_FILE).is_file():
        raise FileNotFoundError(f"{run_dir}: not a run directory (no {RUN_FILE})")
    return run_dir


def run_config(run_dir: str | Path, *, gold: str | Path | None = None) -> EvalConfig:
    """The config a run directory was evaluated with (its puzzles' data replaced by ``gold`` when given)."""
    run_dir = require_run_dir(run_dir)
    config = load_eval_config(run_dir / CONFIG_FILE)
    if gold is None:
        return config
    return config.model_copy(update={"data": config.data.model_copy(update={"path": str(gold)})})


def score_stored(
    run_dir: str | Path, tasks: dict[str, EvalTask], requests: Sequence[EvalRequest]
) -> dict[str, EvalRow]:
    """The rows that ``run_dir``'s stored completions (those of its own config hash) give for ``requests``.
    Runs written before rows named their task load the same way
    (:meth:`reasonlab.scoring.rows.StoredCompletion.from_record`)."""
    run_dir = require_run_dir(run_dir)
    digest = json.loads((run_dir / RUN_FILE).read_text(encoding="utf-8"))["config_hash"]
    records = stored_records(run_dir / COMPLETIONS_FILE, digest)
    return {row.id: row for row in score_records(tasks, requests, records)}


def read_run_rows(
    run_dir: str | Path, *, gold: str | Path | None = None, legacy: bool | None = None
) -> tuple[list[EvalRequest], dict[str, EvalRow]]:
    """A finished (or partial) run's requests and its rows by id, re-scored from ``completions.jsonl``
    through the tasks of its own ``config.yaml`` (the puzzles' gold from ``gold`` when given, the
    pre-May-2026 extraction with ``legacy``)."""
    tasks, requests = select_requests(run_config(run_dir, gold=gold), legacy=legacy)
    return requests, score_stored(run_dir, tasks, requests)
