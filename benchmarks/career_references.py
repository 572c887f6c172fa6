"""The references of a stored career: random play's and the untrained parameters' success
on each job's evaluation instances, with the career's own episode keys (issue 18: the
`xland` career had neither).

    PYTHONPATH=src python benchmarks/career_references.py /tmp/field-xland/record.json \
        --out benchmarks/career_references/xland.json

The career, learner config and settings are read from the run's record.json, so the
tasks (`careers.run.career_sets`), the seeds' initial parameters (job 0's
`program.init`, as `run_career` draws them) and the episode keys are the run's own: the
R matrix's entries and these references are paired task by task and key by key. Random
play is one number per job when every seed shares its tasks and key (the default
`seed_tasks=False`); the untrained parameters give one per seed (IQM and 95% CI).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import time
from pathlib import Path

import jax
import numpy as np

from trainee.careers.career import Career, career_from_mapping, career_worlds
from trainee.careers.run import CareerConfig, _per_world, _seed_keys, career_sets
from trainee.configs import from_mapping
from trainee.learners import LearnerConfig
from trainee.program import chunked_program
from trainee.store import atomic_write_json
from trainee.studies.experiment import ci, reference_success


def load_run(record: Path) -> tuple[Career, LearnerConfig, CareerConfig]:
    """The career, learner config and settings a career run recorded."""
    config = json.loads(record.read_text())["config"]
    career = career_from_mapping(config["career"], where=str(record))
    return (career, from_mapping(LearnerConfig, config["hp"]),
            from_mapping(CareerConfig, config["settings"]))


def untrained_params(career: Career, hp: LearnerConfig, settings: CareerConfig, world, pool):
    """(S, ...) the parameters every seed starts its career with (job 0's init)."""
    config = dataclasses.replace(hp, total_steps=career.jobs[0].steps)
    program = chunked_program(world, config, settings.chunks, settings.seed_tasks)
    keys = jax.vmap(jax.random.fold_in, (0, None))(_seed_keys(settings), 0)
    return program.init(keys, pool, program.hp(config, len(keys))).params


def career_references(career: Career, hp: LearnerConfig, settings: CareerConfig) -> dict:
    """{job: {"random": ..., "untrained": CI}} success on each job's R-matrix instances."""
    if settings.seed_tasks or len({j.world for j in career.jobs}) > 1:
        raise ValueError("written for single-world careers with shared tasks (seed_tasks off)")
    world_name = career.jobs[0].world
    evaluators, _ = _per_world({world_name: _world(career)}, hp, settings)
    sets = career_sets(career, settings)
    params = untrained_params(career, hp, settings, _world(career), sets.pools[0])
    out = {}
    for job, tasks in zip(career.jobs, sets.eval_sets, strict=True):
        one = jax.tree.map(lambda x: x[None], tasks)  # a seed axis of one: shared tasks
        random = reference_success(_world(career), one, sets.eval_keys[None],
                                   settings.episodes)["random"]
        untrained = np.asarray(evaluators[world_name](params, sets.eval_keys, tasks).success)
        out[job.name] = {"random": float(random[0]),
                         "untrained": ci(untrained.mean(axis=(-2, -1)))}
    return out


def _world(career: Career):
    return next(iter(career_worlds(career).values()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("record", type=Path, help="a career run's record.json")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    career, hp, settings = load_run(args.record)
    start, load = time.perf_counter(), os.getloadavg()
    refs = career_references(career, hp, settings)
    out = {"career": career.name, "record": str(args.record), "jobs": refs,
           "episodes": settings.episodes, "eval_tasks": settings.eval_tasks,
           "seconds": time.perf_counter() - start, "load": [load, os.getloadavg()]}
    atomic_write_json(args.out, out)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
