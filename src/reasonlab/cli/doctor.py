"""``reasonlab doctor``: what this machine can run, and the fix for each problem."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from reasonlab.cli._console import fail, stdout

_STYLE = {"ok": "green", "info": "cyan", "warn": "yellow", "blocker": "bold red"}


def doctor_command(
    config: Annotated[
        Path | None,
        typer.Argument(
            help="A run config (eval, bench, train): judge the machine for that run.", show_default=False
        ),
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the findings as JSON.")] = False,
    dev_csv: Annotated[
        Path | None, typer.Option(help="The development data, if not in the usual place.")
    ] = None,
) -> None:
    """Check Python, torch and the accelerator, GPU memory, vLLM (Nemotron-H, LoRA), Mamba/attention
    kernels, tokenizers, development data and disk; print the fix for each problem.

    Exit 0 when the machine is ready (for CONFIG's run, or for the lab on this machine), 1 on a blocker.
    """
    from reasonlab.runs.config import ConfigError, read_yaml
    from reasonlab.runs.doctor import Need, judge, need_for, ready, snapshot

    try:
        need = need_for(read_yaml(config)) if config else Need()
    except ConfigError as exc:
        raise fail(str(exc)) from None
    findings = judge(snapshot(dev_csv), need)
    if json_out:
        stdout.print_json(json.dumps([asdict(f) for f in findings]))
    else:
        table = Table(title=f"reasonlab doctor{f' for {config}' if config else ''}")
        for column in ("check", "status", "detail", "fix"):
            table.add_column(column, overflow="fold")
        for f in findings:
            table.add_row(f.check, Text(f.level, style=_STYLE[f.level]), Text(f.detail), Text(f.fix))
        stdout.print(table)
        gpu_needs = [f for f in findings if f.level == "info" and f.fix]
        if gpu_needs and not need.gpu:
            stdout.print(
                "A GPU run would still need: " + "; ".join(f"{f.check}: {f.fix}" for f in gpu_needs),
                highlight=False,
            )
    if not ready(findings):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("doctor")(doctor_command)
