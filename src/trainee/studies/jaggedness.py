"""jaggedness: trained agents fail easy tasks while solving harder ones, and a newer
checkpoint breaks tasks an older one solved ("fix bug A, bug B comes back").

For `ppo` and `pg` agents trained on repair (bugs interact: fixing one can break a
test that had passed), three statistics, each beside a null measured the same way:
- negative flips between successive checkpoints (Yan et al. 2021) against a test-retest
  null: every checkpoint is played twice on the same fixed tasks, with episode keys A and
  B, and a flip rate always compares an evaluation on A with one on B
  (`measures.retest_flips`), so the null (the old checkpoint against itself) and the
  agents' flips (the old checkpoint against the next) differ only in the policy;
- the jaggedness index at the end against a monotone null: the isotonic (never rising)
  fit of the agent's own per-task success on difficulty, evaluated as often as the agent
  was (`measures.monotone_null`, bias-corrected);
- re-introduced bugs per episode (repair's hidden `regressions` counter) against the
  oracle (0 by construction) and the random policy on the same tasks and keys.
"""

from __future__ import annotations

import jax
import numpy as np

from trainee.measures import (
    jaggedness,
    jaggedness_index,
    monotone_fit,
    monotone_null,
    reintroduced_bugs_per_episode,
    retest_flips,
    success_rate,
    task_success,
)
from trainee.studies import figures
from trainee.studies.experiment import (
    Context,
    ci,
    eval_keys,
    reference_block,
    reference_records,
    references,
    seed_tasks,
    train_curve,
)
from trainee.studies.programs import get_program
from trainee.studies.tasksets import ACHIEVEMENT_DEPTH, has_items, jagged_items, main_world
from trainee.studies.verdict import MARGINS, Verdict, above_null, combine, require_learned

NAME = "jaggedness"
CLAIM = ("Trained agents are jagged: they fail easy tasks while solving harder ones, and "
         "successive checkpoints regress on tasks that were already solved.")
METHOD = (
    "ppo and pg agents train on repair, one pool per seed; after every chunk each plays "
    "the same fixed tasks twice, with episode keys A and B. Negative flip rate between "
    "successive checkpoints: solved by the old checkpoint on one key, failed by the new "
    "one on the other (both ways, averaged); its test-retest null is the same with the "
    "old checkpoint in place of the new one. Jaggedness index at the end (easy-fail / "
    "hard-pass pairs) against a monotone null: the isotonic fit of the agent's per-task "
    "success on difficulty, played as often (20 simulated evaluations, bias-corrected "
    "by a second level of simulation, since the fit follows the noise). Re-introduced "
    "bugs per episode against the oracle (0) and the random policy. The verdict needs "
    "both excesses (flips and index over their nulls) above the margin. On Craftax "
    "(standard scale) the items are its 22 achievements, not its tasks: unlocked or not "
    "per episode, difficulty = depth in the tech tree (tasksets.ACHIEVEMENT_DEPTH); the "
    "learning guard is one achievement an episode above random play."
)
MARGIN = MARGINS[NAME]  # stated and justified in studies/verdict.py
NULL_DRAWS = 20  # simulated evaluations of the monotone fit per seed
PLACEBO = ("the 'successive checkpoints' are the final one played again with fresh pairs "
           "of episode keys, and the index is read on an evaluation simulated from the "
           "agent's own monotone fit: no regression and no inversion beyond the nulls "
           "by construction")


def played_twice(curve) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per checkpoint after the first chunk: (success on keys A, success on keys B)."""
    return [(jagged_items(a).success, jagged_items(b).success)
            for a, b in zip(curve.records["fixed"][1:], curve.retest["fixed"][1:], strict=True)]


def replayed(ctx: Context, program, params, batch, seed: int, count: int) -> list:
    """The placebo's checkpoints: the same `params` played `count` times, each time with
    a fresh pair of episode keys (any flip between them is evaluation noise)."""
    evaluate = program.evaluator(ctx.scale.episodes, in_axes=(0, 0, 0))
    play = lambda s: jagged_items(evaluate(params, eval_keys(s, ctx.seeds), batch)
                                  .to_numpy()).success
    return [(play(seed + 1000 * (t + 1)), play(seed + 1000 * (t + 1) + 500))
            for t in range(count)]


def flip_numbers(checkpoints: list) -> dict:
    """Per seed: flips between successive checkpoints and their test-retest null."""
    pairs = list(zip(checkpoints[:-1], checkpoints[1:], strict=True))
    negative = np.mean([retest_flips(old, new) for old, new in pairs], axis=0)
    null = np.mean([retest_flips(old, old) for old, _ in pairs], axis=0)
    positive = np.mean([retest_flips(new, old) for old, new in pairs], axis=0)
    return {"negative_flips": ci(negative), "negative_flips_null": ci(null),
            "negative_flips_minus_null": ci(negative - null),
            "positive_flips": ci(positive)}


def index_numbers(final, episodes: int, seed: int, placebo: bool) -> dict:
    """Per seed: the jaggedness index, its monotone null, worst-decile success."""
    rng = np.random.default_rng(seed)
    success, difficulty = task_success(final), np.asarray(final.difficulty)
    if placebo:  # an agent monotone by construction: a draw from its own monotone fit
        fits = np.stack([monotone_fit(s, d) for s, d in zip(success, difficulty,
                                                              strict=True)])
        success = rng.binomial(episodes, fits) / episodes
    index = jaggedness_index(success, difficulty)
    null = monotone_null(success, difficulty, episodes, rng, NULL_DRAWS)
    return {"jaggedness": ci(index), "jaggedness_null": ci(null),
            "jaggedness_minus_null": ci(index - null),
            "worst_decile_success": ci(jaggedness(final).worst_decile_success)}


def bug_numbers(program, ctx: Context, curve, fixed) -> dict:
    """Re-introduced bugs per episode at the end: agent, oracle, random (same keys)."""
    final = curve.records["fixed"][-1]
    if "regressions" not in final.counters:
        return {}
    agent = reintroduced_bugs_per_episode(final)
    refs = reference_records(program.world, fixed["fixed"], curve.keys, ctx.scale.episodes)
    out = {"reintroduced_bugs": ci(agent)}
    for name, records in refs.items():
        bugs = reintroduced_bugs_per_episode(records)
        out[f"reintroduced_bugs_{name}"] = ci(bugs)
        out[f"reintroduced_bugs_minus_{name}"] = ci(agent - bugs)
    return out


def item_references(program, ctx: Context, curve, fixed) -> dict:
    """For a world whose items are achievements (`tasksets.jagged_items`): the agent's,
    the untrained parameters' and random play's achievement unlock rate (mean over
    achievements and episodes) on the same tasks and keys; nothing for other worlds."""
    if not has_items(curve.records["fixed"][-1]):
        return {}
    rate = lambda records: success_rate(jagged_items(records))
    refs = reference_records(program.world, fixed["fixed"], curve.keys, ctx.scale.episodes)
    return {"item_references": reference_block(
        rate(curve.records["fixed"][-1]), rate(curve.start["fixed"]),
        {name: rate(records) for name, records in refs.items()})}


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
    checkpoints = played_twice(curve)
    if ctx.placebo:
        checkpoints = replayed(ctx, program, curve.state.params, fixed["fixed"], seed,
                               len(checkpoints))
    final = jagged_items(curve.records["fixed"][-1])  # the tasks, or Craftax's achievements
    return {
        "success": ci(success_rate(final)),
        "curve": [ci(success_rate(jagged_items(r))) for r in curve.records["fixed"]],
        "steps": curve.steps.tolist(),
        **flip_numbers(checkpoints),
        **index_numbers(final, final.success.shape[-1], seed, ctx.placebo),
        **bug_numbers(program, ctx, curve, fixed),
        **item_references(program, ctx, curve, fixed),
        "references": references(program, ctx, curve, fixed)["fixed"],
    }


def run(ctx: Context) -> dict:
    name = main_world(ctx.scale)
    agents = {learner: agent_numbers(ctx, name, learner, ctx.seed + 400)
              for learner in ("ppo", "pg")}
    return {"world": name, "agents": agents,
            "references": {k: v["references"] for k, v in agents.items()},
            "placebo": PLACEBO if ctx.placebo else None}


def verdict(result: dict) -> Verdict:
    ppo = result["agents"]["ppo"]
    key = "negative flip rate between successive ppo checkpoints minus its test-retest null"
    value = ppo["negative_flips_minus_null"]
    weak = (require_learned(ppo["item_references"], "ppo achievement unlock rate",
                            floor=1 / len(ACHIEVEMENT_DEPTH))  # one achievement an episode
            if "item_references" in ppo else require_learned(ppo["references"], "ppo success"))
    if weak:
        return Verdict("inconclusive", weak, key, value)
    # Both statistics are >= 0 by construction, so each is judged by its excess over a
    # null measured the same way (issue 13): the old checkpoint against itself on the
    # other key for flips, the agent's own monotone fit for the index.
    status, reason = combine(
        above_null(ppo, "negative_flips", MARGIN, "ppo negative flip rate"),
        above_null(ppo, "jaggedness", MARGIN, "ppo jaggedness index"),
    )
    return Verdict(status, reason, key, value)


def draw(result: dict) -> list[tuple[str, str]]:
    agents = result["agents"]
    names = {"negative_flips": "neg. flips", "negative_flips_null": "flip null",
             "positive_flips": "pos. flips", "jaggedness": "jaggedness",
             "jaggedness_null": "monotone null", "worst_decile_success": "worst 10%"}
    bars = figures.bars(list(names.values()),
                        {k: [v[n] for n in names] for k, v in agents.items()},
                        "rate", f"{result['world']}: regressions and inversions")
    out = [("regressions between checkpoints (null: the old checkpoint played again), "
            "jaggedness (null: the agent's own monotone fit), worst-decile success", bars)]
    if "reintroduced_bugs" in agents["ppo"]:
        kinds = [k for k in ("reintroduced_bugs", "reintroduced_bugs_random",
                             "reintroduced_bugs_oracle") if k in agents["ppo"]]
        out.append(("re-introduced bugs per episode: agents, random policy, oracle",
                    figures.bars([k.replace("reintroduced_bugs", "agent").replace(
                        "agent_", "") for k in kinds],
                        {k: [v[n] for n in kinds] for k, v in agents.items()},
                        "bugs per episode", f"{result['world']}: a fixed test fails again")))
    steps = agents["ppo"]["steps"]
    curve = figures.curves(steps, {k: v["curve"] for k, v in agents.items()},
                           "env steps per seed", "success on the fixed tasks",
                           "checkpoints on the same tasks and keys")
    return [*out, ("checkpoints", curve)]
