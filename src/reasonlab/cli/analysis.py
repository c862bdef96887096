"""Analysis commands: inspect (architecture costs from a config), experts (MoE routing statistics)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from reasonlab.cli._console import console, fail, stdout
from reasonlab.grader import MAX_TOKENS


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
    context: Annotated[int, typer.Option(help="Tokens per sequence for the cache.")] = MAX_TOKENS,
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


def experts_command(
    model: Annotated[str, typer.Argument(help="A Nemotron-H model directory or id, or tiny:nemotron-h.")],
    data: Annotated[
        Path, typer.Option(help="Puzzles (CSV id,prompt,answer) or SFT records (JSONL/Parquet).")
    ],
    out: Annotated[Path, typer.Option(help="Directory for experts.json and report.html.")],
    adapter: Annotated[
        Path | None, typer.Option(help="A PEFT adapter: also measure how it changes the routing.")
    ] = None,
    limit: Annotated[int | None, typer.Option(help="Only the first N rows.")] = None,
    batch_size: Annotated[int, typer.Option(help="Rows per forward pass.")] = 32,
    dtype: Annotated[str, typer.Option(help="auto, bfloat16, float16 or float32.")] = "auto",
    device: Annotated[
        str, typer.Option(help="Where the model runs: auto (a GPU when there is one), cpu, cuda.")
    ] = "auto",
    suggest_targets: Annotated[
        int, typer.Option(help="List the N experts per layer most specific to --families as LoRA targets.")
    ] = 0,
    families: Annotated[
        str | None, typer.Option(help="Comma-separated families for --suggest-targets, e.g. bit,equation.")
    ] = None,
    preset: Annotated[
        str,
        typer.Option(
            help="The suggested targets keep this preset's parts other than the routed experts "
            "('none': the experts only)."
        ),
    ] = "competition-attention",
) -> None:
    """Which experts the MoE routers choose: per layer, family, token class and trace step kind; loads,
    entropies, divergences, co-activation, and routing drift under an adapter."""
    import torch

    from reasonlab.analysis.experts import ExpertsError, load_rows, route
    from reasonlab.analysis.experts_metrics import suggest_targets as suggest
    from reasonlab.analysis.experts_metrics import summarise
    from reasonlab.analysis.experts_report import write_report
    from reasonlab.cli._console import progress_bar
    from reasonlab.training.config import ModelSpec
    from reasonlab.training.modeling import load_model

    if suggest_targets and not families:
        raise fail("--suggest-targets needs --families: the experts specific to which families?")
    try:
        rows = load_rows(data, limit=limit)
        loaded, tokenizer, _ = load_model(ModelSpec(name_or_path=model, dtype=dtype))
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        loaded.to(device)
        with progress_bar("routing", len(rows)) as advance:
            counts = route(
                loaded, tokenizer, rows, batch_size=batch_size, adapter=adapter, progress=advance, name=model
            )
    except (ExpertsError, OSError, ValueError) as exc:
        raise fail(str(exc)) from None
    summary = summarise(counts)
    if suggest_targets:
        try:
            chosen = families.split(",")
            suggestion = suggest(counts, chosen, suggest_targets, None if preset == "none" else preset)
        except ValueError as exc:
            raise fail(str(exc)) from None
        summary["suggested_targets"] = {
            "families": suggestion.families,
            "experts": suggestion.experts,
            "modules": suggestion.modules,
            "lora": {"layout": "per-expert", "targets": suggestion.targets},
        }
        stdout.print_json(json.dumps(summary["suggested_targets"]["lora"]))
    figures, page = write_report(out, summary, title="Expert routing")
    stdout.print(
        f"{summary['rows']:,} rows, {summary['tokens']:,} tokens; mean normalised entropy "
        f"{sum(summary['all']['entropy']) / len(summary['all']['entropy']):.3f}; wrote {figures} and {page}",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    app.command("inspect")(inspect_command)
    app.command("experts")(experts_command)
