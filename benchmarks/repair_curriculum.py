"""Does a curriculum help ppo on repair? The studies' quick ppo program, trained on the
mixed-level train pool throughout (the base) or on the easiest levels first (the
curriculum), at the same env steps; success on fresh tasks by level and split.

    nice python benchmarks/repair_curriculum.py     # lines: benchmarks/repair_curriculum.jsonl

Declared 2026-12-03 05:52 UTC, before any run (issue 12: repair's ppo is 0.503 on train at
the quick budget, 0.677 at 16x; the bar is 0.8; brief `curric`, item 4). Two arms, the
same program (`get_program("repair", "ppo", quick)`: 16 envs x 32 steps, 2 epochs x 8
minibatches, hidden 32 x 2, lr 1e-3 constant), the same 5 seeds (seed keys 0), the same
per-seed pools as `benchmarks/world_references.py` (256 mixed-level train tasks a seed):
- `base`: the mixed-level pool throughout;
- `curriculum`: the one change: for the first 327,680 env steps a seed (16 chunks, a
  sixth of the budget) a pool of levels 0 and 1 only (128 + 128 train tasks a seed, the
  smallest programs: 4-5 bits, 2 bugs, the levels ppo already solves at 0.79 at the quick
  budget), then the base's pool; at the switch the envs restart on it (a fresh env carry;
  params and optimiser state carry on).
Budget 1,966,080 env steps a seed (16x quick), evaluation points at 327,680 (the
switch), 983,040 (8x) and 1,966,080 (the end budget). Evaluation as the reference table:
512 fresh tasks x 2 episodes per row (task key 1, episode key 2, sampled actions), train
by level 0-4, train of mixed levels, and every held-out split; the random policy and the
oracle on the same train tasks. Decision rule: "the curriculum helps" if the mean over
seeds of the per-seed difference (curriculum - base) in train success (mixed levels)
at the end budget exceeds 2 standard errors of that paired difference (5 seeds); "hurts"
if below -2; else "no difference shown". Bar (issue 12): train >= 0.8, met or missed.
"""

from __future__ import annotations

import json
import os
import time

import jax
import numpy as np

from trainee.program import seed_keys
from trainee.studies.experiment import seed_tasks
from trainee.studies.programs import get_program, study_hp
from trainee.studies.scale import get_scale
from trainee.worlds import make
from trainee.worlds.references import measure

POINTS = (327_680, 983_040, 1_966_080)  # env steps a seed; the first is the switch
SEEDS_SALT = 0
EVAL_TASKS = 512


def easy_pool(world, key, n: int):
    """n train tasks, half level 0 and half level 1."""
    k0, k1 = jax.random.split(key)
    halves = world.tasks(k0, "train", n // 2, level=0), world.tasks(k1, "train", n // 2, level=1)
    return jax.tree.map(lambda a, b: np.concatenate([np.asarray(a), np.asarray(b)]), *halves)


def eval_cases(world) -> dict:
    """Row name -> fresh tasks (task key 1, as benchmarks/world_references.py)."""
    cases = {f"train_level{lv}": world.tasks(jax.random.key(1), "train", EVAL_TASKS, level=lv)
             for lv in range(world.levels)}
    cases["train"] = world.tasks(jax.random.key(1), "train", EVAL_TASKS)
    cases.update({s: world.tasks(jax.random.key(1), s, EVAL_TASKS) for s in world.splits
                  if s != "train"})
    return cases


def evaluate_arm(program, evaluator, state, cases: dict) -> dict:
    """Success per row: the mean over seeds and each seed's."""
    out = {}
    for name, tasks in cases.items():
        records = evaluator(state.params, jax.random.key(2), tasks).to_numpy()
        per_seed = [round(float(np.mean(np.asarray(records.success)[i])), 4)
                    for i in range(program_seeds(state))]
        out[name] = {"mean": round(float(np.mean(per_seed)), 4), "seeds": per_seed}
    return out


def program_seeds(state) -> int:
    return int(np.shape(state.env_steps)[0])


def main() -> None:
    world, scale = make("repair"), get_scale("quick")
    program = get_program(world, "ppo", scale)
    hp, evaluator = study_hp(program, scale.seeds), program.evaluator(scale.episodes)
    keys = seed_keys(SEEDS_SALT, scale.seeds)
    mixed = seed_tasks(lambda k: world.tasks(k, "train", scale.pool), 0, scale.seeds)
    easy = seed_tasks(lambda k: easy_pool(world, k, scale.pool), 0, scale.seeds)
    cases = eval_cases(world)
    refs = measure(world, cases["train"], jax.random.key(2), scale.episodes, ("random", "oracle"))
    print(json.dumps({"arm": "references", **{n: round(r.score["success"], 4)
                                              for n, r in refs.items()}}), flush=True)
    arms = {"base": [mixed], "curriculum": [easy, mixed]}
    states = {arm: program.init(keys, pools[0], hp) for arm, pools in arms.items()}
    seconds = dict.fromkeys(arms, 0.0)
    steps = 0
    for point in POINTS:
        while steps < point:  # the arms chunk by chunk in turn: they share the load
            for arm, pools in arms.items():
                start = time.perf_counter()
                states[arm], _ = program.run(states[arm], pools[0], hp)
                jax.block_until_ready(states[arm].params)
                if steps:  # the first chunk compiles: not timed
                    seconds[arm] += time.perf_counter() - start
            steps += program.steps_per_chunk
        if len(arms["curriculum"]) > 1:  # the switch: the mixed pool, envs restarted
            arms["curriculum"].pop(0)
            fresh = program.init(keys, mixed, hp)
            states["curriculum"] = states["curriculum"]._replace(env=fresh.env)
        for arm in arms:
            line = {"arm": arm, "env_steps": steps, "seeds": scale.seeds,
                    "steps_per_s": round((steps - program.steps_per_chunk) * scale.seeds
                                         / seconds[arm]),
                    "load": round(os.getloadavg()[0], 1)}
            line.update(evaluate_arm(program, evaluator, states[arm], cases))
            print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
