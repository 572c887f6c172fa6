"""`trainee train`: train S seeds of a learner on a world's task split, in one vmapped
program, with a progress bar, atomic checkpoints, resume and a summary.

The host loop runs the pure learner in chunks of updates (one compiled chunk function,
the same for every chunk), so an interrupted run resumes from its last checkpoint and
finishes with exactly the numbers an uninterrupted run gives.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

import jax
import numpy as np
import tyro

from trainee import checkpoint, runs, store
from trainee.configs import Range, check_ranges, from_mapping
from trainee.learners import Learner, LearnerConfig
from trainee.program import chunked_program, get_world
from trainee.runtime.progress import progress_bar

# Bounds that refuse only values that cannot be meant (memory, PRNG seed width).
RANGES = {"num_tasks": Range(1, 2**20), "seeds": Range(1, 1024), "seed": Range(0, 2**31 - 1),
          "chunks": Range(1, 10**4)}


@dataclass(frozen=True)
class TrainConfig:
    """Train a learner on a world."""

    world: str = "corridor"
    """World name: see `trainee worlds`, or gymnax:<EnvName> (extra `gymnax`)."""
    split: str = "train"
    """Split whose tasks the learner trains on."""
    num_tasks: int = 1024
    """Size of the pool of tasks sampled from the split (a fresh one each episode)."""
    seeds: int = 1
    """Seeds trained at once (vmapped; with --executor ray, one Ray task each)."""
    seed: int = 0
    """Base seed: key(seed) splits into the task-pool key and the S seeds' keys."""
    out: Path | None = None
    """Run directory (default runs/<world>-<learner>-s<seed>)."""
    resume: bool = False
    """Continue the run in --out from its last checkpoint."""
    chunks: int = 20
    """About how many pieces to cut training into (a checkpoint and a progress tick each;
    the last may be shorter). Part of the run's identity: a resume keeps it."""
    tensorboard: bool = False
    """Also write metrics for TensorBoard (needs tensorboardX)."""
    wandb: bool = False
    """Also log metrics to Weights & Biases (needs wandb; offline unless you log in)."""
    executor: Literal["local", "ray"] = "local"
    """local: the seeds vmapped in this process; ray: each seed a Ray task (on the cluster
    at $RAY_ADDRESS, else a local one), gathered into the same run directory."""
    hp: Annotated[LearnerConfig, tyro.conf.OmitArgPrefixes] = field(default_factory=LearnerConfig)

    @property
    def run_dir(self) -> Path:
        name = f"{self.world}-{self.hp.learner}-s{self.seed}"
        return self.out or Path("runs") / name.replace(":", "-").replace("/", "-")

    def identity(self) -> dict:
        """What defines the numbers of a run and its schedule (`chunks`: where it
        checkpoints), not where it is written or how it is shown."""
        d = dataclasses.asdict(self)
        for name in ("out", "resume", "tensorboard", "wandb", "executor"):
            d.pop(name)
        return d

    def validate(self) -> None:
        check_ranges(self, RANGES)
        if self.run_dir.exists() and not self.run_dir.is_dir():
            raise ValueError(f"--out {self.run_dir} is a file; a run needs a directory")
        if self.executor == "ray" and self.resume:
            raise ValueError("--resume works with --executor local only (a Ray run writes its "
                             "checkpoint when every seed has finished)")
        self.hp.validate()


def final_return(metrics: dict[str, np.ndarray], fraction: float = 0.05) -> np.ndarray:
    """(S,) mean episodic return over the last `fraction` of updates (episode-weighted)."""
    n = metrics["episodes"].shape[1]
    k = max(1, math.ceil(fraction * n))
    episodes = metrics["episodes"][:, -k:].sum(1)
    return metrics["return_sum"][:, -k:].sum(1) / np.maximum(episodes, 1.0)


def final_success(metrics: dict[str, np.ndarray], fraction: float = 0.05) -> np.ndarray:
    n = metrics["episodes"].shape[1]
    k = max(1, math.ceil(fraction * n))
    return metrics["success_sum"][:, -k:].sum(1) / np.maximum(metrics["episodes"][:, -k:].sum(1), 1)


class Trainer:
    """One training run's program (`trainee.program`), task pool, seed keys and traced
    hyperparameters."""

    def __init__(self, config: TrainConfig):
        config.validate()
        self.config = config
        self.world = get_world(config.world)
        self.world.check_split(config.split)
        self.program = chunked_program(self.world, config.hp, config.chunks)
        self.learner: Learner = self.program.learner
        self.chunk = self.program.updates
        key_tasks, key_seeds = jax.random.split(jax.random.key(config.seed))
        self.tasks = self.world.tasks(key_tasks, config.split, config.num_tasks)
        self.seed_keys = jax.random.split(key_seeds, config.seeds)
        self.hp = self.program.hp(config.hp, config.seeds)

    def init(self, seed_keys=None):
        """The seeds' initial states (every leaf (S, ...))."""
        keys = self.seed_keys if seed_keys is None else seed_keys
        return self.program.init(keys, self.tasks, {k: v[:len(keys)] for k, v in self.hp.items()})

    def compile(self, state, updates: int | None = None) -> tuple[object, float]:
        """The chunk function of `updates` (default: the full chunk) compiled, and the
        seconds that took."""
        program = self.program.with_updates(updates or self.chunk)
        start = time.perf_counter()
        compiled = program.run.lower(state, self.tasks, self.hp).compile()
        return (lambda s, t: compiled(s, t, self.hp)), time.perf_counter() - start


def train(config: TrainConfig, quiet: bool = False) -> dict:
    """Run (or resume) training in this process (`--executor ray`: `train_ray.train_on_ray`);
    returns the summary also written to summary.json."""
    trainer = Trainer(config)
    run_dir = config.run_dir
    identity = config.identity()
    state, history, meta = resume_state(config, trainer, identity)
    store.atomic_write_json(run_dir / "config.json", identity)
    runs.begin_run(run_dir, "train", record_config(config), worlds=[config.world],
                   learner=config.hp.learner, seeds=config.seeds)
    done = int(np.asarray(state.update)[0])
    compiled, compile_seconds = {}, 0.0
    train_seconds = meta.get("train_seconds", 0.0)  # of the sessions before this one
    sinks = open_sinks(config, run_dir, done)
    steps = trainer.learner.steps_per_update * config.seeds  # per update, all seeds
    with progress_bar(trainer.learner.num_updates * steps,
                      f"{config.hp.learner} on {config.world}", disable=quiet) as bar:
        bar.advance(done * steps)
        for length in trainer.program.schedule(done):
            if length not in compiled:
                compiled[length], seconds = trainer.compile(state, length)
                compile_seconds += seconds
            start = time.perf_counter()
            state, metrics = compiled[length](state, trainer.tasks)
            metrics = jax.tree.map(np.asarray, jax.block_until_ready(metrics))
            train_seconds += time.perf_counter() - start
            history.append(metrics)
            done += length
            write_checkpoint(run_dir, state, history, {
                "config_hash": checkpoint.config_hash(identity), "identity": identity,
                "updates_done": done, "train_seconds": train_seconds})
            for sink in sinks:
                sink(metrics, done - length)
            bar.advance(length * steps)
    summary = run_summary(config, trainer, _concat(history), compile_seconds, train_seconds,
                          done)
    store.atomic_write_json(run_dir / "summary.json", summary)
    runs.end_run(run_dir, summary)
    return summary


def resume_state(config: TrainConfig, trainer: Trainer, identity: dict):
    """(state, metrics history, checkpoint meta): the checkpoint's with --resume (a
    directory with no checkpoint yet starts afresh), else a fresh state in a directory
    that holds no run."""
    state = trainer.init()
    run_dir = config.run_dir
    if not (config.resume and (run_dir / checkpoint.STATE_FILE).exists()):
        refuse_existing_run(run_dir)
        return state, [], {}
    state, meta = checkpoint.load(run_dir, state, checkpoint.config_hash(identity), identity)
    state = jax.tree.map(jax.numpy.asarray, state)
    # metrics.json is written before the checkpoint, so it may run ahead of it
    done = meta["updates_done"]
    history = [{k: v[:, :done] for k, v in _load_metrics(run_dir).items()}] if done else []
    return state, history, meta


def record_config(config: TrainConfig) -> dict:
    """The run record's config: every field but where it is written and whether it
    resumed (`trainee rerun` rebuilds the TrainConfig from it)."""
    d = dataclasses.asdict(config)
    for name in ("out", "resume"):
        d.pop(name)
    return d


def refuse_existing_run(run_dir: Path) -> None:
    if (run_dir / checkpoint.STATE_FILE).exists() or (run_dir / "summary.json").exists():
        raise FileExistsError(
            f"{run_dir} already holds a run; pass --resume to continue it or choose another --out")


def _concat(history: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {k: np.concatenate([h[k] for h in history], axis=1) for k in history[0]}


def write_checkpoint(run_dir: Path, state, history, meta: dict) -> None:
    """metrics.json, then the checkpoint described by `meta` (config_hash, identity,
    updates_done, train_seconds). Metrics first: a checkpoint must never claim updates
    whose metrics are missing (a resume truncates metrics that ran ahead)."""
    store.atomic_write_json(run_dir / "metrics.json", _concat(history))
    checkpoint.save(run_dir, state, meta)


def _load_metrics(run_dir: Path) -> dict[str, np.ndarray]:
    stored = store.read_json_mapping(run_dir / "metrics.json", "learning curves")
    return {k: np.asarray(v) for k, v in stored.items()}


def run_summary(config: TrainConfig, trainer: Trainer, metrics, compile_seconds: float,
             train_seconds: float, updates: int) -> dict:
    simulated = updates * trainer.learner.steps_per_update * config.seeds
    return {
        "world": config.world,
        "learner": config.hp.learner,
        "executor": config.executor,
        "seeds": config.seeds,
        "updates": updates,
        "final_return": final_return(metrics).tolist(),
        "final_success": final_success(metrics).tolist(),
        "env_steps": metrics["env_steps"][:, -1].tolist(),
        # every session's training time (the checkpoint carries it), so a resumed run
        # reports the speed of the whole run, not its last session's steps over all
        "steps_per_second": simulated / train_seconds if train_seconds > 0 else None,
        "compile_seconds": compile_seconds,
        "train_seconds": train_seconds,
    }


def open_sinks(config: TrainConfig, run_dir: Path, done: int = 0) -> list:
    """The optional metric sinks; `done`: updates already trained (a resume), whose later
    logged steps the TensorBoard sink purges (they ran past the checkpoint)."""
    from trainee.sinks import tensorboard_sink, wandb_sink

    sinks = []
    if config.tensorboard:
        sinks.append(tensorboard_sink(run_dir, done))
    if config.wandb:
        sinks.append(wandb_sink(run_dir, config.identity()))
    return sinks


def config_from_dict(values: dict, base: TrainConfig | None = None) -> TrainConfig:
    """A TrainConfig from a mapping (a config file or a stored config.json). Learner fields
    may be flat (`lr: 0.001`) or under `hp:`. Unknown keys are refused by name."""
    return from_mapping(TrainConfig, values, base, flat="hp")
