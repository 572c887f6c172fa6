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
