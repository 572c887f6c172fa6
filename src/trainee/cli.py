"""The `trainee` command. Each subcommand is a frozen dataclass config parsed by tyro, so
`trainee <command> --help` shows every field with its docstring.

Bad input (unknown world, bad field, missing file, corrupt checkpoint, ...) ends with a
one-line `trainee: error: ...` naming the problem and the fix, and exit code 2.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import tyro

COMMANDS = {
    "run": "run the main job: every study at quick scale, one HTML report (resumable)",
    "study": "run one study (trainee study NAME) into a run directory",
    "report": "re-render RUN_DIR/report.html from stored results (no training)",
    "train": "train a learner on a world (S seeds at once)",
    "eval": "evaluate a trained run on a split",
    "worlds": "list worlds, their splits and shift axes",
    "career": "run a career of jobs: forgetting, transfer, plasticity (--list: presets)",
    "fleet": "train a fleet of instances on different jobs, merged (mean/ties/diloco)",
    "exam": "the sealed exam: status | query --run DIR | reseal | final --run DIR",
    "show": "render an episode of a world (oracle or a trained run) to a GIF",
}


def enable_compilation_cache() -> None:
    """Reuse compiled programs across processes (JAX persistent compilation cache)."""
    import jax

    cache = Path(os.environ.get("TRAINEE_CACHE", Path.home() / ".cache" / "trainee" / "jax"))
    jax.config.update("jax_compilation_cache_dir", str(cache))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)


def _split_config_flag(args: list[str]) -> tuple[Path | None, list[str]]:
    """Take `--config FILE` (or `--config=FILE`) out of the arguments."""
    rest, path = [], None
    it = iter(args)
    for arg in it:
        if arg == "--config":
            path = next(it, None)
            if path is None:
                raise ValueError("--config needs a file path: --config run.yaml")
            path = Path(path)
        elif arg.startswith("--config="):
            path = Path(arg.split("=", 1)[1])
        else:
            rest.append(arg)
    return path, rest


def cmd_train(args: list[str]) -> None:
    from trainee.learners.networks import describe_network
    from trainee.train import TrainConfig, config_from_dict, load_config_file, train
    from trainee.worlds import make

    path, args = _split_config_flag(args)
    base = config_from_dict(load_config_file(path)) if path else TrainConfig()
    config = tyro.cli(
        TrainConfig,
        args=args,
        default=base,
        prog="trainee train",
        description="Train a learner on a world. --config FILE (YAML/JSON) may "
        "set any field; flags override it.",
    )
    print(describe_network(config.hp, make(config.world)))  # the network actually used
    summary = train(config)
    print_summary(summary, config.run_dir)


def print_summary(summary: dict, run_dir: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{summary['learner']} on {summary['world']}")
    for column in ("seed", "final return", "final success", "env steps"):
        table.add_column(column, justify="right")
    for i, (ret, succ, steps) in enumerate(
        zip(summary["final_return"], summary["final_success"], summary["env_steps"], strict=True)
    ):
        table.add_row(str(i), f"{ret:.2f}", f"{succ:.2%}", f"{steps:,.0f}")
    console = Console()
    console.print(table)
    console.print(
        f"{summary['steps_per_second']:,.0f} env steps/s after "
        f"{summary['compile_seconds']:.1f} s of compilation; run in {run_dir}"
    )


@dataclass(frozen=True)
class RunConfig:
    """The main job: run every study (or --studies) and write one HTML report. Rerunning
    the same command resumes: finished studies are read back, never recomputed."""

    scale: Literal["quick", "full", "tiny"] = "quick"
    """quick: <= 10 min on a 2-core CPU; full: GPU-sized (hours on a GPU, see
    docs/studies.md); tiny: seconds, for tests only (no evidence)."""
    studies: str = "all"
    """Comma-separated study names (see docs/studies.md), or all."""
    seeds: int | None = None
    """Seeds per configuration (default: the scale's, 5 at quick)."""
    out: Path | None = None
    """Run directory (default runs/<scale>; the same directory resumes)."""
    executor: Literal["local", "ray"] = "local"
    """local: studies one after another in this process; ray: each study a Ray task."""
    quiet: bool = False
    """No progress bars."""


@dataclass(frozen=True)
class StudyConfig:
    """Run one study into a run directory (resumable like `trainee run`) and re-render
    that directory's report."""

    name: tyro.conf.Positional[str]
    """Study name: gap, two-students, value-function, jaggedness, eval-hacking, care,
    on-the-job, fleet."""
    scale: Literal["quick", "full", "tiny"] = "quick"
    """Scale (as for `trainee run`)."""
    seeds: int | None = None
    """Seeds per configuration (default: the scale's)."""
    out: Path | None = None
    """Run directory (default runs/<scale>)."""
    quiet: bool = False
    """No progress bars."""


@dataclass(frozen=True)
class ReportConfig:
    """Re-render RUN_DIR/report.html from the stored results (no training)."""

    run_dir: tyro.conf.Positional[Path]
    """Run directory written by `trainee run`."""


def _run_studies(names: list[str], scale: str, seeds: int | None, out: Path | None,
                 executor: str, quiet: bool) -> None:
    import time

    from trainee.report import render_report
    from trainee.studies.runner import run_studies

    out = out or Path("runs") / scale
    start = time.perf_counter()
    try:
        stored = run_studies(names, out, scale=scale, seeds=seeds, executor=executor,
                             quiet=quiet)
    except KeyboardInterrupt:
        print(f"trainee: interrupted; rerun the same command to resume (finished studies "
              f"are kept in {out / 'studies'})", file=sys.stderr)
        raise SystemExit(130) from None
    path = render_report(out)
    print_study_table(stored)
    print(f"{time.perf_counter() - start:.0f} s; report: {path}")


def print_study_table(stored: list[dict]) -> None:
    from rich.console import Console
    from rich.table import Table

    from trainee.studies.verdict import fmt

    table = Table(title="trainee studies")
    for column in ("study", "claim", "verdict", "key number (IQM [95% CI])"):
        table.add_column(column, overflow="fold")
    for s in stored:
        v = s["verdict"]
        number = f"{v['key']}: {fmt(v['value'])}" if v["value"] else "-"
        table.add_row(s["name"], s["claim"], v["status"], number)
    Console().print(table)


def cmd_run(args: list[str]) -> None:
    from trainee.studies import parse_names  # first: it sets an XLA flag (studies/__init__)

    run = tyro.cli(RunConfig, args=args, prog="trainee run")
    _run_studies(parse_names(run.studies), run.scale, run.seeds, run.out, run.executor,
                 run.quiet)


def cmd_study(args: list[str]) -> None:
    from trainee.studies import parse_names

    config = tyro.cli(StudyConfig, args=args, prog="trainee study")
    _run_studies(parse_names(config.name), config.scale, config.seeds, config.out, "local",
                 config.quiet)


def cmd_report(args: list[str]) -> None:
    from trainee.report import render_report
    from trainee.store import read_json

    config = tyro.cli(ReportConfig, args=args, prog="trainee report")
    path = render_report(config.run_dir)
    studies = sorted((config.run_dir / "studies").glob("*.json"))
    print_study_table([read_json(p) for p in studies])
    print(f"report: {path}")


@dataclass(frozen=True)
class EvalConfig:
    """Evaluate a trained run on a split of its world."""

    run: Path
    """Run directory written by `trainee train`."""
    split: str = "train"
    """Split to evaluate on (see `trainee worlds`)."""
    num_tasks: int = 256
    """Tasks sampled from the split."""
    episodes: int = 4
    """Episodes per task."""
    seed: int = 1
    """Key for sampling tasks and actions (use a seed different from training's)."""
    greedy: bool = False
    """Take the most likely action instead of sampling."""


def cmd_eval(args: list[str]) -> None:
    from trainee.evaluation_run import evaluate_run

    config = tyro.cli(EvalConfig, args=args, prog="trainee eval")
    evaluate_run(
        config.run,
        config.split,
        config.num_tasks,
        config.episodes,
        config.seed,
        config.greedy,
        show=True,
    )


def cmd_worlds(args: list[str]) -> None:
    from rich.console import Console
    from rich.table import Table

    from trainee.worlds import make, names

    tyro.cli(_NoArgs, args=args, prog="trainee worlds")
    table = Table(title="worlds")
    for column in ("world", "splits (train + held-out shift axes)", "hidden counters", "max steps"):
        table.add_column(column)
    for name in names():
        world = make(name)
        table.add_row(
            name, ", ".join(world.splits), ", ".join(world.counters) or "-", str(world.max_steps)
        )
    Console().print(table)
    print("External: gymnax:<EnvName> (pip install 'trainee[gymnax]'), e.g. gymnax:CartPole-v1")


@dataclass(frozen=True)
class _NoArgs:
    """(no options)"""


@dataclass(frozen=True)
class ShowConfig:
    """Render one episode of a world to an animated GIF (and print it as text)."""

    world: tyro.conf.Positional[str]
    """World name."""
    split: str = "train"
    """Split to draw the task from."""
    out: Path = Path("episode.gif")
    """Where to write the GIF."""
    run: Path | None = None
    """Play a trained run's agent (seed --agent-seed) instead of the world's oracle."""
    agent_seed: int = 0
    """Which seed of the run to play."""
    seed: int = 0
    """Key for the task and the episode."""
    text: bool = False
    """Also print every frame as text."""


def cmd_show(args: list[str]) -> None:
    import jax

    from trainee.evaluate import oracle_policy
    from trainee.worlds import make, task_at
    from trainee.worlds.render import record_episode, save_gif

    config = tyro.cli(ShowConfig, args=args, prog="trainee show")
    if config.run is not None:
        from trainee.agent import load_agent

        agent = load_agent(config.run)
        world, policy = agent.world, agent.policy(config.agent_seed)
    else:
        world = make(config.world)
        policy = oracle_policy(world)
    world.check_split(config.split)
    key_task, key_episode = jax.random.split(jax.random.key(config.seed))
    task = task_at(world.tasks(key_task, config.split, 1), 0)
    states = record_episode(world, policy, key_episode, task)
    if config.text:
        for state in states:
            print(world.render_text(state, task), end="\n\n")
    save_gif([world.render_rgb(s, task) for s in states], config.out)
    print(f"{len(states) - 1} steps written to {config.out}")


@dataclass(frozen=True)
class ExamArgs:
    """The sealed exam: `status`, `query --run DIR` (answered through Thresholdout, spends
    budget when it must), `reseal` (a fresh holdout), `final --run DIR` (one shot)."""

    action: tyro.conf.Positional[Literal["status", "query", "reseal", "final"]]
    """What to do."""
    run: Path | None = None
    """Run directory whose agent sits the exam (query, final)."""
    agent_seed: int = 0
    """Which seed of the run sits the exam."""
    split: str | None = None
    """query: one held-out split instead of all of them pooled."""
    force: str | None = None
    """final: a reason to sit a repeated final (logged, flagged, costs one unit of budget)."""
    reason: str | None = None
    """reseal: why the active seal is retired (logged)."""
    key: Path | None = None
    """The exam key file (default: $TRAINEE_EXAM_KEY, else in the user's data directory)."""
    db: Path | None = None
    """Results database (default: the run's, else $TRAINEE_DB, else runs/trainee.db)."""


def cmd_exam(args: list[str]) -> None:
    import json

    from trainee import exam
    from trainee.store import db_path_for

    config = tyro.cli(ExamArgs, args=args, prog="trainee exam")
    if config.action in ("query", "final") and config.run is None:
        raise ValueError(f"exam {config.action} needs --run DIR (a trained run)")
    if config.db is not None:
        db = config.db
    elif config.run is not None:
        db = db_path_for(config.run)
    else:
        db = Path(os.environ.get("TRAINEE_DB", "runs/trainee.db"))
    if config.action == "status":
        result = exam.status(db, key_path=config.key)
    elif config.action == "reseal":
        result = exam.reseal(db, reason=config.reason, key_path=config.key)
    else:
        from trainee.agent import load_agent

        agent = load_agent(config.run)
        run_id = str(config.run.resolve())
        if config.action == "query":
            result = exam.query(db, agent, config.agent_seed, config.split, run_id, config.key)
        else:
            result = exam.final(db, agent, config.agent_seed, run_id, config.force, config.key)
    print(json.dumps(result, indent=2, default=str))


def cmd_career(args: list[str]) -> None:
    from trainee.careers.command import cmd_career as run

    run(args)


def cmd_fleet(args: list[str]) -> None:
    from trainee.fleet.command import cmd_fleet as run

    run(args)


HANDLERS = {
    "career": cmd_career,
    "fleet": cmd_fleet,
    "exam": cmd_exam,
    "run": cmd_run,
    "study": cmd_study,
    "report": cmd_report,
    "train": cmd_train,
    "eval": cmd_eval,
    "worlds": cmd_worlds,
    "show": cmd_show,
}


def usage() -> str:
    lines = ["usage: trainee COMMAND [--help] [options]", "", "commands:"]
    lines += [f"  {name:<8} {text}" for name, text in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        return 0
    command, args = argv[0], argv[1:]
    if command not in HANDLERS:
        print(f"trainee: error: unknown command {command!r}\n{usage()}", file=sys.stderr)
        return 2
    from trainee.checkpoint import CheckpointError
    from trainee.exam import BudgetExhausted, ExamError
    from trainee.store import StoreError

    enable_compilation_cache()
    try:
        HANDLERS[command](args)
    except (
        ExamError,
        BudgetExhausted,
        ValueError,
        FileNotFoundError,
        FileExistsError,
        CheckpointError,
        StoreError,
        ImportError,
        NotImplementedError,
    ) as err:
        print(f"trainee: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            "trainee: interrupted; rerun the same command with --resume to continue",
            file=sys.stderr,
        )
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
