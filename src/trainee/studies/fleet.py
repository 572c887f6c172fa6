"""fleet: can deployed copies of a learner merge what each learned into one agent?

N instances, each on its own job, are merged every K updates (`mean`, FedAvg) and the
merged agent is scored on every instance's job, against the same instances never
merged (specialists), the specialists merged once at the end, and one generalist given
the same total experience (`trainee.fleet`, docs/fleet.md). The untrained initial
parameters are scored too, so "skill" means success above theirs.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from trainee.fleet import PRESETS, FleetConfig
from trainee.fleet.experiment import FleetPrograms, eval_pools, run_seed, success, summarize
from trainee.learners import LearnerConfig
from trainee.studies import figures
from trainee.studies.experiment import Context, ci, reference_block, reference_success
from trainee.studies.scale import Scale
from trainee.studies.verdict import INCONCLUSIVE, MARGINS, Verdict, fmt, positive_effect

NAME = "fleet"
CLAIM = ("Many deployed copies of a learner can merge what each learned into one agent "
         "that keeps every copy's skill.")
METHOD = (
    "4 instances, instance i on job i, merged by their mean every 4 updates (FedAvg); "
    "baselines with the same total experience: the instances never merged (specialists), "
    "merged once at the end, one generalist on all jobs. Quick scale: corridor, goals 1, "
    "3, 5, 7, scored on the slippery floor (held out); full scale: the errands preset "
    "(fetch ball/box/key, open door; unseen layouts). Key number: per seed, merged / "
    "specialist held-out success per job, averaged over jobs (relative_to_specialists). "
    "Verdict: supported when its 95% CI lies above 0.95 (at most a negligible loss), not "
    "supported when it lies below 0.95, inconclusive otherwise, or when the specialists "
    "beat the untrained parameters by less than 0.1 (no skill to keep)."
)
KEEP = MARGINS[NAME]  # stated and justified in studies/verdict.py
SKILL = 0.1  # specialists must beat the untrained policy by this much (held-out success)
AGENTS = ("merged", "specialists", "end_merge", "generalist")


def fleet_config(scale: Scale, seeds: int, seed: int, learner: str = "ppo") -> FleetConfig:
    """The errands acceptance fleet at full scale; a corridor fleet (seconds) below."""
    common = {"seeds": seeds, "seed": seed}
    if scale.name == "full":
        return dataclasses.replace(PRESETS["errands"], **common)
    per_update = scale.num_envs * scale.num_steps
    # An eighth of a standard run, in whole merge rounds of 4 updates (none dropped).
    updates = max(8, scale.train_steps // 8 // per_update // 4 * 4)
    hp = LearnerConfig(learner=learner, total_steps=updates * per_update,
                       num_envs=scale.num_envs, num_steps=scale.num_steps, lr=1e-3,
                       hidden=scale.hidden, layers=scale.layers)
    return FleetConfig(world="corridor", instances=4, merge="mean", merge_every=4, hp=hp,
                       jobs=(0, 2, 4, 6), pool_size=min(64, scale.pool),
                       eval_tasks=scale.eval_tasks, eval_episodes=scale.episodes, **common)


PLACEBO = ("the merged agent's place is taken by the untrained initial parameters (no "
           "skill kept by construction), scored on the same tasks and keys")


def held_out_references(programs: FleetPrograms, config: FleetConfig, seed: int) -> dict:
    """(N,) held-out success per job of the untrained initial parameters, the random
    policy and the oracle, on `run_seed`'s held-out tasks with its episode keys."""
    key_pools, key_init, _, key_eval = jax.random.split(jax.random.PRNGKey(seed), 4)
    pools, _, held = eval_pools(config, programs.world, key_pools)
    first = jax.tree.map(lambda x: jnp.asarray(x[0]), pools)
    init = jax.jit(programs.learner.init)  # (eager, the initialiser takes seconds)
    params = init(jax.random.fold_in(key_init, 1), first).params
    keys = jax.random.split(jax.random.fold_in(key_eval, False), config.instances)
    refs = reference_success(programs.world, held, keys, config.eval_episodes)
    return {"untrained": success(programs.score_one(params, keys, held)), **refs}


def run(ctx: Context) -> dict:
    config = fleet_config(ctx.scale, ctx.seeds, ctx.seed + 400, ctx.learner)
    programs = FleetPrograms(config)
    per_seed, refs = [], []
    for s in range(config.seeds):
        per_seed.append(run_seed(config, config.seed + s, programs))
        refs.append(held_out_references(programs, config, config.seed + s))
        if ctx.placebo:
            per_seed[-1]["merged/held_out"] = refs[-1]["untrained"]
        ctx.advance(per_seed[-1]["env_steps_per_instance"] * config.instances * 3)
    summary = summarize(config, per_seed, "local")
    held = {a: np.asarray(summary["per_seed"][f"{a}/held_out"]) for a in AGENTS}  # (S, N)
    blank = np.array([r["untrained"].mean() for r in refs])
    seed_refs = {k: np.array([r[k].mean() for r in refs]) for k in refs[0] if k != "untrained"}
    return {
        "world": config.world,
        "jobs": [int(j) for j in config.jobs],
        "env_steps_per_instance": summary["env_steps_per_instance"],
        "merges": summary["merges"],
        "agents": {a: summary[a] for a in AGENTS},
        "train_split": summary["train_split"],
        "per_job": {a: [ci(held[a][:, j]) for j in range(held[a].shape[1])] for a in AGENTS},
        "untrained": ci(blank),
        "skill": ci(held["specialists"].mean(axis=1) - blank),
        "relative_to_specialists": summary["relative_to_specialists"]["held_out"],
        "merged_minus_generalist": ci(held["merged"].mean(1) - held["generalist"].mean(1)),
        "references": {f"{a}, held out": reference_block(held[a].mean(1), blank, seed_refs)
                       for a in ("merged", "specialists")},
        "placebo": PLACEBO if ctx.placebo else None,
    }


def verdict(result: dict) -> Verdict:
    key = "held-out success, merged / specialists (mean over jobs)"
    rel = result["relative_to_specialists"]
    status, reason = positive_effect(rel, KEEP, key)
    agents = result["agents"]
    reason += ("; held-out success merged {:.3f}, specialists {:.3f}, merged at the end {:.3f}, "
               "generalist {:.3f}, untrained {:.3f}").format(
        *(agents[a]["iqm"] for a in AGENTS), result["untrained"]["iqm"])
    if result["skill"]["iqm"] < SKILL:
        status = INCONCLUSIVE
        reason = (f"the specialists beat the untrained parameters by only "
                  f"{fmt(result['skill'])} (< {SKILL:g}): no skill to keep; {reason}")
    return Verdict(status, reason, key, rel)


def draw(result: dict) -> list[tuple[str, str]]:
    labels = {"merged": "merged (mean)", "specialists": "specialists",
              "end_merge": "merged at the end", "generalist": "generalist"}
    overall = figures.bars(["held-out", "train split"],
                           {labels[a]: [result["agents"][a], result["train_split"][a]]
                            for a in AGENTS}, "success rate",
                           f"{result['world']} fleet of {len(result['jobs'])}")
    per_job = figures.bars([f"job {j}" for j in result["jobs"]],
                           {labels[a]: result["per_job"][a] for a in AGENTS},
                           "held-out success", "per job")
    return [("merged vs its baselines", overall), ("held-out success per job", per_job)]
