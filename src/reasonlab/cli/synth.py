"""Commands that make training data: synth (generated puzzles), traces (real rows), traces audit."""

from __future__ import annotations

import csv
import os
import time
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.markup import escape
from rich.table import Table
from typer.core import TyperGroup

from reasonlab.cli._console import console, fail, progress_bar, refuse_bad_outputs, stdout, warn
from reasonlab.grader import MAX_TOKENS
from reasonlab.outputs import atomic_output
from reasonlab.plugins import PluginError
from reasonlab.puzzles.audit import DEFAULT_WINDOW, MAX_STEP_KINDS, AuditReport, audit_records
from reasonlab.puzzles.io import PuzzleFileError, avoided_prompts, read_puzzles
from reasonlab.puzzles.solve import default_workers
from reasonlab.puzzles.trace_style import DEFAULT_STYLE, TRACE_STYLES
from reasonlab.synth.records import (
    RECORD_FORMATS,
    read_records,
    sft_record,
    write_puzzles_csv,
    write_records,
)
from reasonlab.synth.tokens import SYNTH_STATS_EVERY, TokenBudget, token_budget

# The configs (pydantic) and the generators are imported by the commands that use them, so that every
# other command, `solve` first, starts without them.
if TYPE_CHECKING:
    from reasonlab.synth.config import SynthConfig, TracesConfig
    from reasonlab.synth.dataset import Selection

Settings = TypeVar("Settings", "SynthConfig", "TracesConfig")
_CONFIG_SUFFIXES = (".yaml", ".yml")

# Unset options are None, so that only the options given override a config's values.
WorkersOption = Annotated[int | None, typer.Option(help="Worker processes (default: every core).")]
TokenizerOption = Annotated[
    str | None,
    typer.Option(
        help="Tokenizer for the budget: a Hugging Face tokenizer path, 'tekken', 'auto' (tekken if installed) "
        "or 'none'. [default: auto]"
    ),
]
BudgetOption = Annotated[
    int | None,
    typer.Option(
        help=f"Generation budget in tokens; a trace may use it minus the prompt. [default: {MAX_TOKENS}]"
    ),
]
TimeoutOption = Annotated[
    float | None, typer.Option(help="Seconds before a puzzle is given up. [default: 5]")
]
StyleOption = Annotated[
    str | None,
    typer.Option(
        help=f"Trace style: {' or '.join(TRACE_STYLES)} (stepwise: procedures a model can execute, each "
        f"line a documented step, audited; compact: the original short proofs). [default: {DEFAULT_STYLE}]"
    ),
]


def _settings(config_class: type[Settings], arguments: list[str], options: dict) -> Settings:
    from reasonlab.runs.config import ConfigError, config_from_arguments

    try:
        return config_from_arguments(config_class, arguments, options)
    except (ConfigError, PluginError) as exc:
        raise fail(str(exc)) from None


def _default_avoid() -> list[Path]:
    """The development set, whose prompts synthetic data must never repeat, when it is at hand."""
    path = Path(os.environ.get("REASONLAB_DEV_CSV", "../shared/data/wonderland/dev.csv"))
    return [path] if path.is_file() else []


def _token_budget(spec: str, budget: int, stats_every: int = 1) -> TokenBudget | None:
    try:
        return token_budget(spec, budget, stats_every, on_missing=warn)
    except ValueError as exc:
        raise fail(str(exc)) from None


def _avoided_prompts(paths: list[Path]) -> set[str]:
    try:
        return avoided_prompts(paths)
    except PuzzleFileError as exc:
        raise fail(str(exc)) from None


def rejected_rows_path(out: Path) -> Path:
    """Where ``traces`` lists the rows of a run writing ``out`` that got no record."""
    return out.with_name(out.stem + ".rejected.csv")


def _report(chosen: Selection, elapsed: float, out: Path, token_budget: TokenBudget | None) -> None:
    from reasonlab.synth.dataset import describe_shares, length_table, selection_token_shares

    kept = chosen.kept_by_family()
    skipped = [
        f"{count} {what}"
        for what, count in (("duplicates", chosen.duplicates), ("avoided prompts", chosen.avoided))
        if count
    ]
    console.print(
        f"kept {len(chosen.kept)} of {chosen.seen} rows in {elapsed:.1f} s "
        f"({len(chosen.kept) / max(elapsed, 1e-9):.0f}/s) -> {escape(str(out))}"
        + (f"; skipped {', '.join(skipped)}" if skipped else "")
    )
    console.print("per family: " + ", ".join(f"{name} {count}" for name, count in sorted(kept.items())))
    if any(traced.trace for traced in chosen.kept):
        console.print(describe_shares(*selection_token_shares(chosen)))
    if chosen.rejected:
        table = Table(title="Rows without a record")
        for column in ("family", "reason", "rows"):
            table.add_column(column, justify="right" if column == "rows" else "left")
        for (family, reason), count in sorted(chosen.rejected.items()):
            table.add_row(family, reason.value, str(count))
        stdout.print(table)
    if chosen.tokenizer and token_budget:
        sample = (
            f"about 1 row in {token_budget.stats_every} counted"
            if token_budget.stats_every > 1
            else "all rows"
        )
        table = Table(
            title=f"Assistant-turn tokens ({chosen.tokenizer}; {sample}; "
            f"every kept row fits {token_budget.budget} minus its prompt)"
        )
        for column in ("family", "style", "rows", "median", "p95", "max", "within budget"):
            table.add_column(column, justify="left" if column in ("family", "style") else "right")
        for row in length_table(chosen):
            table.add_row(
                row.family,
                row.style,
                str(row.rows),
                f"{row.median:.0f}",
                f"{row.p95:.0f}",
                str(row.max),
                f"{row.within_budget:.1%}",
            )
        stdout.print(table)


def synth(
    arguments: Annotated[
        list[str] | None,
        typer.Argument(
            help="CONFIG.yaml (optional) then key=value overrides, e.g. n=5000 out=train.jsonl mix.bit=0.3 "
            "knobs.gravity.n_examples=5 ray=local (fields: reasonlab.synth.config.SynthConfig). The options "
            "below set the same fields and win over both.",
            show_default=False,
        ),
    ] = None,
    n: Annotated[int | None, typer.Option("--n", help="How many rows to write.", min=1)] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="FILE.csv (puzzles: id,prompt,answer) or FILE.jsonl / FILE.parquet (SFT records).",
        ),
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="Same seed, same rows, whatever the number of workers. [default: 0]")
    ] = None,
    mix: Annotated[
        str | None,
        typer.Option(help="Family weights, e.g. 'bit=0.3,gravity=1' (default: every family alike)."),
    ] = None,
    workers: WorkersOption = None,
    ray: Annotated[
        str | None,
        typer.Option(
            help="Fan the work out over Ray: 'local' (a cluster on this machine), 'auto' (the cluster this "
            "machine belongs to) or ray://host:10001; same rows as the local run."
        ),
    ] = None,
    tokenizer: TokenizerOption = None,
    budget: BudgetOption = None,
    stats_every: Annotated[
        int | None,
        typer.Option(
            help="Count the tokens of about one row in N for the length table (1: every row). Every row "
            f"is held to the budget either way: a row is also counted when its bytes do not prove it fits. [default: {SYNTH_STATS_EVERY}]",
            min=1,
        ),
    ] = None,
    avoid: Annotated[
        list[Path] | None,
        typer.Option(
            help="CSV whose prompts are never emitted (default: $REASONLAB_DEV_CSV or ../shared/data/wonderland/dev.csv if present)."
        ),
    ] = None,
    timeout_per_puzzle: TimeoutOption = None,
    verify_with_solver: Annotated[
        bool | None,
        typer.Option(
            help="Compact style only: solve every puzzle and keep it only when the solver's vote is the "
            "generator's answer (slower: bit and symbolic equations are otherwise traced from the generator's "
            "own rule). Stepwise traces never use a generator's rule.",
            show_default=False,
        ),
    ] = None,
    knob: Annotated[
        list[str] | None,
        typer.Option(help="A generator setting, FAMILY.KNOB=NUMBER (repeatable), e.g. gravity.n_examples=5."),
    ] = None,
    style: StyleOption = None,
    drills: Annotated[
        int | None,
        typer.Option(
            help="Also write N drill records (catalog questions and answers, marked drill=true, before the "
            "traces) from the drill sources of the mixture's families in this style; families without "
            "one are listed.",
            min=0,
        ),
    ] = None,
) -> None:
    """Generate puzzles in the competition's exact format, each with a proven step-by-step trace.

    SFT outputs (.jsonl, .parquet) keep a row only when its trace replays to its answer,
    the grader's extraction reads that answer, verify accepts it, and it fits the token budget.
    CSV outputs keep every new puzzle.
    """
    options = {
        "n": n,
        "out": out,
        "seed": seed,
        "workers": workers,
        "ray": ray,
        "tokenizer": tokenizer,
        "budget": budget,
        "stats_every": stats_every,
        "avoid": avoid,
        "timeout_per_puzzle": timeout_per_puzzle,
        "verify_with_solver": verify_with_solver,
        "style": style,
        "drills": drills,
    }
    from reasonlab.synth.config import SynthConfig, knob_overrides, mix_overrides

    arguments = [*(arguments or []), *mix_overrides(mix or ""), *knob_overrides(knob or [])]
    run_synth(_settings(SynthConfig, arguments, options))


def run_synth(config: SynthConfig) -> None:
    """``synth`` with its settings validated: generate, select, write and report."""
    from reasonlab.synth.dataset import select
    from reasonlab.synth.drills import make_drills
    from reasonlab.synth.generate import Mixture, MixtureError, iter_traced

    out = config.out
    if config.drills and not config.records:
        raise fail("drills need an SFT output (.jsonl or .parquet)")
    avoid = config.avoid if config.avoid is not None else _default_avoid()
    refuse_bad_outputs([out], avoid)
    try:
        mixture = Mixture.resolve(config.mix)
    except (MixtureError, PluginError) as exc:
        raise fail(str(exc)) from None
    if mixture.without_generator:
        warn(f"no generator yet (left out): {', '.join(mixture.without_generator)}")
    records = config.records
    token_budget = _token_budget(config.tokenizer, config.budget, config.stats_every) if records else None
    avoid_prompts = _avoided_prompts(avoid)
    n, style = config.n, config.style
    start = time.perf_counter()
    stream = iter_traced(
        config.seed,
        mixture,
        workers=config.workers or default_workers(),
        ray_address=config.ray,
        knobs=config.knobs,
        timeout=config.timeout_per_puzzle,
        traced=records,
        token_budget=token_budget,
        verify_with_solver=config.verify_with_solver,
        style=style,
    )
    if config.ray:
        console.print(f"fanning out over Ray {config.ray}")
    # closing() stops the workers as soon as enough rows are kept
    with closing(stream), progress_bar("synthesizing", n) as advance:
        chosen = select(
            stream,
            limit=n,
            avoid_prompts=avoid_prompts,
            require_trace=records,
            max_seen=50 * n + 10_000,
            on_progress=advance,
        )
    elapsed = time.perf_counter() - start
    drilled = make_drills(mixture, style, config.drills, config.seed) if config.drills else None
    if records:
        # drills first: "memorise, then execute"
        write_records([*(drilled.records if drilled else ()), *(sft_record(t) for t in chosen.kept)], out)
    else:
        write_puzzles_csv((t.puzzle for t in chosen.kept), out)
    _report(chosen, elapsed, out, token_budget)
    if drilled is not None:
        made = ", ".join(f"{name} {count}" for name, count in drilled.per_family.items()) or "none"
        console.print(
            f"drills: {len(drilled.records)} of {config.drills} ({made})"
            + (
                f"; no {style} drill source for {', '.join(drilled.without_source)}"
                if drilled.without_source
                else ""
            )
        )
    if len(chosen.kept) < n:
        raise fail(
            f"only {len(chosen.kept)} of {n} rows after {chosen.seen} attempts; see the table above", code=1
        )


def traces(
    arguments: Annotated[
        list[str] | None,
        typer.Argument(
            help="INPUT.csv (labelled competition rows: id,prompt,answer) and/or CONFIG.yaml, then key=value "
            "overrides, e.g. input=dev.csv out=real.jsonl style=compact (fields: "
            "reasonlab.synth.config.TracesConfig). The options below set the same fields and win.",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="FILE.jsonl or FILE.parquet of SFT records.")
    ] = None,
    workers: WorkersOption = None,
    tokenizer: TokenizerOption = None,
    budget: BudgetOption = None,
    timeout_per_puzzle: TimeoutOption = None,
    style: StyleOption = None,
) -> None:
    """SFT records for the real rows with a proven trace (replayed, audited for stepwise, verified).

    The other rows are counted by reason and listed in OUT.rejected.csv (id, family, reason, detail).
    """
    # A YAML file is the config; any other path is the input CSV (the command's first form).
    paths = [a for a in arguments or [] if "=" not in a and Path(a).suffix not in _CONFIG_SUFFIXES]
    if len(paths) > 1:
        raise fail(f"one input CSV, not {len(paths)}: {', '.join(paths)}")
    options = {
        "input": paths[-1] if paths else None,
        "out": out,
        "workers": workers,
        "tokenizer": tokenizer,
        "budget": budget,
        "timeout_per_puzzle": timeout_per_puzzle,
        "style": style,
    }
    arguments = [a for a in arguments or [] if a not in paths[-1:]]
    from reasonlab.synth.config import TracesConfig

    run_traces(_settings(TracesConfig, arguments, options))


def run_traces(config: TracesConfig) -> None:
    """``traces`` with its settings validated: trace, select, write the records and the rejected rows."""
    from reasonlab.synth.check import trace_many
    from reasonlab.synth.dataset import select

    input_csv, out, style = config.input, config.out, config.style
    side = rejected_rows_path(out)
    refuse_bad_outputs([out, side], [input_csv])
    try:
        data = read_puzzles(input_csv)
    except PuzzleFileError as exc:
        raise fail(str(exc)) from None
    if not data.has_answers:
        raise fail(f"{input_csv} has no 'answer' column: traces are proven against the gold answers")
    token_budget = _token_budget(config.tokenizer, config.budget)
    start = time.perf_counter()
    with progress_bar("tracing", len(data.puzzles)) as advance:
        chosen = select(
            trace_many(
                data.puzzles,
                workers=config.workers or default_workers(),
                timeout=config.timeout_per_puzzle,
                token_budget=token_budget,
                style=style,
            ),
            on_progress=advance,
            progress_per="seen",
        )
    elapsed = time.perf_counter() - start
    write_records((sft_record(t) for t in chosen.kept), out)
    with atomic_output(side, encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "family", "reason", "detail"])
        for traced, reason in chosen.rejected_rows:
            writer.writerow([traced.puzzle.id, traced.family or "", reason.name.lower(), traced.detail])
    _report(chosen, elapsed, out, token_budget)
    console.print(f"rows without a record listed in {escape(str(side))}")


def audit(
    path: Annotated[
        Path, typer.Argument(help="SFT records (.jsonl or .parquet), each with family and style.")
    ],
    window: Annotated[
        int,
        typer.Option(help="Locality: a cited value must be in the prompt or this many lines above.", min=1),
    ] = DEFAULT_WINDOW,
    max_step_kinds: Annotated[
        int, typer.Option(help="Most step kinds a family's tracer may document.", min=1)
    ] = MAX_STEP_KINDS,
    show: Annotated[int, typer.Option(help="Violations listed per rule.", min=0)] = 10,
) -> None:
    """Audit traces against the learnable-trace rules; exit 1 on any violation.

    No hidden compute (every line one of its tracer's documented, bounded step kinds), locality,
    reference integrity, evidence before choice, few uniform step kinds (counted per family).
    """
    if path.suffix not in RECORD_FORMATS:
        raise fail(f"{path}: SFT records are {' or '.join(RECORD_FORMATS)}")
    try:
        records = read_records(path)
    except (OSError, ValueError) as exc:
        raise fail(f"cannot read {path}: {exc}") from None
    report = audit_records(records, window=window, max_step_kinds=max_step_kinds)
    _audit_report(report, show)
    if not report.ok:
        raise typer.Exit(1)


def _audit_report(report: AuditReport, show: int) -> None:
    stdout.print(
        f"audited {report.records} traces (window {report.window} lines; {report.drills} drill records "
        f"not audited): {report.passed} pass, {report.records - report.passed} with violations"
    )
    table = Table(title="Traces and step kinds per family and style")
    for column in ("family", "style", "traces", "failing", "step kinds used", "lines per kind"):
        table.add_column(
            column, justify="right" if column in ("traces", "failing", "step kinds used") else "left"
        )
    for (family, style), count in sorted(report.traces.items()):
        kinds = sorted(
            ((kind, n) for (f, s, kind), n in report.kinds.items() if (f, s) == (family, style)),
            key=lambda item: -item[1],
        )
        table.add_row(
            family,
            style,
            str(count),
            str(report.failed[family, style]),
            str(len(kinds)),
            ", ".join(f"{kind} {n}" for kind, n in kinds) or "-",
        )
    stdout.print(table)
    for rule, found in report.by_rule().items():
        stdout.print(f"[bold]{rule.value}[/]: {len(found)} violations in {len({r for r, _ in found})} traces")
        for record_id, violation in found[:show]:
            stdout.print(f"  {record_id} line {violation.line}: {violation.detail}", markup=False)


class _BuildByDefault(TyperGroup):
    """``reasonlab traces FILE ...`` builds records (the command's first form); ``traces audit FILE``
    audits them."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["build", *args]
        return super().parse_args(ctx, args)


traces_app = typer.Typer(
    cls=_BuildByDefault,
    no_args_is_help=True,
    help="SFT records for real rows (traces FILE --out OUT, the same as traces build), and the audit of any records (traces audit FILE).",
)
traces_app.command("build")(traces)
traces_app.command("audit")(audit)


def register(app: typer.Typer) -> None:
    app.command()(synth)
    app.add_typer(traces_app, name="traces")
