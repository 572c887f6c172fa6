"""two-students: at equal experience, narrow practice transfers worse than broad.

The "10,000-hour student" practises a few tasks of one kind many times; the "100-hour
student" practises many kinds a little each. Both get the same number of env steps.
They are scored on every held-out shift axis, then each is fine-tuned on a new job (the
first shift axis's tasks) and its learning curve there gives samples to competence.
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
from trainee.studies.verdict import MARGINS, Verdict, positive_effect

NAME = "two-students"
CLAIM = ("At equal experience, a narrow learner (few task kinds, much practice each) "
         "transfers worse than a broad one (many kinds, little practice each).")
METHOD = (
    "Narrow: 8 distinct tasks, all from the easiest third by difficulty, repeated to "
    "fill the pool. Broad: the whole pool of distinct train tasks. Same env steps, same "
    "seeds. Scored on every held-out shift axis (pooled), then fine-tuned on the first "
    "axis's tasks: area under the fine-tuning curve and samples to competence."
)
NARROW_DISTINCT = 8
COMPETENCE = 0.8  # success rate that counts as competent on the new job
MARGIN = MARGINS[NAME]  # stated and justified in studies/verdict.py


PLACEBO = ("both students practise the broad pool (the narrow one with another training "
           "seed stream, the same tasks and episode keys): no difference by construction")


def students(ctx: Context, world, key) -> dict:
    """One seed's practice pools, held-out sets and new job."""
    key_pool, key_eval, key_job, key_job_eval = jax.random.split(key, 4)
    big = world.tasks(key_pool, "train", 4 * ctx.scale.pool)
    order = np.argsort(np.asarray(big.difficulty), kind="stable")
    easy = take(big, order[: len(order) // 3])
    broad = take(big, np.arange(ctx.scale.pool))
    narrow = broad if ctx.placebo else repeat_pool(easy, NARROW_DISTINCT, ctx.scale.pool)
    keys = jax.random.split(key_eval, len(world.shift_axes))
    heldout = {a: world.tasks(k, a, ctx.scale.eval_tasks)
               for k, a in zip(keys, world.shift_axes, strict=True)}
    new_job = world.shift_axes[0]
    return {"narrow": narrow, "broad": broad, "heldout": heldout,
            "job_pool": world.tasks(key_job, new_job, ctx.scale.pool),
            "job_eval": {"job": world.tasks(key_job_eval, new_job, ctx.scale.eval_tasks)}}


def student(ctx: Context, program, sets: dict, name: str, seed: int) -> tuple[dict, dict]:
    """One student's practice, held-out scores and fine-tuning on the new job."""
    axes = program.world.shift_axes
    # Training seeds: the same for both students (paired), another under the placebo.
    train_seed = seed + 3 if ctx.placebo and name == "narrow" else seed
    curve = train_curve(program, ctx, sets[name], sets["heldout"], ctx.scale.chunks,
                        train_seed, curve=False, eval_seed=seed)
    per_axis = {a: curve.final(a) for a in axes}
    tune = train_curve(program, ctx, sets["job_pool"], sets["job_eval"],
                       max(2, ctx.scale.chunks // 2), train_seed + 1, params=curve.state.params,
                       eval_seed=seed + 1)
    scores = tune.success("job")
    reach = samples_to_competence(tune.steps, scores, COMPETENCE)
    numbers = {
        "heldout": {a: ci(v) for a, v in per_axis.items()},
        "heldout_mean": ci(np.mean(list(per_axis.values()), axis=0)),
        "finetune_steps": tune.steps.tolist(),
        "finetune_curve": [ci(scores[:, p]) for p in range(scores.shape[1])],
        "finetune_auc": ci(area_under_curve(tune.steps, scores)),
        "samples_to_competence": ci(reach.steps),
        "reached": float(np.mean(reach.reached)),
        "references": references(program, ctx, curve, sets["heldout"]),
    }
    return numbers, np.mean(list(per_axis.values()), axis=0)


def run(ctx: Context) -> dict:
    name = main_world(ctx.scale)
    program = get_program(name, ctx.learner, ctx.scale)
    world = program.world
    seed = ctx.seed + 200
    sets = seed_tasks(lambda key: students(ctx, world, key), seed, ctx.seeds)
    out = {"world": name, "new_job": world.shift_axes[0], "axes": list(world.shift_axes),
           "placebo": PLACEBO if ctx.placebo else None}
    heldout = {}
    for who in ("narrow", "broad"):
        out[who], heldout[who] = student(ctx, program, sets, who, seed)
    out["broad_minus_narrow"] = ci(heldout["broad"] - heldout["narrow"])
    out["references"] = {f"{who}, {axis}": out[who]["references"][axis]
                         for who in ("narrow", "broad") for axis in world.shift_axes}
    return out


def verdict(result: dict) -> Verdict:
    key = "held-out success, broad minus narrow"
    status, reason = positive_effect(result["broad_minus_narrow"], MARGIN, key)
    auc = {s: result[s]["finetune_auc"]["iqm"] for s in ("narrow", "broad")}
    reason += (f"; fine-tuning on {result['new_job']}: area under the success curve "
               f"broad {auc['broad']:.3f} vs narrow {auc['narrow']:.3f}")
    return Verdict(status, reason, key, result["broad_minus_narrow"])


def draw(result: dict) -> list[tuple[str, str]]:
    axes = result["axes"]
    held = figures.bars(axes, {s: [result[s]["heldout"][a] for a in axes]
                               for s in ("narrow", "broad")},
                        "success rate", f"{result['world']}: held-out success after practice")
    tune = figures.curves(result["broad"]["finetune_steps"],
                          {s: result[s]["finetune_curve"] for s in ("narrow", "broad")},
                          "fine-tuning env steps per seed", "success on the new job",
                          f"fine-tuning on {result['new_job']}")
    return [("held-out success", held), ("fine-tuning on a new job", tune)]
