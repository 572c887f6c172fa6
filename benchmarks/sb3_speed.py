"""SB3's PPO through the Gymnasium export: env steps/s by name (one env per copy, SB3's
`make_vec_env`) and vectorised (examples/sb3_ppo.py's `SB3VecEnv`), beside SB3 on
Gymnasium's own CartPole-v1 in the same run, rounds interleaved.

    pip install torch==2.13.0 stable-baselines3      # never a trainee dependency
    python benchmarks/sb3_speed.py [--world corridor] [--steps 20000] [--rounds 3]

PPO as the example runs it (MlpPolicy, n_steps 128, batch 256, 8 envs, one torch
thread); steps/s of `model.learn` only. The load average is printed: the machine is shared.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path


def _example():
    """examples/sb3_ppo.py as a module (SB3's VecEnv over trainee's vector env)."""
    sys.path.insert(0, str(Path(__file__).parents[1] / "examples"))
    import sb3_ppo

    return sb3_ppo


def learn_rate(envs, steps: int) -> float:
    from stable_baselines3 import PPO

    model = PPO("MlpPolicy", envs, n_steps=128, batch_size=256, seed=0, verbose=0)
    model.learn(1024)  # compile the env's programs and warm torch up
    start = time.perf_counter()
    model.learn(steps)
    return steps / (time.perf_counter() - start)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--world", default="corridor")
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--envs", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    example = _example()
    from stable_baselines3.common.env_util import make_vec_env

    example.torch.set_num_threads(1)
    makers = {"cartpole (gymnasium)": lambda: make_vec_env("CartPole-v1", n_envs=args.envs),
              f"{args.world} by name": lambda: make_vec_env(f"trainee/{args.world}",
                                                            n_envs=args.envs, seed=0),
              f"{args.world} vectorised": lambda: example.SB3VecEnv(args.world, args.envs)}
    print("load average:", os.getloadavg())
    rates = {name: [] for name in makers}
    for _ in range(args.rounds):
        for name, make in makers.items():
            rates[name].append(learn_rate(make(), args.steps))
    medians = {name: statistics.median(values) for name, values in rates.items()}
    reference = medians["cartpole (gymnasium)"]
    for name, values in rates.items():
        print(f"{name:>28}  {', '.join(f'{v:,.0f}' for v in values)} steps/s"
              f"  median / cartpole {medians[name] / reference:.2f}")
    print("load average:", os.getloadavg())
    return medians


if __name__ == "__main__":
    main()
