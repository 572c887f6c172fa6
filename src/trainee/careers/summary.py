"""A career's numbers: continual metrics with CIs, samples to competence, plasticity,
regressions, and a figure of learning speed per job."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from trainee.measures import (
    aggregate,
    area_under_curve,
    continual_metrics,
    forward_transfer,
    samples_to_competence,
)


def learning_speed(results: dict) -> np.ndarray:
    """(S, T): normalised area under each job's training-success curve (higher = faster)."""
    return np.stack([_auc(steps, curve) for steps, curve in
                     zip(results["curve_steps"], results["curves"], strict=True)], axis=1)


def plasticity_change(speed: np.ndarray) -> np.ndarray:
    """(S,) per seed: mean learning speed over the later half of jobs 1..T-1 minus over
    the earlier half (job 0 starts from a fresh network, so it is left out; with an odd
    count the middle job is too). Negative: later jobs are learned more slowly, a loss
    of plasticity (Dohare et al. 2024); about 0: none at this scale."""
    rest = speed[:, 1:]
    half = rest.shape[1] // 2
    return rest[:, -half:].mean(axis=1) - rest[:, :half].mean(axis=1)


def _auc(steps: np.ndarray, curve: np.ndarray) -> np.ndarray:
    # Start the curve at (0 steps, first point) so one-point curves still have an area.
    steps = np.concatenate([[0], steps])
    curve = np.concatenate([curve[:, :1], curve], axis=1)
    return area_under_curve(steps, curve)


def summarize(results: dict, reference: dict | None = None, competence: float = 0.8,
              seconds_per_step: float | None = None) -> dict:
    """The summary.json of a career. `reference` is the from-scratch baseline's results
    (same jobs and seeds): it enables forward transfer and the competence comparison."""
    R = np.asarray(results["R"])
    out: dict = {"jobs": results["jobs"], "R": R.tolist(), "competence_threshold": competence}
    if R.shape[-1] == R.shape[-2]:
        metrics = continual_metrics(R)
        for name in ("average_performance", "forgetting", "backward_transfer", "max_forgetting"):
            out[name] = aggregate(getattr(metrics, name)).to_json()
    out["final_average"] = aggregate(R[:, -1, :].mean(axis=-1)).to_json()
    speed = learning_speed(results)
    out["learning_speed"] = [aggregate(speed[:, i]).to_json() for i in range(speed.shape[1])]
    out["learning_speed_per_seed"] = speed.tolist()
    if speed.shape[1] >= 3:
        out["plasticity_change"] = aggregate(plasticity_change(speed)).to_json()
    out["samples_to_competence"] = _competence(results, competence, seconds_per_step)
    out.update(diagnostics(results))
    if "flips_negative" in results:
        out["negative_flips"] = aggregate(results["flips_negative"].mean(axis=(1, 2))).to_json()
        out["positive_flips"] = aggregate(results["flips_positive"].mean(axis=(1, 2))).to_json()
    if reference is not None:
        ref_speed = learning_speed(reference)
        out["forward_transfer"] = aggregate(forward_transfer(speed, ref_speed)).to_json()
        out["reference_samples_to_competence"] = _competence(reference, competence,
                                                             seconds_per_step)
    return out


def diagnostics(results: dict) -> dict:
    """Why a career went as it did, per job (IQM [CI] over seeds): the policy's entropy
    at the job's end (training metric; a collapsed policy explores nothing) and the
    fraction of dormant hidden units at its end (ReDo's score, Sokar et al. 2023)."""
    out = {}
    if "entropy" in results and not np.isnan(np.asarray(results["entropy"][0])).all():
        out["entropy"] = [aggregate(np.asarray(c)[:, -1]).to_json() for c in results["entropy"]]
    if "dormant" in results and not np.isnan(results["dormant"]).all():
        dormant = np.asarray(results["dormant"])  # (S, T)
        out["dormant"] = [aggregate(dormant[:, k]).to_json() for k in range(dormant.shape[1])]
    return out


def _competence(results: dict, threshold: float, seconds_per_step: float | None) -> list[dict]:
    """Per job: steps (and hours) to competence, IQM [CI] over seeds. A seed that never
    reached competence counts as infinitely slow; an infinite IQM or bound is written as
    null (strict JSON), and `reached` says which fraction of seeds got there."""
    rows = []
    for name, steps, curve in zip(results["jobs"], results["curve_steps"], results["curves"],
                                  strict=True):
        c = samples_to_competence(steps, curve, threshold, seconds_per_step)
        row = {"job": name, "steps": _finite(c.steps), "reached": float(np.mean(c.reached))}
        if seconds_per_step is not None:
            row["hours"] = _finite(c.hours)
        rows.append(row)
    return rows


def _finite(per_seed: np.ndarray) -> dict:
    with np.errstate(invalid="ignore"):  # inf - inf inside the bootstrap is expected
        value = aggregate(per_seed).to_json()
    return {k: (v if np.isfinite(v) else None) for k, v in value.items()}


def plot_learning_speed(results: dict, path: Path, reference: dict | None = None) -> Path:
    """Learning speed per job (IQM over seeds), the plasticity picture of Dohare et al."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.5))
    for label, res in (("career", results), ("from scratch", reference)):
        if res is None:
            continue
        speed = learning_speed(res)
        ax.plot(np.arange(speed.shape[1]), np.median(speed, axis=0), marker="o", label=label)
        ax.fill_between(np.arange(speed.shape[1]), speed.min(0), speed.max(0), alpha=0.2)
    ax.set_xticks(np.arange(len(results["jobs"])), results["jobs"], rotation=60, fontsize=7)
    ax.set_ylabel("learning speed (AUC of success)")
    ax.set_ylim(0, 1.05)
    ax.legend()
    return save_figure(fig, path)


def save_figure(fig, path: Path) -> Path:
    """Write a matplotlib figure as a PNG (atomically, creating folders) and close it."""
    import io

    import matplotlib.pyplot as plt

    from trainee.store import atomic_write_bytes

    fig.tight_layout()
    png = io.BytesIO()
    fig.savefig(png, format="png", dpi=110)
    plt.close(fig)
    atomic_write_bytes(Path(path), png.getvalue())
    return Path(path)
