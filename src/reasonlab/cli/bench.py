"""``reasonlab bench``: a backend's speed, latency and memory on the grader's workload."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from reasonlab.cli._console import console, fail, stdout


def bench_command(
    arguments: Annotated[
        list[str] | None,
        typer.Argument(
            help="CONFIG.yaml (optional: without it, the embedded tiny CPU default on 16 rows) then key=value "
            "overrides, e.g. 'sweep=[1,8,32]' backend.quantization=int8 backend.speculative=prompt_lookup.",
            show_default=False,
        ),
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Run directory.")] = None,
) -> None:
    """Measure generated tokens/s, requests/s, time to first token, latency p50/p95/p99 and peak memory
    for each value of the swept knob (hf: max_batch_size; vllm: max_num_seqs; openai: concurrency).

    With backend.quantization or backend.speculative, the same rows also run on the plain backend:
    greedy token agreement and the accuracy delta show what the speed costs (screening only: the
    grader runs BF16 without speculation). Writes bench.json and bench.html.
    """
    from reasonlab.runs.bench import load_bench_config, run_bench
    from reasonlab.runs.bench_report import BENCH_COLUMNS, bench_rows, read_bench
    from reasonlab.runs.config import ConfigError, split_arguments
    from reasonlab.runs.rundir import RunDirError, default_run_dir

    try:
        config_path, overrides = split_arguments(arguments or [])
        config = load_bench_config(config_path, overrides)
    except ConfigError as exc:
        raise fail(str(exc)) from None
    out = out or default_run_dir("bench")
    console.print(
        f"bench: backend {config.backend.kind} model {config.backend.model}, sweep {config.sweep} -> {out}"
    )
    try:
        result = run_bench(
            config,
            out,
            on_point=lambda p: console.print(f"  {p.knob}={p.value}: {p.tokens_per_s:.1f} tokens/s"),
        )
    except (RunDirError, ValueError, FileNotFoundError, ImportError) as exc:
        raise fail(str(exc)) from None
    bench = read_bench(result.run.path)
    table = Table(title=str(out))
    for column in BENCH_COLUMNS:
        table.add_column(bench["knob"] if column == "value" else column, justify="right")
    for row in bench_rows(bench):
        table.add_row(*row)
    stdout.print(table)
    if result.agreement:
        a = result.agreement
        console.print(
            f"vs the plain backend: {a['speedup']:.2f}x tokens/s, greedy {a['unit']} agreement "
            f"{a['token_agreement']:.2%} (free run)"
            + (
                f", {a['teacher_forced_agreement']:.2%} teacher-forced"
                if a["teacher_forced_agreement"] is not None
                else ""
            )
            + f", identical {a['identical']:.1%}, accuracy {a['accuracy_delta']:+.1%}"
        )
    console.print(f"report: {result.run.path / 'bench.html'}")


def register(app: typer.Typer) -> None:
    app.command("bench")(bench_command)
