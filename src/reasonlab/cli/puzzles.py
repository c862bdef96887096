"""Commands on puzzle files: solve, score."""

from __future__ import annotations

import json
import time
import warnings
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from reasonlab.cli._console import (
    console,
    fail,
    progress_bar,
    refuse_bad_outputs,
    score_table,
    stdout,
    warn,
)
from reasonlab.outputs import atomic_output
from reasonlab.puzzles.classify import Classification
from reasonlab.puzzles.io import (
    PuzzleFileError,
    invalid_rows_path,
    read_puzzles,
    write_invalid_rows,
    write_solutions,
)
from reasonlab.puzzles.solve import default_workers, solve_many
from reasonlab.puzzles.trace_style import DEFAULT_STYLE, TRACE_STYLES, trace_styles
from reasonlab.scoring.predictions import (
    PredictionFileError,
    read_predictions,
    score_predictions,
)


def sample_csv() -> Path:
    """The small built-in puzzle set (two or so per family)."""
    return Path(str(resources.files("reasonlab") / "data" / "sample.csv"))


def solve(
    input_csv: Annotated[Path, typer.Argument(help="Competition CSV with id,prompt[,answer].")],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Where to write id,answer,family,subtype,status,...")
    ],
    workers: Annotated[int, typer.Option(help="Worker processes (default: every core).")] = 0,
    timeout_per_puzzle: Annotated[
        float, typer.Option(help="Seconds before a puzzle is given up (status timeout).")
    ] = 5.0,
    skip_invalid: Annotated[
        bool, typer.Option(help="Set bad rows aside in OUT.invalid.csv instead of stopping.")
    ] = False,
    traces: Annotated[
        Path | None,
        typer.Option(
            help="Also write a trace record per row (.jsonl/.parquet) where the row's family has a tracer in "
            "--style and the trace replays (and, for labelled rows, verifies against the gold answer)."
        ),
    ] = None,
    style: Annotated[
        str, typer.Option(help=f"Trace style for --traces: {' or '.join(TRACE_STYLES)}.")
    ] = DEFAULT_STYLE,
    ray: Annotated[
        str | None,
        typer.Option(
            help="Fan out over a Ray cluster instead of local workers: 'local' starts one here, 'auto' joins "
            "this machine's cluster, or ray://HOST:10001. Same rows, same order.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Solve every puzzle with the deterministic rule-inferring solvers.

    If the input has answers, the accuracy per family is printed as well.
    """
    if style not in trace_styles():  # a plugin may add a style
        raise fail(f"--style must be one of {', '.join(trace_styles())}, not {style!r}")
    if traces is not None and traces.suffix not in (".jsonl", ".parquet"):
        raise fail(f"--traces must end in .jsonl or .parquet, not {traces.name!r}")
    refuse_bad_outputs([out, invalid_rows_path(out) if skip_invalid else None, traces], [input_csv])
    try:
        data = read_puzzles(input_csv, skip_invalid=skip_invalid)
    except PuzzleFileError as exc:
        raise fail(f"{exc}\n(use --skip-invalid to set bad rows aside)") from None
    if data.invalid:
        side = invalid_rows_path(out)
        write_invalid_rows(data.invalid, side)
        warn(f"{len(data.invalid)} invalid row(s) set aside in {side}")
    workers = workers or default_workers()
    start = time.perf_counter()
    with progress_bar("solving", len(data.puzzles)) as advance:
        if ray:
            from reasonlab.runs.scale import solve_on_ray

            solved = solve_on_ray(data.puzzles, address=ray, timeout=timeout_per_puzzle, on_progress=advance)
        else:
            solved = solve_many(
                data.puzzles, workers=workers, timeout=timeout_per_puzzle, on_progress=advance
            )
        rows = list(solved)
    elapsed = time.perf_counter() - start
    write_solutions(rows, out)
    statuses: dict[str, int] = {}
    for row in rows:
        statuses[row.solution.status.value] = statuses.get(row.solution.status.value, 0) + 1
    console.print(
        f"{len(rows)} puzzles in {elapsed:.1f} s ({len(rows) / max(elapsed, 1e-9):.0f}/s, {f'Ray {ray}' if ray else f'{workers} workers'}) -> {escape(str(out))}"
    )
    console.print("status: " + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())))
    if traces is not None:
        _write_traces(data.puzzles, traces, style, workers, timeout_per_puzzle)
    if data.has_answers:
        answers = {row.id: row.solution.answer or "" for row in rows}
        kinds = {row.id: Classification(row.family, row.subtype) for row in rows if row.family}
        stdout.print(
            score_table(
                score_predictions(data.puzzles, answers, kinds), title=f"Solver accuracy on {input_csv.name}"
            )
        )


def _write_traces(puzzles, path: Path, style: str, workers: int, timeout: float) -> None:
    from collections import Counter

    from reasonlab.synth.check import trace_many
    from reasonlab.synth.records import sft_record, write_records

    traced = list(trace_many(puzzles, workers=workers, timeout=timeout, style=style))
    written = write_records((sft_record(t) for t in traced if t.rejection is None), path)
    missing = Counter(f"{t.family or '?'}: {t.rejection.value}" for t in traced if t.rejection is not None)
    console.print(f"{written} {style} traces of {len(traced)} rows -> {path}")
    for reason, count in sorted(missing.items()):
        console.print(f"  no trace, {reason}: {count}")


def score(
    gold_csv: Annotated[Path, typer.Argument(help="Labelled CSV with id,prompt,answer.")],
    predictions: Annotated[
        Path, typer.Argument(help="CSV with id,answer, or JSONL with id and a raw model 'completion'.")
    ],
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the table as JSON here.")
    ] = None,
    legacy_extraction: Annotated[
        bool, typer.Option(help="Use the grader's pre-May-2026 extraction (up to the first '}').")
    ] = False,
) -> None:
    """Score predictions with the grader's own extraction and comparison, per family and subtype."""
    refuse_bad_outputs([json_out], [gold_csv, predictions])
    try:
        gold = read_puzzles(gold_csv)
        with warnings.catch_warnings(record=True, action="always") as caught:
            predicted = read_predictions(predictions, legacy=legacy_extraction)
    except (PuzzleFileError, PredictionFileError) as exc:
        raise fail(str(exc)) from None
    for warning in caught:
        warn(str(warning.message))
    if not gold.has_answers:
        raise fail(f"{gold_csv} has no 'answer' column")
    report = score_predictions(gold.puzzles, predicted)
    stdout.print(score_table(report, title=f"Accuracy of {predictions.name}"))
    if report.missing_ids:
        shown = ", ".join(report.missing_ids[:10]) + (" ..." if len(report.missing_ids) > 10 else "")
        warn(f"{len(report.missing_ids)} gold id(s) have no prediction (counted wrong): {shown}")
    if report.extra_ids:
        warn(f"{len(report.extra_ids)} predicted id(s) are not in the gold file (ignored)")
    if json_out:
        with atomic_output(json_out, encoding="utf-8") as fh:
            json.dump(report.to_dict(), fh, indent=2)
        console.print(f"wrote {escape(str(json_out))}")


def register(app: typer.Typer) -> None:
    app.command()(solve)
    app.command()(score)
