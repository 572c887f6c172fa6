"""`trainee career PRESET_OR_FILE ...`: run a career and write DIR/summary.json.

The command resolves everything first (the career's jobs, the learner settings, the
seeds and pool sizes) into one plain mapping, records it (`record.json`), and runs from
that mapping alone; `trainee rerun DIR` runs from the same mapping, so a career from a
YAML file is reproducible from its directory without the file.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

import tyro

from trainee.cli.common import parse
from trainee.learners import LearnerConfig


@dataclass(frozen=True)
class CareerCommandConfig:
    """Run a career (a sequence of jobs) and measure forgetting, transfer, plasticity and
    samples to competence. `--list` shows the presets."""

    career: Annotated[str, tyro.conf.Positional,
                      tyro.conf.arg(metavar="PRESET_OR_FILE")] = "errands"
    """A preset name (see --list) or a YAML/JSON career file."""
    intervention: str = ""
    """Comma-separated interventions: replay, shrink_perturb, reset_dormant, l2_init."""
    baseline: Literal["finetune", "scratch", "multitask"] = "finetune"
    """finetune: carry parameters; scratch: fresh per job; multitask: all jobs at once."""
    reference: bool = True
    """Also run the from-scratch baseline (needed for forward transfer)."""
    seeds: int = 5
    """Seeds (vmapped)."""
    executor: Literal["local", "ray"] = "local"
    """local: the seeds vmapped in this process; ray: each seed a Ray task (on the cluster
    at $RAY_ADDRESS, else a local one), gathered into the same summary and plot."""
    seed: int = 0
    """Base seed."""
    num_tasks: int = 256
    """Task pool per job."""
    eval_tasks: int = 64
    """Fixed instances per job for the R matrix."""
    competence: float = 0.8
    """Training success that counts as competent."""
    out: Path = Path("runs/career")
    """Output directory."""
    list: bool = False
    """List the presets and exit."""
    hp: Annotated[LearnerConfig, tyro.conf.OmitArgPrefixes] = field(
        default_factory=lambda: LearnerConfig(num_envs=16, num_steps=64, lr=1e-3))
    """Learner settings; a career's own (`hp:` in its file or preset) replace these
    defaults, and flags given here replace both."""

    def validate(self) -> None:
        from trainee.careers.interventions import INTERVENTIONS
        from trainee.configs import Range, check_ranges

        check_ranges(self, {"seeds": Range(1, 1000), "seed": Range(0, 2**31 - 1),
                            "num_tasks": Range(1, 2**20), "eval_tasks": Range(1, 2**20),
                            "competence": Range(0, 1)})
        for name in (n for n in self.intervention.split(",") if n):
            INTERVENTIONS.get(name)  # an unknown one: one line naming the choices
        self.hp.validate()


def parse_career_config(args: list[str]):
    """Parse twice: first (ignoring --help) to find the career, then with the career's
    learner settings as the defaults, so flags still win and --help shows them. Returns
    (config, career); the career is None with `--list`."""
    from trainee.careers.career import load_career

    first = parse(CareerCommandConfig, [a for a in args if a not in ("-h", "--help")],
                  "career")
    career = None if first.list else load_career(first.career)
    hp = career.learner_config(CareerCommandConfig().hp) if career else CareerCommandConfig().hp
    return parse(CareerCommandConfig, args, "career", default=CareerCommandConfig(hp=hp)), career


def main(args: list[str]) -> None:
    from trainee.careers import PRESETS

    config, career = parse_career_config(args)
    if career is None:
        for name, make in PRESETS.items():
            print(f"{name:<18} " + " -> ".join(job.name for job in make().jobs))
        return
    run_career_command(resolve(config, career), config.out)


def resolve(config: CareerCommandConfig, career) -> dict:
    """Everything the run depends on, as plain JSON: the record's config."""
    from trainee.careers import CareerConfig
    from trainee.configs import to_mapping

    names = tuple(n for n in config.intervention.split(",") if n)
    settings = CareerConfig(baseline=config.baseline, interventions=names, seeds=config.seeds,
                              seed=config.seed, num_tasks=config.num_tasks,
                              eval_tasks=config.eval_tasks)
    return {"career": {"name": career.name, "jobs": [dataclasses.asdict(j) for j in career.jobs],
                       "hp": dict(career.hp)},
            "source": config.career, "hp": to_mapping(config.hp),
            "settings": to_mapping(settings), "reference": config.reference,
            "competence": config.competence, "executor": config.executor}


def run_career_command(plan: dict, out: Path) -> dict:
    """Run the career `plan` (see `resolve`) into `out`, recorded; returns the summary."""
    from trainee import runs
    from trainee.careers import CareerConfig, run_career
    from trainee.careers.career import career_from_mapping
    from trainee.careers.summary import plot_learning_speed, summarize
    from trainee.configs import from_mapping
    from trainee.store import atomic_write_json

    career = career_from_mapping(plan["career"], where="run record career")
    hp = from_mapping(LearnerConfig, plan["hp"], where="run record hp")
    settings = from_mapping(CareerConfig, plan["settings"], where="run record settings")
    run = run_career
    if plan["executor"] == "ray":
        from trainee.careers.ray_executor import run_career_on_ray as run
        from trainee.runtime import ensure_ray

        ensure_ray()  # before JAX starts work in this process (the record reads devices)
    worlds = [job.world for job in career.jobs]
    check_budgets(career, hp)  # before the record: a refused career writes nothing
    with runs.recorded_run(out, "career", plan, worlds=worlds, learner=hp.learner,
                           seeds=settings.seeds) as record:
        results = run(career, hp, settings)
        reference = None
        if plan["reference"] and settings.baseline == "finetune":
            scratch = dataclasses.replace(settings, baseline="scratch", interventions=())
            reference = run(career, hp, scratch)
        from trainee.worlds import make as make_world

        per_step = {make_world(w).seconds_per_step for w in worlds}  # simulated s a step
        seconds = per_step.pop() if len(per_step) == 1 else None
        summary = summarize(results, reference, plan["competence"], seconds)
        summary.update(career=career.name, learner=hp.learner, baseline=settings.baseline,
                       interventions=list(settings.interventions), seeds=settings.seeds,
                       hp=dataclasses.asdict(hp))
        atomic_write_json(out / "summary.json", summary)
        plot_learning_speed(results, out / "learning_speed.png", reference)
        record.summary = summary
    _print(summary, out)
    return summary


def check_budgets(career, hp: LearnerConfig) -> None:
    """Every job's world exists and its budget is a sane number of updates."""
    from trainee.learners import make_learner
    from trainee.program import check_updates, get_world

    for job in career.jobs:
        world = get_world(job.world)
        world.check_split(job.split)
        config = dataclasses.replace(hp, total_steps=job.steps)
        check_updates(make_learner(config, world).num_updates)


def rerun(record: dict, out: Path) -> Path:
    run_career_command(record["config"], out)
    return out / "summary.json"


def _print(summary: dict, out: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    from trainee.measures import format_ci

    table = Table(title=f"career {summary['career']} ({summary['baseline']})")
    table.add_column("measure")
    table.add_column("IQM [95% CI]", justify="right")
    for name in ("average_performance", "forgetting", "backward_transfer", "forward_transfer",
                 "negative_flips", "final_average"):
        if name in summary:
            table.add_row(name, format_ci(summary[name]))
    Console().print(table)
    print(f"summary: {out / 'summary.json'}; learning speed per job: {out / 'learning_speed.png'}")
