"""fleet: can deployed copies of a learner merge what each learned into one agent?

N instances, each on its own job, are merged every K updates and the merged agent is
scored on every instance's job. The jobs conflict (the `conflict` fleet preset, docs/
fleet.md: keep right / keep left in two cars with different controls, each job showing
its rule and car as a cue; a specialist scores 0.00-0.14 on the other jobs), so a merge
has something to lose. Merge rules side by side, on the same seeds, pools and initial
parameters (`trainee.fleet`): mean (FedAvg), TIES and DiLoCo with and without its outer
Nesterov momentum. References with the same total experience: the instances never merged
(specialists; each specialist is scored on every job, so "the best single specialist on
each job" is measured, not assumed), the specialists merged once at the end, and one
generalist on all jobs; and the untrained initial parameters, so "skill" is success
above theirs. Above quick scale the merge interval K is swept as a curve.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from trainee.fleet import PRESETS, FleetConfig
from trainee.fleet.experiment import FleetPrograms, eval_pools, run_seed, success
from trainee.learners import LearnerConfig
from trainee.runtime.compiles import named
from trainee.studies import figures
from trainee.studies.experiment import Context, ci, reference_block, reference_success
from trainee.studies.scale import Scale
from trainee.studies.verdict import (
    INCONCLUSIVE,
    MARGINS,
    NOT_SUPPORTED,
    SUPPORTED,
    Verdict,
    fmt,
    positive_effect,
    require_learned,
)

NAME = "fleet"
CLAIM = ("Many deployed copies of a learner can merge what each learned into one agent "
         "that keeps every copy's skill.")
METHOD = (
    "4 instances on the 4 conflicting jobs of the conflict preset (driving at level 1: keep "
    "right / keep left in cars 0 and 1, each job's rule and car shown as a cue), merged "
    "every 4 updates by each rule side by side: mean (FedAvg), TIES, DiLoCo (outer lr "
    "0.7, Nesterov momentum 0.9) and DiLoCo without momentum; the same seeds, pools and "
    "initial parameters for every rule. References with the same total experience: the "
    "instances never merged (specialists, each scored on every job), merged once at the "
    "end, one generalist on all jobs; and the untrained initial parameters. Scored on "
    "held-out tasks of every job (night: sensor noise), per job and across jobs. Quick "
    "scale: 12,288 env steps per instance (the CPU budget allows no more, docs/studies.md); "
    "the merge-interval curve (K = 2, 4, 8, 24) only above quick scale. Key number per "
    "rule and seed: skill retained = (merged - untrained) / (best specialist on each job - "
    "untrained), each the mean over jobs. Verdict: supported when some rule's 95% CI "
    "lies above 0.95 (at most 5% of the skill lost), not supported when every rule's lies "
    "below; inconclusive otherwise, or when the best specialists' held-out success, "
    "normalised (0 = random, 1 = oracle), is below 0.25 or beats the untrained "
    "parameters by less than 0.1 (no skill to keep)."
)
KEEP = MARGINS[NAME]  # stated and justified in studies/verdict.py
SKILL = 0.1  # best specialists must beat the untrained policy by this much (held-out success)
K = 4  # updates between merges of the verdict's fleets
# Merge rules compared: name -> FleetConfig fields (DiLoCo's ablation without momentum
# keeps its outer lr 0.7: Douillard et al. 2023, outer optimiser ablation).
RULES = {"mean": {"merge": "mean"}, "ties": {"merge": "ties"},
         "diloco": {"merge": "diloco"},
         "diloco, no momentum": {"merge": "diloco", "outer_momentum": 0.0}}
# The merge-interval curve: extra (rule, K) points besides K. None at quick scale (its
# CPU budget) nor at tiny (tests: its code path is the verdict's fleets'; the figure is
# tested on hand-made numbers); mean and DiLoCo at K = 2, 8, 24 at full scale (the
# preset's 120 updates divide by each).
CURVE_RULES = ("mean", "diloco")
CURVE = {"tiny": (), "quick": (),
         "full": tuple((rule, k) for rule in CURVE_RULES for k in (2, 8, 24))}
REFERENCES = ("specialists", "best_specialist", "end_merge", "generalist")
PLACEBO = ("every rule's merged agent is replaced by the untrained initial parameters (no "
           "skill kept by construction), scored on the same tasks and keys")


def fleet_config(scale: Scale, seeds: int, seed: int, learner: str = "ppo") -> FleetConfig:
    """The conflict preset at full scale; at quick scale its jobs with the scale's learner
    and a tenth of a standard run per instance; corridor goals at tiny (tests: code
    paths, seconds)."""
    common = {"seeds": seeds, "seed": seed, "merge": "mean", "merge_every": K}
    if scale.name == "full":
        return dataclasses.replace(PRESETS["conflict"], **common)
    per_update = scale.num_envs * scale.num_steps
    # A tenth of a standard run per instance, in whole merge rounds (none dropped).
    updates = max(8, scale.train_steps // 10 // per_update // K * K)
    hp = LearnerConfig(learner=learner, total_steps=updates * per_update,
                       num_envs=scale.num_envs, num_steps=scale.num_steps, lr=1e-3,
                       hidden=scale.hidden, layers=scale.layers)
    sizes = {"pool_size": min(256, scale.pool), "eval_tasks": scale.eval_tasks,
             "eval_episodes": scale.episodes}
    if scale.name == "tiny":
        return FleetConfig(world="corridor", instances=4, hp=hp, jobs=(0, 2, 4, 6),
                           **sizes, **common)
    return dataclasses.replace(PRESETS["conflict"], hp=hp, **sizes, **common)


def held_out_references(programs: FleetPrograms, config: FleetConfig, seed: int,
                        init) -> dict:
    """(N,) held-out success per job of the untrained initial parameters (`init`: the
    learner's jitted initialiser), the random policy and the oracle, on `run_seed`'s
    held-out tasks with its episode keys."""
    key_pools, key_init, _, key_eval = jax.random.split(jax.random.PRNGKey(seed), 4)
    pools, _, held = eval_pools(config, programs.world, key_pools)
    first = jax.tree.map(lambda x: jnp.asarray(x[0]), pools)
    params = init(jax.random.fold_in(key_init, 1), first).params
    keys = jax.random.split(jax.random.fold_in(key_eval, False), config.instances)
    refs = reference_success(programs.world, held, keys, config.eval_episodes)
    return {"untrained": success(programs.score_one(params, keys, held)), **refs}


def fleets(base: FleetConfig, scale: Scale) -> dict[tuple[str, int], tuple]:
    """(config, compiled programs) of every (rule, K) the study trains, built once."""
    grid = [(rule, K) for rule in RULES]
    grid += list(CURVE.get(scale.name, ()))
    configs = {(rule, k): dataclasses.replace(base, merge_every=k, **RULES[rule])
               for rule, k in grid}
    return {key: (config, FleetPrograms(config)) for key, config in configs.items()}


def run_one_seed(programs: dict, base: FleetConfig, seed: int, placebo: bool, init) -> dict:
    """(N,) held-out success per agent for one seed: the references (with the first
    rule's run), then the merged fleet of every other (rule, K), on the same pools."""
    out = {}
    refs = held_out_references(next(iter(programs.values()))[1], base, seed, init)
    for i, ((rule, k), (config, p)) in enumerate(programs.items()):
        r = run_seed(config, seed, p, baselines=i == 0)
        if i == 0:
            out.update({a: r[f"{a}/held_out"] for a in ("specialists", "end_merge",
                                                          "generalist")})
            out["best_specialist"] = r["specialist_matrix/held_out"].max(axis=0)
            out["specialist_matrix"] = r["specialist_matrix/held_out"]
            out["env_steps_per_instance"] = r["env_steps_per_instance"]
        out[f"{rule}@{k}"] = refs["untrained"] if placebo else r["merged/held_out"]
    return {**out, **refs}


def retained(merged: np.ndarray, best: np.ndarray, untrained: np.ndarray) -> np.ndarray:
    """(S,) skill retained: (merged - untrained) / (best - untrained), each averaged over
    jobs first ((S, N) inputs); nan where the specialists have no skill over untrained."""
    gain, skill = (merged - untrained).mean(axis=1), (best - untrained).mean(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.abs(skill) > 1e-9, gain / skill, np.nan)


def run(ctx: Context) -> dict:
    # Seed s of base seed b runs as 400 + 1000 b + s: base seeds share no repetition (with
    # 400 + b + s, base seeds 0 and 1 shared four of their five).
    base = fleet_config(ctx.scale, ctx.seeds, 400 + 1000 * ctx.seed, ctx.learner)
    programs = fleets(base, ctx.scale)
    learner = next(iter(programs.values()))[1].learner
    init = jax.jit(named(lambda *args: learner.init(*args), "fleet-init"))  # compiled once
    per_seed = []
    for s in range(ctx.seeds):
        per_seed.append(run_one_seed(programs, base, base.seed + s, ctx.placebo, init))
        steps = per_seed[-1]["env_steps_per_instance"] * base.instances
        ctx.advance(steps * (len(programs) + 2))  # every fleet, the specialists, generalist
    return summarise(per_seed, base, list(programs), ctx.placebo)


def summarise(per_seed: list[dict], base: FleetConfig, grid: list, placebo: bool) -> dict:
    """JSON-ready numbers: per agent and job, per rule the skill retained and the
    comparisons with the best specialist and the generalist, the interval curve."""
    stack = lambda name: np.stack([r[name] for r in per_seed])  # (S, N)
    untrained, best = stack("untrained"), stack("best_specialist")
    agents = {**{a: stack(a) for a in REFERENCES}, "untrained": untrained,
              **{f"{rule}@{k}": stack(f"{rule}@{k}") for rule, k in grid}}
    refs = {k: stack(k).mean(axis=1) for k in ("random", "oracle") if k in per_seed[0]}
    rules = {}
    for rule, k in grid:
        merged = agents[f"{rule}@{k}"]
        rules[f"{rule}@{k}"] = {
            "rule": rule, "merge_every": k, "held_out": ci(merged.mean(axis=1)),
            "retained": ci(retained(merged, best, untrained)),
            "minus_best_specialist": ci((merged - best).mean(axis=1)),
            "minus_generalist": ci((merged - agents["generalist"]).mean(axis=1)),
        }
    return {
        "world": base.world, "jobs": [int(j) for j in base.job_ids(base.instances)],
        "merge_every": K, "env_steps_per_instance": per_seed[0]["env_steps_per_instance"],
        "rules": rules,
        "per_job": {a: [ci(v[:, j]) for j in range(v.shape[1])] for a, v in agents.items()},
        "across_jobs": {a: ci(v.mean(axis=1)) for a, v in agents.items()},
        "specialist_matrix": np.mean([r["specialist_matrix"] for r in per_seed], 0).tolist(),
        "skill": ci((best - untrained).mean(axis=1)),
        "references": {"best specialist, held out": reference_block(
            best.mean(axis=1), untrained.mean(axis=1), refs)},
        "placebo": PLACEBO if placebo else None,
    }


def verdict(result: dict) -> Verdict:
    """Supported when some rule keeps the skill (retained above the margin), not supported
    when every rule at the verdict's K loses more; see METHOD."""
    key = "skill retained by the merged agent, best rule ((merged - untrained) / (best " \
          "specialist - untrained), mean over jobs)"
    rules = {name: r for name, r in result["rules"].items() if r["merge_every"] == K}
    parts = {name: positive_effect(r["retained"], KEEP, f"{name}: skill retained")
             for name, r in rules.items()}
    best = max(rules, key=lambda name: rules[name]["retained"]["ci_low"])
    statuses = [status for status, _ in parts.values()]
    status = (SUPPORTED if SUPPORTED in statuses else
              NOT_SUPPORTED if all(s == NOT_SUPPORTED for s in statuses) else INCONCLUSIVE)
    across = result["across_jobs"]
    reason = (f"best rule {best}: {parts[best][1]}; " + "; ".join(
        f"{name} {s} ({fmt(rules[name]['retained'])})" for name, (s, _) in parts.items()
        if name != best) + "; held-out success across jobs: " + ", ".join(
        f"{a} {across[a]['iqm']:.3f}" for a in (*rules, *REFERENCES, "untrained")))
    block = result["references"]["best specialist, held out"]
    guard = require_learned(block, "the best specialists' held-out success")
    if guard is None and result["skill"]["iqm"] < SKILL:
        guard = (f"the best specialists beat the untrained parameters by only "
                 f"{fmt(result['skill'])} (< {SKILL:g}): no skill to keep")
    if guard is not None:
        status, reason = INCONCLUSIVE, f"{guard}; {reason}"
    return Verdict(status, reason, key, rules[best]["retained"])


def draw(result: dict) -> list[tuple[str, str]]:
    at_k = [name for name, r in result["rules"].items() if r["merge_every"] == K]
    shown = [*at_k, *REFERENCES, "untrained"]
    per_job = figures.bars([f"job {j}" for j in result["jobs"]],
                           {a: result["per_job"][a] for a in shown}, "held-out success",
                           f"{result['world']} fleet: per job")
    kept = figures.bars(at_k, {"skill retained": [result["rules"][n]["retained"] for n in at_k]},
                        "(merged - untrained) / (best - untrained)", f"each rule, K = {K}")
    out = [("held-out success per job", per_job), ("skill retained per rule", kept)]
    curve = {rule: sorted((r["merge_every"], r["retained"]) for r in result["rules"].values()
                          if r["rule"] == rule) for rule in CURVE_RULES}
    curve = {rule: points for rule, points in curve.items() if len(points) > 1}
    if curve:
        ks = [k for k, _ in next(iter(curve.values()))]
        out.append(("skill retained vs merge interval", figures.curves(
            ks, {rule: [c for _, c in points] for rule, points in curve.items()},
            "updates between merges (K)", "skill retained", "merge interval", logx=True)))
    return out
