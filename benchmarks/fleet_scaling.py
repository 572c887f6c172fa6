"""Fleet scaling: env steps/s of a whole local fleet (instances vmapped in one program)
for fleets of 1, 2, 4, 8, 16 instances. One JSON line per fleet size.

    python benchmarks/fleet_scaling.py                      # corridor, mean merge
    python benchmarks/fleet_scaling.py --world errands --sizes 1 2 4

Each size is compiled once (compile time reported apart), then timed over `--repeats`
full runs of `--rounds` rounds x K updates with fresh keys. Instances cycle through the
world's jobs (instance i on job i mod the number of jobs).
"""

from __future__ import annotations

import argparse
import json
import time

import jax

from trainee.fleet import (
    LearnerConfig,
    job_family,
    job_pools,
    make_fleet_run,
    make_rule,
    make_world,
)
from trainee.learners import make_learner


def measure(world, hp: LearnerConfig, size: int, merge_every: int, rounds: int,
            repeats: int, pool: int) -> dict:
    learner = make_learner(hp, world)
    jobs = [i % len(job_family(world).names) for i in range(size)]
    pools = job_pools(world, jax.random.PRNGKey(0), "train", jobs, pool)
    run = jax.jit(make_fleet_run(learner, make_rule("mean"), merge_every, rounds))
    start = time.perf_counter()
    jax.block_until_ready(run(jax.random.PRNGKey(0), pools))
    compile_seconds = time.perf_counter() - start
    start = time.perf_counter()
    for r in range(repeats):
        jax.block_until_ready(run(jax.random.PRNGKey(r + 1), pools))
    seconds = (time.perf_counter() - start) / repeats
    steps = size * rounds * merge_every * learner.steps_per_update
    return {"world": world.name, "instances": size, "env_steps": steps,
            "seconds": round(seconds, 3), "env_steps_per_s": round(steps / seconds),
            "per_instance_steps_per_s": round(steps / seconds / size),
            "first_call_seconds": round(compile_seconds, 2),
            "num_envs": hp.num_envs, "num_steps": hp.num_steps, "hidden": hp.hidden,
            "merge_every": merge_every, "rounds": rounds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--world", default="corridor")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 2, 4, 8, 16])
    parser.add_argument("--num-envs", type=int, default=16)
    parser.add_argument("--num-steps", type=int, default=32)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--merge-every", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--pool", type=int, default=16)
    args = parser.parse_args()
    from trainee.runtime import enable_compilation_cache

    enable_compilation_cache()
    world = make_world(args.world)
    updates = args.merge_every * args.rounds
    hp = LearnerConfig(total_steps=updates * args.num_envs * args.num_steps,
                       num_envs=args.num_envs, num_steps=args.num_steps, hidden=args.hidden)
    for size in args.sizes:
        row = measure(world, hp, size, args.merge_every, args.rounds, args.repeats, args.pool)
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
