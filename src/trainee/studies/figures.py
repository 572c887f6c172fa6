"""Figures: matplotlib (Agg) drawn to inline SVG strings, from stored results only, so
`trainee report` redraws them without retraining."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

# A fixed hash salt makes SVG element ids (and so the report) deterministic.
plt.rcParams.update({"svg.fonttype": "none", "svg.hashsalt": "trainee", "font.size": 9,
                     "figure.dpi": 100})
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")


def to_svg(fig) -> str:
    """The figure as an inline <svg> element (no XML prolog, no external references)."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg"):]


def bars(groups: list[str], series: dict[str, list[dict]], ylabel: str, title: str) -> str:
    """Grouped bars with 95% CI whiskers. `series[name][i]` is a CI dict for group i."""
    fig, ax = plt.subplots(figsize=(6.0, 3.0))
    width = 0.8 / max(1, len(series))
    for k, (name, cis) in enumerate(series.items()):
        x = [i + (k - (len(series) - 1) / 2) * width for i in range(len(groups))]
        mid = [c["iqm"] for c in cis]
        err = [[c["iqm"] - c["ci_low"] for c in cis], [c["ci_high"] - c["iqm"] for c in cis]]
        ax.bar(x, mid, width, yerr=err, capsize=3, label=name, color=PALETTE[k % 6])
    ax.set_xticks(range(len(groups)), groups)
    ax.axhline(0, color="black", linewidth=0.6)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if len(series) > 1:
        ax.legend(frameon=False, fontsize=8)
    return to_svg(fig)


def curves(x: list[float], series: dict[str, list[dict]], xlabel: str, ylabel: str,
           title: str, logx: bool = False) -> str:
    """Lines (IQM across seeds) with shaded 95% CIs. `series[name][i]` is a CI dict."""
    fig, ax = plt.subplots(figsize=(6.0, 3.0))
    for k, (name, cis) in enumerate(series.items()):
        colour = PALETTE[k % 6]
        ax.plot(x, [c["iqm"] for c in cis], marker="o", markersize=3, label=name, color=colour)
        ax.fill_between(x, [c["ci_low"] for c in cis], [c["ci_high"] for c in cis],
                        color=colour, alpha=0.2, linewidth=0)
    if logx:
        ax.set_xscale("log", base=2)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(frameon=False, fontsize=8)
    return to_svg(fig)


def frontier(panels: dict[str, tuple], xlabel: str, ylabel: str, curve_label: str) -> str:
    """Side-by-side panels of a trade-off: `panels[title] = (xs, ys, points)` with a
    reference curve through the IQMs of CI dicts `xs[i]`, `ys[i]`, and `points[name] =
    (x, y, colour, marker)` (x, y CI dicts; colour an index into PALETTE) drawn as
    markers with 95% CI whiskers (e.g. harm vs success: the baseline's checkpoints and
    each agent)."""
    fig, axes = plt.subplots(1, len(panels), figsize=(4.4 * len(panels), 3.6), squeeze=False)
    for ax, (title, (xs, ys, points)) in zip(axes[0], panels.items(), strict=True):
        ax.plot([c["iqm"] for c in xs], [c["iqm"] for c in ys], color="grey", marker=".",
                linewidth=1, label=curve_label)
        for name, (x, y, colour, marker) in points.items():
            ax.errorbar(x["iqm"], y["iqm"], xerr=[[x["iqm"] - x["ci_low"]],
                                                  [x["ci_high"] - x["iqm"]]],
                        yerr=[[y["iqm"] - y["ci_low"]], [y["ci_high"] - y["iqm"]]],
                        fmt=marker, color=PALETTE[colour % 6], markersize=4, capsize=2,
                        linewidth=0.8, label=name)
        ax.set_xlabel(xlabel)
        ax.set_title(title)
        ax.legend(frameon=False, fontsize=6, loc="upper center", bbox_to_anchor=(0.5, -0.18),
                  ncol=2)
    axes[0][0].set_ylabel(ylabel)
    return to_svg(fig)
