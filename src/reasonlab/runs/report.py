"""A run's report: a self-contained HTML page (plots embedded as SVG images) and a Markdown summary.

Plots: accuracy by family (puzzle families, and tasks without families) with 95% intervals; completion
lengths per family against the token budget; accuracy as a function of the token budget (the efficiency
curve). The rows are :class:`reasonlab.scoring.rows.EvalRow`, whatever their task.

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

from reasonlab.runs.metrics import table_groups
from reasonlab.scoring.rows import EvalRow

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


SCORECARD_COLUMNS = (
    ("rows", "rows", "{:d}"),
    ("solver_ceiling", "solver", "{:.1%}"),
    ("accuracy", "model", "{:.1%}"),
    ("gap", "gap", "{:+.1%}"),
    ("truncation_rate", "truncated", "{:.1%}"),
    ("median_tokens", "median tokens", "{:.0f}"),
    ("perfect_trace_rate", "perfect traces", "{:.1%}"),
    ("teacher_forced_perfect_rate", "TF perfect", "{:.1%}"),
    ("token_agreement", "TF token agreement", "{:.1%}"),
    ("median_min_logprob", "median min log-p", "{:.2f}"),
    ("mean_low_tokens", "tokens p<0.5", "{:.1f}"),
)


def _scorecard_rows(card: dict[str, Any]) -> list[tuple[str, list[str]]]:
    groups = [*card["by_family"].items(), *card["by_subtype"].items(), ("overall", card["overall"])]
    return [
        (name, [fmt.format(g[key]) if g.get(key) is not None else "–" for key, _, fmt in SCORECARD_COLUMNS])
        for name, g in groups
    ]


def _spread_line(card: dict[str, Any]) -> str:
    spread = card["overall"]["leaderboard_spread"]
    if not spread.get("draws"):
        return ""
    return (
        f"On a {spread['draw_rows']}-problem draw (the private board's size; bootstrap, {spread['draws']} "
        f"draws) this accuracy spreads with sd {spread['sd']:.3f}, 95% of draws in "
        f"{spread['ci95'][0]:.1%}–{spread['ci95'][1]:.1%}."
    )


def scorecard_markdown(card: dict[str, Any]) -> str:
    header = "| group | " + " | ".join(label for _, label, _ in SCORECARD_COLUMNS) + " |"
    lines = ["## Scorecard", "", header, "|" + "---|" * (len(SCORECARD_COLUMNS) + 1)]
    lines += [f"| {name} | {' | '.join(cells)} |" for name, cells in _scorecard_rows(card)]
    lines += ["", _spread_line(card), ""]
    for failure in card["failures"]:
        divergence = failure.get("divergence")
        where = (
            f"diverges at token {divergence['position']} (line {divergence['line'] + 1}, "
            f"{divergence['step_kind']}): expected {divergence['expected']!r}, model {divergence['predicted']!r}"
            if divergence
            else "no reference trace"
        )
        lines.append(
            f"- {failure['family']} `{failure['id']}`: gold {failure['gold']!r}, answer {failure['answer']!r}; {where}"
        )
    return "\n".join(lines) + "\n"


def _failure_html(failure: dict[str, Any]) -> str:
    head = (
        f"<b>{html.escape(str(failure['family']))}</b> <code>{html.escape(str(failure['id']))}</code>: "
        f"gold <code>{html.escape(str(failure['gold']))}</code>, "
        f"answer <code>{html.escape(str(failure['answer']))}</code>"
    )
    divergence = failure.get("divergence")
    if not divergence:
        return f"<li>{head}<pre>…{html.escape(failure.get('completion_tail', ''))}</pre></li>"
    where = (
        f"first divergence at token {divergence['position']}, line {divergence['line'] + 1} "
        f"({html.escape(divergence['step_kind'])})"
    )
    text = (
        f"…{html.escape(divergence['before'])}<mark class='expected'>{html.escape(divergence['expected'])}</mark>"
        f"<mark class='predicted'>{html.escape(divergence['predicted'])}</mark>"
    )
    return f"<li>{head}; {where}: reference token in green, the model's choice in red<pre>{text}</pre></li>"


def scorecard_html(card: dict[str, Any]) -> str:
    head = "".join(f"<th>{html.escape(label)}</th>" for _, label, _ in SCORECARD_COLUMNS)
    overall_row = ' class="overall"'
    body = "".join(
        f"<tr{overall_row if name == 'overall' else ''}><th>{html.escape(name)}</th>"
        + "".join(f"<td>{html.escape(c)}</td>" for c in cells)
        + "</tr>"
        for name, cells in _scorecard_rows(card)
    )
    failures = "".join(_failure_html(f) for f in card["failures"])
    return (
        f"<h2>Scorecard</h2><table><tr><th>group</th>{head}</tr>{body}</table>"
        f"<p>{html.escape(_spread_line(card))}</p><h3>Example failures</h3><ul>{failures}</ul>"
    )


def _cell(group: dict[str, Any], key: str, fmt: str | None) -> str:
    value = group[key]
    if key == "ci95":
        return f"{value[0]:.1%}–{value[1]:.1%}"
    return fmt.format(value)


def markdown_report(metrics: dict[str, Any], title: str) -> str:
    header = "| group | " + " | ".join(label for _, label, _ in GROUP_COLUMNS) + " |"
    lines = [f"# {title}", "", header, "|" + "---|" * (len(GROUP_COLUMNS) + 1)]
    for name, group in table_groups(metrics):
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
    if "scorecard" in metrics:
        lines.append(scorecard_markdown(metrics["scorecard"]))
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


def shown_groups(metrics: dict[str, Any], rows: list[EvalRow]) -> dict[str, dict[str, Any]]:
    """The metrics of each plotted group: every puzzle family, and every task whose rows have no family."""
    tasks_without_families = sorted({r.task for r in rows if r.family is None})
    by_task = metrics.get("by_task", {})
    return {**metrics["by_family"], **{task: by_task[task] for task in tasks_without_families}}


def _plots(metrics: dict[str, Any], rows: list[EvalRow]) -> list[tuple[str, str]]:
    from matplotlib import rc_context

    groups = shown_groups(metrics, rows)
    with rc_context({"svg.fonttype": "none", "svg.hashsalt": "reasonlab"}):
        return [
            ("Accuracy by family", svg_data(_accuracy_by_family(groups))),
            ("Completion lengths", svg_data(_completion_lengths(metrics, rows))),
            ("Accuracy vs tokens", svg_data(_accuracy_vs_tokens(metrics, groups))),
        ]


def _accuracy_by_family(families: dict[str, dict[str, Any]]):
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


def _completion_lengths(metrics: dict[str, Any], rows: list[EvalRow]):
    lengths: dict[str, list[int]] = defaultdict(list)
    for row in rows:
        lengths[row.group].append(row.completion_tokens)
    budget = metrics.get("max_tokens") or max((r.completion_tokens for r in rows), default=1)
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


def _accuracy_vs_tokens(metrics: dict[str, Any], groups: dict[str, dict[str, Any]]):
    figure, axis = new_figure()
    for name, group in [*groups.items(), ("overall", metrics["overall"])]:
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


def html_report(metrics: dict[str, Any], rows: list[EvalRow], title: str) -> str:
    head = "".join(f"<th>{html.escape(label)}</th>" for _, label, _ in GROUP_COLUMNS)
    body = []
    for name, group in table_groups(metrics):
        cells = "".join(f"<td>{html.escape(_cell(group, key, fmt))}</td>" for key, _, fmt in GROUP_COLUMNS)
        style = ' class="overall"' if name == "overall" else ""
        body.append(f"<tr{style}><th>{html.escape(name)}</th>{cells}</tr>")
    figures = "".join(
        f'<figure><img alt="{html.escape(caption)}" src="data:image/svg+xml;base64,{svg}"><figcaption>'
        f"{html.escape(caption)}</figcaption></figure>"
        for caption, svg in _plots(metrics, rows)
    )
    summary = html.escape(
        markdown_report({k: v for k, v in metrics.items() if k != "scorecard"}, title)
        .split("\n", 4)[-1]
        .split("\n\n", 1)[-1]
    )
    scorecard = scorecard_html(metrics["scorecard"]) if "scorecard" in metrics else ""
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; }} th, td {{ padding: 4px 10px; border-bottom: 1px solid #ddd; text-align: right; }}
tr th:first-child {{ text-align: left; }} tr.overall {{ font-weight: bold; background: #f3f3f3; }}
figure {{ display: inline-block; margin: 1em; }} pre {{ background: #f7f7f7; padding: 1em; white-space: pre-wrap; }}
mark.expected {{ background: #b7e4b0; }} mark.predicted {{ background: #f4b6b6; text-decoration: line-through; }}
</style></head><body>
<h1>{html.escape(title)}</h1>
<table><tr><th>group</th>{head}</tr>{"".join(body)}</table>
<pre>{summary}</pre>
{scorecard}
{figures}
</body></html>
"""


def write_reports(run_dir: Path, metrics: dict[str, Any], rows: list[EvalRow], title: str) -> None:
    (run_dir / "report.md").write_text(markdown_report(metrics, title), encoding="utf-8")
    (run_dir / "report.html").write_text(html_report(metrics, rows, title), encoding="utf-8")
