"""`trainee career PRESET_OR_FILE ...`: run a career and write DIR/summary.json."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

import tyro

from trainee.careers.career import Career, load_career
from trainee.learners import LearnerConfig


@dataclass(frozen=True)
class CareerArgs:
    """Run a career (a sequence of jobs) and measure forgetting, transfer, plasticity and
    samples to competence. `--list` shows the presets."""

    career: tyro.conf.Positional[str] = "errands"
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


def parse_career_args(args: list[str]) -> tuple[CareerArgs, Career | None]:
    """Parse twice: first (ignoring --help) to find the career, then with the career's
    learner settings as the defaults, so flags still win and --help shows them. The
    career is None with `--list`."""
    first = tyro.cli(CareerArgs, args=[a for a in args if a not in ("-h", "--help")],
                     prog="trainee career")
    career = None if first.list else load_career(first.career)
    hp = career.learner_config(CareerArgs().hp) if career else CareerArgs().hp
    return tyro.cli(CareerArgs, args=args, prog="trainee career", default=CareerArgs(hp=hp)), career


def cmd_career(args: list[str]) -> None:
    from trainee.careers import PRESETS, CareerSettings, run_career
    from trainee.careers.summary import plot_learning_speed, summarize
    from trainee.store import atomic_write_json

    config, career = parse_career_args(args)
    if career is None:
        for name, make in PRESETS.items():
            print(f"{name:<18} " + " -> ".join(job.name for job in make().jobs))
        return
    names = tuple(n for n in config.intervention.split(",") if n)
    settings = CareerSettings(baseline=config.baseline, interventions=names, seeds=config.seeds,
                              seed=config.seed, num_tasks=config.num_tasks,
                              eval_tasks=config.eval_tasks)
    run = run_career
    if config.executor == "ray":
        from trainee.careers.ray_executor import run_career_on_ray as run
    results = run(career, config.hp, settings)
    reference = None
    if config.reference and config.baseline == "finetune":
        scratch = dataclasses.replace(settings, baseline="scratch", interventions=())
        reference = run(career, config.hp, scratch)
    from trainee.worlds import make as make_world

    per_step = {make_world(job.world).seconds_per_step for job in career.jobs}
    seconds = per_step.pop() if len(per_step) == 1 else None  # simulated s a step, if shared
    summary = summarize(results, reference, config.competence, seconds)
    summary.update(career=career.name, learner=config.hp.learner, baseline=config.baseline,
                   interventions=list(names), seeds=config.seeds,
                   hp=dataclasses.asdict(config.hp))
    atomic_write_json(config.out / "summary.json", summary)
    plot_learning_speed(results, config.out / "learning_speed.png", reference)
    _print(summary, config.out)


def _print(summary: dict, out: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"career {summary['career']} ({summary['baseline']})")
    table.add_column("measure")
    table.add_column("IQM [95% CI]", justify="right")
    for name in ("average_performance", "forgetting", "backward_transfer", "forward_transfer",
                 "negative_flips", "final_average"):
        if name in summary:
            v = summary[name]
            table.add_row(name, f"{v['iqm']:.3f} [{v['ci_low']:.3f}, {v['ci_high']:.3f}]")
    Console().print(table)
    print(f"summary: {out / 'summary.json'}; learning speed per job: {out / 'learning_speed.png'}")
