"""``reasonlab reproduce``: re-run a run from its own record and diff the results."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from reasonlab.cli._console import console, fail, stdout


def reproduce_command(
    run_dir: Annotated[Path, typer.Argument(help="A run directory (eval, train sft/grpo, run).")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Where the new run goes.")] = None,
) -> None:
    """Run RUN_DIR's command again from its recorded config and seed, then diff the results (timings left
    out). Exit 0 when every other figure is identical, 1 when some differ (each is listed)."""
    from reasonlab.reproduce import ReproduceError, reproduce

    out = out or run_dir.with_name(f"{run_dir.name}-reproduced")
    console.print(Text(f"reproducing {run_dir} -> {out}"))
    try:
        result = reproduce(run_dir, out)
    except (ReproduceError, ValueError, FileNotFoundError) as exc:
        raise fail(str(exc)) from None
    for name, (then, now) in result.package_changes.items():
        console.print(Text(f"package {name}: {then} then, {now} now"))
    if result.identical:
        stdout.print(Text(f"identical: every figure of {result.command!r} matches (timings left out)"))
        return
    table = Table(title=f"{len(result.differences)} figure(s) differ")
    for column in ("field", str(run_dir), str(out)):
        table.add_column(column, overflow="fold")
    for field, then, now in result.differences:
        table.add_row(Text(field), Text(repr(then)), Text(repr(now)))
    stdout.print(table)
    raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("reproduce")(reproduce_command)
