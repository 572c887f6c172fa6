"""ppo on errands (chains of 1-2) with each network, interleaved: held-out success and
training speed, one JSON line per network per evaluation point.

    nice python benchmarks/errands_networks.py                      # attention vs mlp
    nice python benchmarks/errands_networks.py --networks attention --total-steps 2000000

Training tasks: a pool of `--pool` train tasks with chains of 1-2 (`max_chain=2`, locked
doors and distractors as by default). Evaluation (the final policy, sampled actions): fresh
tasks of every split with chains of 1-2 except `longer` (always 4 sub-goals); `heldout` is
the mean over the held-out splits, `train` is fresh train tasks (not the pool). The
networks train chunk by chunk in turn, so both see the same load; `steps_per_s` counts
training only (no compile, no evaluation). Figures: docs/learners.md, "Networks".
"""

from __future__ import annotations

import argparse
import json
import os
import time

import jax
import numpy as np

from trainee.agent import policy_from_params
from trainee.evaluate import evaluate
from trainee.learners import LearnerConfig, make_learner
from trainee.learners.common import TrainState
from trainee.learners.networks import describe_network
from trainee.worlds import make

SPLITS = ("train", "layouts", "combos", "slippery", "crowded")  # `longer` is 4 sub-goals

# The MLP's best errands config (docs/worlds/errands.md); the attention network uses the
# same rollout shape and lr (narrower towers: its features are already bound).
CONFIGS = {
    "mlp": dict(num_envs=128, num_steps=16, hidden=256, lr=1e-3, activation="relu"),
    "attention": dict(num_envs=128, num_steps=16, hidden=128, lr=1e-3, activation="relu"),
}


def eval_tasks(world, key, n: int, max_chain: int) -> dict:
    keys = jax.random.split(key, len(SPLITS))
    return {s: world.tasks(k, s, n, max_chain=max_chain) for s, k in zip(SPLITS, keys, strict=True)}


def make_eval(world, network, episodes: int):
    def success(params, key, tasks):
        return evaluate(world, policy_from_params(network, params), key, tasks, episodes).success

    return jax.jit(success)


def scores(run_eval, params, key, tasks: dict) -> dict:
    out = {s: float(np.mean(run_eval(params, key, t))) for s, t in tasks.items()}
    out["heldout"] = float(np.mean([out[s] for s in SPLITS[1:]]))
    return out


class Run:
    """One network's training: a compiled chunk of updates and its evaluator."""

    def __init__(self, world, name: str, total_steps: int, eval_every: int, pool):
        self.config = LearnerConfig(network=name, total_steps=total_steps, **CONFIGS[name])
        self.learner = make_learner(self.config, world)
        per_chunk = max(1, eval_every // self.learner.steps_per_update)
        self.updates = per_chunk
        learner = self.learner
        step = lambda s, t: jax.lax.scan(lambda c, _: learner.update(c, t), s, None,
                                         length=per_chunk)
        self.chunk = jax.jit(step)
        self.state: TrainState = jax.jit(learner.init)(jax.random.key(0), pool)
        start = time.perf_counter()
        self.chunk = self.chunk.lower(self.state, pool).compile()
        self.compile_seconds = time.perf_counter() - start
        self.eval = make_eval(world, learner.network, 2)
        self.train_seconds = 0.0
        self.description = describe_network(self.config, world)

    def advance(self, pool) -> dict:
        start = time.perf_counter()
        self.state, metrics = jax.block_until_ready(self.chunk(self.state, pool))
        self.train_seconds += time.perf_counter() - start
        return metrics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", nargs="+", default=["attention", "mlp"])
    parser.add_argument("--total-steps", type=int, default=3_000_000)
    parser.add_argument("--eval-every", type=int, default=500_000)
    parser.add_argument("--max-chain", type=int, default=2)
    parser.add_argument("--pool", type=int, default=4096)
    parser.add_argument("--eval-tasks", type=int, default=512)
    args = parser.parse_args()
    world = make("errands")
    pool = world.tasks(jax.random.key(123), "train", args.pool, max_chain=args.max_chain)
    tests = eval_tasks(world, jax.random.key(7), args.eval_tasks, args.max_chain)
    runs = {n: Run(world, n, args.total_steps, args.eval_every, pool) for n in args.networks}
    for name, run in runs.items():
        print(json.dumps({"network": name, "describe": run.description,
                          "compile_seconds": round(run.compile_seconds, 1)}), flush=True)
    done = 0
    while done < runs[args.networks[0]].learner.num_updates:
        for name, run in runs.items():
            metrics = run.advance(pool)
            steps = float(run.state.env_steps)
            line = {"network": name, "env_steps": int(steps),
                    "train_success": round(float(np.mean(metrics["success"][-5:])), 3),
                    "steps_per_s": round(steps / run.train_seconds),
                    "load": round(os.getloadavg()[0], 1)}
            line.update({k: round(v, 3) for k, v in
                         scores(run.eval, run.state.params, jax.random.key(9), tests).items()})
            print(json.dumps(line), flush=True)
        done += runs[args.networks[0]].updates


if __name__ == "__main__":
    main()
