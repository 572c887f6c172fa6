"""Careers: continual learning on the job (a learner does a sequence of jobs).

`load_career(name_or_file)`, `run_career(career, hp, settings)`, `summarize(...)`, and
the interventions (`replay`, `shrink_perturb`, `reset_dormant`, `l2_init`, `chain`).
See docs/careers.md.
"""

from trainee.careers.career import PRESETS, Career, Job, job_tasks, load_career
from trainee.careers.interventions import (
    INTERVENTIONS,
    Context,
    Intervention,
    chain,
    l2_init,
    make_interventions,
    replay,
    reset_dormant,
    shrink_perturb,
)
from trainee.careers.run import CareerConfig, run_career

__all__ = [
    "INTERVENTIONS", "PRESETS", "Career", "CareerConfig", "Context", "Intervention", "Job",
    "chain", "job_tasks", "l2_init", "load_career", "make_interventions", "replay",
    "reset_dormant", "run_career", "shrink_perturb",
]
