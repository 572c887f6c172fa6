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
from trainee.studies.experiment import Context, ci, repeat_pool, take, train_curve
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


def students(ctx: Context, world, seed: int) -> dict:
    key_pool, key_eval = jax.random.split(jax.random.key(seed))
    big = world.tasks(key_pool, "train", 4 * ctx.scale.pool)
    order = np.argsort(np.asarray(big.difficulty), kind="stable")
    easy = take(big, order[: len(order) // 3])
    broad = take(big, np.arange(ctx.scale.pool))
    narrow = repeat_pool(easy, NARROW_DISTINCT, ctx.scale.pool)
    keys = jax.random.split(key_eval, len(world.shift_axes))
    heldout = {a: world.tasks(k, a, ctx.scale.eval_tasks)
               for k, a in zip(keys, world.shift_axes, strict=True)}
    return {"narrow": narrow, "broad": broad, "heldout": heldout}


def run(ctx: Context) -> dict:
    name = main_world(ctx.scale)
    program = get_program(name, ctx.learner, ctx.scale)
    world = program.world
    sets = students(ctx, world, ctx.seed + 200)
    new_job = world.shift_axes[0]
    key_job, key_job_eval = jax.random.split(jax.random.key(ctx.seed + 201))
    job_pool = world.tasks(key_job, new_job, ctx.scale.pool)
    job_eval = {"job": world.tasks(key_job_eval, new_job, ctx.scale.eval_tasks)}
    out = {"world": name, "new_job": new_job, "axes": list(world.shift_axes)}
    heldout_per_seed = {}
    for student in ("narrow", "broad"):
        curve = train_curve(program, ctx, sets[student], sets["heldout"], ctx.scale.chunks,
                            ctx.seed + 202, curve=False)
        per_axis = {a: curve.success(a)[:, -1] for a in world.shift_axes}
        heldout_per_seed[student] = np.mean(list(per_axis.values()), axis=0)
        tune = train_curve(program, ctx, job_pool, job_eval, max(2, ctx.scale.chunks // 2),
                           ctx.seed + 203, params=curve.state.params)
        scores = tune.success("job")
        reach = samples_to_competence(tune.steps, scores, COMPETENCE)
        out[student] = {
            "heldout": {a: ci(v) for a, v in per_axis.items()},
            "heldout_mean": ci(heldout_per_seed[student]),
            "finetune_steps": tune.steps.tolist(),
            "finetune_curve": [ci(scores[:, p]) for p in range(scores.shape[1])],
            "finetune_auc": ci(area_under_curve(tune.steps, scores)),
            "samples_to_competence": ci(reach.steps),
            "reached": float(np.mean(reach.reached)),
        }
    out["broad_minus_narrow"] = ci(heldout_per_seed["broad"] - heldout_per_seed["narrow"])
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
