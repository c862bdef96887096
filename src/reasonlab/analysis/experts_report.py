"""The experts report: one HTML page of heatmaps, each an embedded SVG image (the page stays one file).

Heatmaps: expert load per layer for each family (layer x expert), family x family Jensen-Shannon
divergence and top-k overlap, expert load per token class and, with an adapter, the routing drift per layer
and family. Drawn with matplotlib's object API (no pyplot state), text kept as text in the SVG.
"""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path

import numpy as np

HEATMAP = "viridis"


def svg_bytes(figure) -> bytes:
    """The figure as SVG; the same figure gives the same bytes (no date, fixed element ids)."""
    from matplotlib import rc_context

    buffer = io.BytesIO()
    with rc_context({"svg.fonttype": "none", "svg.hashsalt": "reasonlab"}):
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()


def _heatmap(axis, values: np.ndarray, rows: list[str], columns: list[str] | None, title: str, **kwargs):
    image = axis.imshow(values, aspect="auto", cmap=HEATMAP, interpolation="nearest", **kwargs)
    axis.set_yticks(range(len(rows)), rows, fontsize="small")
    if columns is not None:
        axis.set_xticks(range(len(columns)), columns, rotation=45, ha="right", fontsize="small")
    axis.set_title(title, fontsize="medium")
    return image


def family_load_figure(summary: dict):
    """One layer x expert heatmap of expert load per family, on a shared colour scale."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    families = summary["families"]
    layers = [str(layer) for layer in summary["moe_layers"]]
    height = 0.9 + len(families) * max(0.9, 0.16 * len(layers))
    figure = Figure(figsize=(9, height), layout="constrained")
    axes = figure.subplots(len(families), 1, squeeze=False)[:, 0]
    top = max(max(map(max, summary["groups"]["family"][f]["load"])) for f in families) or 1.0
    for axis, family in zip(axes, families, strict=True):
        load = np.array(summary["groups"]["family"][family]["load"])
        image = _heatmap(axis, load, layers, None, f"{family}: expert load by MoE layer", vmin=0, vmax=top)
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        axis.set_ylabel("layer", fontsize="small")
    axes[-1].set_xlabel("expert")
    figure.colorbar(image, ax=list(axes), label="share of routing slots", shrink=0.8)
    return figure


def family_pair_figure(summary: dict):
    from matplotlib.figure import Figure

    families = summary["families"]
    divergence = summary["family_divergence"]
    figure = Figure(figsize=(10, 4.2), layout="constrained")
    left, right = figure.subplots(1, 2)
    for axis, key, title in (
        (left, "jsd", "Jensen-Shannon divergence (mean over layers)"),
        (right, "topk_overlap", "top-k overlap (Jaccard, mean over layers)"),
    ):
        values = np.array(divergence[key])
        image = _heatmap(axis, values, families, families, title, vmin=0, vmax=1 if key != "jsd" else None)
        for (i, j), value in np.ndenumerate(values):
            shade = image.norm(value) > 0.6  # dark text on the colour map's light end
            axis.text(
                j,
                i,
                f"{value:.2g}",
                ha="center",
                va="center",
                fontsize="x-small",
                color="black" if shade else "white",
            )
        figure.colorbar(image, ax=axis, shrink=0.8)
    return figure


def group_load_figure(summary: dict, axis_name: str, title: str):
    """Load over all MoE layers (experts side by side per layer) for each group of one axis."""
    from matplotlib.figure import Figure

    groups = {name: g for name, g in summary["groups"][axis_name].items() if g["tokens"]}
    rows = list(groups)
    values = np.array([np.array(g["load"]).reshape(-1) for g in groups.values()])
    figure = Figure(figsize=(9, 1 + 0.35 * len(rows)), layout="constrained")
    axis = figure.subplots()
    image = _heatmap(axis, values, rows, None, title, vmin=0)
    axis.set_xlabel(f"expert, layer by layer ({len(summary['moe_layers'])} layers x {summary['experts']})")
    figure.colorbar(image, ax=axis, label="load", shrink=0.8)
    return figure


def drift_figure(summary: dict):
    from matplotlib.figure import Figure

    drift = summary["drift"]
    families = list(drift["by_family"])
    values = np.array([drift["by_family"][f] for f in families] + [drift["topk_jaccard"]])
    figure = Figure(figsize=(9, 1.2 + 0.35 * len(families)), layout="constrained")
    axis = figure.subplots()
    layers = [str(layer) for layer in summary["moe_layers"]]
    image = _heatmap(
        axis, values, [*families, "all"], layers, "top-k Jaccard, base vs adapter", vmin=0, vmax=1
    )
    axis.set_xlabel("MoE layer")
    figure.colorbar(image, ax=axis, shrink=0.8)
    return figure


def figures(summary: dict) -> list[tuple[str, str, bytes]]:
    """(file stem, caption, SVG) of every heatmap the summary has data for."""
    drawn = [
        ("family-load", "Expert load per family", svg_bytes(family_load_figure(summary))),
        ("family-pairs", "Family x family", svg_bytes(family_pair_figure(summary))),
        (
            "token-class-load",
            "Expert load per token class",
            svg_bytes(group_load_figure(summary, "token_class", "token classes")),
        ),
    ]
    if "step_kind" in summary["groups"]:
        drawn.append(
            (
                "step-kind-load",
                "Expert load per step kind",
                svg_bytes(group_load_figure(summary, "step_kind", "step kinds")),
            )
        )
    if "drift" in summary:
        drawn.append(("drift", "Routing drift under the adapter", svg_bytes(drift_figure(summary))))
    return drawn


def _table(summary: dict) -> str:
    head = "<tr><th>group</th><th>tokens</th><th>entropy / log E</th><th>imbalance (max/mean)</th></tr>"
    rows = []
    for axis_name, groups in [("all", {"all": summary["all"]}), *summary["groups"].items()]:
        for name, group in groups.items():
            if not group["tokens"]:
                continue
            label = name if axis_name == "all" else f"{axis_name}: {name}"
            rows.append(
                f"<tr><th>{html.escape(label)}</th><td>{group['tokens']:,}</td>"
                f"<td>{np.mean(group['entropy']):.3f}</td><td>{np.mean(group['imbalance']):.2f}</td></tr>"
            )
    return f"<table>{head}{''.join(rows)}</table>"


def html_report(summary: dict, drawn: list[tuple[str, str, bytes]], title: str = "Expert routing") -> str:
    images = "".join(
        f'<figure><img alt="{html.escape(caption)}" src="data:image/svg+xml;base64,'
        f'{base64.b64encode(svg).decode("ascii")}"><figcaption>{html.escape(caption)}</figcaption></figure>'
        for _, caption, svg in drawn
    )
    shape = (
        f"{summary['rows']:,} rows, {summary['tokens']:,} tokens; {len(summary['moe_layers'])} MoE layers, "
        f"{summary['experts']} routed experts, top-{summary['top_k']}. Means over layers."
    )
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; }} th, td {{ padding: 4px 10px; border-bottom: 1px solid #ddd; text-align: right; }}
tr th:first-child {{ text-align: left; }} figure {{ margin: 1em 0; }} img {{ max-width: 100%; }}
</style></head><body>
<h1>{html.escape(title)}: {html.escape(summary["model"])}</h1>
<p>{html.escape(shape)}</p>
{_table(summary)}
{images}
</body></html>
"""


def write_report(out: Path, summary: dict, title: str = "Expert routing") -> tuple[Path, Path]:
    """``experts.json``, ``report.html`` and each heatmap as ``<name>.svg`` in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    figures_json, page = out / "experts.json", out / "report.html"
    figures_json.write_text(json.dumps(summary) + "\n", encoding="utf-8")
    drawn = figures(summary)
    for stem, _, svg in drawn:
        (out / f"{stem}.svg").write_bytes(svg)
    page.write_text(html_report(summary, drawn, title), encoding="utf-8")
    return figures_json, page
