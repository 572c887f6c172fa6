"""Run studies into a run directory, resumably, and write the report.

Layout of `RUN_DIR`: `run.json` (scale, seeds, base seed, studies, versions, machine),
`studies/<name>.json` (one study's result, written atomically when it finishes),
`studies/<name>.placebo.json` (its placebo, `trainee run --placebo`), optionally
`stability.json` (`benchmarks/verdict_stability.py`) and `report.html`. Rerunning the
same command skips every study whose JSON exists, so an interrupted run (Ctrl-C, kill)
resumes and recomputes no finished study.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

from trainee.runtime import environment
from trainee.store import atomic_write_json, read_json
from trainee.studies import study_module
from trainee.studies.experiment import Context
from trainee.studies.scale import get_scale


def study_path(run_dir: Path, name: str, placebo: bool = False) -> Path:
    """Where a study's result (or its placebo's, apart from the real one) is stored."""
    return Path(run_dir) / "studies" / f"{name}{'.placebo' if placebo else ''}.json"


def run_one(name: str, scale_name: str, seeds: int, seed: int = 0, quiet: bool = False,
            learner: str = "ppo", placebo: bool = False) -> dict:
    """Run one study of `learner` (or its placebo) and return its stored form (result,
    verdict, timing)."""
    from trainee.runtime.progress import progress_bar
    from trainee.studies.budgets import budget

    module = study_module(name)
    scale = get_scale(scale_name)
    start = time.perf_counter()
    label = f"{name} (placebo)" if placebo else name
    # measured budgets are of the real study (a placebo's work is not measured: no ETA)
    total = None if placebo else budget(name, scale_name, seeds, learner)
    with progress_bar(total, f"{label:<15}", unit="env steps", disable=quiet) as bar:
        ctx = Context(scale=scale, seeds=seeds, seed=seed, advance=bar.advance, learner=learner,
                      placebo=placebo)
        result = module.run(ctx)
    return {
        "name": name,
        "claim": module.CLAIM,
        "method": module.METHOD,
        "scale": scale_name,
        "seeds": seeds,
        "seed": seed,
        "placebo": placebo,
        "learner": learner,
        "seconds": time.perf_counter() - start,
        "result": result,
        "verdict": module.verdict(result).to_json(),
    }


def check_run_config(run_dir: Path, scale: str, seeds: int, learner: str = "ppo",
                     seed: int = 0) -> None:
    """A run directory holds one scale, seed count, learner and base seed; resuming with
    others is an error."""
    path = Path(run_dir) / "run.json"
    if not path.exists():
        return
    stored = read_json(path)
    before = (stored["scale"], stored["seeds"], stored.get("learner", "ppo"),
              stored.get("seed", 0))
    if before != (scale, seeds, learner, seed):
        raise ValueError(
            f"{run_dir} holds a run at scale {before[0]} with {before[1]} seeds of learner "
            f"{before[2]}, base seed {before[3]}; use another --out for scale {scale} with "
            f"{seeds} seeds of {learner}, base seed {seed}"
        )


def run_studies(names: list[str], run_dir: Path, scale: str = "quick", seeds: int | None = None,
                executor: str = "local", quiet: bool = False, log=print,
                learner: str = "ppo", seed: int = 0, placebo: bool = False,
                workers: int = 1) -> list[dict]:
    """Run the studies (their placebos with `placebo`) not yet stored in `run_dir`;
    return every study's stored form. With the local executor, `workers` > 1 runs that
    many studies at once, each in its own process (`runtime.processes`); each study's
    numbers are the same either way."""
    run_dir = Path(run_dir)
    seeds = seeds or get_scale(scale).seeds
    if seeds < 5:
        log(f"note: {seeds} seeds (< 5): verdicts will rest on few seeds")
    check_run_config(run_dir, scale, seeds, learner, seed)
    stored = read_json(run_dir / "run.json") if (run_dir / "run.json").exists() else {}
    studies = list(dict.fromkeys([*stored.get("studies", []), *names]))
    atomic_write_json(run_dir / "run.json", {
        "scale": scale, "seeds": seeds, "seed": seed, "studies": studies, "learner": learner,
        "scale_config": dataclasses.asdict(get_scale(scale)),
        "environment": environment(),
        "started": stored.get("started", time.time()),
    })
    path = lambda name: study_path(run_dir, name, placebo)
    todo = [n for n in names if not path(n).exists()]
    for name in names:
        if name not in todo:
            log(f"{name}: already done, skipped (delete {path(name)} to rerun)")
    if executor == "ray":  # every study a Ray task; each result stored as it arrives
        from trainee.runtime import ensure_ray, ray_map

        ensure_ray(log_to_driver=not quiet)
        ray_map(run_one, [(name, scale, seeds, seed, True, learner, placebo) for name in todo],
                on_result=lambda i, result: atomic_write_json(path(todo[i]), result))
    elif executor == "local" and workers > 1 and len(todo) > 1:
        from trainee.runtime.processes import process_map

        process_map(run_one, [(name, scale, seeds, seed, quiet, learner, placebo)
                              for name in todo], workers, quiet=quiet,
                    on_result=lambda i, result: atomic_write_json(path(todo[i]), result))
    elif executor == "local":
        for name in todo:
            atomic_write_json(path(name), run_one(name, scale, seeds, seed, quiet, learner,
                                                  placebo))
    else:
        raise ValueError(f"unknown executor {executor!r}; choose local or ray")
    return [read_json(path(n)) for n in names]
