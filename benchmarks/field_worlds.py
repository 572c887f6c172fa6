"""Env-only steps/s of the field's worlds at 1024 envs under random actions, each as a
ratio to gymnax CartPole-v1 timed in the same rounds (interleaved), with the load.

    PYTHONPATH=src python benchmarks/field_worlds.py [--num-envs 1024 --steps 64 --rounds 3]
    PYTHONPATH=src python benchmarks/field_worlds.py --step-only --worlds craftax:classic

Each world runs `AutoReset` over one task per env (train split) in a jitted `lax.scan` of
`steps` steps; compilation is excluded (one warm-up call). Prints one line per world per
round and the median ratio per world.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import jax

from trainee.worlds import AutoReset, make

WORLDS = ("xminigrid:trivial-2k", "xminigrid:MiniGrid-UnlockPickUp", "craftax:classic")
REFERENCE = "gymnax:CartPole-v1"


def make_rollout(name: str, num_envs: int, steps: int, step_only: bool = False):
    """A jitted `run(key) -> rewards sum` stepping `num_envs` envs for `steps` steps
    (with `step_only`, the world's own step without `AutoReset`: ended episodes step on,
    which times the step apart from the reset that `AutoReset` computes every step)."""
    world = make(name)
    env = world if step_only else AutoReset(world)
    tasks = world.tasks(jax.random.key(0), "train", num_envs)
    keys = jax.random.split(jax.random.key(1), num_envs)
    _, state = jax.jit(jax.vmap(env.reset))(keys, tasks)
    n = world.action_space.n

    def one_step(state, key):
        key_action, key_step = jax.random.split(key)
        actions = jax.random.randint(key_action, (num_envs,), 0, n)
        out = jax.vmap(env.step)(jax.random.split(key_step, num_envs), state, actions, tasks)
        return out.state, out.reward.sum()

    @jax.jit
    def run(key):
        _, rewards = jax.lax.scan(one_step, state, jax.random.split(key, steps))
        return rewards.sum()

    return run


def steps_per_second(run, num_envs: int, steps: int, key) -> float:
    start = time.perf_counter()
    jax.block_until_ready(run(key))
    return num_envs * steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-envs", type=int, default=1024)
    parser.add_argument("--steps", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--worlds", nargs="+", default=list(WORLDS))
    parser.add_argument("--step-only", action="store_true",
                        help="time the worlds' step without AutoReset's per-step reset")
    args = parser.parse_args()
    print(f"jax {jax.__version__}, {os.cpu_count()} cpus, load {os.getloadavg()}")
    runs = {}
    for name in (REFERENCE, *args.worlds):
        start = time.perf_counter()
        runs[name] = make_rollout(name, args.num_envs, args.steps, args.step_only)
        jax.block_until_ready(runs[name](jax.random.key(99)))  # compile
        print(f"{name}: built and compiled in {time.perf_counter() - start:.0f} s", flush=True)
    ratios: dict[str, list[float]] = {name: [] for name in args.worlds}
    for r in range(args.rounds):
        for name in args.worlds:  # the reference right before each world
            ref = steps_per_second(runs[REFERENCE], args.num_envs, args.steps, jax.random.key(r))
            sps = steps_per_second(runs[name], args.num_envs, args.steps, jax.random.key(r))
            ratios[name].append(sps / ref)
            print(f"round {r}: {name} {sps:,.0f} steps/s, {REFERENCE} {ref:,.0f} steps/s, "
                  f"ratio {sps / ref:.3g}, load {os.getloadavg()[0]:.1f}", flush=True)
    for name, values in ratios.items():
        print(f"{name}: median ratio to {REFERENCE} {statistics.median(values):.3g} "
              f"(rounds {', '.join(f'{v:.3g}' for v in values)})")


if __name__ == "__main__":
    main()
