"""Env-only simulation speed of every registered world with a random policy.

    python benchmarks/worlds.py [--steps 256] [--repeats 3] [--worlds errands corridor]

For each world and each batch size (1, 64, 1024 vmapped envs) this jits a `lax.scan`
of `AutoReset(TaskPool(world))` steps over a pool of train tasks, runs it once to
compile, then times the best of `--repeats` runs (with `block_until_ready`) and prints
one JSON line: {"world": ..., "num_envs": ..., "steps_per_second": ...,
"cartpole_steps_per_second": ..., "ratio_to_cartpole": ...}: gymnax CartPole-v1 (through
the same wrappers) is timed right before each world, so the ratio holds on a busy machine
(`--reference none` skips it).

The observation is carried through the scan (a learner reads it), so XLA cannot drop
the observation build as dead code. The machine may be shared: take the best of a few
repeats and say how busy it was (`uptime`) when you quote a figure.
"""

from __future__ import annotations

import argparse
import json
import time

import jax
import jax.numpy as jnp

from trainee.worlds import AutoReset, TaskPool, make, names

POOL_SIZE = 1024  # train tasks the envs draw from, like a learner's task pool


def make_rollout(world, num_envs: int, num_steps: int):
    """A jitted `run(key) -> (obs, total_reward)` of `num_steps` steps of `num_envs`
    envs, all vmapped, with uniformly random actions."""
    env = AutoReset(TaskPool(world))
    tasks = world.tasks(jax.random.key(0), "train", POOL_SIZE)
    num_actions = world.action_space.n

    def run(key):
        key, reset_key = jax.random.split(key)
        obs, state = jax.vmap(env.reset, in_axes=(0, None))(
            jax.random.split(reset_key, num_envs), tasks
        )

        def one_step(carry, key):
            obs, state, total = carry
            key_action, key_step = jax.random.split(key)
            actions = jax.random.randint(key_action, (num_envs,), 0, num_actions)
            out = jax.vmap(env.step, in_axes=(0, 0, 0, None))(
                jax.random.split(key_step, num_envs), state, actions, tasks
            )
            return (out.obs, out.state, total + out.reward.sum()), None

        carry = (obs, state, jnp.float32(0.0))
        (obs, _, total), _ = jax.lax.scan(one_step, carry, jax.random.split(key, num_steps))
        return obs, total

    return jax.jit(run)


def steps_per_second(world, num_envs: int, num_steps: int, repeats: int) -> float:
    run = make_rollout(world, num_envs, num_steps)
    jax.block_until_ready(run(jax.random.key(1)))  # compile (excluded from timing)
    best = float("inf")
    for i in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(run(jax.random.key(2 + i)))
        best = min(best, time.perf_counter() - start)
    return num_envs * num_steps / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=256, help="scan length per run")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs; the best counts")
    parser.add_argument("--worlds", nargs="*", default=None, help="default: all registered")
    parser.add_argument("--num-envs", type=int, nargs="*", default=[1, 64, 1024])
    parser.add_argument("--reference", default="gymnax:CartPole-v1",
                        help="world timed before each one for the ratio ('none': skip)")
    args = parser.parse_args()
    reference = None if args.reference == "none" else make(args.reference)
    for name in args.worlds or names():
        world = make(name)
        for num_envs in args.num_envs:
            # Few envs step fast per call: scan longer so the timing is not all overhead.
            num_steps = args.steps * max(1, 64 // num_envs)
            line = {"world": name, "num_envs": num_envs}
            if reference is not None:
                ref = steps_per_second(reference, num_envs, num_steps, args.repeats)
                line["cartpole_steps_per_second"] = round(ref)
            sps = steps_per_second(world, num_envs, num_steps, args.repeats)
            line["steps_per_second"] = round(sps)
            if reference is not None:
                line["ratio_to_cartpole"] = round(sps / ref, 3)
            print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
