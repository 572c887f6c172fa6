"""two-students: at equal experience, narrow practice transfers worse than broad.

The "10,000-hour student" practises a few distinct tasks many times; the "100-hour
student" practises many tasks a little each. Breadth is swept: K distinct tasks
repeated to fill the same pool, for K from a few per difficulty level up to the whole
pool. Every arm runs the same compiled program from the same training keys (equal env
steps and equal updates); only the pool differs. The narrow sets are matched to the
broad pool in difficulty (the same level histogram) and in input/action support (every
observation unit that varies over the broad pool's start states varies over the narrow
set's, so no arm is told that some inputs or actions never matter; issue 14 found the
old narrow set of 8 easy tasks taught exactly that). Scored in-domain (the narrowest
set itself), on the world's *variation* held-out splits (the verdict) and extrapolation
splits (reported), and by fine-tuning the narrowest and the broadest student on a new
job against a learner from scratch.
"""

from __future__ import annotations

import jax
import numpy as np

from trainee.measures import area_under_curve, samples_to_competence
from trainee.studies import figures
from trainee.studies.experiment import (
    Context,
    ci,
    references,
    repeat_pool,
    seed_tasks,
    take,
    train_curve,
)
from trainee.studies.programs import get_program
from trainee.studies.tasksets import main_world
from trainee.studies.verdict import MARGINS, Verdict, positive_effect, require_learned

NAME = "two-students"
CLAIM = ("At equal experience, a narrow learner (few task kinds, much practice each) "
         "transfers worse than a broad one (many kinds, little practice each).")
METHOD = (
    "Breadth sweep: K = 2, 8, 32 distinct tasks per difficulty level (capped below the "
    "pool) and the whole pool of distinct train tasks, each repeated to fill the same "
    "pool. The broad pool is drawn stratified by level; each narrow set takes its tasks "
    "from it level by level (the same level histogram), first greedily covering every "
    "observation unit that varies over the broad pool's start states, then at random. "
    "Every arm: the same program, training keys, env steps and updates. Key number, "
    "fixed before any run: success on the world's variation splits, whole pool minus "
    "the smallest K; also in-domain success on the smallest K's own tasks, the "
    "extrapolation splits, the slope over log2 K, and fine-tuning the two on the first "
    "shift axis against a learner from scratch (area under the curve, samples to "
    "competence)."
)
PER_LEVEL = (2, 8, 32)  # distinct tasks per difficulty level of the narrow arms
COMPETENCE = 0.8  # success rate that counts as competent on the new job
MARGIN = MARGINS[NAME]  # stated and justified in studies/verdict.py
PLACEBO = ("every arm practises the whole broad pool, each with its own training seed "
           "stream (the same tasks and episode keys): no difference by construction")
TOL = 1e-6


def breadths(levels: int, pool: int) -> list[int]:
    """Distinct tasks per arm, narrowest first: `PER_LEVEL` x levels below the pool,
    then the pool."""
    return [k * levels for k in PER_LEVEL if k * levels < pool] + [pool]


def broad_pool(world, key, size: int):
    """`size` distinct train tasks, task i at level i % levels (stratified by level)."""
    per = -(-size // world.levels)
    parts = [world.tasks(k, "train", per, level=level)
             for level, k in enumerate(jax.random.split(key, world.levels))]
    order = [(i % world.levels) * per + i // world.levels for i in range(size)]
    stacked = jax.tree.map(lambda *x: np.concatenate([np.asarray(v) for v in x]), *parts)
    return take(stacked, order)


def start_obs(world, tasks) -> np.ndarray:
    """(tasks, obs_dim) the first observation of every task."""
    n = len(np.asarray(tasks.difficulty))
    keys = jax.random.split(jax.random.key(0), n)
    return np.asarray(jax.vmap(lambda k, t: world.reset(k, t)[0])(keys, tasks))


def varies(obs: np.ndarray) -> np.ndarray:
    return np.ptp(obs, axis=0) > TOL


def narrow_set(world, broad, distinct: int, rng: np.random.Generator) -> np.ndarray:
    """Positions in `broad` of `distinct` tasks with the broad pool's level histogram:
    pick j takes a task of level j % levels, the one that adds the most still-uncovered
    varying start-state units while any remain, then a random one."""
    obs = start_obs(world, broad)
    need = varies(obs)
    level = np.arange(len(obs)) % world.levels
    chosen: list[int] = []
    for j in range(distinct):
        free = [i for i in rng.permutation(np.flatnonzero(level == j % world.levels))
                if i not in chosen]
        covered = varies(obs[chosen]) if len(chosen) > 1 else np.zeros_like(need)
        if (need & ~covered).any() and chosen:
            gain = [int((need & ~covered & varies(obs[[*chosen, i]])).sum()) for i in free]
            chosen.append(free[int(np.argmax(gain))])
        else:
            chosen.append(free[0])
    return np.asarray(chosen)


def students(ctx: Context, world, key) -> dict:
    """One seed's pools (one per breadth), evaluation sets and new job."""
    key_pool, key_pick, key_eval, key_job, key_job_eval = jax.random.split(key, 5)
    size = ctx.scale.pool
    broad = broad_pool(world, key_pool, size)
    rng = np.random.default_rng(np.asarray(jax.random.key_data(key_pick))[-1])
    pools, own = {}, None
    for k in breadths(world.levels, size):
        if k == size or ctx.placebo:
            pools[k] = broad
        else:
            picked = take(broad, narrow_set(world, broad, k, rng))
            pools[k] = repeat_pool(picked, k, size)
        if own is None:  # the narrowest set's own tasks: the in-domain evaluation
            own = repeat_pool(pools[k], k, ctx.scale.eval_tasks)
    keys = jax.random.split(key_eval, len(world.shift_axes))
    evals = {"in_domain": own, **{a: world.tasks(k, a, ctx.scale.eval_tasks)
                                  for k, a in zip(keys, world.shift_axes, strict=True)}}
    new_job = world.shift_axes[0]
    return {"pools": pools, "evals": evals,
            "job_pool": world.tasks(key_job, new_job, size),
            "job_eval": {"job": world.tasks(key_job_eval, new_job, ctx.scale.eval_tasks)}}


def fine_tune(ctx: Context, program, sets: dict, seed: int, params) -> dict:
    """Fine-tuning on the new job from `params` (None: from scratch)."""
    tune = train_curve(program, ctx, sets["job_pool"], sets["job_eval"],
                       max(2, ctx.scale.chunks // 2), seed + 1, params=params,
                       eval_seed=seed + 1)
    scores = tune.success("job")
    reach = samples_to_competence(tune.steps, scores, COMPETENCE)
    return {"steps": tune.steps.tolist(), "curve": [ci(s) for s in scores.T],
            "auc": area_under_curve(tune.steps, scores), "reach": reach.steps,
            "reached": float(np.mean(reach.reached))}


def run(ctx: Context) -> dict:
    name = main_world(ctx.scale)
    program = get_program(name, ctx.learner, ctx.scale)
    world = program.world
    seed = ctx.seed + 200
    sets = seed_tasks(lambda key: students(ctx, world, key), seed, ctx.seeds)
    variations = [a for a in world.shift_axes if world.axes[a] == "variation"]
    ks = sorted(sets["pools"])
    arms, scores, params = {}, {}, {}
    for i, k in enumerate(ks):
        # The same training keys for every arm (paired); under the placebo each arm its own.
        train_seed = seed + 3 * i if ctx.placebo else seed
        curve = train_curve(program, ctx, sets["pools"][k], sets["evals"], ctx.scale.chunks,
                            train_seed, curve=False, eval_seed=seed)
        scores[k] = {s: curve.final(s) for s in sets["evals"]}
        scores[k]["variation"] = np.mean([scores[k][a] for a in variations], axis=0)
        params[k] = curve.state.params
        arms[str(k)] = {
            "distinct": k,
            **{s: ci(v) for s, v in scores[k].items()},
            "references": references(program, ctx, curve, sets["evals"]),
            "difficulty": ci(np.mean(np.asarray(sets["pools"][k].difficulty), axis=-1)),
        }
    small, full = ks[0], ks[-1]
    tuned = {"narrow": fine_tune(ctx, program, sets, seed, params[small]),
             "broad": fine_tune(ctx, program, sets, seed, params[full]),
             "scratch": fine_tune(ctx, program, sets, seed, None)}
    finetune = {who: {"steps": t["steps"], "curve": t["curve"], "auc": ci(t["auc"]),
                      "samples_to_competence": ci(t["reach"]), "reached": t["reached"]}
                for who, t in tuned.items()}
    for who in ("narrow", "broad"):
        finetune[who]["auc_minus_scratch"] = ci(tuned[who]["auc"] - tuned["scratch"]["auc"])
    logk = np.log2(np.asarray(ks, np.float64))
    variation = np.stack([scores[k]["variation"] for k in ks], -1)  # (S, arms)
    slope = np.polyfit(logk, variation.T, 1)[0] if len(ks) > 1 else np.zeros(ctx.seeds)
    return {
        "world": name, "new_job": world.shift_axes[0], "axes": list(world.shift_axes),
        "variation_axes": variations, "breadths": ks, "arms": arms,
        "broad_minus_narrow": ci(scores[full]["variation"] - scores[small]["variation"]),
        "in_domain_broad_minus_narrow": ci(scores[full]["in_domain"]
                                           - scores[small]["in_domain"]),
        "variation_slope_per_doubling": ci(slope),
        "finetune": finetune,
        "references": {f"K={k}, {s}": arms[str(k)]["references"][s]
                       for k in (small, full) for s in ("in_domain", *variations)},
        "placebo": PLACEBO if ctx.placebo else None,
    }


def verdict(result: dict) -> Verdict:
    key = "variation-split success, whole pool minus the narrowest K"
    value = result["broad_minus_narrow"]
    small, full = (str(k) for k in (result["breadths"][0], result["breadths"][-1]))
    weak = require_learned(result["arms"][full]["references"]["in_domain"],
                           f"in-domain success of the K={full} student")
    if weak:
        return Verdict("inconclusive", weak, key, value)
    status, reason = positive_effect(value, MARGIN, key + f" (K={full} vs K={small})")
    tune = result["finetune"]
    reason += (f"; in-domain (K={small}'s own tasks) broad minus narrow "
               f"{result['in_domain_broad_minus_narrow']['iqm']:+.3f}; fine-tuning on "
               f"{result['new_job']}: area under the success curve broad "
               f"{tune['broad']['auc']['iqm']:.3f}, narrow {tune['narrow']['auc']['iqm']:.3f}, "
               f"scratch {tune['scratch']['auc']['iqm']:.3f}")
    return Verdict(status, reason, key, value)


def draw(result: dict) -> list[tuple[str, str]]:
    ks = [str(k) for k in result["breadths"]]
    splits = ["in_domain", *result["axes"]]
    held = figures.bars(splits, {f"K={k}": [result["arms"][k][s] for s in splits]
                                 for k in ks},
                        "success rate", f"{result['world']}: success after practice")
    tune = result["finetune"]
    curves = figures.curves(tune["broad"]["steps"], {w: t["curve"] for w, t in tune.items()},
                            "fine-tuning env steps per seed", "success on the new job",
                            f"fine-tuning on {result['new_job']}")
    return [("success by breadth K (distinct practice tasks)", held),
            ("fine-tuning on a new job", curves)]
