"""``reasonlab eval``: a grader-exact evaluation run, resumable, written to one run directory.

    RUN_DIR/config.yaml, run.json, environment.json   (see reasonlab.runs.rundir)
    RUN_DIR/completions.jsonl   one line per row as it completes: id, completion, answer, tokens, ...
    RUN_DIR/sessions.jsonl      wall and backend seconds of each session (a resumed run has several)
    RUN_DIR/metrics.json        reasonlab.runs.metrics, overall / by family / by subtype
    RUN_DIR/report.html, report.md

A run's identity is its backend, generation and prompt settings: rerunning into the same directory
skips every row already completed under that identity, so a killed run resumes where it stopped.

``data.path`` may also be SFT records (JSONL/Parquet from ``synth`` or ``traces``): each row then carries a
reference trace, and the run adds imitation metrics (``reasonlab.runs.imitation``; ``RUN_DIR/imitation.jsonl``
holds each row's teacher-forced scores) for backends that score references (hf, vllm), and the
perfect-trace rate for every backend.

``data.tasks`` adds track tasks (math, code, logic, commonsense; see ``reasonlab tasks list``) to the
run, beside or instead of the puzzles: the same backend, store, metrics and report, each task row
scored by its own task (math-verify, the code sandbox, reasoning-gym checkers, choice matching), with
per-track groups (``by_track``) and, with ``data.samples`` > 1, ``pass_at_k`` per task.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from reasonlab.grader import MAX_TOKENS, extract
from reasonlab.inference.base import Backend, GenerationSettings, ReferenceScorer
from reasonlab.inference.factory import BackendConfig, make_backend
from reasonlab.inference.prompts import puzzle_requests, track_requests
from reasonlab.inference.store import CompletionStore
from reasonlab.prompting import puzzle_text
from reasonlab.puzzles.classify import Classification, classify
from reasonlab.puzzles.io import read_puzzles
from reasonlab.puzzles.types import Puzzle
from reasonlab.runs.config import load_config, read_yaml
from reasonlab.runs.imitation import (
    imitation_metrics,
    is_perfect,
    line_classifier,
    reference_continuation,
    step_kinds_for,
    trace_imitation,
)
from reasonlab.runs.metrics import DEFAULT_BUDGETS, compute_metrics, group_metrics, score_rows
from reasonlab.runs.rundir import RunDir, open_run_dir, write_json_atomic
from reasonlab.runs.scorecard import build_scorecard, ceiling_from_run, solve_inline
from reasonlab.runs.seeds import seed_everything
from reasonlab.tracks import EvalRequest, Task
from reasonlab.tracks.evaluation import pass_at_k_by_task, score_records, task_requests

SAMPLE_DATA = "sample"
COMPLETIONS_FILE = "completions.jsonl"
SESSIONS_FILE = "sessions.jsonl"
IMITATION_FILE = "imitation.jsonl"
RECORD_SUFFIXES = (".jsonl", ".parquet")
METRICS_FILE = "metrics.json"
DEFAULT_CONFIG = "eval-tiny.yaml"


class DataConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str = Field(
        SAMPLE_DATA,
        description="Labelled CSV (id,prompt,answer), SFT records (JSONL/Parquet with messages: adds "
        "imitation metrics against their traces); 'sample' for the built-in rows.",
    )
    limit: int | None = Field(None, ge=1, description="First N rows (after the family filter; of each task).")
    families: list[str] | None = None
    tasks: list[str] = Field(
        [],
        description="Track tasks beside the puzzles: names from `reasonlab tasks list` or task YAML files.",
    )
    puzzles: bool | None = Field(
        None, description="Include puzzles (default: yes, unless only tasks are named)."
    )
    samples: int = Field(1, ge=1, description="Completions per task question (pass@k for every k up to it).")
    fewshot: int | None = Field(
        None, ge=0, description="Few-shot examples per task (default: the task's own)."
    )

    def include_puzzles(self) -> bool:
        return self.puzzles if self.puzzles is not None else not self.tasks or bool(self.families)


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
    if config.data.path == SAMPLE_DATA:
        return Path(str(resources.files("reasonlab") / "data" / "sample.csv"))
    return Path(config.data.path)


@dataclass(frozen=True)
class Reference:
    """A row's reference trace: the continuation the model should generate, and how it was written."""

    text: str
    family: str | None
    style: str | None


def read_reference_records(path: Path) -> tuple[list[Puzzle], dict[str, Reference]]:
    """Puzzles and reference traces from SFT records (user turn = the grader's prompt, assistant = trace)."""
    from reasonlab.synth.records import read_records

    puzzles, references = [], {}
    for record in read_records(path):
        by_role = {m["role"]: m["content"] for m in record["messages"]}
        puzzle = Puzzle(str(record["id"]), puzzle_text(by_role["user"]), record.get("answer"))
        puzzles.append(puzzle)
        if "assistant" in by_role:
            references[puzzle.id] = Reference(
                reference_continuation(by_role["assistant"]), record.get("family"), record.get("style")
            )
    return puzzles, references


def select_data(config: EvalConfig) -> tuple[list[Puzzle], dict[str, Reference]]:
    """The puzzles to evaluate (family filter, limit) and the reference traces of those that have one."""
    path = data_path(config)
    if path.suffix in RECORD_SUFFIXES:
        puzzles, references = read_reference_records(path)
        if any(p.answer is None for p in puzzles):
            raise ValueError(f"{path}: records without an 'answer'; evaluation needs gold answers")
    else:
        data = read_puzzles(path)
        if not data.has_answers:
            raise ValueError(f"{path} has no 'answer' column; evaluation needs gold answers")
        puzzles, references = data.puzzles, {}
    if config.data.families:
        wanted = set(config.data.families)
        puzzles = [p for p in puzzles if classify(p.prompt).family in wanted]
    if config.data.limit:
        puzzles = puzzles[: config.data.limit]
    kept = {p.id for p in puzzles}
    return puzzles, {k: v for k, v in references.items() if k in kept}


def select_puzzles(config: EvalConfig) -> list[Puzzle]:
    """The puzzles :func:`select_data` picks, without their reference traces."""
    return select_data(config)[0]


def select_task_requests(config: EvalConfig) -> tuple[dict[str, Task], list[EvalRequest]]:
    if not config.data.tasks:
        return {}, []
    return task_requests(
        config.data.tasks, limit=config.data.limit, fewshot=config.data.fewshot, samples=config.data.samples
    )


def track_metrics(rows: list[dict[str, Any]], budgets: list[int], samples: int) -> dict[str, Any]:
    """Per-track groups of the task rows and, when questions were sampled several times, pass@k."""
    by_track: dict[str, list] = defaultdict(list)
    for row in rows:
        by_track[row["track"]].append(row)
    extra: dict[str, Any] = {"by_track": {k: group_metrics(v, budgets) for k, v in sorted(by_track.items())}}
    if samples > 1:
        extra["pass_at_k"] = pass_at_k_by_task(rows, range(1, samples + 1))
    return extra


@dataclass
class EvalResult:
    run: RunDir
    metrics: dict[str, Any]
    generated_rows: int
    reused_rows: int


def read_sessions(path: Path) -> dict[str, float]:
    totals = {"wall_s": 0.0, "backend_s": 0.0, "generated_tokens": 0}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                session = json.loads(line)
                for key in totals:
                    totals[key] += session.get(key, 0)
    return totals


def _requests(config: EvalConfig, puzzles: Sequence[Puzzle]):
    few_shot = [(e.puzzle, e.reply) for e in config.prompt.few_shot]
    return puzzle_requests(puzzles, system_prompt=config.prompt.system_prompt, few_shot=few_shot)


def _settings(config: EvalConfig) -> GenerationSettings:
    return GenerationSettings(**config.generation.model_dump(), seed=config.seed)


def _teacher_force(
    config: EvalConfig,
    backend: ReferenceScorer,
    puzzles: Sequence[Puzzle],
    references: dict[str, Reference],
    store: CompletionStore,
) -> None:
    """Score the pending rows' reference traces and store each row's imitation metrics."""
    requests = _requests(config, puzzles)
    texts = [references[p.id].text for p in puzzles]
    for score in backend.score_references(requests, texts, _settings(config)):
        reference = references[score.id]
        kinds = step_kinds_for(reference.family, reference.style)
        classify_line = line_classifier(kinds) if kinds else None
        store.append({"id": score.id, **trace_imitation(score.tokens, reference.text, classify_line)})


def _generate(
    config: EvalConfig,
    backend: Backend,
    puzzles: list[Puzzle],
    store: CompletionStore,
    on_row: Callable[[], None],
    task_rows: Sequence[EvalRequest] = (),
) -> dict:
    """Generate the pending rows (puzzles, then track tasks) into the store; returns this session's timing."""
    started = time.perf_counter()
    kinds = {p.id: classify(p.prompt) for p in puzzles}
    kinds.update({r.id: Classification(r.task, None) for r in task_rows})
    requests = _requests(config, puzzles)
    requests += track_requests(task_rows, system_prompt=config.prompt.system_prompt)
    backend_s, generated_tokens = 0.0, 0
    completions = backend.generate(requests, _settings(config))
    while True:
        waited = time.perf_counter()
        completion = next(completions, None)
        backend_s += time.perf_counter() - waited
        if completion is None:
            break
        kind = kinds[completion.id]
        store.append(
            {
                "id": completion.id,
                "completion": completion.text,
                "answer": extract(completion.text, legacy=config.legacy_extraction),
                "family": kind.family,
                "subtype": kind.subtype,
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
        "rows": len(requests),
        "backend_s": backend_s,
        "wall_s": time.perf_counter() - started,
        "generated_tokens": generated_tokens,
    }


def _with_imitation(rows: list[dict[str, Any]], references: dict[str, Reference], scores: dict) -> None:
    """Mark each row that has a reference with ``perfect`` (free generation) and ``imitation`` (teacher
    forcing, where it was scored)."""
    for row in rows:
        reference = references.get(row["id"])
        if reference is None:
            continue
        row["perfect"] = is_perfect(row["completion"], reference.text)
        row["reference"] = reference.text
        if row["id"] in scores:
            row["imitation"] = {k: v for k, v in scores[row["id"]].items() if k not in ("id", "config_hash")}


def solver_ceiling(config: EvalConfig, puzzles: Sequence[Puzzle]) -> dict[str, bool] | None:
    if config.ceiling == "none":
        return None
    if config.ceiling == "inline":
        # A process pool costs more than it saves on a few rows.
        return solve_inline(puzzles, workers=1 if len(puzzles) < 200 else None)
    return ceiling_from_run(Path(config.ceiling), puzzles)


def run_eval(
    config: EvalConfig,
    out: str | Path,
    *,
    on_start: Callable[[int, int], None] = lambda pending, done: None,
    on_row: Callable[[], None] = lambda: None,
) -> EvalResult:
    """Evaluate (or resume) into ``out``: completions, imitation scores, metrics and report."""
    run = open_run_dir(out, "eval", config, seed=config.seed, identity=config.identity())
    seed_everything(config.seed)
    puzzles, references = select_data(config) if config.data.include_puzzles() else ([], {})
    tasks, task_rows = select_task_requests(config)
    row_ids = [p.id for p in puzzles] + [r.id for r in task_rows]
    with (
        CompletionStore(run.file(COMPLETIONS_FILE), run.config_hash) as store,
        CompletionStore(run.file(IMITATION_FILE), run.config_hash) as imitation_store,
    ):
        pending_ids = set(store.pending(row_ids))
        pending = [p for p in puzzles if p.id in pending_ids]
        pending_tasks = [r for r in task_rows if r.id in pending_ids]
        to_score = set(imitation_store.pending(references)) if config.teacher_forcing else set()
        on_start(len(pending_ids), len(row_ids) - len(pending_ids))
        if pending_ids or to_score:
            building = time.perf_counter()
            backend = make_backend(config.backend, seed=config.seed)
            setup_s = time.perf_counter() - building  # the backend's own start (model load): not harness time
            try:
                if pending_ids:
                    session = _generate(config, backend, pending, store, on_row, task_rows=pending_tasks)
                    session["setup_s"] = setup_s
                    with run.file(SESSIONS_FILE).open("a", encoding="utf-8") as fh:
                        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
                        fh.write(json.dumps({**session, "utc": stamp}) + "\n")
                if to_score and isinstance(backend, ReferenceScorer):
                    scored = [p for p in puzzles if p.id in to_score]
                    _teacher_force(config, backend, scored, references, imitation_store)
            finally:
                backend.close()
            run.record_device()
        records = store.records
        imitation_scores = imitation_store.records
    scored_tasks = score_records(tasks, task_rows, records)
    puzzle_rows = score_rows(puzzles, records, legacy=config.legacy_extraction)
    _with_imitation(puzzle_rows, references, imitation_scores)
    rows = puzzle_rows + scored_tasks
    metrics = compute_metrics(
        rows,
        expected_rows=len(row_ids),
        timing=read_sessions(run.file(SESSIONS_FILE)),
        budgets=config.budgets,
    )
    if scored_tasks:
        metrics.update(track_metrics(scored_tasks, config.budgets, samples=config.data.samples))
    if references:
        metrics["imitation"] = imitation_metrics(puzzle_rows)
    if puzzle_rows:
        metrics["scorecard"] = build_scorecard(
            puzzle_rows, solver_ceiling(config, puzzles), metrics.get("imitation"), seed=config.seed
        )
    metrics["config_hash"] = run.config_hash
    metrics["max_tokens"] = config.generation.max_tokens
    write_json_atomic(run.file(METRICS_FILE), metrics)
    if config.report:
        from reasonlab.runs.report import write_reports

        write_reports(run.path, metrics, rows, title=f"reasonlab eval: {run.path.name}")
    return EvalResult(
        run, metrics, generated_rows=len(pending_ids), reused_rows=len(row_ids) - len(pending_ids)
    )
