"""``reasonlab plugins list``: every registered family, task, trace style, backend, reward and
augmentation, built-in or from a plugin, and whether it satisfies its protocol."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from reasonlab.cli._console import console, stdout
from reasonlab.plugins import check_all

plugins_app = typer.Typer(help="Extensions: built-in and plugin families, tasks, backends, rewards...")


@plugins_app.command("list")
def list_command(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per entry, for scripts.")] = False,
) -> None:
    """Every registered extension and where it comes from; exits 1 when a plugin breaks its protocol."""
    checked = check_all()
    if as_json:
        for entry in checked:
            r = entry.registration
            row = {
                "kind": r.kind,
                "name": r.name,
                "source": r.source,
                "target": r.target,
                "problem": entry.problem,
            }
            stdout.print_json(json.dumps(row), indent=None)
    else:
        table = Table("kind", "name", "source", "target", "status")
        table.columns[3].overflow = "fold"  # a target is only useful whole
        for entry in checked:
            r = entry.registration
            status = "ok" if entry.problem is None else "[red]broken[/]"
            table.add_row(r.kind, r.name, r.source, r.target, status)
        stdout.print(table)
    problems = [entry.problem for entry in checked if entry.problem is not None]
    for problem in problems:
        console.print(f"[red]error:[/] {problem}", soft_wrap=True)
    if problems:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(plugins_app, name="plugins")
