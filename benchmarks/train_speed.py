"""Training speed of `ppo` (and `pg`) on gymnax CartPole-v1, one JSON line per setting.

    python benchmarks/train_speed.py            # the acceptance settings
    python benchmarks/train_speed.py --quick    # fewer steps

Settings: PureJaxRL's CartPole config (4 envs x 128 steps, 500k steps) with 1 seed;
64 envs; 4 seeds vmapped; and `pg` with the same budget. Steps/s counts simulated env
steps of all seeds after compilation (compile time reported apart, with no persistent
cache so it is the real cost). Reference on this 2-core machine: PureJaxRL's own script
does about 221k steps/s after a 4.2 s compile (docs/design.md).
"""

from __future__ import annotations

import argparse
import json
import time

import jax
import numpy as np

from trainee.learners import LearnerConfig, make_train, vmap_seeds
from trainee.train import final_return
from trainee.worlds import make


def measure(learner: str, num_envs: int, seeds: int, total_steps: int, repeats: int = 3) -> dict:
    world = make("gymnax:CartPole-v1")
    tasks = world.tasks(jax.random.key(0), "train", 1)
    config = LearnerConfig(learner=learner, num_envs=num_envs, total_steps=total_steps)
    train = jax.jit(vmap_seeds(make_train(config, world), (0, None)))  # as `trainee train`
    keys = jax.random.split(jax.random.key(42), seeds)
    start = time.perf_counter()
    compiled = train.lower(keys, tasks).compile()
    compile_seconds = time.perf_counter() - start
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = jax.block_until_ready(compiled(keys, tasks))
        times.append(time.perf_counter() - start)
    simulated = float(np.asarray(out.metrics["env_steps"])[0, -1]) if learner == "ppo" else (
        out.metrics["env_steps"].shape[1] * num_envs * world.max_steps)
    metrics = jax.tree.map(np.asarray, out.metrics)
    return {
        "learner": learner, "num_envs": num_envs, "seeds": seeds, "total_steps": total_steps,
        "compile_seconds": round(compile_seconds, 2),
        "steps_per_second": round(simulated * seeds / min(times)),
        "final_return": np.round(final_return(metrics), 1).tolist(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100k steps instead of 500k")
    args = parser.parse_args()
    steps = 100_000 if args.quick else 500_000
    for learner, num_envs, seeds in [("ppo", 4, 1), ("ppo", 64, 1), ("ppo", 4, 4), ("pg", 4, 1)]:
        print(json.dumps(measure(learner, num_envs, seeds, steps)), flush=True)


if __name__ == "__main__":
    main()
