"""Careers: a sequence of jobs that one learner does in turn (a continual-learning stream).

A **job** is a world, a split, task-sampler options and an optional selection rule
(`where`: keep only tasks whose field equals a value, e.g. errands tasks whose first
sub-goal is `fetch`), plus a budget of env steps. Careers are presets or YAML/JSON files
with the same fields:

    name: my-career
    jobs:
      - {name: fetch, world: errands, split: train, tasks: {max_chain: 1},
         where: "chain_verb[0]=0", steps: 200000}
      - ...

A career may also carry the learner settings it needs (`hp:`, `LearnerConfig` fields);
`trainee career` uses them as defaults that command-line flags override.

Jobs may use different worlds (a mixed career): each world is then embedded in one
shared interface so one network reads them all (`career_worlds`,
`trainee.worlds.embedding`); a single-world career uses its world as it is.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from trainee.learners import LearnerConfig
from trainee.worlds import World, make
from trainee.worlds.controls import Relabelled, RelabelledTask, with_layout
from trainee.worlds.embedding import embed


@dataclass(frozen=True)
class Job:
    name: str
    """Short label (used in the R matrix and plots)."""
    world: str
    """World name."""
    split: str = "train"
    """Split the job's tasks come from."""
    tasks: dict = field(default_factory=dict)
    """Extra keyword arguments to `world.tasks` (e.g. `max_chain`, `level`)."""
    where: str = ""
    """Selection rule `field[index]=value` or `field=value`; empty keeps every task."""
    steps: int = 100_000
    """Env-step budget of the job."""
    controls: int = 0
    """Controls layout: 0 = the world's own; k > 0 = the actions relabelled by a fixed
    random permutation k (`trainee.worlds.controls`), a probe of plasticity."""
    cue: tuple[float, ...] = ()
    """Context the agent sees, appended to every observation (values in [-1, 1], e.g. a
    "keep left" sign); every job of a career shows as many values, or none."""


@dataclass(frozen=True)
class Career:
    name: str
    jobs: tuple[Job, ...]
    hp: dict[str, object] = field(default_factory=dict)
    """Learner settings the career needs (`LearnerConfig` field: value), e.g. a wider
    network for errands; the defaults of `trainee career`, which flags override. The
    budget is each job's `steps`, so `total_steps` is not allowed here. A partial mapping,
    not a LearnerConfig: it must say which fields the career sets (the rest stay the
    caller's, `learner_config`); its values are type-checked against LearnerConfig when
    the career is read (`career_from_mapping`) and its names in `validate`."""

    def validate(self) -> None:
        if not self.jobs:
            raise ValueError(f"career {self.name!r} has no jobs")
        for job in self.jobs:
            if not 0 < job.steps <= 10**12:  # the bound of LearnerConfig.total_steps
                raise ValueError(f"job {job.name!r}: steps must lie in [1, 1e12] "
                                 f"(got {job.steps})")
            if job.controls < 0:
                raise ValueError(f"job {job.name!r}: controls must be >= 0 (0 = the world's own)")
            if len(job.cue) != len(self.jobs[0].cue):
                raise ValueError(f"job {job.name!r} shows a cue of {len(job.cue)} values, job "
                                 f"{self.jobs[0].name!r} {len(self.jobs[0].cue)}; give every "
                                 "job the same number")
            if any(abs(v) > 1 for v in job.cue):
                raise ValueError(f"job {job.name!r}: cue values must lie in [-1, 1]")
        fields = {f.name for f in dataclasses.fields(LearnerConfig)} - {"total_steps"}
        unknown = sorted(set(self.hp) - fields)
        if unknown:
            raise ValueError(f"career {self.name!r}: hp sets {unknown}; it may set "
                             f"{', '.join(sorted(fields))} (each job's `steps` is its budget)")

    @property
    def mixed(self) -> bool:
        """Whether the jobs use more than one world."""
        return len({job.world for job in self.jobs}) > 1

    def learner_config(self, base: LearnerConfig) -> LearnerConfig:
        """`base` with the career's learner settings applied."""
        return dataclasses.replace(base, **self.hp)


def career_worlds(career: Career) -> dict[str, World]:
    """{world name: world} of a career's jobs. A single-world career gets its world as it
    is; a mixed career gets every world embedded in one shared interface (padded
    observation + one-hot of the world, the largest action count): see
    `trainee.worlds.embedding`."""
    names = tuple(dict.fromkeys(job.world for job in career.jobs))
    relabel = bool(career.jobs[0].cue) or any(job.controls for job in career.jobs)
    return dict(zip(names, _worlds(names, len(career.jobs[0].cue), relabel), strict=True))


@cache
def _worlds(names: tuple[str, ...], cue_size: int, relabel: bool) -> tuple[World, ...]:
    """The worlds of `career_worlds`, made once per process: careers with the same worlds
    then share their compiled programs (a program is cached per world object)."""
    worlds = [make(name) for name in names]
    worlds = embed(worlds) if len(names) > 1 else worlds
    if relabel:  # relabelled controls or cues
        worlds = [Relabelled(world, cue_size) for world in worlds]
    return tuple(worlds)


_WHERE = re.compile(r"^\s*(\w+)(?:\[(\d+)\])?\s*=\s*(-?\d+(?:\.\d+)?)\s*$")


def select(tasks, where: str) -> np.ndarray:
    """(n,) bool: which tasks of a batch satisfy the job's `where` rule."""
    n = jax.tree.leaves(tasks)[0].shape[0]
    if not where:
        return np.ones(n, bool)
    match = _WHERE.match(where)
    if match is None:
        raise ValueError(f"bad selection rule {where!r}; write field[index]=value or field=value")
    name, index, value = match.groups()
    if not hasattr(tasks, name):
        raise ValueError(f"selection rule {where!r}: tasks have no field {name!r}")
    values = np.asarray(getattr(tasks, name))
    if index is not None:
        values = values[:, int(index)]
    return values == float(value)


def job_tasks(world: World, job: Job, key: jax.Array, n: int):
    """`n` tasks of the job (sampling more and keeping those the rule selects)."""
    world.check_split(job.split)
    draws = n if not job.where else 8 * n
    tasks = world.tasks(key, job.split, draws, **job.tasks)
    relabelled = isinstance(tasks, RelabelledTask)
    keep = np.flatnonzero(select(tasks.inner if relabelled else tasks, job.where))
    if keep.size < n:
        raise ValueError(f"job {job.name!r}: rule {job.where!r} keeps {keep.size} of {draws} "
                         f"sampled tasks, fewer than {n}; loosen the rule")
    tasks = jax.tree.map(lambda x: jnp.asarray(x)[keep[:n]], tasks)
    return with_layout(tasks, job.controls, job.cue) if relabelled else tasks


# The PPO settings errands needs to learn at all (docs/worlds/errands.md, "PPO on the
# easiest tasks"): many short rollouts, a wide relu network, a large learning rate.
ERRANDS_HP = {"num_envs": 128, "num_steps": 16, "hidden": 256, "activation": "relu", "lr": 1e-3}
# FETCH, OPEN, DELIVER = 0, 1, 2 (trainee.worlds.errands_tasks.VERBS)
# The easiest errands: one sub-goal, unlocked door, no distractors.
EASIEST_ERRANDS = {"max_chain": 1, "p_locked": 0.0, "distractors": False}


def _errands(steps: int) -> Career:
    # The easiest errands, split by verb.
    job = lambda name, verb: Job(name, "errands", "train", EASIEST_ERRANDS,
                                 f"chain_verb[0]={verb}", steps)
    return Career("errands", (job("fetch", 0), job("open", 1), job("deliver", 2),
                              job("fetch'", 0)), ERRANDS_HP)


# XLand-MiniGrid goal ids (xminigrid.core.goals): 4 = tile near tile, 7 = tile near the
# up side of a tile, 9 = ... the down side. The agent does not see the goal, so a job
# is the behaviour its goal kind rewards; `xland-same` repeats one job (its placebo:
# no forgetting and no transfer beyond more practice by construction).
XLAND_GOALS = {4: "near", 7: "near-up", 9: "near-down"}
XLAND_JOB_STEPS = 122_880  # per job: half the standard scale's train_steps (the load of
# session 9 allowed no more; fixed before any career run, issue 18)
# The standard scale's ppo (studies/scale.py), so the career and the gap study on the
# same world train the same network the same way.
XLAND_HP = {"num_envs": 32, "num_steps": 32, "hidden": 64, "num_minibatches": 8}


def _xland(goals: tuple[int, ...]) -> Career:
    """XLand rulesets of the trivial benchmark's train split, one goal kind per job."""
    return Career("xland" if len(set(goals)) > 1 else "xland-same", tuple(
        Job(f"{i}-{XLAND_GOALS[g]}", "xminigrid:trivial-2k", "train", {}, f"goal[0]={g}",
            XLAND_JOB_STEPS) for i, g in enumerate(goals)), XLAND_HP)


def _mixed() -> Career:
    """One agent, three worlds: easiest driving, then the smallest repairs, then fetching
    in errands (the hardest to learn of the three, hence errands' learner settings).
    Budgets are multiples of 10 updates of 128 x 16 steps, so every job's learning curve
    has 10 equal chunks."""
    return Career("mixed", (
        Job("drive", "driving", "train", {"level": 0}, steps=102_400),
        Job("repair", "repair", "train", {"level": 0}, steps=102_400),
        Job("fetch", "errands", "train", EASIEST_ERRANDS, "chain_verb[0]=0", steps=204_800),
    ), ERRANDS_HP)


# Jobs that conflict (#12 part 5; docs/careers.md, "Jobs that conflict"). Driving at
# level 1 (gentle curves, at most one car: a constant "straight ahead" action still
# finishes 0.84 of level-0 routes but 0.19 of level-1 ones), each job a lane rule in a
# car: "keep right" / "keep left" (the route counts only if it ends in that lane, so the
# correct steering in the same state is reversed) and the car's controls layout (the
# same buttons play other actions). The layouts were picked by a stated rule, not by
# trial: going up from layout 0, keep k if the oracle of every kept layout, pressing its
# buttons in car k (and car k's oracle in theirs), finishes <= 5% of routes
# (`benchmarks/conflict_matrix.py --pick-cars`).
CONFLICT_LEVEL = 1
CONFLICT_CARS = (0, 4, 8, 23, 27, 46)
LANES = {"right": -1, "left": 1}


def conflict_job(lane: str, car: int, steps: int, cue: tuple[float, ...]) -> Job:
    """Driving at CONFLICT_LEVEL under lane rule `lane` in car CONFLICT_CARS[car]."""
    return Job(f"{lane}, car {car}", "driving", "train",
               {"level": CONFLICT_LEVEL, "lane": LANES[lane]}, steps=steps,
               controls=CONFLICT_CARS[car], cue=cue)


def _career_conflict(steps: int) -> Career:
    """12 jobs: keep right then keep left in each of 6 cars. The learner sees the lane
    rule (a road sign, cue -1 / +1) but not which car it is in (it can only feel the
    controls), and is never told that the job changed."""
    return Career("career-conflict", tuple(
        conflict_job(lane, car, steps, (float(LANES[lane]),))
        for car in range(len(CONFLICT_CARS)) for lane in LANES))


# The fleet's 4 jobs: both lane rules in cars 0 and 1; each job shows its rule and its
# car (cue (lane, car: -1 / +1)), so one policy can in principle do all four and a merged
# agent has something to keep (trainee.fleet.jobs).
CONFLICT_FLEET = Career("conflict-fleet", tuple(
    conflict_job(lane, car, 122_880, (float(LANES[lane]), 2.0 * car - 1.0))
    for car in range(2) for lane in LANES))


PRESETS = {
    "errands": lambda: _errands(300_000),
    "corridor": lambda: Career("corridor", (
        Job("near", "corridor", "train", steps=20_000),
        Job("far", "corridor", "longer", steps=20_000),
    )),
    "repair": lambda: Career("repair", (
        Job("small", "repair", "train", steps=150_000),
        Job("bigger", "repair", "bigger", steps=150_000),
    )),
    "driving": lambda: Career("driving", tuple(
        Job(name, "driving", split, {"level": 0}, steps=150_000)
        for name, split in (("dry", "train"), ("ice", "ice"), ("night", "night")))),
    "mixed": _mixed,
    "driving-friction": lambda: Career("driving-friction", tuple(
        Job(f"{i}-{'ice' if i % 2 else 'dry'}", "driving", "ice" if i % 2 else "train",
            {"level": 0}, steps=40_000) for i in range(20))),
    # Friction switching alone is too easy a stream to probe plasticity (the learner is
    # competent on both roads after the first job); here every job also has new controls.
    "driving-controls": lambda: Career("driving-controls", tuple(
        Job(f"{i}-{'ice' if i % 2 else 'dry'}", "driving", "ice" if i % 2 else "train",
            {"level": 0}, steps=40_960, controls=i) for i in range(20))),
    "career-conflict": lambda: _career_conflict(122_880),
    "xland": lambda: _xland((4, 7, 9)),
    "xland-same": lambda: _xland((4, 4, 4)),
}


def load_career(name_or_file: str) -> Career:
    """A preset by name, or a YAML/JSON career file."""
    if name_or_file in PRESETS:
        return PRESETS[name_or_file]()
    path = Path(name_or_file)
    if not path.is_file():
        raise ValueError(f"unknown career {name_or_file!r}: not a preset "
                         f"({', '.join(PRESETS)}) and no such file")
    from trainee.configs import read_mapping

    values = read_mapping(path)
    unknown = sorted(set(values) - {"name", "jobs", "hp"})
    if unknown or not isinstance(values.get("jobs"), list):
        raise ValueError(f"career file {path}: needs `jobs:` (a list of world/split/steps) "
                         f"and may set `name:` and `hp:`" + (f"; unknown {unknown}" if unknown
                                                             else ""))
    return career_from_mapping(values, path.stem, f"career file {path}")


def career_from_mapping(values: dict, name: str = "career", where: str = "career") -> Career:
    """A Career from `{name, jobs: [Job fields], hp: {LearnerConfig fields}}` (a career
    file, or the `career` entry of a run record), type-checked by the config loader."""
    from trainee.configs import from_mapping

    if not isinstance(values.get("jobs"), list | tuple):
        raise ValueError(f"{where}: jobs must be a list of job mappings (world, split, steps)")
    jobs = tuple(from_mapping(Job, job, where=f"{where} job {i}")
                 for i, job in enumerate(values["jobs"]))
    hp = {} if values.get("hp") is None else values["hp"]
    if not isinstance(hp, dict):
        raise ValueError(f"{where}: hp must be a mapping of LearnerConfig field: value "
                         f"(got {hp!r})")
    hp = dict(hp)
    checked = from_mapping(LearnerConfig, hp, where=f"{where} hp")
    career = Career(values.get("name", name), jobs, {k: getattr(checked, k) for k in hp})
    career.validate()
    return career
