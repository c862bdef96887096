"""Shared terminal output: one Rich console, progress bars, score tables, clean errors."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from reasonlab.outputs import OutputPathError, check_outputs

console = Console(stderr=True)
stdout = Console()


def fail(message: str, code: int = 2) -> typer.Exit:
    # Literal text: file names and regexes hold brackets that Rich would read as markup and drop.
    console.print(Text.assemble(("error:", "bold red"), " ", message), highlight=False)
    return typer.Exit(code)


def warn(message: str) -> None:
    console.print(Text(message, style="yellow"), highlight=False)


class _WarningsToConsole(logging.Handler):
    """Library warnings (``logging.getLogger("reasonlab...")``) reach the user as the CLI's own warnings."""

    def emit(self, record: logging.LogRecord) -> None:
        warn(record.getMessage())


_library_logger = logging.getLogger("reasonlab")
_library_logger.addHandler(_WarningsToConsole(logging.WARNING))


def refuse_bad_outputs(outputs: Iterable[Path | None], inputs: Iterable[Path | None] = ()) -> None:
    """Stop the command before any work when an output would overwrite an input or cannot be written."""
    try:
        check_outputs(outputs, inputs)
    except OutputPathError as exc:
        raise fail(str(exc)) from None


@contextmanager
def progress_bar(description: str, total: int):
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    )
    with progress:
        task = progress.add_task(description, total=total)
        yield lambda n=1: progress.advance(task, n)


def score_table(report, title: str = "Accuracy") -> Table:
    """Rows per family, then per equation subtype, then overall."""
    table = Table(title=title)
    table.add_column("group")
    table.add_column("rows", justify="right")
    table.add_column("correct", justify="right")
    table.add_column("accuracy", justify="right")
    for groups in (report.by_family, report.by_subtype):
        for name, g in sorted(groups.items()):
            table.add_row(name, str(g.rows), str(g.correct), f"{g.accuracy:.2%}")
    o = report.overall
    table.add_row("[bold]overall", f"[bold]{o.rows}", f"[bold]{o.correct}", f"[bold]{o.accuracy:.2%}")
    return table
