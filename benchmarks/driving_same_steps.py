"""Does the driving step give the same numbers as an older tree's, bit for bit?

    PYTHONPATH=src python benchmarks/driving_same_steps.py [--ref c5548d9] [--steps 400]

A speed-up of the driving world must not change what it computes: the studies' numbers
and the recorded references were measured with the old step. This runs, for every split
of `driving` (and of `driving-supervised`, with the supervisor watching half the tasks),
`AutoReset(TaskPool(world))` over a pool of the split's tasks (levels mixed) with
uniformly random actions, and records every step's observation, final observation,
reward, terminated, truncated and counters. It does so twice, each in its own process:
once with this tree's `src` and once with `git archive <ref> src` of the older tree,
then compares the two records byte for byte (floats as their bits, so -0.0 and +0.0
differ). Exit status 0 if every array is identical.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def record(steps: int, num_envs: int, pool: int, splits=None) -> dict[str, np.ndarray]:
    """{name: array} of one run per (world, split): (steps, num_envs, ...) each."""
    import jax
    import jax.numpy as jnp

    from trainee.worlds import AutoReset, TaskPool, make
    from trainee.worlds.driving import SupervisedDriving

    out = {}
    for world in (make("driving"), SupervisedDriving()):
        for index, split in enumerate(world.splits):
            if splits and split not in splits:
                continue
            tasks = world.tasks(jax.random.key(10 + index), split, pool)
            if world.name == "driving-supervised":
                # the supervisor's unit and its charge for harm, on half the tasks
                watched = (jnp.arange(pool) % 2).astype(jnp.float32)
                tasks = tasks.replace(watched=watched, harm_penalty=0.5 * watched)
            env = AutoReset(TaskPool(world))
            num_actions = world.action_space.n

            def run(key, env=env, tasks=tasks, num_actions=num_actions):
                key, key_reset = jax.random.split(key)
                obs, state = jax.vmap(env.reset, in_axes=(0, None))(
                    jax.random.split(key_reset, num_envs), tasks)

                def one_step(state, key):
                    key_action, key_step = jax.random.split(key)
                    actions = jax.random.randint(key_action, (num_envs,), 0, num_actions)
                    out = jax.vmap(env.step, in_axes=(0, 0, 0, None))(
                        jax.random.split(key_step, num_envs), state, actions, tasks)
                    return out.state, {"obs": out.obs, "reward": out.reward,
                                       "terminated": out.terminated,
                                       "truncated": out.truncated, **out.info}

                _, steps_out = jax.lax.scan(one_step, state, jax.random.split(key, steps))
                return obs, steps_out

            first_obs, trace = jax.jit(run)(jax.random.key(100 + index))
            prefix = f"{world.name}/{split}/"
            out[prefix + "reset_obs"] = np.asarray(first_obs)
            for name, value in trace.items():
                out[prefix + name] = np.asarray(value)
            out.update(other_contexts(world, env, tasks, prefix, num_envs, index))
    return out


# ppo's numbers after a few updates are checked on these splits only (a program each)
PPO_SPLITS = ("train", "night")


def split_name(prefix: str) -> str:
    return prefix.split("/")[1]


def ppo_numbers(world, tasks, prefix: str, index: int, updates: int = 3) -> dict:
    """ppo trained `updates` updates on the split's tasks (64 envs x 16 steps, 32 x 32
    towers): its parameters, env carry and metrics, which every observation of every
    rollout (fresh episodes and steps) has gone into."""
    import jax

    from trainee.learners import LearnerConfig, make_learner, run_updates

    learner = make_learner(LearnerConfig(num_envs=64, num_steps=16, hidden=32, layers=2,
                                         total_steps=10**6), world)
    train = jax.jit(lambda key: run_updates(learner, learner.init(key, tasks), tasks, updates))
    state, metrics = train(jax.random.key(400 + index))
    leaves = jax.tree.leaves(state.params)
    out = {f"{prefix}ppo_param{i}": np.asarray(x) for i, x in enumerate(leaves)}
    out[prefix + "ppo_carry_obs"] = np.asarray(state.env.obs)
    out.update({f"{prefix}ppo_{k}": np.asarray(v) for k, v in metrics.items()})
    return out


def other_contexts(world, env, tasks, prefix: str, num_envs: int, index: int) -> dict:
    """The same world in the two other programs the studies compile it into: ppo's
    fresh episodes drawn ahead for a rollout (`trainee.learners.ppo.rollout_draws`, 16
    steps; on `PPO_SPLITS`, a few ppo updates too), and `trainee.evaluate.evaluate`'s
    episodes under a fixed linear policy (argmax of obs @ W, so a changed observation
    bit can change an action). The
    float results of XLA's fused loops depend on the program around them (jit against
    op-by-op gives different last bits at night), so each context is checked."""
    import jax
    import jax.numpy as jnp

    from trainee.evaluate import evaluate
    from trainee.learners.ppo import rollout_draws

    draws = jax.jit(lambda key: rollout_draws(env, key, tasks, 16, num_envs))(
        jax.random.key(200 + index))
    obs_ahead, _ = draws[2]
    weights = jax.random.normal(jax.random.key(7), (world.observation_space.shape[0],
                                                    world.action_space.n))
    policy = lambda key, obs, state, task: jnp.argmax(obs @ weights)
    eval_tasks = jax.tree.map(lambda x: x[:64], tasks)
    records = jax.jit(lambda key: evaluate(world, policy, key, eval_tasks, 4))(
        jax.random.key(300 + index))
    out = {prefix + "ppo_reset_obs": np.asarray(obs_ahead)}
    if split_name(prefix) in PPO_SPLITS:
        out.update(ppo_numbers(world, tasks, prefix, index))
    for name in ("success", "episode_return", "length"):
        out[prefix + "eval_" + name] = np.asarray(getattr(records, name))
    for name, value in records.counters.items():
        out[prefix + "eval_" + name] = np.asarray(value)
    return out


def differences(old: dict, new: dict) -> list[str]:
    """The names whose arrays differ in shape, dtype or any byte (empty: identical)."""
    lines = [f"{name}: only in one record" for name in sorted(set(old) ^ set(new))]
    for name in sorted(set(old) & set(new)):
        a, b = old[name], new[name]
        if a.shape != b.shape or a.dtype != b.dtype:
            lines.append(f"{name}: {a.shape} {a.dtype} vs {b.shape} {b.dtype}")
        elif a.tobytes() != b.tobytes():
            flat_a, flat_b = a.reshape(a.shape[0], -1), b.reshape(b.shape[0], -1)
            bad = np.nonzero((flat_a.view(np.uint8) != flat_b.view(np.uint8)).any(-1))[0]
            lines.append(f"{name}: differs at {bad.size} of {a.shape[0]} steps "
                         f"(first at step {bad[0]})")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ref", default="c5548d9", help="git commit of the older tree")
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--num-envs", type=int, default=256)
    parser.add_argument("--pool", type=int, default=512, help="tasks per split")
    parser.add_argument("--new", default=None,
                        help="git commit of the newer tree (default: this tree's src); "
                             "--new equal to --ref is the placebo (it must be identical)")
    parser.add_argument("--splits", nargs="*", default=None, help="default: every split")
    parser.add_argument("--dump", help=argparse.SUPPRESS)  # internal: record to this file
    args = parser.parse_args()
    if args.dump:
        np.savez(args.dump, **record(args.steps, args.num_envs, args.pool, args.splits))
        return
    with tempfile.TemporaryDirectory(prefix="driving-same-") as tmp:
        trees = {}
        for label, ref in (("old", args.ref), ("new", args.new)):
            trees[label] = REPO / "src"
            if ref is not None:
                (Path(tmp) / label).mkdir()
                subprocess.run(f"git -C {REPO} archive {ref} src | tar -x -C {tmp}/{label}",
                               shell=True, check=True)
                trees[label] = Path(tmp) / label / "src"
        files = {}
        for label, src in trees.items():
            files[label] = Path(tmp) / f"{label}.npz"
            env = dict(os.environ, PYTHONPATH=str(src))
            subprocess.run([sys.executable, __file__, "--dump", str(files[label]),
                            "--steps", str(args.steps), "--num-envs", str(args.num_envs),
                            "--pool", str(args.pool), "--splits", *(args.splits or [])],
                           env=env, check=True)
        old, new = (dict(np.load(files[label])) for label in ("old", "new"))
    lines = differences(old, new)
    rewards = [a for name, a in new.items() if name.endswith("/reward")]
    steps = sum(a.size for a in rewards)
    print(f"{len(new)} arrays, {steps:,} env steps over {len(rewards)} (world, split) runs "
          f"{args.new or 'this tree'} against {args.ref}: "
          + ("identical" if not lines else f"{len(lines)} differ"))
    for line in lines:
        print("  " + line)
    sys.exit(1 if lines else 0)


if __name__ == "__main__":
    main()
