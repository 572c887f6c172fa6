"""Cross-job success matrices of the conflicting-job presets (#12 part 5).

For each job i a fresh ppo learner is trained on job i alone and scored on every job j
(`trainee.careers.conflict.cross_job_matrix`); random-policy and oracle rows, the oracle
of job i on job j, and each job's steps to competence come with it. Writes JSON.

    nice python benchmarks/conflict_matrix.py career-conflict --seeds 3 \
        --out benchmarks/conflict/career-conflict.json
    nice python benchmarks/conflict_matrix.py conflict --seeds 3 \
        --out benchmarks/conflict/fleet-conflict.json      # the fleet preset's 4 jobs
    nice python benchmarks/conflict_matrix.py --pick-cars 48   # how CONFLICT_CARS was chosen

`conflict` is the fleet preset: its jobs are `trainee.careers.career.CONFLICT_FLEET`,
trained with the fleet's learner and per-instance budget.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

import jax
import numpy as np

from trainee.careers import CareerConfig, load_career
from trainee.careers.career import CONFLICT_FLEET, CONFLICT_LEVEL, Career
from trainee.careers.conflict import cross_job_matrix, oracle_matrix
from trainee.learners import LearnerConfig


def preset(name: str) -> tuple[Career, LearnerConfig]:
    """The jobs and learner of a career preset, or of the fleet preset `conflict`."""
    if name == "conflict":
        from trainee.fleet import PRESETS

        hp = PRESETS["conflict"].hp
        jobs = tuple(dataclasses.replace(j, steps=hp.total_steps) for j in CONFLICT_FLEET.jobs)
        return Career("conflict", jobs), hp
    career = load_career(name)
    return career, career.learner_config(LearnerConfig(num_envs=16, num_steps=64, lr=1e-3))


def pick_cars(candidates: int, size: int = 6, tasks: int = 32) -> list[int]:
    """The first set (in lexicographic order) of `size` controls layouts, containing 0,
    among 0..candidates-1, in which the oracle of every layout pressing its buttons in
    every other car finishes <= 5% of driving routes (lane rule off, CONFLICT_LEVEL)."""
    from trainee.careers.career import Job

    jobs = tuple(Job(f"car {k}", "driving", "train", {"level": CONFLICT_LEVEL}, controls=k)
                 for k in range(candidates))
    from trainee.careers.conflict import eval_sets

    world, evals = eval_sets(Career("cars", jobs), jax.random.key(0), tasks)
    M = oracle_matrix(world, evals, jax.random.key(1), 1)
    ok = np.maximum(M, M.T) <= 0.05

    def first(chosen: tuple[int, ...]):
        if len(chosen) == size:
            return chosen
        for k in range(chosen[-1] + 1, candidates):
            if ok[k, list(chosen)].all() and (found := first((*chosen, k))):
                return found
        return None

    return list(first((0,)) or [])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("preset", nargs="?", default="career-conflict")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--eval-tasks", type=int, default=64)
    parser.add_argument("--episodes", type=int, default=2)
    parser.add_argument("--steps", type=int, default=None, help="override steps per job")
    parser.add_argument("--pick-cars", type=int, default=0, metavar="CANDIDATES")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    if args.pick_cars:
        print(json.dumps({"cars": pick_cars(args.pick_cars)}))
        return
    career, hp = preset(args.preset)
    if args.steps:
        career = dataclasses.replace(career, jobs=tuple(
            dataclasses.replace(j, steps=args.steps) for j in career.jobs))
    settings = CareerConfig(seeds=args.seeds, eval_tasks=args.eval_tasks,
                              episodes=args.episodes)
    start = time.perf_counter()
    result = cross_job_matrix(career, hp, settings)
    result["seconds"] = time.perf_counter() - start
    text = json.dumps(result, indent=1)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
    M = np.asarray(result["matrix"])
    np.set_printoptions(precision=2, suppress=True, linewidth=200)
    print(M)
    print({k: result[k] for k in ("diagonal", "off_diagonal", "off_diagonal_max", "random",
                                  "oracle", "seconds")})


if __name__ == "__main__":
    main()
