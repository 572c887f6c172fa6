"""`trainee train --executor ray`: each seed a Ray task, gathered into one run directory.

Seed k's task rebuilds the run's `Trainer` from the config (the same task pool and the
same key derivation: seed k trains from `trainer.seed_keys[k]` with its traced
hyperparameters), then runs the local run's program (`trainee.program`) on a batch of
one seed, chunk by chunk. So its numbers are the local vmapped run's seed k to float
tolerance (vmapping may reorder floating-point sums).

The driver writes what the local executor writes: config.json, metrics.json (S, U),
the seed-stacked checkpoint (so `trainee eval --run DIR` and `load_agent` read it),
summary.json with the same fields and the SQLite row. Only the finished run is
checkpointed (a Ray run cannot `--resume`; see `TrainConfig.validate`).

Timings, as locally apart from compilation: `compile_seconds` is the longest compilation
of any seed; `train_seconds` the wall clock from the first seed's first chunk to the
last seed's last chunk (seeds train in parallel; when there are more seeds than CPUs,
it includes the queued seeds' start-up and compilation), and `steps_per_second` all
seeds' simulated steps over it.
"""

from __future__ import annotations

import time
from typing import NamedTuple

import jax
import numpy as np

from trainee import checkpoint, runs, store
from trainee.runtime import ensure_ray, ray_map
from trainee.runtime.progress import progress_bar
from trainee.train import (
    TrainConfig,
    Trainer,
    open_sinks,
    record_config,
    refuse_existing_run,
    run_summary,
    write_checkpoint,
)


class SeedResult(NamedTuple):
    state: object  # one seed's final train state, numpy leaves (checkpoint.host_copy)
    metrics: dict  # {name: (U,)} per-update metrics
    compile_seconds: float
    train_span: tuple[float, float]  # wall-clock time.time() at the first and last chunk


def train_seed(config: TrainConfig, index: int) -> SeedResult:
    """Train seed `index` of the run `config` alone (what one Ray task does): the local
    run's program (`trainee.program`, traced hyperparameters) on a batch of one seed."""
    trainer = Trainer(config)
    program, k = trainer.program, index
    hp = {name: v[k:k + 1] for name, v in trainer.hp.items()}
    state = program.init(trainer.seed_keys[k:k + 1], trainer.tasks, hp)
    start = time.perf_counter()
    compiled = program.run.lower(state, trainer.tasks, hp).compile()
    compile_seconds = time.perf_counter() - start
    history = []
    start = time.time()  # wall clock (not perf_counter): compared across processes
    for length in program.schedule():  # the last chunk may be shorter
        run = compiled if length == program.updates else program.with_updates(length).run
        state, metrics = run(state, trainer.tasks, hp)
        history.append(jax.tree.map(np.asarray, jax.block_until_ready(metrics)))
    metrics = {name: np.concatenate([h[name][0] for h in history]) for name in history[0]}
    state = jax.tree.map(lambda x: x[0], state)  # drop the batch of one
    return SeedResult(checkpoint.host_copy(state), metrics, compile_seconds,
                      (start, time.time()))


def train_on_ray(config: TrainConfig, quiet: bool = False) -> dict:
    """`train(config)` with each seed a Ray task; returns the summary (also written)."""
    config.validate()
    run_dir = config.run_dir
    refuse_existing_run(run_dir)
    ensure_ray()  # before JAX starts work in this process
    trainer = Trainer(config)  # fails fast on a bad world or split, before any task starts
    identity = config.identity()
    store.atomic_write_json(run_dir / "config.json", identity)
    runs.begin_run(run_dir, "train", record_config(config), worlds=[config.world],
                   learner=config.hp.learner, seeds=config.seeds)
    with progress_bar(config.seeds, f"{config.hp.learner} on {config.world} (Ray)",
                      unit="seeds", disable=quiet) as bar:
        seeds = ray_map(train_seed, [(config, k) for k in range(config.seeds)],
                        on_result=lambda i, result: bar.advance(1))
    stack = lambda *leaves: np.stack(leaves)  # seed axis first, in seed order
    state = jax.tree.map(stack, *[s.state for s in seeds])
    metrics = {k: stack(*[s.metrics[k] for s in seeds]) for k in seeds[0].metrics}
    updates = trainer.learner.num_updates
    compile_seconds = max(s.compile_seconds for s in seeds)
    train_seconds = max(s.train_span[1] for s in seeds) - min(s.train_span[0] for s in seeds)
    write_checkpoint(run_dir, state, [metrics], {
        "config_hash": checkpoint.config_hash(identity), "identity": identity,
        "updates_done": updates, "train_seconds": train_seconds})
    for sink in open_sinks(config, run_dir):
        sink(metrics, 0)
    summary = run_summary(config, trainer, metrics, compile_seconds, train_seconds, updates)
    store.atomic_write_json(run_dir / "summary.json", summary)
    runs.end_run(run_dir, summary)
    return summary
