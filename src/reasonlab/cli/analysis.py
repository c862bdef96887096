"""Analysis commands: inspect (architecture costs from a config), experts (MoE routing statistics)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from reasonlab.cli._console import console, fail, stdout


def _count(n: int) -> str:
    return f"{n:,}"


def _gigabytes(n: int) -> str:
    return f"{n / 1e9:,.2f} GB" if n >= 1e7 else f"{n:,} B"


def inspect_tables(inspection) -> list[Table]:
    parts = Table(title=f"{inspection.name}: parameters")
    for column in ("part", "total", "active per token"):
        parts.add_column(column, justify="left" if column == "part" else "right")
    for part in inspection.parts:
        parts.add_row(part.part, _count(part.total), _count(part.active))
    parts.add_row("[bold]all", f"[bold]{_count(inspection.total)}", f"[bold]{_count(inspection.active)}")
    parts.add_row("all but embeddings", "", _count(inspection.active_excluding_embeddings))
    tables = [parts]
    if inspection.lora:
        lora = Table(title=f"LoRA rank {inspection.lora_rank}: trainable parameters")
        for column in ("preset", "native layout", "per-expert layout", "submission (fp32)"):
            lora.add_column(column, justify="left" if column == "preset" else "right")
        for row in inspection.lora:
            lora.add_row(
                row.preset, _count(row.native), _count(row.per_expert), _gigabytes(row.submission_bytes)
            )
        tables.append(lora)
    memory = Table(
        title=f"Memory ({inspection.dtype}, batch {inspection.batch}, context {inspection.context:,})"
    )
    memory.add_column("what")
    memory.add_column("bytes", justify="right")
    memory.add_row("KV cache per token", f"{inspection.kv_cache_bytes_per_token:,}")
    memory.add_row("Mamba state per sequence", f"{inspection.mamba_state_bytes_per_sequence:,}")
    memory.add_row("weights", _gigabytes(inspection.weights_bytes))
    memory.add_row("caches", _gigabytes(inspection.cache_bytes))
    memory.add_row("[bold]weights + caches", f"[bold]{_gigabytes(inspection.memory_bytes)}")
    tables.append(memory)
    return tables


def inspect_command(
    model_or_config: Annotated[
        str | None,
        typer.Argument(
            help="A config.json, a model directory, tiny:<kind> or a Hugging Face id; "
            "default: Nemotron-3-Nano-30B-A3B's shipped configuration."
        ),
    ] = None,
    rank: Annotated[int, typer.Option(help="LoRA rank for the trainable-parameter counts.")] = 32,
    batch: Annotated[int, typer.Option(help="Sequences held at once (the grader's max_num_seqs).")] = 64,
    context: Annotated[int, typer.Option(help="Tokens per sequence for the cache.")] = 7680,
    dtype: Annotated[
        str, typer.Option(help="Weights and KV-cache dtype: bfloat16, float16, float32.")
    ] = "bfloat16",
    json_out: Annotated[
        Path | None, typer.Option("--out", help="Also write the figures to this JSON file.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Parameters (total, active per token, by part), LoRA sizes and cache memory, from the configuration
    alone: the model is built on the meta device, nothing is loaded."""
    from reasonlab.analysis.inspect import InspectError, inspect_model

    try:
        inspection = inspect_model(model_or_config, rank=rank, batch=batch, context=context, dtype=dtype)
    except (InspectError, OSError) as exc:
        raise fail(str(exc)) from None
    figures = json.dumps(inspection.to_dict(), indent=2)
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(figures + "\n", encoding="utf-8")
    if as_json:
        stdout.print_json(figures)
        return
    if inspection.layer_pattern:
        counts = ", ".join(f"{n} {kind}" for kind, n in inspection.layer_counts.items())
        stdout.print(
            f"layers: {inspection.layer_pattern} ({len(inspection.layer_pattern)}: {counts})", highlight=False
        )
    if inspection.routed_experts:
        stdout.print(
            f"experts per MoE layer: {inspection.routed_experts} routed, {inspection.experts_per_token} active "
            f"per token, {inspection.shared_experts} shared"
        )
    for table in inspect_tables(inspection):
        stdout.print(table)
    for note in inspection.notes:
        console.print(f"published figures: {note}", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("inspect")(inspect_command)
