"""The fault campaign (issue 16): kill runs of `trainee train`, `trainee career`, `trainee
fleet` and `trainee run --scale tiny` with SIGKILL, at random times and at every write
boundary, resume each, and compare it with an uninterrupted run.

    python benchmarks/faults.py --random 3     # the campaign (~38 kills, ~30 min)
    python benchmarks/faults.py --random 1 --kinds train    # a smoke run

Targeted kills use the store's fault hook (`trainee.store.fault_point`, TRAINEE_FAULT=
NAME@STAGE#N): the process kills itself the N-th time it has written NAME's temporary
file but not renamed it (`tmp`), has just renamed it (`renamed`), or has a SQLite
transaction ready but not committed (`commit`). Random kills land while the work is in
progress, including in the middle of a resume (a second kill): each kind is run
uninterrupted twice first (the second run, on a warm compilation cache, is what a killed
run costs and must give the same results), kill times are drawn between the end of the
command's start-up (the time `trainee COMMAND --help` takes: Python and JAX imports) and
the end of that run, and a run that finished before its kill is not counted: its time
becomes the new duration and the kill is drawn again.

A resume is the command a user would rerun: `train ... --resume`; career, fleet and run
the same command again (a career or fleet restarts, a study run keeps its finished
studies). Bit-identical: the resumed run's results equal the uninterrupted run's exactly
(train: metrics.json, the checkpoint's state bytes and summary.json; career and fleet:
summary.json; run: every studies/*.json), timings aside. Prints kills (targeted), resumes,
runs lost (no finished run after the resume), bit-identical resumes, tracebacks and temp
files left behind.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from trainee import checkpoint, runs

TRAIN = ["train", "--world", "corridor", "--total-steps", "4096", "--num-envs", "8",
         "--num-steps", "16", "--num-tasks", "16", "--seeds", "2", "--chunks", "8"]
CAREER_FILE = {"name": "tiny", "jobs": [
    {"name": "near", "world": "corridor", "split": "train", "steps": 2048},
    {"name": "far", "world": "corridor", "split": "longer", "steps": 2048}]}
FLEET_FILE = {"preset": "corridor", "hp": {"total_steps": 2048}, "eval_tasks": 4}


@dataclass(frozen=True)
class Kind:
    command: list[str]  # `trainee` arguments, before --out
    resume: list[str]  # added to resume
    targets: list[str]  # TRAINEE_FAULT specs: one targeted kill each
    results: list[str] = field(default_factory=lambda: ["summary.json"])


KINDS = {
    "train": Kind(TRAIN, ["--resume"], [
        "record.json@renamed#1", "trainee.db@commit#1", "metrics.json@tmp#2",
        "checkpoint.ckpt@tmp#3", "checkpoint.ckpt@renamed#4", "summary.json@tmp#1",
        "trainee.db@commit#2"]),
    "career": Kind(["career", "{career}", "--seeds", "2", "--num-tasks", "16",
                    "--eval-tasks", "8"], [], [
        "record.json@renamed#1", "summary.json@tmp#1", "learning_speed.png@tmp#1",
        "trainee.db@commit#2"]),
    "fleet": Kind(["fleet", "{fleet}", "--seeds", "2", "--quiet"], [], [
        "record.json@tmp#1", "summary.json@tmp#1", "trainee.db@commit#2"]),
    "run": Kind(["run", "--scale", "tiny", "--studies", "gap,fleet", "--seeds", "2",
                 "--quiet"], [], [
        "run.json@tmp#1", "gap.json@tmp#1", "gap.json@renamed#1", "fleet.json@tmp#1",
        "report.html@tmp#1", "trainee.db@commit#2"], ["studies/gap.json",
                                                       "studies/fleet.json"]),
}


@dataclass
class Tally:
    trials: int = 0
    killed_runs: int = 0  # trials whose first launch was killed
    kills: int = 0
    targeted: int = 0
    missed_targets: int = 0  # the process finished before reaching its target
    resumes: int = 0
    lost: int = 0
    identical: int = 0
    different: int = 0
    redrawn: int = 0  # random kills drawn again because the run finished first
    tracebacks: int = 0
    leftovers: int = 0
    notes: list[str] = field(default_factory=list)


RANDOM_ATTEMPTS = 4  # fresh runs tried per random kill before giving up on it


@dataclass
class Clock:
    """Draws random kill times between a command's start-up and the end of its
    uninterrupted (warm-cache) run."""

    rng: random.Random
    startup: float  # seconds `trainee COMMAND --help` takes (imports, no work)
    seconds: float  # the shortest uninterrupted run seen
    delay: float = 0.0  # the last kill time drawn
    redrawn: int = 0

    def draw(self) -> float:
        return self.startup + self.rng.uniform(0.0, 0.9) * max(self.seconds - self.startup, 0)


def launch(args: list[str], root: Path, fault: str | None = None) -> subprocess.Popen:
    env = {**os.environ, "TRAINEE_DB": str(root / "trainee.db"), "PYTHONUNBUFFERED": "1"}
    env.pop("TRAINEE_FAULT", None)
    if fault:
        env["TRAINEE_FAULT"] = fault
    log = open(root / f"log-{time.monotonic_ns()}.txt", "wb")  # noqa: SIM115 (closed by the OS)
    return subprocess.Popen([sys.executable, "-m", "trainee.cli", *args], cwd=root,
                            stdout=log, stderr=subprocess.STDOUT, env=env)


def command(kind: Kind, root: Path, out: Path) -> list[str]:
    files = {"career": root / "career.json", "fleet": root / "fleet.json"}
    files["career"].write_text(json.dumps(CAREER_FILE))
    files["fleet"].write_text(json.dumps(FLEET_FILE))
    args = [a.format(career=files["career"], fleet=files["fleet"]) for a in kind.command]
    return [*args, "--out", str(out)]


def kill_after(proc: subprocess.Popen, seconds: float) -> bool:
    """SIGKILL `proc` after `seconds` unless it ended first; whether the kill ended it."""
    try:
        proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    return proc.returncode == -signal.SIGKILL


def results(kind: Kind, out: Path) -> dict:
    """What must match between a resumed and an uninterrupted run (timings stripped)."""
    found = {name: strip(json.loads((out / name).read_text())) for name in kind.results}
    found["status"] = runs.read_record(out)["status"]
    if (out / checkpoint.STATE_FILE).exists():
        found["state"] = checkpoint.read(out)[1].hex()
        found["metrics"] = json.loads((out / "metrics.json").read_text())
    return found


def strip(tree):
    if isinstance(tree, dict):
        return {k: strip(v) for k, v in tree.items() if k not in runs.NOT_NUMBERS}
    if isinstance(tree, list):
        return [strip(v) for v in tree]
    return tree


def first_launch(name: str, kind: Kind, base: Path, fault: str | None,
                 clock: Clock) -> tuple[Path, list[str], bool]:
    """Start a fresh run and kill it (at its target, or at a random time while it still
    works, re-drawn while the run finishes first): its root, arguments, whether killed."""
    for _ in range(1 if fault else RANDOM_ATTEMPTS):
        root = Path(tempfile.mkdtemp(dir=base, prefix=f"{name}-"))
        args = command(kind, root, root / "run")
        begun = time.perf_counter()
        proc = launch(args, root, fault)
        if fault:
            proc.wait()
            return root, args, proc.returncode == -signal.SIGKILL
        clock.delay = clock.draw()
        if kill_after(proc, clock.delay):
            return root, args, True
        clock.seconds = min(clock.seconds, time.perf_counter() - begun)
        clock.redrawn += 1
    return root, args, False


def trial(name: str, kind: Kind, base: Path, reference: dict, fault: str | None,
          clock: Clock, kill_resume: bool, tally: Tally) -> None:
    root, args, killed = first_launch(name, kind, base, fault, clock)
    out = root / "run"
    tally.trials += 1
    tally.missed_targets += bool(fault) and not killed
    tally.kills += killed
    tally.killed_runs += killed
    tally.targeted += bool(fault) and killed
    if kill_resume and killed:  # kill the resume too
        tally.resumes += 1
        tally.kills += kill_after(launch([*args, *kind.resume], root), clock.draw())
    final = launch([*args, *kind.resume], root)
    final.wait()
    tally.resumes += killed
    logs = "".join(p.read_text(errors="replace") for p in root.glob("log-*.txt"))
    tally.tracebacks += logs.count("Traceback")
    tally.leftovers += len(list(out.rglob(".*.tmp")))
    what = f"{name} {fault or f'random {clock.delay:.1f} s'}"
    if final.returncode != 0:
        tally.lost += 1
        tally.notes.append(f"LOST {what}: exit {final.returncode}: {logs[-300:]!r}")
        return
    same = results(kind, out) == reference
    tally.identical += same and killed
    tally.different += not same
    if not same:
        tally.notes.append(f"DIFFERENT {what} ({root})")


def startup(kind: Kind, base: Path) -> float:
    """Seconds `trainee COMMAND --help` takes: the start-up before any work (the shortest
    of three)."""
    times = []
    for _ in range(3):
        begun = time.perf_counter()
        launch([kind.command[0], "--help"], base).wait()
        times.append(time.perf_counter() - begun)
    return min(times)


def uninterrupted(name: str, kind: Kind, base: Path) -> tuple[dict, float]:
    """Run `kind` uninterrupted twice (the first fills the compilation cache): its results
    (the same both times, or the campaign stops) and the second run's seconds."""
    found, seconds = [], 0.0
    for _ in range(2):
        root = Path(tempfile.mkdtemp(dir=base, prefix=f"{name}-reference-"))
        begun = time.perf_counter()
        if launch(command(kind, root, root / "run"), root).wait() != 0:
            raise SystemExit(f"the uninterrupted {name} run failed; see {root}")
        seconds = time.perf_counter() - begun
        found.append(results(kind, root / "run"))
    if found[0] != found[1]:
        raise SystemExit(f"two uninterrupted {name} runs differ; see {base}")
    return found[0], seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kinds", default="train,career,fleet,run")
    parser.add_argument("--random", type=int, default=4, help="random kills per kind")
    parser.add_argument("--targets", type=int, default=None,
                        help="at most this many targeted kills per kind (default: all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", action="store_true", help="keep the run directories")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    tally = Tally()
    base = Path(tempfile.mkdtemp(prefix="trainee-faults-"))
    start = time.perf_counter()
    for name in args.kinds.split(","):
        kind = KINDS[name]
        reference, seconds = uninterrupted(name, kind, base)
        print(f"{name}: uninterrupted run {seconds:.0f} s (warm cache)", flush=True)
        clock = Clock(rng, startup(kind, base), seconds)
        print(f"  start-up {clock.startup:.1f} s", flush=True)
        for fault in kind.targets[:args.targets]:
            trial(name, kind, base, reference, fault, clock, False, tally)
        for i in range(args.random):
            trial(name, kind, base, reference, None, clock, i % 2 == 1, tally)
        tally.redrawn += clock.redrawn
        print(f"  after {name}: {tally}", flush=True)
    print(f"\nfault campaign ({time.perf_counter() - start:.0f} s, load {os.getloadavg()}):")
    print(f"kills: {tally.kills} ({tally.targeted} targeted at write boundaries; "
          f"{tally.missed_targets} targets not reached; {tally.redrawn} random kills drawn "
          f"again because the run finished first)")
    print(f"resumes: {tally.resumes}")
    print(f"runs lost: {tally.lost}")
    print(f"bit-identical resumes: {tally.identical} of the {tally.killed_runs} killed runs "
          f"(differing from the uninterrupted run: {tally.different})")
    print(f"tracebacks: {tally.tracebacks}")
    print(f"temporary files left behind: {tally.leftovers}")
    for note in tally.notes:
        print(note)
    if not args.keep:
        import shutil

        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
