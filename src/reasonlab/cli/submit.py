"""Commands on submissions: pack an adapter into submission.zip, check a zip offline."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from reasonlab.cli._console import console, fail, stdout

submit_app = typer.Typer(help="Pack and check the submission.zip the grader loads.", no_args_is_help=True)

ArchitectureOption = Annotated[
    Path | None,
    typer.Option(
        "--architecture",
        help="A model config.json (or model dir) to check against, instead of Nemotron-3-Nano-30B-A3B.",
    ),
]


def _architecture(path: Path | None):
    from reasonlab.submission.architecture import (
        ArchitectureError,
        competition_architecture,
        load_architecture,
    )

    if path is None:
        return competition_architecture()
    try:
        return load_architecture(path)
    except ArchitectureError as exc:
        raise fail(str(exc)) from None


SHOWN_FINDINGS = 25


def _print_report(report) -> None:
    # Text, not markup: module regexes and file names hold brackets.
    for finding in report.findings[:SHOWN_FINDINGS]:
        colour = "red" if finding.level == "error" else "yellow"
        console.print(
            Text.assemble((finding.level, colour), f": {finding.where}: {finding.message}"), highlight=False
        )
    if len(report.findings) > SHOWN_FINDINGS:
        console.print(f"... and {len(report.findings) - SHOWN_FINDINGS} more of the same kinds")
    if report.ok:
        kinds = ", ".join(f"{k} x{n}" for k, n in sorted(report.modules_by_kind.items()))
        stdout.print(
            Text.assemble(
                ("OK", "green"),
                f" {report.path}: rank {report.rank}, alpha {report.alpha}, {report.tensors} tensors "
                f"for {report.architecture} ({kinds})",
            ),
            highlight=False,
        )
    else:
        stdout.print(
            Text.assemble(
                ("FAILED", "red"),
                f" {report.path}: {len(report.errors)} error(s); the grader would not load it",
            )
        )


@submit_app.command()
def pack(
    adapter_dir: Annotated[Path, typer.Argument(help="A PEFT save_pretrained() directory (either layout).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="The zip to write.")] = Path("submission.zip"),
    architecture: ArchitectureOption = None,
) -> None:
    """Zip an adapter for the grader: files at the root, fused experts converted to one LoRA per expert, checked."""
    from reasonlab.submission.pack import PackError, pack_adapter

    try:
        result = pack_adapter(adapter_dir, out, _architecture(architecture))
    except PackError as exc:
        if exc.report is not None:
            _print_report(exc.report)
        raise fail(str(exc)) from None
    if result.dropped:
        console.print(
            f"left out {len(result.dropped)} saved copies of base weights: {', '.join(result.dropped)}"
        )
    if result.converted:
        console.print("converted the native fused-expert layout to the grader's per-expert layout")
    _print_report(result.report)


@submit_app.command()
def check(
    zip_path: Annotated[Path, typer.Argument(help="The submission.zip to check.")],
    architecture: ArchitectureOption = None,
) -> None:
    """Check a submission.zip offline; exit 0 only if the grader would load it."""
    from reasonlab.submission.check import check_submission

    report = check_submission(zip_path, _architecture(architecture))
    _print_report(report)
    if not report.ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(submit_app, name="submit")
