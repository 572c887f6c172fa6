"""Fleets: N instances of a learner, each on its own job, merged every K updates.

    from trainee.fleet import PRESETS, run_fleet_experiment
    summary = run_fleet_experiment(PRESETS["corridor"], "runs/fleet")

Locally a fleet is one vmapped batch of train states in one process (`make_fleet_run`);
the Ray executor (`trainee.fleet.ray_executor.run_fleet_on_ray`, extra `ray`) runs each instance
as an actor. Merge rules live in `trainee.fleet.merge`; docs/fleet.md has the design,
the decisions and the measured figures.
"""

from trainee.fleet.config import PRESETS, FleetConfig, load_fleet_config
from trainee.fleet.experiment import communication, run_fleet_experiment, run_seed
from trainee.fleet.jobs import job_family, job_pools, make_world
from trainee.fleet.local import FleetOutput, init_fleet, make_fleet_run
from trainee.fleet.merge import MergeRule, make_rule
from trainee.learners import LearnerConfig

__all__ = [
    "PRESETS",
    "FleetConfig",
    "FleetOutput",
    "LearnerConfig",
    "MergeRule",
    "communication",
    "init_fleet",
    "job_family",
    "job_pools",
    "load_fleet_config",
    "make_fleet_run",
    "make_rule",
    "make_world",
    "run_fleet_experiment",
    "run_seed",
]
