"""gap: models do well on what they trained on and worse on variations of it.

Method: ppo agents (S seeds) train on a pool of train-split tasks; they are scored on
tasks from that pool and on every held-out shift axis of the world; the gap is the
train success minus the held-out success, per seed, summarised by IQM with a 95% CI.
Then the gap as a function of the number of distinct training tasks at equal
experience: the curve of Cobbe et al. 2019 ("Quantifying Generalization in RL",
CoinRun: the train-test gap shrinks as the number of training levels grows) and Cobbe
et al. 2020 (Procgen). Scored on the seen training tasks vs unseen tasks of the same
train distribution.
"""

from __future__ import annotations

import jax
import numpy as np

from trainee.measures import generalisation_gap, success_rate
from trainee.studies import figures
from trainee.studies.experiment import (
    Context,
    ci,
    references,
    seed_tasks,
    take,
    train_curve,
)
from trainee.studies.programs import get_program
from trainee.studies.verdict import (
    LEARNED,
    MARGINS,
    Verdict,
    positive_effect,
    require_learned,
    require_learning,
)

NAME = "gap"
CLAIM = "Models do well on what they trained on and worse on variations of it."
METHOD = (
    "ppo agents train on a pool of train-split tasks; the gap is success on tasks of "
    "that pool minus success on each held-out shift axis, per seed (IQM, 95% CI). The "
    "second experiment spreads the same experience over 4 .. pool distinct tasks and "
    "scores seen vs unseen train-distribution tasks (Cobbe et al. 2019, 2020)."
)
MARGIN = MARGINS[NAME]  # stated and justified in studies/verdict.py
DISTINCT = (4, 16, 64)  # distinct training tasks, then the whole pool


PLACEBO = ("every split is a fresh sample of the train distribution (the 'train' side "
           "too, unseen): no shift, so no gap by construction; the distinct-tasks curve, "
           "outside the verdict, is skipped")


def gap_sets(world, ctx: Context, key) -> tuple:
    """One seed's pool and evaluation sets: 'train' (the pool's first tasks; a fresh
    train sample under the placebo) and each held-out axis (train tasks under the
    placebo)."""
    keys = jax.random.split(key, 2 + len(world.shift_axes))
    n = ctx.scale.eval_tasks
    pool = world.tasks(keys[0], "train", ctx.scale.pool)
    sets = {"train": world.tasks(keys[1], "train", n) if ctx.placebo
            else take(pool, np.arange(n))}
    for k, axis in zip(keys[2:], world.shift_axes, strict=True):
        sets[axis] = world.tasks(k, "train" if ctx.placebo else axis, n)
    return pool, sets


def world_gap(ctx: Context, name: str, seed: int) -> dict:
    program = get_program(name, ctx.learner, ctx.scale)
    world = program.world
    pool, eval_sets = seed_tasks(lambda key: gap_sets(world, ctx, key), seed, ctx.seeds)
    curve = train_curve(program, ctx, pool, eval_sets, ctx.scale.chunks, seed, curve=False)
    final = {split: curve.records[split][-1] for split in ("train", *world.shift_axes)}
    gaps = generalisation_gap(final["train"], {a: final[a] for a in world.shift_axes})
    per_seed = np.mean([success_rate(final["train"]) - success_rate(final[a])
                        for a in world.shift_axes], axis=0)
    return {
        "success": {split: ci(success_rate(r)) for split, r in final.items()},
        "gap": {axis: g.success.to_json() for axis, g in gaps.items()},
        "mean_gap": ci(per_seed),
        "train_success": float(np.mean(success_rate(final["train"]))),
        "references": references(program, ctx, curve, eval_sets),
    }


def distinct_curve(ctx: Context, name: str, seed: int) -> dict:
    program = get_program(name, ctx.learner, ctx.scale)
    world = program.world
    counts = [d for d in DISTINCT if d < ctx.scale.pool] + [ctx.scale.pool]

    def draw(key):
        key_pool, key_unseen = jax.random.split(key)
        return (world.tasks(key_pool, "train", ctx.scale.pool),
                world.tasks(key_unseen, "train", ctx.scale.eval_tasks))

    tasks, unseen = seed_tasks(draw, seed, ctx.seeds)
    out = {"distinct": counts, "seen": [], "unseen": [], "gap": []}
    for d in counts:
        pool = jax.tree.map(lambda x, d=d: x[:, np.arange(ctx.scale.pool) % d], tasks)
        seen = jax.tree.map(lambda x: x[:, :ctx.scale.eval_tasks], pool)
        curve = train_curve(program, ctx, pool, {"seen": seen, "unseen": unseen},
                            ctx.scale.chunks, seed, curve=False)
        s, u = curve.final("seen"), curve.final("unseen")
        out["seen"].append(ci(s))
        out["unseen"].append(ci(u))
        out["gap"].append(ci(s - u))
    return out


def run(ctx: Context) -> dict:
    worlds = {name: world_gap(ctx, name, ctx.seed + 10 * i)
              for i, name in enumerate(ctx.scale.worlds)}
    main = ctx.scale.worlds[-1]
    distinct = None if ctx.placebo else distinct_curve(ctx, main, ctx.seed + 100)
    return {"worlds": worlds, "main_world": main, "distinct": distinct,
            "references": worlds[main]["references"],
            "placebo": PLACEBO if ctx.placebo else None}


def verdict(result: dict) -> Verdict:
    main = result["main_world"]
    numbers = result["worlds"][main]
    key = f"mean success gap over {main}'s shift axes"
    refs = numbers.get("references", {}).get("train")  # (results before issue 13: raw)
    weak = (require_learned(refs, f"{main} success on 'train'") if refs else
            require_learning(numbers["train_success"], LEARNED, f"{main} train success"))
    if weak:
        return Verdict("inconclusive", weak, key, numbers["mean_gap"])
    status, reason = positive_effect(numbers["mean_gap"], MARGIN, key)
    return Verdict(status, reason, key, numbers["mean_gap"])


def draw(result: dict) -> list[tuple[str, str]]:
    out = []
    for name, numbers in result["worlds"].items():
        splits = list(numbers["success"])
        out.append((f"{name}: success per split", figures.bars(
            splits, {"success": [numbers["success"][s] for s in splits]},
            "success rate", f"{name}: trained on 'train', scored on every split")))
    d = result["distinct"]
    if not d:  # the placebo skips it
        return out
    out.append(("gap vs distinct training tasks", figures.curves(
        d["distinct"], {"seen tasks": d["seen"], "unseen tasks": d["unseen"], "gap": d["gap"]},
        "distinct training tasks (same experience)", "success rate",
        f"{result['main_world']}: the Cobbe et al. curve", logx=True)))
    return out
