"""The bench page: throughput, latency percentiles and peak memory against the swept knob, one file."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from reasonlab.runs.report import new_figure, svg_data

MIB = 1 << 20
BENCH_FILE = "bench.json"


def read_bench(run_dir: Path) -> dict[str, Any]:
    path = Path(run_dir) / BENCH_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{run_dir}: no bench.json (not a `reasonlab bench` run)")
    return json.loads(path.read_text(encoding="utf-8"))


def _line_plot(points: list[dict[str, Any]], knob: str, series: dict[str, list[float | None]], ylabel: str):
    figure, axis = new_figure()
    xs = [p["value"] for p in points]
    for label, ys in series.items():
        pairs = [(x, y) for x, y in zip(xs, ys, strict=True) if y is not None]
        if pairs:
            axis.plot(*zip(*pairs, strict=True), marker="o", label=label)
    axis.set_xscale("log", base=2)
    axis.set_xlabel(knob)
    axis.set_ylabel(ylabel)
    axis.legend(fontsize="small")
    return figure


def _plots(bench: dict[str, Any]) -> list[tuple[str, str]]:
    points, knob = bench["points"], bench["knob"]
    latency = {
        f"latency {q}": [p["latency_s"][q] if p["latency_s"] else None for p in points]
        for q in ("p50", "p95", "p99")
    }
    latency["first token p50"] = [p["first_token_s"]["p50"] if p["first_token_s"] else None for p in points]
    memory = {"peak RSS": [p["peak_rss_bytes"] / MIB for p in points]}
    if any(p["cuda_peak_bytes"] for p in points):
        memory["CUDA max allocated"] = [(p["cuda_peak_bytes"] or 0) / MIB for p in points]
    return [
        (
            "Generated tokens per second",
            svg_data(_line_plot(points, knob, {"tokens/s": [p["tokens_per_s"] for p in points]}, "tokens/s")),
        ),
        ("Per-request latency (s)", svg_data(_line_plot(points, knob, latency, "seconds"))),
        ("Peak memory (MiB)", svg_data(_line_plot(points, knob, memory, "MiB"))),
    ]


def _fmt(value: Any, spec: str) -> str:
    return "–" if value is None else format(value, spec)


def bench_rows(bench: dict[str, Any]) -> list[list[str]]:
    """The table of a bench run: one row per swept value."""
    return [
        [
            str(p["value"]),
            f"{p['tokens_per_s']:.1f}",
            f"{p['requests_per_s']:.2f}",
            _fmt(p["first_token_s"] and p["first_token_s"]["p50"], ".3f"),
            _fmt(p["latency_s"] and p["latency_s"]["p50"], ".2f"),
            _fmt(p["latency_s"] and p["latency_s"]["p95"], ".2f"),
            _fmt(p["latency_s"] and p["latency_s"]["p99"], ".2f"),
            f"{p['peak_rss_bytes'] / MIB:.0f}",
            _fmt(p["weight_bytes"] and p["weight_bytes"] / MIB, ".1f"),
            f"{p['harness_overhead']:.2%}",
        ]
        for p in bench["points"]
    ]


BENCH_COLUMNS = (
    "value",
    "tokens/s",
    "requests/s",
    "TTFT p50 s",
    "latency p50 s",
    "p95 s",
    "p99 s",
    "peak RSS MiB",
    "weights MiB",
    "harness",
)


def write_bench_report(run_dir: Path) -> None:
    bench = read_bench(run_dir)
    head = "".join(f"<th>{html.escape(c if c != 'value' else bench['knob'])}</th>" for c in BENCH_COLUMNS)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in bench_rows(bench)
    )
    agreement = bench.get("agreement")
    notes = ""
    if agreement:
        notes = (
            f"<p>Against the plain backend on the same {agreement['rows']} rows: {agreement['speedup']:.2f}× tokens/s, "
            f"greedy {agreement['unit']} agreement {agreement['token_agreement']:.2%} in free runs"
            + (
                f", {agreement['teacher_forced_agreement']:.2%} teacher-forced"
                if agreement.get("teacher_forced_agreement") is not None
                else ""
            )
            + f", identical completions "
            f"{agreement['identical']:.1%}, accuracy {agreement['accuracy_delta']:+.1%}. Screening figures: the "
            "grader runs BF16, greedy, without speculation.</p>"
        )
    figures = "".join(
        f'<figure><img alt="{html.escape(c)}" src="data:image/svg+xml;base64,{svg}"><figcaption>{html.escape(c)}'
        "</figcaption></figure>"
        for c, svg in _plots(bench)
    )
    title = f"bench: {bench['backend']['kind']} {bench['backend']['model']}, max_tokens {bench['max_tokens']}, {bench['rows']} rows"
    (Path(run_dir) / "bench.html").write_text(
        f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body {{ font-family: system-ui, sans-serif; margin: 2em; }} td, th {{ padding: 4px 10px; text-align: right;
border-bottom: 1px solid #ddd; }} figure {{ display: inline-block; margin: 1em; }}</style></head><body>
<h1>{html.escape(title)}</h1><table><tr>{head}</tr>{body}</table>{notes}{figures}</body></html>
""",
        encoding="utf-8",
    )


def compare_bench(run_a: Path, run_b: Path) -> list[list[str]]:
    """Side by side on the swept values both runs measured: tokens/s, latency p50, peak RSS, and B/A."""
    a, b = read_bench(run_a), read_bench(run_b)
    by_value = {p["value"]: p for p in b["points"]}
    rows = []
    for pa in a["points"]:
        pb = by_value.get(pa["value"])
        if pb is None:
            continue
        rows.append(
            [
                str(pa["value"]),
                f"{pa['tokens_per_s']:.1f}",
                f"{pb['tokens_per_s']:.1f}",
                f"{pb['tokens_per_s'] / pa['tokens_per_s']:.2f}×",
                _fmt(pa["latency_s"] and pa["latency_s"]["p50"], ".2f"),
                _fmt(pb["latency_s"] and pb["latency_s"]["p50"], ".2f"),
                f"{pa['peak_rss_bytes'] / MIB:.0f}",
                f"{pb['peak_rss_bytes'] / MIB:.0f}",
            ]
        )
    if not rows:
        raise ValueError(f"{run_a} and {run_b} share no swept value")
    return rows
