"""Commands on puzzle files: solve, score."""

from __future__ import annotations

import json
import time
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer

from reasonlab.cli._console import console, fail, progress_bar, score_table, stdout
from reasonlab.puzzles.io import PuzzleFileError, read_puzzles, write_invalid_rows, write_solutions
from reasonlab.puzzles.solve import default_workers, solve_many
from reasonlab.puzzles.trace_style import DEFAULT_STYLE, TRACE_STYLES
from reasonlab.scoring.predictions import PredictionFileError, read_predictions, score_predictions


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
) -> None:
    """Solve every puzzle with the deterministic rule-inferring solvers.

    If the input has answers, the accuracy per family is printed as well.
    """
    if style not in TRACE_STYLES:
        raise fail(f"--style must be one of {', '.join(TRACE_STYLES)}, not {style!r}")
    if traces is not None and traces.suffix not in (".jsonl", ".parquet"):
        raise fail(f"--traces must end in .jsonl or .parquet, not {traces.name!r}")
    try:
        data = read_puzzles(input_csv, skip_invalid=skip_invalid)
    except PuzzleFileError as exc:
        raise fail(f"{exc}\n(use --skip-invalid to set bad rows aside)") from None
    if data.invalid:
        side = out.with_suffix(".invalid.csv")
        write_invalid_rows(data.invalid, side)
        console.print(f"[yellow]{len(data.invalid)} invalid row(s) set aside in {side}[/]")
    workers = workers or default_workers()
    start = time.perf_counter()
    with progress_bar("solving", len(data.puzzles)) as advance:
        rows = list(
            solve_many(data.puzzles, workers=workers, timeout=timeout_per_puzzle, on_progress=advance)
        )
    elapsed = time.perf_counter() - start
    write_solutions(rows, out)
    statuses: dict[str, int] = {}
    for row in rows:
        statuses[row.solution.status.value] = statuses.get(row.solution.status.value, 0) + 1
    console.print(
        f"{len(rows)} puzzles in {elapsed:.1f} s ({len(rows) / max(elapsed, 1e-9):.0f}/s, {workers} workers) -> {out}"
    )
    console.print("status: " + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())))
    if traces is not None:
        _write_traces(data.puzzles, traces, style, workers, timeout_per_puzzle)
    if data.has_answers:
        answers = {row.id: row.solution.answer or "" for row in rows}
        stdout.print(
            score_table(
                score_predictions(data.puzzles, answers), title=f"Solver accuracy on {input_csv.name}"
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
    try:
        gold = read_puzzles(gold_csv)
        predicted = read_predictions(predictions, legacy=legacy_extraction)
    except (PuzzleFileError, PredictionFileError) as exc:
        raise fail(str(exc)) from None
    if not gold.has_answers:
        raise fail(f"{gold_csv} has no 'answer' column")
    report = score_predictions(gold.puzzles, predicted)
    stdout.print(score_table(report, title=f"Accuracy of {predictions.name}"))
    if report.missing_ids:
        shown = ", ".join(report.missing_ids[:10]) + (" ..." if len(report.missing_ids) > 10 else "")
        console.print(
            f"[yellow]{len(report.missing_ids)} gold id(s) have no prediction (counted wrong): {shown}[/]"
        )
    if report.extra_ids:
        console.print(
            f"[yellow]{len(report.extra_ids)} predicted id(s) are not in the gold file (ignored)[/]"
        )
    if json_out:
        json_out.write_text(json.dumps(report.to_dict(), indent=2))
        console.print(f"wrote {json_out}")


def register(app: typer.Typer) -> None:
    app.command()(solve)
    app.command()(score)
