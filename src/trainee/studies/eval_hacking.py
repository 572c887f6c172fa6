"""eval-hacking: a researcher who picks the best of many configs by checking the same
held-out split reports a score that a fresh test does not confirm.

A simulated researcher trains `configs` hyperparameter settings (learning rate,
entropy bonus), asks for each one's held-out score, and reports the best. Reported
minus fresh-final score is the optimism. With the plain reused holdout the answer is
the holdout mean; through Thresholdout (Dwork et al. 2015, "The reusable holdout",
Science) the answer is the researcher's own larger dev-set mean unless the holdout
disagrees by more than a noisy threshold. Each seed is one independent researcher.
"""

from __future__ import annotations

import jax
import numpy as np

from trainee.exam import Thresholdout
from trainee.studies import figures
from trainee.studies.experiment import Context, ci, references, seed_tasks, train_curve
from trainee.studies.programs import get_program
from trainee.studies.tasksets import main_world
from trainee.studies.verdict import MARGINS, Verdict, combine, positive_effect

NAME = "eval-hacking"
CLAIM = ("Picking the best of many configs on a reused held-out split overstates the "
         "score a fresh test gives; a Thresholdout exam overstates it less.")
METHOD = (
    "Configs: learning rate log-uniform in [3e-4, 3e-3] and entropy bonus in [0, 0.05]. "
    "Each is scored per (task, episode) on a dev set (4 batches of tasks), a small "
    "holdout (1 batch) and a fresh final (4 batches), all from the train distribution. "
    "Researcher A reports max holdout mean; researcher B reports the max Thresholdout "
    "answer (threshold 1/sqrt(n_holdout), sigma = threshold / 4, the paper's ratio "
    "T = 4 sigma; budget = number of configs). Optimism = reported minus fresh final."
)
MARGIN = MARGINS[NAME]  # stated and justified in studies/verdict.py
DEV_BATCHES = 4
FINAL_BATCHES = 4


def config_list(count: int, seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    return [{"lr": float(10 ** rng.uniform(np.log10(3e-4), np.log10(3e-3))),
             "ent_coef": float(rng.uniform(0.0, 0.05))} for _ in range(count)]


PLACEBO = ("the researcher picks a config at random instead of by its holdout answer "
           "(with either way of asking): no selection, so no optimism by construction")


def config_sets(world, ctx: Context, key) -> tuple:
    """One researcher's (seed's) training pool and dev, holdout and final batches."""
    keys = jax.random.split(key, 1 + DEV_BATCHES + 1 + FINAL_BATCHES)
    n = ctx.scale.eval_tasks
    sets = {f"dev{i}": world.tasks(keys[1 + i], "train", n) for i in range(DEV_BATCHES)}
    sets["holdout"] = world.tasks(keys[1 + DEV_BATCHES], "train", n)
    sets.update({f"final{i}": world.tasks(keys[2 + DEV_BATCHES + i], "train", n)
                 for i in range(FINAL_BATCHES)})
    return world.tasks(keys[0], "train", ctx.scale.pool), sets


def score_configs(ctx: Context, world_name: str, configs: list[dict], seed: int) -> tuple:
    """Per config: per-seed, per-item success on dev, holdout and final, (S, items); and
    the references of the first config on the holdout."""
    program = get_program(world_name, ctx.learner, ctx.scale)
    pool, sets = seed_tasks(lambda key: config_sets(program.world, ctx, key), seed,
                            ctx.seeds)
    items, refs = {"dev": [], "holdout": [], "final": []}, None
    for i, hp in enumerate(configs):
        curve = train_curve(program, ctx, pool, sets, ctx.scale.chunks, seed + 1 + i,
                            hp=hp, curve=False, eval_seed=seed)
        flat = {k: np.asarray(v[-1].success, np.float64).reshape(ctx.seeds, -1)
                for k, v in curve.records.items()}
        for part in items:
            items[part].append(np.concatenate(
                [flat[k] for k in sorted(flat) if k.rstrip("0123456789") == part], axis=1))
        if refs is None:
            refs = references(program, ctx, curve, sets, ("holdout",))["holdout"]
    return {k: np.stack(v) for k, v in items.items()}, refs  # (configs, S, items)


def researchers(items: dict, seed: int, placebo: bool = False) -> dict:
    """Per seed (researcher): reported and fresh scores with each way of asking. Under
    the `placebo` each researcher picks a config at random."""
    dev, holdout, final = items["dev"], items["holdout"], items["final"]
    configs, seeds, n = holdout.shape
    threshold = 1.0 / np.sqrt(n)
    rng = np.random.default_rng(seed)
    out = {k: np.zeros(seeds) for k in ("reused_reported", "reused_fresh",
                                        "thresholdout_reported", "thresholdout_fresh",
                                        "oracle_best")}
    for r in range(seeds):
        holdout_means = holdout[:, r].mean(axis=1)
        pick = int(rng.integers(configs)) if placebo else int(np.argmax(holdout_means))
        out["reused_reported"][r] = holdout_means[pick]
        out["reused_fresh"][r] = final[pick, r].mean()
        mechanism = Thresholdout(threshold=threshold, sigma=threshold / 4, budget=configs,
                                 key=seed + r)
        answers = [mechanism.answer(dev[c, r], holdout[c, r]) for c in range(configs)]
        pick = int(rng.integers(configs)) if placebo else int(np.argmax(answers))
        out["thresholdout_reported"][r] = answers[pick]
        out["thresholdout_fresh"][r] = final[pick, r].mean()
        out["oracle_best"][r] = final[:, r].mean(axis=1).max()
    return out


def run(ctx: Context) -> dict:
    name = main_world(ctx.scale)
    configs = config_list(ctx.scale.configs, ctx.seed + 500)
    items, refs = score_configs(ctx, name, configs, ctx.seed + 501)
    r = researchers(items, ctx.seed + 502, ctx.placebo)
    reused = r["reused_reported"] - r["reused_fresh"]
    guarded = r["thresholdout_reported"] - r["thresholdout_fresh"]
    return {
        "world": name, "configs": configs, "holdout_items": int(items["holdout"].shape[2]),
        "dev_items": int(items["dev"].shape[2]),
        **{k: ci(v) for k, v in r.items()},
        "optimism_reused": ci(reused),
        "optimism_thresholdout": ci(guarded),
        "optimism_reduction": ci(reused - guarded),
        "config_final": [ci(items["final"][c].mean(axis=1)) for c in range(len(configs))],
        "config_holdout": [ci(items["holdout"][c].mean(axis=1)) for c in range(len(configs))],
        "references": {"config 0, holdout": refs},
        "placebo": PLACEBO if ctx.placebo else None,
    }


def verdict(result: dict) -> Verdict:
    key = "optimism of the reused holdout (reported minus fresh success)"
    status, reason = combine(
        positive_effect(result["optimism_reused"], MARGIN, key),
        positive_effect(result["optimism_reduction"], MARGIN,
                        "optimism reduction by Thresholdout"),
    )
    return Verdict(status, reason, key, result["optimism_reused"])


def draw(result: dict) -> list[tuple[str, str]]:
    groups = ["reused holdout", "Thresholdout"]
    bars = figures.bars(groups, {
        "reported": [result["reused_reported"], result["thresholdout_reported"]],
        "fresh final": [result["reused_fresh"], result["thresholdout_fresh"]],
    }, "success rate", "what the researcher reports vs a fresh test")
    configs = figures.bars([str(i) for i in range(len(result["configs"]))], {
        "holdout": result["config_holdout"], "fresh final": result["config_final"]},
        "success rate", "every config: holdout vs fresh final")
    return [("reported vs fresh", bars), ("configs", configs)]
