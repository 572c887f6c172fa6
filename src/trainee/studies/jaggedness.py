"""jaggedness: trained agents fail easy tasks while solving harder ones, and a newer
checkpoint breaks tasks an older one solved ("fix bug A, bug B comes back").

For `ppo` and `pg` agents trained on the same pool: the jaggedness index (easy-fail /
hard-pass inversions, docs/measures.md) beside a null model, worst-decile success,
negative flips between successive checkpoints (Yan et al. 2021) on the same tasks and
episode keys, and re-introduced bugs per episode where the world counts them (repair).
"""

from __future__ import annotations

import jax
import numpy as np

from trainee.measures import (
    flips,
    jaggedness,
    jaggedness_index,
    reintroduced_bugs_per_episode,
    success_rate,
    task_success,
)
from trainee.studies import figures
from trainee.studies.experiment import (
    Context,
    ci,
    eval_keys,
    references,
    seed_tasks,
    train_curve,
)
from trainee.studies.programs import get_program
from trainee.studies.tasksets import main_world
from trainee.studies.verdict import (
    LEARNED,
    MARGINS,
    Verdict,
    above_null,
    combine,
    require_learned,
    require_learning,
)

NAME = "jaggedness"
CLAIM = ("Trained agents are jagged: they fail easy tasks while solving harder ones, and "
         "successive checkpoints regress on tasks that were already solved.")
METHOD = (
    "ppo and pg agents train on one pool; after every chunk they play the same fixed "
    "tasks with the same episode keys. Negative flip rate: (task, episode) pairs solved "
    "at one checkpoint and failed at the next, averaged over successive pairs, against "
    "a test-retest null (each checkpoint played again with fresh episode keys). "
    "Jaggedness at the end is compared with a null model in which success does not "
    "depend on difficulty (difficulties shuffled). Pools and fixed tasks drawn per seed."
)
MARGIN = MARGINS[NAME]  # stated and justified in studies/verdict.py
NULL_SHUFFLES = 20
PLACEBO = ("'successive checkpoints' are the final checkpoint played again with fresh "
           "episode keys, and the agent's index is computed on shuffled difficulties: "
           "no regression and no inversion beyond the nulls by construction")


def null_jaggedness(success: np.ndarray, difficulty: np.ndarray, seed: int) -> np.ndarray:
    """(S,) jaggedness with each seed's difficulties shuffled: what an agent whose
    success ignores difficulty would score (the inversion rate expected by chance)."""
    rng = np.random.default_rng(seed)
    shuffled = [jaggedness_index(success, rng.permuted(difficulty, axis=-1))
                for _ in range(NULL_SHUFFLES)]
    return np.mean(shuffled, axis=0)


def mean_flips(pairs, kind: str) -> np.ndarray:
    """(S,) mean `kind` flip rate over (old, new) pairs of Records."""
    return np.mean([getattr(flips(a.success, b.success), kind) for a, b in pairs], axis=0)


def checkpoints(ctx: Context, program, curve, fixed, seed: int) -> tuple[list, list]:
    """(records at successive checkpoints after the first chunk, their test-retest
    twins). Under the placebo the 'checkpoints' are the final one played with fresh keys
    each time (the same policy: any flip is evaluation noise)."""
    records, retest = curve.records["fixed"][1:], curve.retest["fixed"][1:]
    if not ctx.placebo:
        return records, retest
    evaluate = program.evaluator(ctx.scale.episodes, in_axes=(0, 0, 0))
    replay = [evaluate(curve.state.params, eval_keys(seed + 1000 * (t + 1), ctx.seeds),
                       fixed["fixed"]).to_numpy() for t in range(len(records))]
    return replay, retest


def agent_numbers(ctx: Context, world_name: str, learner: str, seed: int) -> dict:
    program = get_program(world_name, learner, ctx.scale)
    world = program.world

    def draw(key):
        key_pool, key_eval = jax.random.split(key)
        return (world.tasks(key_pool, "train", ctx.scale.pool),
                {"fixed": world.tasks(key_eval, "train", ctx.scale.eval_tasks)})

    pool, fixed = seed_tasks(draw, seed, ctx.seeds)
    curve = train_curve(program, ctx, pool, fixed, ctx.scale.chunks, seed + 1, retest=True,
                        eval_seed=seed)
    records, retest = checkpoints(ctx, program, curve, fixed, seed)
    successive = list(zip(records[:-1], records[1:], strict=True))
    negative = mean_flips(successive, "negative")
    null = mean_flips(zip(records, retest, strict=True), "negative")  # same policy twice
    final = curve.records["fixed"][-1]
    jag = jaggedness(final)
    difficulty = np.asarray(final.difficulty)
    if ctx.placebo:  # an agent whose success ignores difficulty by construction
        jag = jag._replace(jaggedness=null_jaggedness(task_success(final), difficulty,
                                                      seed + 1))
    jag_null = null_jaggedness(task_success(final), difficulty, seed)
    out = {
        "success": ci(success_rate(final)),
        "success_mean": float(np.mean(success_rate(final))),
        "curve": [ci(success_rate(r)) for r in curve.records["fixed"]],
        "steps": curve.steps.tolist(),
        "negative_flips": ci(negative),
        "negative_flips_null": ci(null),
        "negative_flips_minus_null": ci(negative - null),
        "positive_flips": ci(mean_flips(successive, "positive")),
        "jaggedness": ci(jag.jaggedness),
        "jaggedness_null": ci(jag_null),
        "jaggedness_minus_null": ci(jag.jaggedness - jag_null),
        "worst_decile_success": ci(jag.worst_decile_success),
        "references": references(program, ctx, curve, fixed)["fixed"],
    }
    if "regressions" in final.counters:
        out["reintroduced_bugs"] = ci(reintroduced_bugs_per_episode(final))
    return out


def run(ctx: Context) -> dict:
    name = main_world(ctx.scale)
    agents = {learner: agent_numbers(ctx, name, learner, ctx.seed + 400)
              for learner in ("ppo", "pg")}
    return {"world": name, "agents": agents,
            "references": {k: v["references"] for k, v in agents.items()},
            "placebo": PLACEBO if ctx.placebo else None}


def verdict(result: dict) -> Verdict:
    ppo = result["agents"]["ppo"]
    key = "negative flip rate between successive ppo checkpoints minus its null"
    value = ppo.get("negative_flips_minus_null", ppo["negative_flips"])
    if "references" in ppo:
        weak = require_learned(ppo["references"], "ppo success")
    else:
        weak = require_learning(ppo["success_mean"], LEARNED, "ppo success")
    if weak:
        return Verdict("inconclusive", weak, key, value)
    # Both statistics are >= 0 by construction, so each is judged by its excess over its
    # null (issue 13): the same checkpoint played twice with fresh keys for flips, the
    # difficulties shuffled for the index.
    status, reason = combine(
        above_null(ppo, "negative_flips", MARGIN, "ppo negative flip rate"),
        above_null(ppo, "jaggedness", MARGIN, "ppo jaggedness index"),
    )
    return Verdict(status, reason, key, value)


def draw(result: dict) -> list[tuple[str, str]]:
    agents = result["agents"]
    names = {"negative_flips": "neg. flips", "positive_flips": "pos. flips",
             "negative_flips_null": "flip null", "jaggedness": "jaggedness",
             "jaggedness_null": "index null",
             "worst_decile_success": "worst 10%"}
    bars = figures.bars(list(names.values()),
                        {k: [v[n] for n in names] for k, v in agents.items()},
                        "rate", f"{result['world']}: regressions and inversions")
    out = [("regressions between checkpoints (null: the same checkpoint played twice), "
            "jaggedness (null: difficulty shuffled), worst-decile success", bars)]
    if "reintroduced_bugs" in agents["ppo"]:
        out.append(("re-introduced bugs per episode", figures.bars(
            ["re-introduced bugs per episode"],
            {k: [v["reintroduced_bugs"]] for k, v in agents.items()}, "bugs per episode",
            f"{result['world']}: a fixed test fails again")))
    steps = agents["ppo"]["steps"]
    curve = figures.curves(steps, {k: v["curve"] for k, v in agents.items()},
                           "env steps per seed", "success on the fixed tasks",
                           "checkpoints on the same tasks and keys")
    return [*out, ("checkpoints", curve)]
