"""The world reference table: random, oracle, the world's heuristics and ppo at a
stated budget, on every split (and every train level) of every built-in world.

    python benchmarks/world_references.py [--worlds repair driving] [--tasks 512]
        [--episodes 2] [--ppo-scale quick] [--no-ppo] [--out benchmarks/world_references.jsonl]
    python benchmarks/world_references.py --worlds repair --no-references \
        --ppo-steps 983040 1966080      # ppo at 8x and 16x the quick budget

One JSON line per (world, split, level, policy): success, return, length and every hidden
counter (episode means), with the task count, episodes and, for ppo, the budget (env
steps per seed), seeds and the mean over seeds. ppo is the studies' own program at the
given scale (`trainee.studies.programs.get_program`: `quick` = 122,880 env steps per
seed, 16 envs x 32 steps, 2 epochs x 8 minibatches, hidden 32 x 2 layers), each seed
trained on its own pool of train tasks of mixed levels (drawn as the studies draw them,
`experiment.seed_tasks`) and evaluated (sampled actions) on the same fresh tasks of each
split. Task key 1, episode
key 2, training seeds from key 0. `train_seconds` includes compilation.
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from pathlib import Path

import jax
import numpy as np

from trainee.worlds import make
from trainee.worlds.references import measure, score

WORLDS = ("errands", "driving", "repair", "corridor")


def _line(world, split, level, policy, values, **extra) -> dict:
    row = {"world": world.name, "split": split, "level": level, "policy": policy}
    row.update({k: round(v, 4) for k, v in values.items()}, **extra)
    return row


def reference_rows(world, n: int, episodes: int):
    """Rows for the reference policies on every split, plus every level of train."""
    cases = [("train", level) for level in range(world.levels)]
    cases += [(split, None) for split in world.splits]
    for split, level in cases:
        tasks = world.tasks(jax.random.key(1), split, n, level=level)
        for name, ref in measure(world, tasks, jax.random.key(2), episodes).items():
            yield _line(world, split, level, name, ref.score, tasks=n, episodes=episodes)


def ppo_rows(world, scale_name: str, n: int, steps: int | None = None):
    """Train the study program for `scale.train_steps` (or `steps`) per seed, then
    evaluate it."""
    import dataclasses

    from trainee.studies.experiment import seed_tasks
    from trainee.studies.programs import get_program, seed_keys, study_hp
    from trainee.studies.scale import get_scale

    scale = get_scale(scale_name)
    if steps:  # same program shapes, a longer budget (more updates per chunk)
        scale = dataclasses.replace(scale, train_steps=steps)
    program = get_program(world.name, "ppo", scale)
    # each seed on its own pool of train tasks, drawn as the studies draw them
    pool = seed_tasks(lambda k: world.tasks(k, "train", scale.pool), 0, scale.seeds)
    hp = study_hp(program, scale.seeds)
    evaluator = program.evaluator(scale.episodes)
    start = time.perf_counter()
    state = program.init(seed_keys(0, scale.seeds), pool, hp)
    steps = 0
    while steps < scale.train_steps:
        state, _ = program.run(state, pool, hp)
        steps += program.steps_per_chunk
    jax.block_until_ready(state.params)
    seconds = time.perf_counter() - start
    budget = dict(scale=scale_name, env_steps=steps, seeds=scale.seeds,
                  minibatches=scale.minibatches, train_seconds=round(seconds, 1), tasks=n,
                  episodes=scale.episodes)
    cases = [("train", level) for level in range(world.levels)]
    cases += [(split, None) for split in world.splits]
    for split, level in cases:
        tasks = world.tasks(jax.random.key(1), split, n, level=level)
        records = evaluator(state.params, jax.random.key(2), tasks).to_numpy()
        per_seed = [score(jax.tree.map(lambda x, i=i: np.asarray(x)[i], records))
                    for i in range(scale.seeds)]
        mean = {k: float(np.mean([s[k] for s in per_seed])) for k in per_seed[0]}
        seeds = [round(s["success"], 4) for s in per_seed]
        yield _line(world, split, level, "ppo", mean, success_per_seed=seeds, **budget)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worlds", nargs="*", default=list(WORLDS))
    parser.add_argument("--tasks", type=int, default=512, help="tasks per split / level")
    parser.add_argument("--episodes", type=int, default=2)
    parser.add_argument("--ppo-scale", default="quick")
    parser.add_argument("--ppo-steps", type=int, nargs="+", default=[None],
                        help="env steps per seed instead of the scale's (several: one set "
                             "of ppo rows per budget, e.g. 8x and 16x quick's 122,880)")
    parser.add_argument("--no-ppo", action="store_true")
    parser.add_argument("--no-references", action="store_true", help="ppo rows only")
    parser.add_argument("--out", type=Path, default=None, help="also append lines here")
    args = parser.parse_args()
    for name in args.worlds:
        world = make(name)
        rows = iter(())
        if not args.no_references:
            rows = reference_rows(world, args.tasks, args.episodes)
        if not args.no_ppo:
            rows = itertools.chain(rows, *(ppo_rows(world, args.ppo_scale, args.tasks, steps)
                                           for steps in args.ppo_steps))
        for row in rows:
            print(json.dumps(row), flush=True)
            if args.out:
                with args.out.open("a") as f:
                    f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
