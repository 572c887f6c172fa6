"""Where the quick scale's ppo loses sample efficiency: a learner-side sweep on repair and
driving at exactly the quick budget (issue 12: "ppo learns the train split at the quick
scale's budget, >= 0.8 success").

    python benchmarks/quick_learner_sweep.py --phase ofat [--out /tmp/x.jsonl]
    python benchmarks/quick_learner_sweep.py --phase combo --ofat /tmp/x.jsonl [--out ...]

The design, fixed before any of it was run (only today's config was timed first, to
size the grid: one 20,480-step chunk of 5 seeds takes about 1 s on either world):

- **Learner**: the studies' program (`trainee.studies.programs.base_config("ppo",
  quick)`: 16 envs x 32 steps, update_epochs 2, num_minibatches 2, lr 1e-3, ent_coef
  0.01, gae_lambda 0.95, constant lr, normalised advantages, tanh MLP 32 x 2) = `base`.
  The worlds are not touched.
- **Budget**: exactly 122,880 env steps per seed (6 chunks of 20,480), 5 seeds (0-4,
  vmapped), each seed on its own pool of 256 train tasks (`experiment.seed_tasks`, the
  studies' draw), like every study at quick scale.
- **Evaluation**: each seed on 256 fresh tasks of each split (sampled actions, 2
  episodes per task, the studies' `episodes`), drawn with other keys than the pools:
  `train` (mixed levels) is the selection split; every train level and every held-out
  split are reported and never used to select.
- **Grid, phase `ofat`** (one factor at a time from `base`; `FACTORS`): update_epochs
  4, 8; num_minibatches 4, 8; lr 3e-4, 3e-3; ent_coef 0, 0.003, 0.03; rollout shape
  (num_envs x num_steps) 8x32, 16x16, 32x16, 8x16 (same env steps, more or fewer
  updates); hidden 64, 128; layers 1, 3; activation relu; normalised advantages off.
  The observation lever is empty: neither world exposes another encoding (`attention`
  needs an `entity_layout`, which only errands has). Plus the **placebo** `placebo`:
  `base` with total_steps doubled, which no chunked run reads (constant lr): a new
  compiled program with the same numbers, so its success must equal base's exactly and
  its time ratio shows the timing noise.
- **Selection rule**: score = mean over {repair, driving} of the mean over seeds of
  train success. A factor's best level within the cost rule is a *winner* if its score
  beats base's by >= 0.02.
- **Phase `combo`** (`combinations`): C1 = base with every winner's overrides merged;
  while C1 breaks the cost rule, drop the winner with the highest own cost ratio. Then,
  time allowing, C1 minus each one of its winners (leave-one-out). base and the
  placebo are re-run in the same process (same numbers expected; the timing reference).
- **Cost rule**: time per env step of the trained program (steady-state chunks, after
  compilation), measured interleaved with base in the same process (base chunk,
  config chunk, x3, same world), ratio of the sums. A config > 1.5x base's is reported,
  never adopted (`trainee run` quick must stay <= 10 min cold; 7 min 01 s today).
  Compile seconds (first chunk minus a steady one) are reported too.
- **Adoption**: the highest-scoring config within the cost rule among everything
  measured, if it reaches >= 0.8 train success on both worlds; otherwise only if it is
  a clear improvement (score >= base + 0.05 and neither world below base by > 0.02).
  Selecting the best of ~25 configs on the same 5 seeds flatters it; the adopted
  config is re-measured by `benchmarks/world_references.py` (other pools and tasks).

Added after phases 1-2 had been seen (so not part of the fixed design, and not eligible
for adoption this session): **phase `posthoc`** (`POSTHOC`), around the adopted mb8:
more minibatches still (16, 32), and mb8 with the next-best cheap levers one at a time.
It only says where a next sweep should look.

One JSON line per (world, config), then one `summary` line per config.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import time
from pathlib import Path

import jax
import numpy as np

from trainee import program as programs
from trainee.learners import make_learner
from trainee.studies.experiment import eval_keys, seed_tasks
from trainee.studies.programs import base_config
from trainee.studies.scale import get_scale

WORLDS = ("repair", "driving")
SEEDS = 5
CHUNKS = 6
EVAL_TASKS = 256
EPISODES = 2
MARGIN = 0.02  # a factor level must beat base's score by this much to be a winner
MAX_COST = 1.5  # time per env step relative to base
TIMING_REPEATS = 3

# factor -> {level name: overrides of base's LearnerConfig}
FACTORS = {
    "update_epochs": {"epochs4": {"update_epochs": 4}, "epochs8": {"update_epochs": 8}},
    "num_minibatches": {"mb4": {"num_minibatches": 4}, "mb8": {"num_minibatches": 8}},
    "lr": {"lr3e-4": {"lr": 3e-4}, "lr3e-3": {"lr": 3e-3}},
    "ent_coef": {"ent0": {"ent_coef": 0.0}, "ent0.003": {"ent_coef": 0.003},
                 "ent0.03": {"ent_coef": 0.03}},
    "rollout": {"8x32": {"num_envs": 8, "num_steps": 32},
                "16x16": {"num_envs": 16, "num_steps": 16},
                "32x16": {"num_envs": 32, "num_steps": 16},
                "8x16": {"num_envs": 8, "num_steps": 16}},
    "hidden": {"h64": {"hidden": 64}, "h128": {"hidden": 128}},
    "layers": {"l1": {"layers": 1}, "l3": {"layers": 3}},
    "activation": {"relu": {"activation": "relu"}},
    "normalize_advantages": {"no_norm_adv": {"normalize_advantages": False}},
}
PLACEBO = {"total_steps": 2 * 16 * 1024}  # read by no chunked run with a constant lr
# Post hoc (after phases 1-2; see the docstring): around mb8.
POSTHOC = {"mb16": {"num_minibatches": 16}, "mb32": {"num_minibatches": 32},
           "mb8+lr2e-3": {"num_minibatches": 8, "lr": 2e-3},
           "mb8+ent0.03": {"num_minibatches": 8, "ent_coef": 0.03},
           "mb8+8x32": {"num_minibatches": 8, "num_envs": 8, "num_steps": 32}}


def ofat_configs() -> dict[str, dict]:
    configs = {"base": {}, "placebo": PLACEBO}
    for levels in FACTORS.values():
        configs.update(levels)
    return configs


def factor_of(name: str) -> str | None:
    return next((f for f, levels in FACTORS.items() if name in levels), None)


def combinations(summaries: dict[str, dict], leave_one_out: bool = True) -> dict[str, dict]:
    """Phase 2's configs from phase 1's summaries ({name: {"score", "cost"}}), by the rule
    in the module docstring."""
    base = summaries["base"]["score"]
    winners = {}
    for factor, levels in FACTORS.items():
        ok = [n for n in levels if n in summaries and summaries[n]["cost"] <= MAX_COST]
        if not ok:
            continue
        best = max(ok, key=lambda n: summaries[n]["score"])
        if summaries[best]["score"] >= base + MARGIN:
            winners[factor] = best
    names = sorted(winners.values())
    if len(names) < 2:  # nothing to combine: the single winner is already measured
        return {}
    merge = lambda chosen: {k: v for n in chosen for k, v in FACTORS[factor_of(n)][n].items()}
    out = {"C1=" + "+".join(names): merge(names)}
    if leave_one_out and len(names) > 2:
        for drop in names:
            rest = [n for n in names if n != drop]
            out["C1-" + drop] = merge(rest)
    return out


# `base` is the studies' config as it was when this sweep was designed; the quick scale
# has used mb8 (its winner) since, so base pins the old minibatch count.
BASE = {"num_minibatches": 2}


def make_program(world, overrides: dict):
    config = dataclasses.replace(base_config("ppo", get_scale("quick")), **BASE)
    config = dataclasses.replace(config, **overrides)
    per_chunk = get_scale("quick").train_steps // CHUNKS
    steps_per_update = make_learner(config, world).steps_per_update
    assert per_chunk % steps_per_update == 0, (overrides, steps_per_update)
    program = programs.get_program(world, config, per_chunk // steps_per_update,
                                   seed_tasks=True)
    return program, program.hp(config, SEEDS)


def timed_chunk(program, state, pool, hp):
    start = time.perf_counter()
    state, _ = program.run(state, pool, hp)
    jax.block_until_ready(state.params)
    return state, time.perf_counter() - start


def train(program, hp, pool):
    state = program.init(programs.seed_keys(0, SEEDS), pool, hp)
    times = []
    for _ in range(CHUNKS):
        state, seconds = timed_chunk(program, state, pool, hp)
        times.append(seconds)
    return state, times


def evaluate(program, world, params, eval_sets, keys) -> dict:
    evaluator = program.evaluator(EPISODES, in_axes=(0, 0, 0))
    out = {}
    for name, tasks in eval_sets.items():
        records = evaluator(params, keys, tasks).to_numpy()
        per_seed = np.mean(records.success, axis=(-2, -1))
        out[name] = {"mean": round(float(per_seed.mean()), 4),
                     "per_seed": [round(float(s), 4) for s in per_seed]}
    return out


def eval_sets(world) -> dict:
    sets = {"train": seed_tasks(lambda k: world.tasks(k, "train", EVAL_TASKS), 1, SEEDS)}
    for level in range(world.levels):
        sets[f"train_level{level}"] = seed_tasks(
            lambda k, level=level: world.tasks(k, "train", EVAL_TASKS, level=level), 2, SEEDS)
    for split in world.splits:
        if split != "train":
            sets[split] = seed_tasks(lambda k, s=split: world.tasks(k, s, EVAL_TASKS), 3, SEEDS)
    return sets


def run_world(name: str, configs: dict[str, dict], emit) -> dict[str, dict]:
    world = programs.get_world(name)
    pool = seed_tasks(lambda k: world.tasks(k, "train", get_scale("quick").pool), 0, SEEDS)
    sets = eval_sets(world)
    keys = eval_keys(0, SEEDS)
    base_program, base_hp = make_program(world, {})
    base_state, _ = train(base_program, base_hp, pool)  # warm: the timing reference
    results = {}
    for cname, overrides in configs.items():
        program, hp = make_program(world, overrides)
        state, times = train(program, hp, pool)
        steps = CHUNKS * program.steps_per_chunk
        assert steps == get_scale("quick").train_steps, steps
        scores = evaluate(program, world, state.params, sets, keys)
        base_t, config_t = [], []
        for _ in range(TIMING_REPEATS):  # interleaved: base, config, base, config, ...
            base_state, t = timed_chunk(base_program, base_state, pool, base_hp)
            base_t.append(t)
            state, t = timed_chunk(program, state, pool, hp)
            config_t.append(t)
        row = {"world": name, "config": cname, "overrides": overrides,
               "factor": factor_of(cname), "env_steps": steps, "seeds": SEEDS,
               "train_success": scores["train"]["mean"], "success": scores,
               "cost": round(sum(config_t) / sum(base_t), 3),
               "chunk_s": round(float(np.median(config_t)), 3),
               "base_chunk_s": round(float(np.median(base_t)), 3),
               "compile_s": round(times[0] - float(np.median(times[1:])), 1),
               "train_s": round(sum(times), 1), "load": os.getloadavg()[0]}
        emit(row)
        results[cname] = row
    return results


def summarise(per_world: dict[str, dict[str, dict]]) -> dict[str, dict]:
    names = next(iter(per_world.values())).keys()
    out = {}
    for n in names:
        rows = [per_world[w][n] for w in per_world]
        out[n] = {"config": n, "overrides": rows[0]["overrides"],
                  "score": round(float(np.mean([r["train_success"] for r in rows])), 4),
                  "cost": round(max(r["cost"] for r in rows), 3),
                  **{f"{r['world']}_train": r["train_success"] for r in rows}}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phase", choices=("ofat", "combo", "posthoc"), default="ofat")
    parser.add_argument("--ofat", type=Path, help="phase 1's JSON lines (for --phase combo)")
    parser.add_argument("--only", nargs="*", help="run only these configs (debugging)")
    parser.add_argument("--no-leave-one-out", action="store_true")
    parser.add_argument("--worlds", nargs="*", default=list(WORLDS))
    parser.add_argument("--out", type=Path, default=None, help="also append lines here")
    args = parser.parse_args()

    def emit(row):
        print(json.dumps(row), flush=True)
        if args.out:
            with args.out.open("a") as f:
                f.write(json.dumps(row) + "\n")

    if args.phase == "ofat":
        configs = ofat_configs()
    elif args.phase == "posthoc":
        configs = {"base": {}, "mb8": {"num_minibatches": 8}, **POSTHOC}
    else:
        rows = [json.loads(line) for line in args.ofat.read_text().splitlines()]
        summaries = {r["config"]: r for r in rows if r.get("summary")}
        configs = {"base": {}, "placebo": PLACEBO,
                   **combinations(summaries, not args.no_leave_one_out)}
    if args.only:
        configs = {n: c for n, c in configs.items() if n in args.only or n == "base"}
    per_world = {w: run_world(w, configs, emit) for w in args.worlds}
    for summary in summarise(per_world).values():
        emit({"summary": True, "phase": args.phase, **summary})


if __name__ == "__main__":
    main()
