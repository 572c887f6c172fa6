"""Speed of `trainee train`'s compiled chunk on gymnax CartPole-v1, one JSON line.

    PYTHONPATH=src python benchmarks/train_loop_speed.py --seeds 1 --total-steps 100000

Builds the run's `Trainer` (the program `trainee train` runs), compiles its chunk,
then times every chunk of the run (after compilation). Runs against older trees too
(before the program builder, `Trainer.init` was a jitted function of keys and tasks), so
two checkouts can be timed interleaved in one sitting:

    for i in 1 2 3; do PYTHONPATH=/old/src python ...; PYTHONPATH=src python ...; done
"""

from __future__ import annotations

import argparse
import json
import os
import time

import jax
import numpy as np

from trainee.learners import LearnerConfig
from trainee.train import TrainConfig, Trainer


def measure(seeds: int, total_steps: int, num_envs: int, chunks: int) -> dict:
    config = TrainConfig(world="gymnax:CartPole-v1", seeds=seeds, chunks=chunks,
                         hp=LearnerConfig(total_steps=total_steps, num_envs=num_envs))
    trainer = Trainer(config)
    if hasattr(trainer, "program"):
        state = trainer.init()
    else:  # the tree before the program builder
        state = trainer.init(trainer.seed_keys, trainer.tasks)
    compiled, compile_seconds = trainer.compile(state)
    start = time.perf_counter()
    for _ in range(trainer.learner.num_updates // trainer.chunk):
        state, metrics = compiled(state, trainer.tasks)
    jax.block_until_ready(state)
    seconds = time.perf_counter() - start
    simulated = trainer.learner.num_updates * trainer.learner.steps_per_update * seeds
    return {"seeds": seeds, "num_envs": num_envs, "total_steps": total_steps,
            "compile_seconds": round(compile_seconds, 2),
            "steps_per_second": round(simulated / seconds),
            "final_episode_return": np.asarray(metrics["episode_return"])[:, -1].tolist(),
            "load_average": os.getloadavg()[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--total-steps", type=int, default=100_000)
    parser.add_argument("--num-envs", type=int, default=4)
    parser.add_argument("--chunks", type=int, default=4)
    args = parser.parse_args()
    print(json.dumps(measure(args.seeds, args.total_steps, args.num_envs, args.chunks)))


if __name__ == "__main__":
    main()
