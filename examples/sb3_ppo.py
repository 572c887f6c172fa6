"""Stable-Baselines3's PPO on a trainee world, two ways (needs `pip install torch==2.13.0
stable-baselines3` and the `gymnasium` extra; trainee itself never imports torch).

    python examples/sb3_ppo.py --world corridor --steps 50000 [--vectorised]

1. By name: `import trainee.worlds.gymnasium_export` registers `trainee/<world>` with
   Gymnasium, so SB3's own `make_vec_env("trainee/corridor", n_envs=8)` works (one Python
   env per copy, stepped one after another).
2. `--vectorised`: `SB3VecEnv` below hands SB3 trainee's `make_vector_env`, one jitted
   vmapped step for all copies, so SB3 is limited by its own learner, not by the envs.

Prints the training speed (env steps/s) and the success rate of the trained policy on
fresh episodes of the train split.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import VecEnv

import trainee.worlds.gymnasium_export as export


class SB3VecEnv(VecEnv):
    """trainee's Gymnasium vector env behind SB3's VecEnv interface. Both reset a
    finished env inside the step that ended it; SB3 wants the last observation in
    `infos[i]["terminal_observation"]` and a time-limit flag in "TimeLimit.truncated"."""

    def __init__(self, world: str, num_envs: int, seed: int = 0):
        self.envs = export.make_vector_env(world, num_envs, seed=seed)
        super().__init__(num_envs, self.envs.single_observation_space,
                         self.envs.single_action_space)
        self._seed, self._actions = seed, None

    def reset(self):
        obs, _ = self.envs.reset(seed=self._seed)
        return obs

    def step_async(self, actions):
        self._actions = actions

    def step_wait(self):
        obs, reward, terminated, truncated, info = self.envs.step(self._actions)
        done = terminated | truncated
        infos = [{"success": bool(info["success"][i])} for i in range(self.num_envs)]
        for i in np.flatnonzero(done):
            infos[i]["terminal_observation"] = info["final_obs"][i]
            infos[i]["TimeLimit.truncated"] = bool(truncated[i] and not terminated[i])
        return obs, reward.astype(np.float32), done, infos

    def close(self):
        pass

    def seed(self, seed=None):
        self._seed = seed or 0
        return [self._seed] * self.num_envs

    def get_attr(self, attr_name, indices=None):
        return [getattr(self.envs, attr_name)] * len(self._get_indices(indices))

    def set_attr(self, attr_name, value, indices=None):
        setattr(self.envs, attr_name, value)

    def env_method(self, method_name, *args, indices=None, **kwargs):
        raise NotImplementedError("one vectorised env: call its methods on .envs")

    def env_is_wrapped(self, wrapper_class, indices=None):
        return [False] * len(self._get_indices(indices))


def success_rate(model, world: str, episodes: int = 64, seed: int = 1) -> float:
    """Share of `episodes` fresh train-split episodes the policy finishes with success."""
    env = export.make_env(world, seed=seed)
    wins = 0
    for episode in range(episodes):
        obs, _ = env.reset(seed=seed + episode)
        while True:
            action, _ = model.predict(obs, deterministic=True)
            obs, _, terminated, truncated, info = env.step(int(action))
            if terminated or truncated:
                wins += info["success"]
                break
    return wins / episodes


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--world", default="corridor")
    parser.add_argument("--steps", type=int, default=50_000)
    parser.add_argument("--envs", type=int, default=8)
    parser.add_argument("--vectorised", action="store_true")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)  # a 64-unit MLP: more threads only add contention on a CPU
    envs = (SB3VecEnv(args.world, args.envs) if args.vectorised
            else make_vec_env(f"trainee/{args.world}", n_envs=args.envs, seed=0))
    model = PPO("MlpPolicy", envs, n_steps=128, batch_size=256, seed=0, verbose=0)
    before = success_rate(model, args.world)
    start = time.perf_counter()
    model.learn(args.steps)
    rate = args.steps / (time.perf_counter() - start)
    after = success_rate(model, args.world)
    print(f"{args.world}: {rate:,.0f} env steps/s; success {before:.2f} -> {after:.2f}")
    return {"steps_per_second": rate, "success_before": before, "success_after": after}


if __name__ == "__main__":
    main()
