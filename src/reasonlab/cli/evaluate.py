"""Commands for evaluation: eval, compare, serve."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from reasonlab.cli._console import console, fail, progress_bar, refuse_bad_outputs, stdout
from reasonlab.outputs import atomic_output


def _metrics_table(metrics: dict, title: str) -> Table:
    table = Table(title=title)
    for column in (
        "group",
        "rows",
        "accuracy",
        "95% CI",
        "no answer",
        "truncated",
        "mean tokens",
        "efficiency",
    ):
        table.add_column(column, justify="left" if column == "group" else "right")
    from reasonlab.runs.metrics import table_groups

    for name, g in table_groups(metrics):
        style = "bold" if name == "overall" else ""
        table.add_row(
            name,
            str(g["rows"]),
            f"{g['accuracy']:.1%}",
            f"{g['ci95'][0]:.1%}–{g['ci95'][1]:.1%}",
            f"{g['no_answer_rate']:.1%}",
            f"{g['truncation_rate']:.1%}",
            f"{g['mean_completion_tokens']:.0f}",
            f"{g['efficiency']:.3f}",
            style=style,
        )
    return table


def eval_command(
    arguments: Annotated[
        list[str] | None,
        typer.Argument(
            help="CONFIG.yaml (optional: without it, the embedded tiny CPU default) then key=value overrides, "
            "e.g. backend.kind=solver generation.max_tokens=512 data.limit=50.",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Run directory (reuse one to resume).")
    ] = None,
) -> None:
    """Evaluate a model exactly as the grader does; writes completions, metrics and an HTML report.

    Every completion is stored as it arrives: rerun with the same --out to resume a stopped run.
    """
    from reasonlab.runs.config import ConfigError, split_arguments
    from reasonlab.runs.evaluate import load_eval_config, run_eval
    from reasonlab.runs.rundir import RunDirError, default_run_dir

    try:
        config_path, overrides = split_arguments(arguments or [])
        config = load_eval_config(config_path, overrides)
    except ConfigError as exc:
        raise fail(str(exc)) from None
    out = out or default_run_dir("eval")
    console.print(
        f"eval: backend [bold]{config.backend.kind}[/] model [bold]{config.backend.model}[/] "
        f"max_tokens {config.generation.max_tokens} -> {out}"
    )
    bar = {}

    def start(pending: int, done: int) -> None:
        if done:
            console.print(f"resuming: {done} row(s) already completed, {pending} to go")
        bar["cm"] = progress_bar("generating", pending)
        bar["advance"] = bar["cm"].__enter__()

    try:
        result = run_eval(config, out, on_start=start, on_row=lambda: bar["advance"]())
    except (RunDirError, ValueError, FileNotFoundError, ImportError) as exc:
        raise fail(str(exc)) from None
    finally:
        if "cm" in bar:
            bar["cm"].__exit__(None, None, None)
    stdout.print(_metrics_table(result.metrics, f"{out}"))
    overall = result.metrics["overall"]
    if "tokens_per_s" in overall:
        console.print(
            f"{overall['tokens_per_s']:.1f} tokens/s over {overall['generation_seconds']:.1f} s of generation; "
            f"harness overhead {overall['harness_overhead']:.2%} of the generation sessions' wall time"
        )
    for task, scores in result.metrics.get("pass_at_k", {}).items():
        console.print(f"{task}: " + ", ".join(f"{k} {v:.1%}" for k, v in scores.items()))
    console.print(f"report: {result.run.path / 'report.html'}")


def compare_command(
    run_a: Annotated[Path, typer.Argument(help="Baseline run directory.")],
    run_b: Annotated[Path, typer.Argument(help="Candidate run directory.")],
    gold: Annotated[Path | None, typer.Option(help="Gold CSV (default: the data of RUN_A's config).")] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the comparison as JSON here.")
    ] = None,
) -> None:
    """Paired comparison of two runs on their common rows: B − A with a 95% bootstrap CI and McNemar's p.

    Two `reasonlab bench` runs are put side by side instead: tokens/s, latency and memory per swept value.
    """
    from reasonlab.runs.bench_report import BENCH_FILE, compare_bench
    from reasonlab.runs.compare import compare_runs
    from reasonlab.runs.metrics import table_groups

    if (run_a / BENCH_FILE).is_file() and (run_b / BENCH_FILE).is_file():
        try:
            rows = compare_bench(run_a, run_b)
        except ValueError as exc:
            raise fail(str(exc)) from None
        table = Table(title=f"{run_b.name} vs {run_a.name}")
        for column in (
            "value",
            "A tokens/s",
            "B tokens/s",
            "B/A",
            "A p50 s",
            "B p50 s",
            "A RSS MiB",
            "B RSS MiB",
        ):
            table.add_column(column, justify="right")
        for row in rows:
            table.add_row(*row)
        stdout.print(table)
        return

    refuse_bad_outputs([json_out], [gold])
    try:
        result = compare_runs(run_a, run_b, gold_csv=gold)
    except (FileNotFoundError, ValueError) as exc:
        raise fail(str(exc)) from None
    table = Table(title=f"{run_b.name} − {run_a.name}")
    for column in ("group", "rows", "A", "B", "B − A", "95% CI", "only A", "only B", "McNemar p"):
        table.add_column(column, justify="left" if column == "group" else "right")
    groups = {"overall": result.overall, "by_task": result.by_task, "by_family": result.by_family}
    for name, c in table_groups(groups):
        table.add_row(
            name,
            str(c.rows),
            f"{c.accuracy_a:.1%}",
            f"{c.accuracy_b:.1%}",
            f"{c.difference:+.1%}",
            f"{c.ci_low:+.1%} … {c.ci_high:+.1%}",
            str(c.only_a),
            str(c.only_b),
            f"{c.mcnemar_p:.3g}" + (" *" if c.significant else ""),
            style="bold" if name == "overall" else "",
        )
    stdout.print(table)
    if result.only_in_a or result.only_in_b:
        console.print(
            f"rows not in both runs (left out): {result.only_in_a} only in A, {result.only_in_b} only in B"
        )
    if json_out:
        with atomic_output(json_out, encoding="utf-8") as fh:
            json.dump(result.to_dict(), fh, indent=2)


def serve_command(
    model: Annotated[
        str, typer.Argument(help="Model directory or hub id; 'tiny:nemotron-h' for the tiny model.")
    ],
    adapter: Annotated[Path | None, typer.Option(help="PEFT LoRA adapter directory.")] = None,
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
    name: Annotated[str | None, typer.Option(help="Model name clients use (default: MODEL).")] = None,
    device: Annotated[str, typer.Option()] = "auto",
    max_batch_size: Annotated[int, typer.Option(help="Requests generated together.")] = 16,
) -> None:
    """Serve a transformers model behind an OpenAI-compatible API (/v1/chat/completions)."""
    from reasonlab.inference.factory import resolve_model
    from reasonlab.inference.hf import HfBackend
    from reasonlab.inference.server import serve

    backend = HfBackend(resolve_model(model), adapter=adapter, device=device, max_batch_size=max_batch_size)
    console.print(f"serving {model} at http://{host}:{port}/v1")
    serve(backend, name or model, host=host, port=port, max_batch=max_batch_size)


def register(app: typer.Typer) -> None:
    app.command("eval")(eval_command)
    app.command("compare")(compare_command)
    app.command("serve")(serve_command)
