"""A run's report: a self-contained HTML page (plots embedded as SVG images) and a Markdown summary.

Plots: accuracy by family with 95% intervals; completion lengths per family against the token budget;
accuracy as a function of the token budget (the efficiency curve).

The plots are paid once per run, after the last completion, so they are drawn cheaply: matplotlib's
object API without pyplot's global state, fixed margins instead of a tight bounding box (which draws
every figure twice), and SVG with text kept as text (no rasterising, no PNG compression; the plots stay
sharp). Each SVG is a data-URI image, so the page stays one file, the figures' element ids cannot clash
and nothing in them is fetched.
"""

from __future__ import annotations

import base64
import html
import io
from collections import defaultdict
from pathlib import Path
from typing import Any

GROUP_COLUMNS = (
    ("rows", "rows", "{:d}"),
    ("accuracy", "accuracy", "{:.1%}"),
    ("ci95", "95% CI", None),
    ("no_answer_rate", "no answer", "{:.1%}"),
    ("truncation_rate", "truncated", "{:.1%}"),
    ("mean_completion_tokens", "mean tokens", "{:.0f}"),
    ("median_completion_tokens", "median tokens", "{:.0f}"),
    ("mean_seconds", "s/row", "{:.2f}"),
    ("correct_per_1k_tokens", "correct/1k tok", "{:.2f}"),
    ("efficiency", "efficiency", "{:.3f}"),
)


def _cell(group: dict[str, Any], key: str, fmt: str | None) -> str:
    value = group[key]
    if key == "ci95":
        return f"{value[0]:.1%}–{value[1]:.1%}"
    return fmt.format(value)


def _table_rows(metrics: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    rows = [(name, g) for name, g in metrics["by_family"].items()]
    rows += [(name, g) for name, g in metrics["by_subtype"].items()]
    rows.append(("overall", metrics["overall"]))
    return rows


def markdown_report(metrics: dict[str, Any], title: str) -> str:
    header = "| group | " + " | ".join(label for _, label, _ in GROUP_COLUMNS) + " |"
    lines = [f"# {title}", "", header, "|" + "---|" * (len(GROUP_COLUMNS) + 1)]
    for name, group in _table_rows(metrics):
        cells = " | ".join(_cell(group, key, fmt) for key, _, fmt in GROUP_COLUMNS)
        lines.append(f"| {'**overall**' if name == 'overall' else name} | {cells} |")
    overall = metrics["overall"]
    lines += ["", f"Token budget (max_tokens): {metrics.get('max_tokens')}"]
    if "tokens_per_s" in overall:
        lines.append(
            f"Generation: {overall['generation_seconds']:.1f} s, {overall['tokens_per_s']:.1f} tokens/s, "
            f"harness overhead {overall['harness_overhead']:.2%} of the generation sessions' wall time"
        )
    budgets = ", ".join(f"{b}: {a:.1%}" for b, a in overall["accuracy_at_budget"].items())
    lines += [f"Accuracy within budget: {budgets}", ""]
    return "\n".join(lines)


def svg_data(figure) -> str:
    """The figure as base64 SVG; the same figure gives the same bytes (no date, fixed clip-path ids)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def new_figure():
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 3.5))
    figure.subplots_adjust(left=0.1, right=0.97, bottom=0.16, top=0.9)
    return figure, figure.subplots()


def _plots(metrics: dict[str, Any], rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
    from matplotlib import rc_context

    with rc_context({"svg.fonttype": "none", "svg.hashsalt": "reasonlab"}):
        return [
            ("Accuracy by family", svg_data(_accuracy_by_family(metrics))),
            ("Completion lengths", svg_data(_completion_lengths(metrics, rows))),
            ("Accuracy vs tokens", svg_data(_accuracy_vs_tokens(metrics))),
        ]


def _accuracy_by_family(metrics: dict[str, Any]):
    families = metrics["by_family"]
    names = list(families)
    accuracy = [families[n]["accuracy"] for n in names]
    # Clamped at 0: at 0% or 100% the interval's end equals the accuracy up to rounding.
    errors = [
        [max(0.0, a - families[n]["ci95"][0]) for n, a in zip(names, accuracy, strict=True)],
        [max(0.0, families[n]["ci95"][1] - a) for n, a in zip(names, accuracy, strict=True)],
    ]
    figure, axis = new_figure()
    axis.bar(names, accuracy, yerr=errors, capsize=4, color="#4c72b0")
    axis.set_ylim(0, 1)
    axis.set_ylabel("accuracy (95% CI)")
    axis.set_title("Accuracy by family")
    return figure


def _completion_lengths(metrics: dict[str, Any], rows: list[dict[str, Any]]):
    lengths: dict[str, list[int]] = defaultdict(list)
    for row in rows:
        lengths[row["family"]].append(row["completion_tokens"])
    budget = metrics.get("max_tokens") or max((r["completion_tokens"] for r in rows), default=1)
    figure, axis = new_figure()
    # One filled outline per family, not one patch per bar: a fraction of the drawing time.
    axis.hist(
        list(lengths.values()),
        bins=30,
        range=(0, budget),
        stacked=True,
        histtype="stepfilled",
        label=list(lengths),
    )
    axis.axvline(budget, color="red", linestyle="--", label=f"budget {budget}")
    axis.set_xlabel("completion tokens")
    axis.set_ylabel("rows")
    axis.set_title("Completion lengths against the budget")
    axis.legend(fontsize="small")
    return figure


def _accuracy_vs_tokens(metrics: dict[str, Any]):
    figure, axis = new_figure()
    for name, group in [*metrics["by_family"].items(), ("overall", metrics["overall"])]:
        curve = group["accuracy_at_budget"]
        axis.plot(
            [int(b) for b in curve],
            list(curve.values()),
            marker="o",
            label=name,
            linewidth=3 if name == "overall" else 1,
        )
    axis.set_xscale("log", base=2)
    axis.set_ylim(0, 1)
    axis.set_xlabel("token budget")
    axis.set_ylabel("accuracy within budget")
    axis.set_title("Accuracy vs tokens")
    axis.legend(fontsize="small")
    return figure


def html_report(metrics: dict[str, Any], rows: list[dict[str, Any]], title: str) -> str:
    head = "".join(f"<th>{html.escape(label)}</th>" for _, label, _ in GROUP_COLUMNS)
    body = []
    for name, group in _table_rows(metrics):
        cells = "".join(f"<td>{html.escape(_cell(group, key, fmt))}</td>" for key, _, fmt in GROUP_COLUMNS)
        style = ' class="overall"' if name == "overall" else ""
        body.append(f"<tr{style}><th>{html.escape(name)}</th>{cells}</tr>")
    figures = "".join(
        f'<figure><img alt="{html.escape(caption)}" src="data:image/svg+xml;base64,{svg}"><figcaption>'
        f"{html.escape(caption)}</figcaption></figure>"
        for caption, svg in _plots(metrics, rows)
    )
    summary = html.escape(markdown_report(metrics, title).split("\n", 4)[-1].split("\n\n", 1)[-1])
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; }} th, td {{ padding: 4px 10px; border-bottom: 1px solid #ddd; text-align: right; }}
tr th:first-child {{ text-align: left; }} tr.overall {{ font-weight: bold; background: #f3f3f3; }}
figure {{ display: inline-block; margin: 1em; }} pre {{ background: #f7f7f7; padding: 1em; }}
</style></head><body>
<h1>{html.escape(title)}</h1>
<table><tr><th>group</th>{head}</tr>{"".join(body)}</table>
<pre>{summary}</pre>
{figures}
</body></html>
"""


def write_reports(run_dir: Path, metrics: dict[str, Any], rows: list[dict[str, Any]], title: str) -> None:
    (run_dir / "report.md").write_text(markdown_report(metrics, title), encoding="utf-8")
    (run_dir / "report.html").write_text(html_report(metrics, rows, title), encoding="utf-8")
