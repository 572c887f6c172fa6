"""Gymnasium export speed: env steps/s with random actions, one env and vectorised.

    python benchmarks/gymnasium_export.py [--worlds repair,driving,errands] [--seconds 3]
    python benchmarks/gymnasium_export.py --against OLD.py [--rounds 3]  # before / after

Prints, per world: the single env (`make_env`, one jitted call per step), the vector env
(`make_vector_env`, one jitted vmapped call per step) at 16 and 256 envs, and, measured
interleaved in the same run as a reference for this machine, Gymnasium's own pure-Python
CartPole-v1. Actions are sampled with numpy outside the timed env call's cost model the
same way for every row. The load average is printed: this machine is shared.

`--against OLD.py` (another version of `trainee/worlds/gymnasium_export.py`, e.g. `git
show main:src/trainee/worlds/gymnasium_export.py > /tmp/old.py`) times instead the single
env of that version and of this one, rounds interleaved (old, new, old, new, ...) in one
process, and prints each world's rates and the new / old ratio.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import time

import gymnasium
import numpy as np

from trainee.worlds.gymnasium_export import make_env, make_vector_env


def steps_per_second(env, seconds: float, num_envs: int = 1) -> float:
    rng = np.random.default_rng(0)
    n = env.action_space.n if num_envs == 1 else env.single_action_space.n
    env.reset(seed=0)
    for _ in range(20):  # compile and warm up
        _step(env, rng, n, num_envs)
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        _step(env, rng, n, num_envs)
        done += num_envs
    return done / (time.perf_counter() - start)


def _step(env, rng, n: int, num_envs: int) -> None:
    if num_envs == 1:
        _, _, terminated, truncated, _ = env.step(int(rng.integers(n)))
        if terminated or truncated:
            env.reset()
    else:
        env.step(rng.integers(n, size=num_envs))


def _module_from(path: str):
    spec = importlib.util.spec_from_file_location("gymnasium_export_against", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def compare(old_path: str, worlds: list[str], seconds: float, rounds: int) -> None:
    """The single env of `old_path`'s module and of this one, rounds interleaved."""
    versions = {"old": _module_from(old_path).make_env, "new": make_env}
    for name in worlds:
        envs = {label: make(name, num_tasks=64) for label, make in versions.items()}
        rates = {label: [] for label in versions}
        for _ in range(rounds):
            for label, env in envs.items():
                rates[label].append(steps_per_second(env, seconds))
        old, new = (", ".join(f"{r:,.0f}" for r in rates[k]) for k in ("old", "new"))
        ratio = sum(rates["new"]) / sum(rates["old"])
        print(f"{name:>8}  old {old}  new {new}  steps/s  new/old {ratio:.2f}"
              f"  (load {os.getloadavg()[0]:.1f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worlds", default="repair,driving,errands")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--against", help="another gymnasium_export.py to time against")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"load average: {os.getloadavg()}")
    if args.against:
        compare(args.against, args.worlds.split(","), args.seconds, args.rounds)
        print(f"load average: {os.getloadavg()}")
        return
    for name in args.worlds.split(","):
        rows = {
            "cartpole (gymnasium, python)": lambda: gymnasium.make("CartPole-v1"),
            "single env": lambda name=name: make_env(name, num_tasks=64),
            "vector env x16": lambda name=name: make_vector_env(name, 16, num_tasks=64),
            "vector env x256": lambda name=name: make_vector_env(name, 256, num_tasks=64),
        }
        for label, build in rows.items():
            envs = 1 if "vector" not in label else int(label.rsplit("x", 1)[1])
            rate = steps_per_second(build(), args.seconds, envs)
            print(f"{name:>8}  {label:<30} {rate:>12,.0f} steps/s")
    print(f"load average: {os.getloadavg()}")


if __name__ == "__main__":
    main()
