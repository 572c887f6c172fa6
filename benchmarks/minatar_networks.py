"""ppo on gymnax MinAtar (default Breakout) with a CNN and with an MLP on the flattened
(10, 10, 4) observation: training env steps/s and return, interleaved chunk by chunk in
one process so both see the same load. One JSON line per network per chunk.

    nice python benchmarks/minatar_networks.py                     # 262k steps each
    nice python benchmarks/minatar_networks.py --total-steps 1048576

Config (both networks): 64 envs x 128 steps, 4 epochs x 8 minibatches, relu 64 x 64
towers, lr 5e-4 (PureJaxRL's MinAtar PPO uses an MLP on the flat observation; the CNN is
trainee's GridEncoder in front of the same towers). `steps_per_s` counts training only
(no compile). Figures: benchmarks/README.md, docs/learners.md.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import jax
import numpy as np

from trainee.learners import LearnerConfig, make_learner
from trainee.learners.networks import describe_network
from trainee.worlds import make


class Run:
    def __init__(self, world, network: str, total_steps: int, chunks: int, tasks):
        self.config = LearnerConfig(
            network=network, total_steps=total_steps, num_envs=64, num_steps=128,
            num_minibatches=8, lr=5e-4, activation="relu",
        )
        learner = make_learner(self.config, world)
        self.updates = max(1, learner.num_updates // chunks)
        step = lambda s, t: jax.lax.scan(lambda c, _: learner.update(c, t), s, None,
                                         length=self.updates)
        self.state = jax.jit(learner.init)(jax.random.key(0), tasks)
        start = time.perf_counter()
        self.chunk = jax.jit(step).lower(self.state, tasks).compile()
        self.compile_seconds = time.perf_counter() - start
        self.train_seconds = 0.0
        self.returns: list[float] = []
        self.description = describe_network(self.config, world)

    def advance(self, tasks) -> None:
        start = time.perf_counter()
        self.state, metrics = jax.block_until_ready(self.chunk(self.state, tasks))
        self.train_seconds += time.perf_counter() - start
        self.returns.append(float(np.sum(metrics["return_sum"]) /
                                  max(float(np.sum(metrics["episodes"])), 1.0)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--world", default="gymnax:Breakout-MinAtar")
    parser.add_argument("--networks", nargs="+", default=["mlp", "cnn"])
    parser.add_argument("--total-steps", type=int, default=262_144)
    parser.add_argument("--chunks", type=int, default=4)
    args = parser.parse_args()
    world = make(args.world)
    tasks = world.tasks(jax.random.key(0), "train", 1)
    runs = {n: Run(world, n, args.total_steps, args.chunks, tasks) for n in args.networks}
    for name, run in runs.items():
        print(json.dumps({"network": name, "describe": run.description,
                          "compile_seconds": round(run.compile_seconds, 1)}), flush=True)
    for _ in range(args.chunks):
        for name, run in runs.items():
            run.advance(tasks)
            steps = float(run.state.env_steps)
            print(json.dumps({
                "world": args.world, "network": name, "env_steps": int(steps),
                "steps_per_s": round(steps / run.train_seconds),
                "chunk_return": round(run.returns[-1], 2), "load": round(os.getloadavg()[0], 1),
            }), flush=True)


if __name__ == "__main__":
    main()
