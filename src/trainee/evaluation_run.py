"""Evaluate a stored run's agent on a split: records per seed, a table, the store."""

from __future__ import annotations

from pathlib import Path

import jax
import numpy as np

from trainee import store
from trainee.agent import load_agent
from trainee.evaluate import Records


def evaluate_run(run_dir: Path, split: str, num_tasks: int = 256, episodes: int = 4,
                 seed: int = 1, greedy: bool = False, show: bool = False,
                 out: Path | None = None) -> dict:
    """Evaluate every seed of the run on `num_tasks` tasks of `split`; writes
    `eval-<split>.json` in the run directory (with its settings, so `trainee rerun` can
    repeat it) and a row in the database. With `out` (a rerun), the result goes there
    and not in the index (whose row names the run directory's file)."""
    if num_tasks <= 0 or episodes <= 0:
        raise ValueError("num_tasks and episodes must be > 0")
    agent = load_agent(run_dir)
    agent.world.check_split(split)
    key_tasks, key_play = jax.random.split(jax.random.key(seed))
    tasks = agent.world.tasks(key_tasks, split, num_tasks)
    records = agent.program.evaluator(episodes, greedy)(agent.params, key_play, tasks).to_numpy()
    per_seed = [jax.tree.map(lambda x, i=i: x[i], records) for i in range(agent.num_seeds)]
    settings = {"run": str(Path(run_dir).resolve()), "split": split, "num_tasks": num_tasks,
                "episodes": episodes, "seed": seed, "greedy": greedy}
    result = {
        "config": settings,
        "split": split,
        "params_hash": agent.params_hash,
        "success": [r.success.mean() for r in per_seed],
        "episode_return": [r.episode_return.mean() for r in per_seed],
        "records": [r._asdict() for r in per_seed],
    }
    store.atomic_write_json(out or Path(run_dir) / f"eval-{split}.json", result)
    if out is None:
        store.record_evaluation(run_dir, split, result)
    if show:
        _print_table(agent.world.name, split, per_seed)
    return result


def _print_table(world: str, split: str, per_seed: list[Records]) -> None:
    from rich.console import Console
    from rich.table import Table

    counters = list(per_seed[0].counters)
    table = Table(title=f"{world} / {split}")
    for column in ("seed", "success", "return", "length", *[f"{c}/episode" for c in counters]):
        table.add_column(column, justify="right")
    for i, r in enumerate(per_seed):
        extra = [f"{np.mean(r.counters[c]):.3f}" for c in counters]
        table.add_row(str(i), f"{r.success.mean():.2%}", f"{r.episode_return.mean():.2f}",
                      f"{r.length.mean():.1f}", *extra)
    Console().print(table)
