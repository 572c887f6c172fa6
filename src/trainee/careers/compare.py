"""Compare careers run apart (e.g. plain fine-tuning vs `reset_dormant` vs
`shrink_perturb`): learning speed per job, IQM and 95% CI over seeds, one line per run,
and a table of the continual metrics.

    python -m trainee.careers.compare runs/friction-finetune runs/friction-redo \\
        --labels "fine-tuning" "reset_dormant" --out docs/careers_plasticity.png

Reads each DIR/summary.json written by `trainee career`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from trainee.careers.summary import save_figure

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
    if value is None:
        return "-"
    return f"{value['iqm']:.3f} [{value['ci_low']:.3f}, {value['ci_high']:.3f}]"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path, help="career output directories")
    parser.add_argument("--labels", nargs="+", help="one label per run (default: dir names)")
    parser.add_argument("--out", type=Path, default=Path("careers_compared.png"))
    args = parser.parse_args(argv)
    labels = args.labels or [d.name for d in args.runs]
    if len(labels) != len(args.runs):
        parser.error(f"{len(args.runs)} runs but {len(labels)} labels")
    summaries = load_summaries(args.runs)
    print(metrics_table(summaries, labels))
    print(f"plot: {plot_learning_speed_runs(summaries, labels, args.out)}")


if __name__ == "__main__":
    main()
