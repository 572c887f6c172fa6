"""The learner config: one frozen dataclass, one docstring per field (tyro turns the
docstrings into `--help`). Defaults are PureJaxRL's PPO defaults for CartPole-v1
(purejaxrl/ppo.py), which solve it; both learners share every field they can, so a
`ppo` vs `pg` comparison differs only in how advantages are estimated."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal

# Fields that change no shape: the compiled programs take them as traced arguments
# (`trainee.program`), so a sweep over them reuses one compiled program. Every other
# field is static: it changes shapes or control flow, and a new value compiles anew.
TRACED = ("lr", "gamma", "gae_lambda", "clip_eps", "ent_coef", "vf_coef", "max_grad_norm")
# The networks `network` may name; `auto` resolves to one of the others per world
# (`trainee.learners.networks.resolve_network`).
NETWORKS = ("auto", "mlp", "cnn", "attention")


@dataclass(frozen=True)
class LearnerConfig:
    learner: str = "ppo"
    """`ppo`: actor-critic with GAE (learns a value function); `pg`: outcome-only policy
    gradient with a leave-one-out group baseline (no critic); or a learner of your own,
    `package.module:factory` or `path/to/file.py:factory` (docs/learners.md)."""
    total_steps: int = 500_000
    """Budget of environment steps (for `pg`, of simulated steps: see docs/learners.md)."""
    num_envs: int = 4
    """Parallel environments. For `pg`, a multiple of `group_size`."""
    num_steps: int = 128
    """`ppo`: rollout length per environment per update."""
    group_size: int = 4
    """`pg`: episodes played from the same start state per task per update (G)."""
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
    network: str = "auto"
    """`mlp` | `cnn` | `attention` | `auto`. `mlp`: the observation flattened into two
    towers (actor, critic) of `layers` x `hidden`; `cnn`: two 3x3 convolutions in front
    (grid observations (H, W, C) only); `attention`: entity slots as tokens, the rest of
    the observation as the query (worlds with an `entity_layout`, e.g. errands); `auto`:
    mlp, until another network is shown to pay (attention on errands has not reached its
    target yet; on MinAtar Breakout the CNN trained > 40x slower than the MLP in the same
    run, and PureJaxRL's MinAtar PPO uses an MLP; docs/learners.md). Static: it changes
    shapes."""

    def validate(self) -> None:
        """Raise ValueError naming the bad field and the fix."""
        positive = (
            "total_steps",
            "num_envs",
            "num_steps",
            "group_size",
            "update_epochs",
            "num_minibatches",
            "hidden",
            "layers",
        )
        for name in positive:
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0 (got {getattr(self, name)})")
        for name in TRACED:
            if not isinstance(getattr(self, name), int | float):
                raise ValueError(f"{name} must be a number (got {getattr(self, name)!r})")
        if self.network not in NETWORKS:
            raise ValueError(
                f"network must be one of {', '.join(NETWORKS)} (got {self.network!r})"
            )
        if not 0.0 < self.lr:
            raise ValueError(f"lr must be > 0 (got {self.lr})")
        if not 0.0 <= self.gamma <= 1.0 or not 0.0 <= self.gae_lambda <= 1.0:
            raise ValueError("gamma and gae_lambda must lie in [0, 1]")
        if self.learner == "pg" and self.num_envs % self.group_size:
            raise ValueError(
                f"pg needs num_envs ({self.num_envs}) to be a multiple of group_size "
                f"({self.group_size}); e.g. --num-envs {self.group_size * 4}"
            )
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
