"""Commands of the reasoning tracks: ``tasks list``, ``tasks verify``, ``sandbox run``."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from reasonlab.cli._console import console, fail, progress_bar, stdout

tasks_app = typer.Typer(
    help="Tasks: the Wonderland puzzles and the math, code, logic and commonsense tracks.",
    no_args_is_help=True,
)
sandbox_app = typer.Typer(
    help="The sandbox that runs untrusted programs for the code track.", no_args_is_help=True
)


@tasks_app.command("list")
def list_tasks() -> None:
    """Every registered task with its track and scorer (no data is loaded)."""
    from reasonlab.tracks import TASKS, load_task, task_names
    from reasonlab.tracks.task import Task
    from reasonlab.tracks.wonderland import WONDERLAND_DESCRIPTION, WonderlandTask

    table = Table(title="Tasks")
    for column in ("task", "track", "scorer", "description"):
        table.add_column(column)
    for name in task_names():
        task = load_task(name)
        if isinstance(task, Task):
            table.add_row(name, task.spec.track, task.spec.scorer, task.spec.description)
        elif isinstance(task, WonderlandTask):
            table.add_row(name, task.track, "grader", WONDERLAND_DESCRIPTION)
        else:  # a plugin's task: its own scorer
            table.add_row(name, task.track, "-", TASKS.registration(name).source)
    stdout.print(table)


@tasks_app.command("verify")
def verify(
    tasks: Annotated[
        list[str] | None, typer.Argument(help="Task names or task YAML files (default: all).")
    ] = None,
    limit: Annotated[int | None, typer.Option(help="Only the first N rows of each task.")] = None,
    workers: Annotated[int, typer.Option(help="Rows scored at once (sandboxes, math-verify workers).")] = 0,
) -> None:
    """Score every task's reference answers with the task's own extraction and scorer.

    Prints rows and rows passed per task; exits 0 only when every reference passes.
    """
    from reasonlab.tracks import TaskFileError, TracksExtraMissing, load_task, task_names
    from reasonlab.tracks.verify import verify_task

    try:
        chosen = [load_task(name) for name in (tasks or task_names())]
    except (KeyError, TaskFileError) as exc:
        raise fail(str(exc).strip("'\"")) from None
    table = Table(title="Reference answers through their own scorers")
    for column in ("task", "track", "rows", "passed", "seconds"):
        table.add_column(column, justify="left" if column in ("task", "track") else "right")
    failures = 0
    for task in chosen:
        start = time.perf_counter()
        try:
            requests = task.requests(limit=limit, fewshot=0)
            with progress_bar(task.name, len(requests)) as advance:
                result = verify_task(task, workers=workers or None, on_progress=advance, requests=requests)
        except TracksExtraMissing as exc:
            raise fail(str(exc)) from None
        seconds = time.perf_counter() - start
        style = "" if result.ok else "[red]"
        table.add_row(task.name, task.track, str(result.rows), f"{style}{result.passed}", f"{seconds:.1f}")
        if not result.ok:
            failures += 1
            shown = ", ".join(result.failed_ids[:10]) + (" ..." if len(result.failed_ids) > 10 else "")
            console.print(
                f"[red]{task.name}: {result.rows - result.passed} reference(s) failed: {escape(shown)}[/]"
            )
    stdout.print(table)
    if failures:
        raise typer.Exit(1)


@sandbox_app.command("run")
def sandbox_run(
    program: Annotated[
        Path, typer.Argument(help="A Python program to run confined.", exists=True, dir_okay=False)
    ],
    timeout: Annotated[float, typer.Option(help="Wall-clock seconds before the program is killed.")] = 10.0,
    memory: Annotated[int, typer.Option(help="Address-space limit in MB.")] = 1024,
) -> None:
    """Run one program the way the code track does; print a one-line JSON verdict.

    Exits 0 when the program ran to the end with exit code 0, 1 when it failed or broke a limit.
    """
    from reasonlab.scoring.sandbox import Limits, run_program

    verdict = run_program(program.read_text(encoding="utf-8"), Limits(timeout=timeout, memory_mb=memory))
    sys.stdout.write(verdict.to_json() + "\n")
    if not verdict.passed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(tasks_app, name="tasks")
    app.add_typer(sandbox_app, name="sandbox")
