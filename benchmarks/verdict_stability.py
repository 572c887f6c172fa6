"""Verdict stability over base seeds: the quick suite (`trainee run`) at several base
seeds, its verdicts and key numbers side by side (issue 13, part 6).

Each base seed is one `trainee run --seed N` in its own process and run directory
(`OUT/seed-N`; resumable: rerunning the command skips finished studies). At the end the
table is printed as markdown and written as `OUT/stability.json`, and a copy goes into
every seed's run directory, whose report then flags each verdict that differs between
base seeds.

    python benchmarks/verdict_stability.py                     # quick, seeds 0 1 2
    python benchmarks/verdict_stability.py --seeds 0 1 --studies gap,care --out runs/s
    python benchmarks/verdict_stability.py --placebo           # the placebos' stability

3 x the quick suite is long on a shared 2-core machine; run one such process at a time.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from trainee.measures import format_ci
from trainee.store import atomic_write_json, read_json
from trainee.studies import parse_names
from trainee.studies.runner import study_path


def run_seed(seed: int, args, out: Path) -> float:
    """One base seed's suite in a fresh process; returns its wall-clock seconds."""
    command = [sys.executable, "-m", "trainee.cli", "run", "--scale", args.scale, "--seed",
               str(seed), "--studies", args.studies, "--out", str(out), "--quiet"]
    if args.placebo:
        command.append("--placebo")
    start = time.perf_counter()
    subprocess.run(command, check=True, env=os.environ.copy())
    return time.perf_counter() - start


def table(names: list[str], seeds: list[int], dirs: dict, placebo: bool) -> dict:
    """{name: [{"seed", "status", "value", "key"}]} from the stored results."""
    out = {}
    for name in names:
        rows = []
        for seed in seeds:
            path = study_path(dirs[seed], name, placebo)
            if path.exists():
                verdict = read_json(path)["verdict"]
                rows.append({"seed": seed, "status": verdict["status"],
                             "value": verdict["value"], "key": verdict["key"]})
        out[name] = rows
    return out


def markdown(studies: dict, seeds: list[int]) -> str:
    lines = ["| study | " + " | ".join(f"base seed {s}" for s in seeds) + " | stable |",
             "| --- |" + " --- |" * (len(seeds) + 1)]
    for name, rows in studies.items():
        by_seed = {r["seed"]: r for r in rows}
        cells = [f"{by_seed[s]['status']}: {format_ci(by_seed[s]['value'])}"
                 if s in by_seed and by_seed[s]["value"] else by_seed.get(s, {}).get(
                     "status", "not run") for s in seeds]
        statuses = {r["status"] for r in rows}
        stable = "-" if len(rows) < 2 else ("yes" if len(statuses) == 1 else "**no**")
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {stable} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--scale", default="quick")
    parser.add_argument("--studies", default="all")
    parser.add_argument("--out", type=Path, default=Path("runs/stability"))
    parser.add_argument("--placebo", action="store_true", help="the placebos' verdicts")
    args = parser.parse_args()
    names = parse_names(args.studies)
    dirs = {seed: args.out / f"seed-{seed}" for seed in args.seeds}
    seconds = {}
    for seed in args.seeds:
        seconds[seed] = run_seed(seed, args, dirs[seed])
        print(f"base seed {seed}: {seconds[seed]:.0f} s; load {os.getloadavg()}", flush=True)
    studies = table(names, args.seeds, dirs, args.placebo)
    stability = {"scale": args.scale, "base_seeds": args.seeds, "placebo": args.placebo,
                 "seconds": seconds, "studies": studies}
    atomic_write_json(args.out / "stability.json", stability)
    if not args.placebo:  # the reports read it beside their run
        from trainee.report import render_report

        for seed in args.seeds:
            atomic_write_json(dirs[seed] / "stability.json", stability)
            render_report(dirs[seed])
    print(markdown(studies, args.seeds))


if __name__ == "__main__":
    main()
