"""Figures that a refactor must not change (issue 11, "same numbers as before").

    PYTHONPATH=src python benchmarks/same_numbers.py train career fleet > before.json
    PYTHONPATH=src python benchmarks/same_numbers.py studies > studies.json

Each section runs a small, fixed experiment through the library entry points and prints
its figures as JSON; `tests/test_same_numbers.py` pins the train/career/fleet ones.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import numpy as np


def train_figures(world: str, seeds: int, total_steps: int, **hp) -> dict:
    from trainee.learners import LearnerConfig
    from trainee.train import TrainConfig, train

    with tempfile.TemporaryDirectory() as tmp:
        config = TrainConfig(world=world, seeds=seeds, out=Path(tmp) / "run", chunks=4,
                             hp=LearnerConfig(total_steps=total_steps, **hp))
        summary = train(config, quiet=True)
        metrics = json.loads((Path(tmp) / "run" / "metrics.json").read_text())
    return {"final_return": summary["final_return"], "env_steps": summary["env_steps"],
            "episode_return": np.asarray(metrics["episode_return"]).tolist()}


def career_figures() -> dict:
    from trainee.careers import CareerConfig, run_career
    from trainee.careers.career import Career, Job
    from trainee.learners import LearnerConfig

    career = Career("corridor2", (Job("near", "corridor", "train", steps=10_240),
                                  Job("far", "corridor", "longer", steps=10_240)))
    hp = LearnerConfig(num_envs=16, num_steps=64, lr=1e-3)
    out = {}
    for baseline, interventions in (("finetune", ()), ("scratch", ()),
                                    ("finetune", ("replay", "l2_init"))):
        settings = CareerConfig(baseline=baseline, interventions=interventions, seeds=2,
                                  num_tasks=64, eval_tasks=16, chunks=5)
        r = run_career(career, hp, settings, quiet=True)
        out["+".join((baseline, *interventions))] = {
            "R": np.asarray(r["R"]).tolist(),
            "curves": [np.asarray(c).tolist() for c in r["curves"]]}
    return out


def fleet_figures() -> dict:
    import dataclasses

    from trainee.fleet.config import PRESETS
    from trainee.fleet.experiment import run_fleet_experiment

    out = {}
    for merge in ("mean", "diloco"):
        config = dataclasses.replace(PRESETS["corridor"], seeds=2, merge=merge)
        with tempfile.TemporaryDirectory() as tmp:
            summary = run_fleet_experiment(config, tmp, show_progress=False)
        out[merge] = summary["per_seed"]
    return out


def study_figures() -> dict:
    from trainee.studies import STUDIES
    from trainee.studies.runner import run_one

    out = {}
    for name in STUDIES:
        stored = run_one(name, "tiny", 5, quiet=True)
        out[name] = {"result": stored["result"], "verdict": stored["verdict"],
                     "seconds": stored["seconds"]}
        print(f"{name}: {stored['seconds']:.1f} s", file=sys.stderr)
    return out


SECTIONS = {
    "train": lambda: {
        "cartpole": train_figures("gymnax:CartPole-v1", 4, 40_960),
        "corridor": train_figures("corridor", 2, 8_192, num_envs=16, num_steps=32),
        "corridor_pg": train_figures("corridor", 2, 8_192, learner="pg", num_envs=16),
    },
    "career": career_figures,
    "fleet": fleet_figures,
    "studies": study_figures,
}


def main(names: list[str]) -> None:
    print(json.dumps({name: SECTIONS[name]() for name in names}, indent=1, default=float))


if __name__ == "__main__":
    main(sys.argv[1:] or ["train", "career", "fleet"])
