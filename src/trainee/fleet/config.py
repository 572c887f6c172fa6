"""The fleet config: one frozen dataclass, a docstring per field, and named presets."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from trainee.configs import Range, check_ranges
from trainee.fleet.merge import RULES
from trainee.learners import LearnerConfig

__all__ = ["PRESETS", "FleetConfig", "load_fleet_config"]


# Bounds that refuse only values that cannot be meant (memory, PRNG seed width).
RANGES = {"instances": Range(1, 1024), "merge_every": Range(1, 10**6),
          "pool_size": Range(1, 2**20), "eval_tasks": Range(1, 2**20),
          "eval_episodes": Range(1, 10**4), "seeds": Range(1, 1000), "seed": Range(0, 2**31 - 1),
          "ties_density": Range(0, 1, low_open=True), "ties_scale": Range(0, 100),
          "outer_lr": Range(0, 100, low_open=True), "outer_momentum": Range(0, 1, high_open=True),
          "end_scale": Range(0, 100)}


@dataclass(frozen=True)
class FleetConfig:
    world: str = "corridor"
    """World the jobs come from (jobs: see trainee.fleet.jobs)."""
    instances: int = 4
    """N: instances, instance i on job i (jobs repeat when N exceeds the job family)."""
    merge: str = "mean"
    """Merge rule: a name registered in `trainee.fleet.merge.RULES` (mean, ties, diloco),
    or `none` to train independent specialists only."""
    merge_every: int = 4
    """K: updates of every instance between merges."""
    hp: LearnerConfig = field(default_factory=LearnerConfig)
    """Learner of every instance; `hp.total_steps` is the budget of *one* instance (the
    generalist gets N times as much: the same total experience)."""
    jobs: tuple[int, ...] | None = None
    """Job of each instance, as indices into the world's job family (None: instance i on
    job i mod the family's size)."""
    task_kwargs: dict = field(default_factory=dict)
    """Extra arguments to `world.tasks` for every pool (errands: `p_locked`,
    `distractors`), on top of the job family's own (errands: `max_chain=1`)."""
    pool_size: int = 64
    """Tasks in each instance's training pool (all of one job)."""
    eval_tasks: int = 32
    """Tasks per job and split at evaluation (fresh train-split and held-out tasks)."""
    eval_episodes: int = 4
    """Episodes per evaluation task."""
    seeds: int = 5
    """Independent repetitions (looped; each one compiled program per agent kind)."""
    seed: int = 0
    """Base seed: repetition s uses seed + s."""
    ties_density: float = 0.2
    """TIES: fraction of each task vector kept (k = 20%, Yadav et al. 2023's default)."""
    ties_scale: float = 1.0
    """TIES: lambda, the scale of the merged task vector (1 = plain disjoint mean)."""
    outer_lr: float = 0.7
    """DiLoCo outer learning rate (Douillard et al. 2023 use 0.7)."""
    outer_momentum: float = 0.9
    """DiLoCo outer Nesterov momentum (0.9 in the paper)."""
    end_scale: float | None = None
    """Merge-at-the-end baseline (task arithmetic) lambda; None = 1 / N (the mean)."""

    def job_ids(self, family_size: int) -> list[int]:
        """The job index of every instance."""
        if self.jobs is not None:
            return list(self.jobs)
        return [i % family_size for i in range(self.instances)]

    def rounds(self, num_updates: int) -> int:
        """Merge rounds; a remainder of num_updates % merge_every updates is dropped."""
        return max(1, num_updates // self.merge_every)

    def validate(self) -> None:
        """Raise ValueError naming the bad field and the fix."""
        check_ranges(self, RANGES)
        if self.jobs is not None and len(self.jobs) != self.instances:
            raise ValueError(f"jobs names {len(self.jobs)} jobs for {self.instances} instances")
        if self.merge != "none":
            RULES.get(self.merge)  # a one-line ValueError listing the registered rules
        if not 0.0 < self.ties_density <= 1.0:
            raise ValueError(f"ties_density must lie in (0, 1] (got {self.ties_density})")
        self.hp.validate()


# Presets. corridor: seconds, for tests and a first look. errands: the acceptance fleet,
# four one-sub-goal errands (fetch ball, fetch box, fetch key, open the door), door never
# locked, no distractor objects or goal tiles. Why (measured, docs/fleet.md): the
# learner is docs/worlds/errands.md's best easiest-errands PPO config (128 envs x 16
# steps, relu, lr 1e-3) at hidden 128, which learned as fast here and costs less;
# "deliver" jobs stayed near 0.05-0.2 training success after 0.5-1M steps, so they are
# left out; locked doors only add a key detour; with distractors the fetch specialists
# were still at the untrained policy's score after 2**18 steps, so no skill to merge.
# 2**18 steps per instance (128 updates, which K = 2, 8 and 32 all divide) is what the
# shared 2-core machine affords for 5 seeds plus the interval sweep.
PRESETS = {
    "corridor": FleetConfig(
        world="corridor",
        hp=LearnerConfig(total_steps=16 * 32 * 16, num_envs=16, num_steps=32, lr=1e-3),
        pool_size=16,
        eval_tasks=8,
    ),
    "errands": FleetConfig(
        world="errands",
        merge_every=8,
        jobs=(0, 2, 4, 6),
        task_kwargs={"p_locked": 0.0, "distractors": False},
        hp=LearnerConfig(total_steps=128 * 16 * 128, num_envs=128, num_steps=16, lr=1e-3,
                         hidden=128, activation="relu"),
        pool_size=256,
        eval_tasks=64,
    ),
    # Four jobs that conflict (trainee.fleet.jobs, driving): keep right / keep left in two
    # cars with different controls; the learner and budget at which ppo alone learns each
    # job (docs/fleet.md, "The conflict preset").
    "conflict": FleetConfig(
        world="driving",
        merge_every=4,
        jobs=(0, 1, 2, 3),
        hp=LearnerConfig(total_steps=122_880, num_envs=16, num_steps=64, lr=1e-3),
        pool_size=256,
        eval_tasks=64,
    ),
}


def load_fleet_config(preset_or_file: str) -> FleetConfig:
    """A preset name or a YAML/JSON file of FleetConfig fields (`hp:` a mapping of
    LearnerConfig fields), type-checked by the config loader; a file may name a base
    preset with `preset: NAME` (default corridor)."""
    from trainee.configs import from_mapping, read_mapping

    if preset_or_file in PRESETS:
        return PRESETS[preset_or_file]
    path = Path(preset_or_file)
    if not path.is_file():
        raise FileNotFoundError(
            f"{preset_or_file!r} is neither a preset ({', '.join(PRESETS)}) nor a file"
        )
    fields = read_mapping(path)
    preset = fields.pop("preset", "corridor")
    if preset not in PRESETS:
        raise ValueError(f"fleet file {path}: unknown preset {preset!r}; one of "
                         f"{', '.join(PRESETS)}")
    return from_mapping(FleetConfig, fields, PRESETS[preset], where=f"fleet file {path}")
