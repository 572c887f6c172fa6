"""A fleet experiment: the merged fleet against its baselines, scored on every job.

Per repetition (seed), with the same jobs, the same initial parameters and the same
total experience (N instances x U updates):
- `merged`: the fleet, merged every K updates by the chosen rule;
- `specialists`: the same N instances never merged (instance i scored on job i);
- `end_merge`: the specialists merged once at the end by task arithmetic (Ilharco et
  al. 2023; lambda = 1 / N by default, i.e. their mean);
- `generalist`: one learner on a pool mixing all N jobs for N x U updates.
Each agent is scored on every instance's job: success on fresh train-split tasks of
the job and on held-out tasks of the job. Seeds are looped (not vmapped): each agent
kind is one compiled program reused by every seed, and a loop keeps memory flat.
"""

from __future__ import annotations

import dataclasses
import time
from functools import lru_cache

import jax
import numpy as np

from trainee.fleet.config import FleetConfig
from trainee.fleet.jobs import job_family, job_pools, make_world
from trainee.fleet.local import make_fleet_run
from trainee.fleet.merge import any_rule, param_count, rule_choice, task_arithmetic
from trainee.program import get_program, program_name
from trainee.runtime.compiles import named

__all__ = ["FleetPrograms", "communication", "eval_pools", "run_fleet_experiment", "run_seed",
           "success", "summarize"]

AGENTS = ("merged", "specialists", "end_merge", "generalist")


def communication(config: FleetConfig, params, rounds: int) -> dict:
    """Merges and bytes: at a merge every instance sends its parameters up and receives
    the merged ones down (2 x N x parameter bytes); optimiser states are never sent."""
    merges = 0 if config.merge == "none" else rounds
    nbytes = sum(int(x.size) * x.dtype.itemsize for x in jax.tree.leaves(params))
    per_merge = 2 * config.instances * nbytes
    return {"merges": merges, "bytes_per_merge": per_merge,
            "bytes_communicated": merges * per_merge, "parameters": param_count(params)}


class FleetPrograms:
    """The compiled programs of one config (built once, reused by every seed), all from
    the one program builder (`trainee.program`): the fleet and the specialists compose
    its learner (instances vmapped, merges inside one scan); the generalist is its
    program of N times the budget; scores are its evaluator."""

    def __init__(self, config: FleetConfig):
        self.world = make_world(config.world)
        self.program = get_program(self.world, config.hp, config.merge_every)
        self.learner = self.program.learner
        self.rounds = config.rounds(self.learner.num_updates)
        self.hp = self.program.shared_hp(config.hp)
        self.fleet = self._fleet(config)
        self.specialists = self._fleet(dataclasses.replace(config, merge="none"))
        wide = dataclasses.replace(config.hp, total_steps=config.hp.total_steps * config.instances)
        self.general = get_program(self.world, wide,
                                   self.rounds * config.merge_every * config.instances)
        self.general_hp = self.general.hp(wide, 1)
        self.score_one = self.program.evaluator(config.eval_episodes, in_axes=(None, 0, 0))
        self.score_own = self.program.evaluator(config.eval_episodes, in_axes=(0, 0, 0))

    def _fleet(self, config: FleetConfig):
        """`(key, pools) -> FleetOutput` of `config`'s rule (merged None for `none`)."""
        run, hp, choice = fleet_run(self.program, self.rounds), self.hp, rule_choice(config)
        if config.merge == "none":
            return lambda key, pools: run(key, pools, hp, choice)._replace(merged=None)
        return lambda key, pools: run(key, pools, hp, choice)

    def generalist(self, key, pool):
        """One learner on the pool mixing every job's tasks, N times the budget: params."""
        state = self.general.init(key[None], pool, self.general_hp)
        state, _ = self.general.run(state, pool, self.general_hp)
        return jax.tree.map(lambda x: x[0], state.params)


def fleet_run(program, rounds: int):
    """The jitted fleet `(key, pools, hp, choice) -> FleetOutput` of `rounds` rounds of
    `program`'s chunk, one for every merge rule (`RuleChoice`: the rule, its
    hyperparameters and `none` are arguments), cached per (program, rounds)."""
    return _fleet_run(program.world, program.config, program.updates, rounds)


@lru_cache(maxsize=16)
def _fleet_run(world, config, updates: int, rounds: int):
    program = get_program(world, config, updates)

    def run(key, pools, hp, choice):
        return make_fleet_run(program.learner_with(hp), any_rule(choice), updates, rounds,
                              choice.merging)(key, pools)

    name = f"fleet[{program_name(world, config, updates)} x{rounds}]"
    return jax.jit(named(run, name))


def success(records) -> np.ndarray:
    """(N,) mean success of each row of (N, tasks, episodes) records."""
    return np.mean(np.asarray(records.success, np.float64), axis=(1, 2))


def eval_pools(config: FleetConfig, world, key):
    family = job_family(world)
    jobs = config.job_ids(len(family.names))
    keys = jax.random.split(key, 3)
    kwargs = {"task_kwargs": config.task_kwargs}
    return (job_pools(world, keys[0], "train", jobs, config.pool_size, **kwargs),
            job_pools(world, keys[1], "train", jobs, config.eval_tasks, **kwargs),
            job_pools(world, keys[2], family.held_out, jobs, config.eval_tasks, **kwargs))


def run_seed(config: FleetConfig, seed: int, programs: FleetPrograms | None = None,
             executor: str = "local", baselines: bool = True) -> dict:
    """One repetition: train every agent kind, score each on every job. Returns numpy
    arrays (N,) per agent and split, plus timings. `baselines=False` trains and scores
    only the merged fleet (a sweep over rules and intervals needs the baselines once).
    With `merge: none` the fleet *is* the specialists, so they are trained once."""
    p = programs or FleetPrograms(config)
    key_pools, key_train, key_general, key_eval = jax.random.split(jax.random.PRNGKey(seed), 4)
    pools, eval_train, eval_held = eval_pools(config, p.world, key_pools)
    merged_only = not baselines and config.merge != "none"
    start = time.perf_counter()
    if executor == "ray":
        from trainee.fleet.ray_executor import run_fleet_on_ray

        fleet = lambda c: run_fleet_on_ray(config.hp, config.world, rule_choice(c),
                                           config.merge_every, p.rounds, key_train, pools)
    else:
        fleet = lambda c: (p.specialists if c.merge == "none" else p.fleet)(key_train, pools)
    out = fleet(config)
    none = dataclasses.replace(config, merge="none")
    spec = out if config.merge == "none" else None if merged_only else fleet(none)
    agents: dict = {}
    if not merged_only:
        mixed = jax.tree.map(lambda x: x.reshape(-1, *x.shape[2:]), pools)
        agents["generalist"] = p.generalist(key_general, mixed)
        scale = config.end_scale if config.end_scale is not None else 1.0 / config.instances
        agents["end_merge"] = task_arithmetic(spec.states.params, spec.initial, scale)
    jax.block_until_ready((out, agents))
    train_seconds = time.perf_counter() - start
    agents["merged"] = out.merged if out.merged is not None else agents["end_merge"]
    result = {"train_seconds": train_seconds}
    for split, tasks in (("train", eval_train), ("held_out", eval_held)):
        keys = jax.random.split(jax.random.fold_in(key_eval, split == "train"), config.instances)
        for agent, params in agents.items():
            result[f"{agent}/{split}"] = success(p.score_one(params, keys, tasks))
        if spec is not None:
            result[f"specialists/{split}"] = success(p.score_own(spec.states.params, keys, tasks))
            if not merged_only:  # every specialist on every job: (N specialists, N jobs)
                result[f"specialist_matrix/{split}"] = _cross_scores(
                    p, spec.states.params, keys, tasks, config.instances)
    result.update(communication(config, out.initial, p.rounds))
    result["env_steps_per_instance"] = p.rounds * config.merge_every * p.learner.steps_per_update
    return result


def _cross_scores(p: FleetPrograms, stacked, keys, tasks, n: int) -> np.ndarray:
    """(N, N): instance i's parameters scored on job j (row i, column j)."""
    return np.stack([success(p.score_one(jax.tree.map(lambda x, i=i: x[i], stacked), keys,
                                         tasks)) for i in range(n)])


def summarize(config: FleetConfig, per_seed: list[dict], executor: str) -> dict:
    """summary.json: per agent kind the IQM and 95% CI over seeds of the mean success
    over the instances' jobs (held-out split; `train_split` holds the same on fresh
    train-split tasks), the merged agent relative to the specialists, communication."""
    from trainee.measures import iqm_ci

    def over_jobs(name: str) -> np.ndarray:
        return np.array([r[name].mean() for r in per_seed])

    agents = [agent for agent in AGENTS if f"{agent}/held_out" in per_seed[0]]
    summary: dict = {
        agent: iqm_ci(over_jobs(f"{agent}/held_out")).to_json() for agent in agents
    }
    summary["train_split"] = {
        agent: iqm_ci(over_jobs(f"{agent}/train")).to_json() for agent in agents
    }
    # Per job, merged / specialist (a job where the specialist scores 0 is left out).
    summary["relative_to_specialists"] = {}
    for split in ("train", "held_out") if "specialists" in agents else ():
        ratios = []
        for r in per_seed:
            spec, merged = r[f"specialists/{split}"], r[f"merged/{split}"]
            ok = spec > 0
            ratios.append(np.mean(merged[ok] / spec[ok]) if ok.any() else np.nan)
        ratios = np.array(ratios)
        ratios = ratios[np.isfinite(ratios)]
        summary["relative_to_specialists"][split] = (
            iqm_ci(ratios).to_json() if ratios.size else None
        )
    first = per_seed[0]
    for name in ("merges", "bytes_per_merge", "bytes_communicated", "parameters",
                 "env_steps_per_instance"):
        summary[name] = first[name]
    summary["per_seed"] = {
        name: [np.asarray(r[name]).tolist() for r in per_seed]
        for name in first if "/" in name
    }
    summary["train_seconds"] = [r["train_seconds"] for r in per_seed]
    summary["config"] = dataclasses.asdict(config)
    summary["executor"] = executor
    return summary


def run_fleet_experiment(config: FleetConfig, out, executor: str = "local",
                         show_progress: bool = True, baselines: bool = True) -> dict:
    """Every seed of `config`, then `out/summary.json` (written atomically).
    `baselines=False`: the merged fleet only (no specialists, end_merge, generalist)."""
    from pathlib import Path

    from trainee.runtime.progress import progress_bar
    from trainee.store import atomic_write_json

    config.validate()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    programs = FleetPrograms(config)
    per_seed = []
    with progress_bar(config.seeds, f"fleet {config.merge}", "seeds",
                      disable=not show_progress) as bar:
        for s in range(config.seeds):
            per_seed.append(run_seed(config, config.seed + s, programs, executor, baselines))
            bar.advance(1)
    summary = summarize(config, per_seed, executor)
    family = job_family(programs.world)
    summary["jobs"] = [family.names[j] for j in config.job_ids(len(family.names))]
    summary["held_out_split"] = family.held_out
    atomic_write_json(out / "summary.json", summary)
    return summary
