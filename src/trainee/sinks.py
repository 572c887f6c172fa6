"""Optional metric sinks, off by default, each imported only when asked for.

A sink is `sink(metrics, first_update)`: metrics are (seeds, updates) arrays of one
chunk; sinks log the mean over seeds under CleanRL-style names (`charts/...`, `losses/...`).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

CHARTS = ("episode_return", "success", "env_steps", "episodes")


def _tagged(metrics: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {(f"charts/{k}" if k in CHARTS else f"losses/{k}"): np.nanmean(v, axis=0)
            for k, v in metrics.items() if not k.endswith("_sum")}


def tensorboard_sink(run_dir: Path, done: int = 0):
    """Event files under run_dir/tensorboard. On a resume after `done` updates, the events
    a killed session logged past its checkpoint are purged (`purge_step`), so TensorBoard
    shows what an uninterrupted run logs, each step once."""
    try:
        from tensorboardX import SummaryWriter
    except ImportError as err:
        raise ImportError("--tensorboard needs tensorboardX: pip install tensorboardX") from err
    writer = SummaryWriter(str(Path(run_dir) / "tensorboard"), purge_step=done or None)

    def sink(metrics, first_update: int) -> None:
        for name, values in _tagged(metrics).items():
            for i, value in enumerate(values):
                writer.add_scalar(name, float(value), first_update + i)
        writer.flush()

    return sink


def wandb_sink(run_dir: Path, config: dict):
    try:
        import wandb
    except ImportError as err:
        raise ImportError("--wandb needs wandb: pip install wandb") from err
    mode = os.environ.get("WANDB_MODE", "offline")  # no network unless the user asks
    run = wandb.init(project="trainee", dir=str(run_dir), config=config, mode=mode)

    def sink(metrics, first_update: int) -> None:
        tagged = _tagged(metrics)
        for i in range(next(iter(tagged.values())).shape[0]):
            run.log({k: float(v[i]) for k, v in tagged.items()}, step=first_update + i)

    return sink
