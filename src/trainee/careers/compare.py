"""Compare careers run apart (e.g. plain fine-tuning vs `reset_dormant` vs
`shrink_perturb`): learning speed per job, IQM and 95% CI over seeds, one line per run,
and a table of the continual metrics.

    python -m trainee.careers.compare runs/friction-finetune runs/friction-redo \\
        --labels "fine-tuning" "reset_dormant" --out docs/careers_plasticity.png

Reads each DIR/summary.json written by `trainee career`.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import numpy as np
import tyro

from trainee.careers.summary import save_figure
from trainee.measures import format_ci

METRICS = ("average_performance", "forgetting", "forward_transfer", "plasticity_change",
           "final_average")


def load_summaries(dirs: list[Path]) -> list[dict]:
    summaries = []
    for d in dirs:
        path = Path(d) / "summary.json"
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no career summary here (run `trainee career` first)")
        summaries.append(json.loads(path.read_text()))
    return summaries


def plot_learning_speed_runs(summaries: list[dict], labels: list[str], path: Path) -> Path:
    """One line per run: learning speed (IQM, 95% CI band) against job index."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3.8))
    for summary, label in zip(summaries, labels, strict=True):
        speed = summary["learning_speed"]
        x = np.arange(len(speed))
        ax.plot(x, [s["iqm"] for s in speed], marker="o", markersize=3, label=label)
        ax.fill_between(x, [s["ci_low"] for s in speed], [s["ci_high"] for s in speed],
                        alpha=0.2)
    jobs = summaries[0]["jobs"]
    ax.set_xticks(np.arange(len(jobs)), jobs, rotation=60, fontsize=7)
    ax.set_xlabel("job (in career order)")
    ax.set_ylabel("learning speed\n(AUC of training success)")
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize=8)
    return save_figure(fig, path)


def metrics_table(summaries: list[dict], labels: list[str]) -> str:
    """Markdown table: each continual metric as IQM [95% CI] per run."""
    rows = ["| run | " + " | ".join(METRICS) + " |", "|---" * (len(METRICS) + 1) + "|"]
    for summary, label in zip(summaries, labels, strict=True):
        cells = [_cell(summary.get(name)) for name in METRICS]
        rows.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def _cell(value: dict | None) -> str:
    return "-" if value is None else format_ci(value)


@dataclass(frozen=True)
class CompareConfig:
    """Compare careers run apart: a table of the continual metrics and a plot of learning
    speed per job (IQM, 95% CI), one line per run."""

    runs: Annotated[tuple[Path, ...], tyro.conf.Positional, tyro.conf.arg(metavar="DIR ...")]
    """Career output directories (each with the summary.json of `trainee career`)."""
    labels: tuple[str, ...] | None = None
    """One label per run (default: the directory names)."""
    out: Path = Path("careers_compared.png")
    """Where the plot goes."""


def compare(config: CompareConfig) -> None:
    labels = list(config.labels or [d.name for d in config.runs])
    if len(labels) != len(config.runs):
        raise ValueError(f"{len(config.runs)} runs but {len(labels)} labels")
    summaries = load_summaries(list(config.runs))
    print(metrics_table(summaries, labels))
    print(f"plot: {plot_learning_speed_runs(summaries, labels, config.out)}")


def main(argv: list[str] | None = None) -> int:
    """`python -m trainee.careers.compare DIR ... [--labels ...] [--out PNG]`."""
    from trainee.errors import run_command

    parse = lambda args: compare(tyro.cli(CompareConfig, args=args,
                                          prog="python -m trainee.careers.compare"))
    return run_command(parse, sys.argv[1:] if argv is None else argv,
                       prog="trainee.careers.compare")


if __name__ == "__main__":
    sys.exit(main())
