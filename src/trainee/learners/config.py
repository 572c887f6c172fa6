"""The learner config: one frozen dataclass, one docstring per field (tyro turns the
docstrings into `--help`). Defaults are PureJaxRL's PPO defaults for CartPole-v1
(purejaxrl/ppo.py), which solve it; both learners share every field they can, so a
`ppo` vs `pg` comparison differs only in how advantages are estimated."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal

from trainee.configs import Range, check_ranges
from trainee.registry import Registry

# Fields that change no shape: the compiled programs take them as traced arguments
# (`trainee.program`), so a sweep over them reuses one compiled program. Every other
# field is static: it changes shapes or control flow, and a new value compiles anew.
TRACED = ("lr", "gamma", "gae_lambda", "clip_eps", "ent_coef", "vf_coef", "max_grad_norm")
# The networks `network` may name; `auto` resolves to one of the others per world
# (`trainee.learners.networks.resolve_network`).
NETWORKS = ("auto", "mlp", "cnn", "attention", "per_bit")
# pg's advantage estimators (`trainee.learners.pg.episode_advantages`).
ADVANTAGES = ("group", "gae", "mc_critic", "vine")
# The values each number field may take. The upper bounds are not tuned limits: they
# only refuse values that cannot be meant (a budget of 1e30 steps, a 1e6-wide layer)
# before they hang the host or exhaust memory.
RANGES = {
    "total_steps": Range(1, 10**12), "num_envs": Range(1, 2**16), "num_steps": Range(1, 2**16),
    "group_size": Range(1, 2**12), "vine_samples": Range(1, 2**10), "update_epochs": Range(1, 1000),
    "num_minibatches": Range(1, 2**16), "lr": Range(0, 10, low_open=True),
    "gamma": Range(0, 1), "gae_lambda": Range(0, 1), "clip_eps": Range(0, 10, low_open=True),
    "ent_coef": Range(0, 100), "vf_coef": Range(0, 100),
    "max_grad_norm": Range(0, 1e6, low_open=True), "hidden": Range(1, 2**14),
    "layers": Range(1, 64), "rehearsal": Range(0, 1), "reservoir": Range(1, 2**20),
    "distill": Range(0, 100), "distill_rate": Range(0, 1, low_open=True),
    "entropy_floor": Range(0, 100), "floor_coef": Range(0, 100),
}


# name -> factory(config, world) -> Learner; ppo and pg are registered by
# `trainee.learners` (imported first, as this module's package).
LEARNERS: Registry = Registry(
    "learner", hint=", or package.module:factory or path/to/file.py:factory")

@dataclass(frozen=True)
class LearnerConfig:
    learner: str = "ppo"
    """`ppo`: actor-critic with GAE (learns a value function); `pg`: outcome-only policy
    gradient with a leave-one-out group baseline (no critic); `apprentice`: ppo with
    rehearsal of the tasks it kept (a GRU core with `--recurrent`), a continual learner
    (docs/apprentice.md); or a learner of your own, `package.module:factory` or
    `path/to/file.py:factory` (docs/learners.md)."""
    total_steps: int = 500_000
    """Budget of environment steps (for `pg`, of simulated steps: see docs/learners.md)."""
    num_envs: int = 4
    """Parallel environments. For `pg`, a multiple of `group_size`."""
    num_steps: int = 128
    """`ppo`: rollout length per environment per update."""
    group_size: int = 4
    """`pg`: episodes played from the same start state per task per update (G)."""
    advantage: Literal["group", "gae", "mc_critic", "vine"] = "group"
    """`pg`: the advantage estimator on its whole-episode groups (the rollouts and the
    clipped update stay the same): `group`, outcome minus the leave-one-out group mean
    (no critic); `gae`, GAE(`gae_lambda`) with a critic; `mc_critic`, the Monte-Carlo
    return minus a critic (GAE with lambda 1); `vine`, no critic: r + gamma V(next) - V
    with V the mean return of `vine_samples` continuations from each visited state
    (VinePPO; they cost extra env steps on top of `total_steps`; worlds that can restore
    a state only). Static: it changes the program."""
    vine_samples: int = 4
    """`pg --advantage vine`: Monte-Carlo continuations per visited state (K). Static."""
    update_epochs: int = 4
    """Passes over each batch of experience."""
    num_minibatches: int = 4
    """Minibatches per epoch."""
    lr: float = 2.5e-4
    """Adam learning rate."""
    anneal_lr: bool = True
    """Decay the learning rate linearly to 0 over training."""
    gamma: float = 0.99
    """Discount factor (`ppo` value targets)."""
    gae_lambda: float = 0.95
    """GAE lambda (Schulman et al. 2016): 0 = one-step TD, 1 = Monte-Carlo returns."""
    clip_eps: float = 0.2
    """PPO ratio clipping (Schulman et al. 2017); used by both learners' policy loss."""
    ent_coef: float = 0.01
    """Entropy bonus weight."""
    vf_coef: float = 0.5
    """Value loss weight (`ppo` only)."""
    max_grad_norm: float = 0.5
    """Global gradient-norm clip."""
    normalize_advantages: bool = True
    """Standardise advantages per minibatch (both learners)."""
    hidden: int = 64
    """Width of each hidden layer."""
    layers: int = 2
    """Hidden layers of the actor and of the critic MLPs."""
    activation: Literal["tanh", "relu"] = "tanh"
    """Hidden activation."""
    recurrent: bool = False
    """`apprentice`: a GRU core over (observation, previous action) whose state feeds
    both towers (RL^2-style memory); off by default, since it did not earn its place on
    career-conflict at 2-4x the wall clock (docs/apprentice.md, session 11's GRU rule);
    `--recurrent` turns it on. Static: it changes shapes."""
    rehearsal: float = 0.25
    """`apprentice`: fraction of episodes started from tasks it kept in its reservoir
    (earlier jobs' tasks, never labelled as such); 0 = no rehearsal. Static."""
    reservoir: int = 1024
    """`apprentice`: tasks its reservoir keeps (a uniform sample of every task it has
    met, Vitter's Algorithm R). Static: it changes shapes."""
    distill: float = 0.0
    """`apprentice`: weight of KL(teacher || policy) on the steps of rehearsed episodes,
    the teacher being a moving average of its parameters (`distill_rate`); 0 = off (no
    teacher is kept). Static."""
    distill_rate: float = 0.01
    """`apprentice`: the teacher's step towards the parameters after each update (an
    exponential moving average; 0.01: a time constant of ~100 updates). Static."""
    teacher: Literal["average", "job-start"] = "average"
    """`apprentice` with `distill`: `average`, the moving average (never told that the job
    changed); `job-start`, the parameters it had at the current job's first update, fixed
    through the job (told: a career restarts the per-job state at each job), with no term
    in a job that started with an empty reservoir. Static."""
    entropy_floor: float = 0.0
    """`apprentice`: nats; adds `floor_coef` x max(0, floor - mean policy entropy of the
    minibatch) to the loss (zero above the floor); 0 = off. Static."""
    floor_coef: float = 0.1
    """`apprentice`: weight of the entropy floor's term. Static."""
    network: str = "auto"
    """`mlp` | `cnn` | `attention` | `per_bit` | `auto`. `mlp`: the observation flattened into two
    towers (actor, critic) of `layers` x `hidden`; `cnn`: two 3x3 convolutions in front
    (grid observations (H, W, C) only); `attention`: entity slots as tokens, the rest of
    the observation as the query (worlds with an `entity_layout`, e.g. errands);
    `per_bit`: repair only, one MLP shared by every bit gives the logit of flipping it
    (docs/worlds/repair.md, "Session 13"); `auto`:
    mlp, until another network is shown to pay (attention on errands has not reached its
    target yet; on MinAtar Breakout the CNN trained > 40x slower than the MLP in the same
    run, and PureJaxRL's MinAtar PPO uses an MLP; docs/learners.md). Static: it changes
    shapes."""

    def validate(self) -> None:
        """Raise ValueError naming the bad field and the fix."""
        check_ranges(self, RANGES)
        if self.network not in NETWORKS:
            raise ValueError(
                f"network must be one of {', '.join(NETWORKS)} (got {self.network!r})"
            )
        if not isinstance(self.learner, str) or not self.learner:
            raise ValueError(f"learner must be a name (got {self.learner!r})")
        if ":" not in self.learner:  # a user's factory is checked when it is imported
            LEARNERS.get(self.learner)  # an unknown name: one line naming the choices
        batch = self.num_envs * self.num_steps
        if self.learner == "ppo" and self.num_minibatches > batch:
            raise ValueError(
                f"num_minibatches ({self.num_minibatches}) exceeds the batch of num_envs x "
                f"num_steps = {batch} transitions (empty minibatches); lower "
                f"--num-minibatches")
        if self.learner == "apprentice" and self.num_envs % self.num_minibatches:
            raise ValueError(
                f"the apprentice splits its {self.num_envs} envs into "
                f"{self.num_minibatches} minibatches of whole sequences; make num_envs a "
                f"multiple of num_minibatches (e.g. --num-minibatches 1)")
        if self.learner == "pg" and self.num_envs % self.group_size:
            raise ValueError(
                f"pg needs num_envs ({self.num_envs}) to be a multiple of group_size "
                f"({self.group_size}); e.g. --num-envs {self.group_size * 4}"
            )
        if self.advantage not in ADVANTAGES:
            raise ValueError(f"advantage must be one of {', '.join(ADVANTAGES)} "
                             f"(got {self.advantage!r})")
        if self.learner == "pg" and self.group_size < 2:
            raise ValueError("pg needs group_size >= 2 for a leave-one-out baseline")

    def static(self) -> LearnerConfig:
        """This config with every traced field at its default: the key of a compiled
        program (two configs that differ only in traced fields share one)."""
        return dataclasses.replace(self, **{name: getattr(LearnerConfig, name)
                                            for name in TRACED})

    def traced(self) -> dict[str, float]:
        """The traced fields' values (what a compiled program takes as arguments)."""
        return {name: float(getattr(self, name)) for name in TRACED}
