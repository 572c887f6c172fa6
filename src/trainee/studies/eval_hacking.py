"""eval-hacking: a researcher who adapts to the answers of a reused held-out split
reports a score that a fresh test does not confirm; Thresholdout guards it.

The model is Dwork et al. 2015 ("The reusable holdout", Science; reproduced without RL
in `benchmarks/reusable_holdout.py`): an analyst asks many questions of one holdout,
chooses the next questions from the answers, builds a final answer out of the parts
that looked good, and reports that part-built answer's holdout score. Here:

- **candidates**: every checkpoint of `configs` cheaply trained agents (learning rate,
  entropy bonus), trained once per researcher and reused by every round;
- **each seed is one researcher** with its own training pool, its own train side and
  holdout (two equal samples of the train distribution) and its own fresh final set;
- **the adaptive researcher** (`research`): round 1 asks every candidate's score and
  keeps the best quarter; round 2 asks each kept candidate's score on each difficulty
  group of tasks and keeps the best per group; round 3 composes the agent that plays
  each group's task with that group's winner (routing by the task's difficulty, which
  the agent sees) and asks its score, which is what the researcher reports;
- **three ways of answering**, on the same candidates and sets: the plain reused
  holdout; Thresholdout (`trainee.exam.Thresholdout`, the paper's calibration
  `calibration(n)`: T = 4 / sqrt(n), sigma = 1 / sqrt(n), train side from the
  holdout's distribution); and a control that asks the plain holdout but picks at
  random in every round (no selection, so no optimism by construction).

Optimism = reported minus the composed agent's fresh final score.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import numpy as np

from trainee.exam import Thresholdout
from trainee.exam.thresholdout import calibration
from trainee.studies import figures
from trainee.studies.experiment import Context, ci, references, seed_tasks, train_curve
from trainee.studies.programs import get_program
from trainee.studies.tasksets import main_world
from trainee.studies.verdict import MARGINS, Verdict, combine, positive_effect

NAME = "eval-hacking"
CLAIM = ("A researcher who adapts to a reused held-out split overstates the score a "
         "fresh test gives; a Thresholdout holdout overstates it less.")
METHOD = (
    "Each seed is one researcher with its own pool, train side and holdout (1 batch of "
    "tasks each, same distribution) and fresh final (4 batches). Candidates: every "
    "checkpoint of `configs` agents (learning rate log-uniform in [3e-4, 3e-3], entropy "
    "bonus in [0, 0.05]). Adaptive rounds (Dwork et al. 2015): ask every candidate's "
    "score, keep the best quarter; ask each kept one's score per difficulty group "
    "(holdout items / 16 groups, at most 8), keep the best per group; compose them "
    "(each task played by its group's winner) and report the composite's answer. Answers "
    "from the plain reused holdout, from Thresholdout (T = 4/sqrt(n), sigma = 1/sqrt(n), "
    "Laplace noise, budget = queries) and a random-pick control on the plain holdout. "
    "Optimism = reported minus fresh final."
)
MARGIN = MARGINS[NAME]  # stated and justified in studies/verdict.py
FINAL_BATCHES = 4
ITEMS_PER_GROUP = 16  # holdout items per difficulty group the researcher asks about
MAX_GROUPS = 8
ARMS = ("reused", "thresholdout", "control")
PLACEBO = ("every researcher (plain holdout and Thresholdout too) picks at random in "
           "every round: no selection, so no optimism in any arm by construction")


def config_list(count: int, seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    return [{"lr": float(10 ** rng.uniform(np.log10(3e-4), np.log10(3e-3))),
             "ent_coef": float(rng.uniform(0.0, 0.05))} for _ in range(count)]


def config_sets(world, ctx: Context, key) -> tuple:
    """One researcher's (seed's) training pool and train-side, holdout and final batches."""
    keys = jax.random.split(key, 3 + FINAL_BATCHES)
    n = ctx.scale.eval_tasks
    sets = {"trainside": world.tasks(keys[1], "train", n),
            "holdout": world.tasks(keys[2], "train", n)}
    sets.update({f"final{i}": world.tasks(keys[3 + i], "train", n)
                 for i in range(FINAL_BATCHES)})
    return world.tasks(keys[0], "train", ctx.scale.pool), sets


def per_item(records, seeds: int) -> tuple[np.ndarray, np.ndarray]:
    """(S, items) success and (S, items) difficulty of one evaluation, items = tasks x
    episodes in task-major order."""
    success = np.asarray(records.success, bool)  # (S, tasks, episodes)
    difficulty = np.broadcast_to(np.asarray(records.difficulty)[..., None], success.shape)
    return success.reshape(seeds, -1), difficulty.reshape(seeds, -1)


def score_candidates(ctx: Context, world_name: str, configs: list[dict], seed: int) -> tuple:
    """Every checkpoint (after each chunk) of every config, per researcher and item:
    {"trainside" | "holdout" | "final": (candidates, S, items)}, the items' difficulty
    {part: (S, items)}, and the references of config 0 on the holdout."""
    program = get_program(world_name, ctx.learner, ctx.scale)
    pool, sets = seed_tasks(lambda key: config_sets(program.world, ctx, key), seed,
                            ctx.seeds)
    parts = {"trainside": ["trainside"], "holdout": ["holdout"],
             "final": [f"final{i}" for i in range(FINAL_BATCHES)]}
    items, difficulty, refs = {part: [] for part in parts}, {}, None
    for i, hp in enumerate(configs):
        curve = train_curve(program, ctx, pool, sets, ctx.scale.chunks, seed + 1 + i,
                            hp=hp, eval_seed=seed)
        for t in range(1, len(curve.steps)):  # the checkpoints (0 is untrained)
            for part, names in parts.items():
                flat = [per_item(curve.records[n][t], ctx.seeds) for n in names]
                items[part].append(np.concatenate([f[0] for f in flat], axis=1))
                difficulty[part] = np.concatenate([f[1] for f in flat], axis=1)
        if refs is None:
            refs = references(program, ctx, curve, sets, ("holdout",))["holdout"]
    return {k: np.stack(v) for k, v in items.items()}, difficulty, refs


def difficulty_groups(difficulty: dict, groups: int) -> dict:
    """{part: (items,) group index}: quantile bins of the train side's difficulties (the
    researcher's own set), the same edges for every part."""
    edges = np.quantile(difficulty["trainside"], np.linspace(0, 1, groups + 1)[1:-1])
    return {part: np.searchsorted(edges, d, side="right") for part, d in difficulty.items()}


def research(ask: Callable, items: dict, group: dict, groups: int, pick: Callable) -> dict:
    """One researcher's three rounds (module docstring) on `items` {part: (candidates,
    items)}; `ask(train_values, holdout_values)` answers a query, `pick(answers, k)` the
    indices of the k chosen answers (the best k, or k at random for the control).
    Returns the composite's reported answer, its fresh score and the queries asked."""
    train, holdout = items["trainside"], items["holdout"]
    candidates = train.shape[0]
    first = [ask(train[c], holdout[c]) for c in range(candidates)]
    kept = pick(np.asarray(first), max(2, candidates // 4))
    choice, queries = np.full(groups, kept[0]), candidates + 1
    for g in range(groups):
        tr, ho = group["trainside"] == g, group["holdout"] == g
        if tr.any() and ho.any():
            answers = [ask(train[c, tr], holdout[c, ho]) for c in kept]
            choice[g] = kept[pick(np.asarray(answers), 1)[0]]
            queries += len(kept)
    composite = {part: v[choice[group[part]], np.arange(v.shape[1])]
                 for part, v in items.items()}
    reported = ask(composite["trainside"], composite["holdout"])
    return {"reported": reported, "fresh": float(composite["final"].mean()),
            "queries": queries}


def researchers(items: dict, difficulty: dict, seed: int, placebo: bool = False) -> dict:
    """Per seed (researcher) and arm: reported and fresh scores, (S,) each."""
    candidates, seeds, n = items["holdout"].shape
    groups = max(1, min(MAX_GROUPS, n // ITEMS_PER_GROUP))
    threshold, sigma = calibration(n)
    rng = np.random.default_rng(seed)
    best = lambda answers, k: np.argsort(-answers, kind="stable")[:k]
    at_random = lambda answers, k: rng.permutation(len(answers))[:k]
    plain = lambda train, holdout: float(np.mean(holdout))
    out = {f"{arm}_{k}": np.zeros(seeds) for arm in ARMS for k in ("reported", "fresh")}
    out["over_threshold"] = np.zeros(seeds)
    for r in range(seeds):
        mine = {part: v[:, r] for part, v in items.items()}
        group = difficulty_groups({p: d[r] for p, d in difficulty.items()}, groups)
        mechanism = Thresholdout(threshold, sigma, budget=10**6, key=seed * 1000 + r)
        asks = {"reused": plain, "thresholdout": mechanism.answer, "control": plain}
        for arm, ask in asks.items():
            pick = at_random if placebo or arm == "control" else best
            answer = research(ask, mine, group, groups, pick)
            out[f"{arm}_reported"][r], out[f"{arm}_fresh"][r] = (answer["reported"],
                                                               answer["fresh"])
        out["over_threshold"][r] = 10**6 - mechanism.budget_left
    out["groups"], out["threshold"], out["sigma"] = groups, threshold, sigma
    return out


def run(ctx: Context) -> dict:
    name = main_world(ctx.scale)
    configs = config_list(ctx.scale.configs, ctx.seed + 500)
    items, difficulty, refs = score_candidates(ctx, name, configs, ctx.seed + 501)
    r = researchers(items, difficulty, ctx.seed + 502, ctx.placebo)
    optimism = {arm: r[f"{arm}_reported"] - r[f"{arm}_fresh"] for arm in ARMS}
    return {
        "world": name, "configs": configs, "candidates": int(items["holdout"].shape[0]),
        "holdout_items": int(items["holdout"].shape[2]),
        "final_items": int(items["final"].shape[2]), "groups": r["groups"],
        "threshold": float(r["threshold"]), "sigma": float(r["sigma"]),
        **{f"{arm}_{k}": ci(r[f"{arm}_{k}"]) for arm in ARMS for k in ("reported", "fresh")},
        "over_threshold": ci(r["over_threshold"]),
        **{f"optimism_{arm}": ci(v) for arm, v in optimism.items()},
        "optimism_reused_minus_control": ci(optimism["reused"] - optimism["control"]),
        "optimism_reduction": ci(optimism["reused"] - optimism["thresholdout"]),
        "candidate_final": [ci(items["final"][c].mean(axis=1))
                            for c in range(items["final"].shape[0])],
        "candidate_holdout": [ci(items["holdout"][c].mean(axis=1))
                              for c in range(items["holdout"].shape[0])],
        "references": {"config 0, holdout": refs},
        "placebo": PLACEBO if ctx.placebo else None,
    }


def verdict(result: dict) -> Verdict:
    key = "optimism (reported minus fresh success), reused holdout minus Thresholdout"
    status, reason = combine(
        positive_effect(result["optimism_reused_minus_control"], MARGIN,
                        "reused holdout's optimism minus the random-pick control's"),
        positive_effect(result["optimism_reduction"], MARGIN,
                        "optimism of the reused holdout minus Thresholdout's"),
    )
    return Verdict(status, reason, key, result["optimism_reduction"])


def draw(result: dict) -> list[tuple[str, str]]:
    groups = ["reused holdout", "Thresholdout", "random-pick control"]
    bars = figures.bars(groups, {
        "reported": [result[f"{arm}_reported"] for arm in ARMS],
        "fresh final": [result[f"{arm}_fresh"] for arm in ARMS],
    }, "success rate", "what the adaptive researcher reports vs a fresh test")
    candidates = figures.bars([str(i) for i in range(len(result["candidate_final"]))], {
        "holdout": result["candidate_holdout"], "fresh final": result["candidate_final"]},
        "success rate", "every candidate (config x checkpoint): holdout vs fresh final")
    return [("reported vs fresh", bars), ("candidates", candidates)]
