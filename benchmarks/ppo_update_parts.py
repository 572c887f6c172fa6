"""Where the time of one ppo update goes, by part, on one world (issue 17, part 4).

    PYTHONPATH=src nice python benchmarks/ppo_update_parts.py --world errands
    PYTHONPATH=src nice python benchmarks/ppo_update_parts.py --world errands --shape quick

Each part of `trainee.learners.ppo.ppo_update` is jitted on its own, on the inputs the
update gives it, and timed in rotation with the others (`--rounds` rounds, each part the
best of `--repeats` calls per round; the median of rounds is printed):

- `update`: the whole update (what training runs, one seed);
- `draws`: `rollout_draws`, every step's randomness and the fresh episodes made ahead;
- `env`: the rollout's env steps alone (`AutoReset.step_or_reset` in a scan, on those
  draws, with the actions the policy took);
- `rollout`: `collect_rollout`, i.e. draws + env + the policy's forward pass per step;
- `gae`: the advantages and value targets (`gae_advantages`, and the last value);
- `sgd`: `update_epochs`, the minibatch passes (forward, backward, Adam).

`rollout - draws - env` is the policy in the loop; `update - rollout - gae - sgd` is
what the rest costs (metrics, the batch's reshapes, what the parts cannot share once
apart). Shapes: `--shape errands` is the errands config of docs/worlds/errands.md (128
envs x 16 steps, relu 256 x 256 towers, lr 1e-3); `quick` is the quick scale's (16 x 32,
32 x 32).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

import jax
import jax.numpy as jnp

from trainee.learners import LearnerConfig, make_learner
from trainee.learners.common import Batch, update_epochs
from trainee.learners.ppo import collect_rollout, gae_advantages, rollout_draws
from trainee.worlds import make

SHAPES = {
    "errands": dict(num_envs=128, num_steps=16, hidden=256, lr=1e-3, activation="relu"),
    "quick": dict(num_envs=16, num_steps=32, hidden=32, layers=2),
    # PureJaxRL's CartPole-v1 config (benchmarks/purejaxrl_compare.py)
    "purejaxrl": dict(num_envs=4, num_steps=128, hidden=64, update_epochs=4, num_minibatches=4,
                      lr=2.5e-4),
}


def parts(world_name: str, shape: str, pool: int = 256, **overrides):
    """{part: (jitted fn, args)} on one state of a learner that has trained a little
    (`overrides`: config fields that differ from the shape's)."""
    world = make(world_name)
    config = LearnerConfig(total_steps=10**7, **{**SHAPES[shape], **overrides})
    learner = make_learner(config, world)
    tasks = world.tasks(jax.random.key(0), "train", pool)
    update = jax.jit(learner.update)
    state = learner.init(jax.random.key(1), tasks)
    for _ in range(3):  # past the first updates' all-fresh episodes
        state, _ = update(state, tasks)
    env, network = learner.update.args[0], learner.network
    optimizer = learner.update.args[2]
    key_rollout = jax.random.split(state.key, 3)[1]
    num_steps, num_envs = config.num_steps, config.num_envs

    draws_fn = jax.jit(lambda key: rollout_draws(env, key, tasks, num_steps, num_envs))
    rollout_fn = jax.jit(lambda params, carry, key: collect_rollout(
        env, network, params, carry, key, tasks, num_steps))
    carry, rollout = rollout_fn(state.params, state.env, key_rollout)
    draws = draws_fn(key_rollout)

    def env_only(env_state, draws, actions):
        def one(env_state, xs):
            (gumbel, keys, reset), action = xs
            out = jax.vmap(lambda k, s, a, r: env.step_or_reset(k, s, a, tasks, r))(
                keys, env_state, action, reset)
            return out.state, (out.obs, out.reward)
        return jax.lax.scan(one, env_state, (draws, actions))

    def gae(params, rollout, last_obs):
        _, last_value = network.apply(params, last_obs)
        return gae_advantages(rollout, last_value, config)

    advantages, targets = jax.jit(gae)(state.params, rollout, carry.obs)
    flat = lambda x: x.reshape(-1, *x.shape[2:])
    batch = Batch(flat(rollout.obs), flat(rollout.action), flat(rollout.logp),
                  flat(rollout.value), flat(advantages), flat(targets),
                  jnp.ones_like(flat(rollout.reward)))
    sgd = lambda params, opt_state, batch, key: update_epochs(
        network, optimizer, config, params, opt_state, batch, key, critic=True)
    return {
        "update": (update, (state, tasks)),
        "draws": (draws_fn, (key_rollout,)),
        "env": (jax.jit(env_only), (state.env.state, draws, rollout.action)),
        "rollout": (rollout_fn, (state.params, state.env, key_rollout)),
        "gae": (jax.jit(gae), (state.params, rollout, carry.obs)),
        "sgd": (jax.jit(sgd), (state.params, state.opt_state, batch, jax.random.key(3))),
    }, num_steps * num_envs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--world", default="errands")
    parser.add_argument("--shape", choices=sorted(SHAPES), default="errands")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    fns, steps = parts(args.world, args.shape)
    for fn, fn_args in fns.values():  # compile
        jax.block_until_ready(fn(*fn_args))
    times = {name: [] for name in fns}
    load = [os.getloadavg()[0]]
    for _ in range(args.rounds):
        for name, (fn, fn_args) in fns.items():
            best = float("inf")
            for _ in range(args.repeats):
                start = time.perf_counter()
                jax.block_until_ready(fn(*fn_args))
                best = min(best, time.perf_counter() - start)
            times[name].append(best)
    load.append(os.getloadavg()[0])
    ms = {name: 1e3 * statistics.median(t) for name, t in times.items()}
    print(json.dumps({
        "world": args.world, "shape": args.shape, "env_steps_per_update": steps,
        "ms": {name: round(v, 3) for name, v in ms.items()},
        "policy_in_loop_ms": round(ms["rollout"] - ms["draws"] - ms["env"], 3),
        "rest_ms": round(ms["update"] - ms["rollout"] - ms["gae"] - ms["sgd"], 3),
        "update_env_steps_per_s": round(steps / ms["update"] * 1e3),
        "load_1min": [round(x, 2) for x in load],
    }))


if __name__ == "__main__":
    main()
