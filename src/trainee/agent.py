"""Agents: the parameters a learner produced plus the network that reads them.

`load_agent(run_dir)` rebuilds a trained run's agent from its directory; `agent.policy(i)`
is seed i's policy in the form `trainee.evaluate` and the exam take.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from trainee import checkpoint, store
from trainee.evaluate import Policy, Recurrent, agent_policy
from trainee.learners import Learner, sample_act
from trainee.worlds import World


@dataclass(frozen=True)
class Agent:
    world: World
    network: Any  # the learner's network (None for a learner without one)
    params: Any  # stacked over seeds: every leaf (S, ...)
    run_dir: Path
    learner: Learner | None = None  # its `act` reads `params` (None: sample `network`)
    program: Any = None  # the run's `trainee.program.Program` (its evaluator)

    @property
    def num_seeds(self) -> int:
        return jax.tree.leaves(self.params)[0].shape[0]

    def seed_params(self, seed: int) -> Any:
        """Seed `seed`'s parameters; a seed the run does not have is a one-line error
        (indexing would wrap a negative one and clamp a large one silently)."""
        if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or not (
                0 <= seed < self.num_seeds):
            raise ValueError(f"agent seed {seed!r} does not exist: {self.run_dir} has seeds "
                             f"0 to {self.num_seeds - 1}; pass --agent-seed in that range")
        return jax.tree.map(lambda x: x[seed], self.params)

    def policy(self, seed: int = 0, greedy: bool = False) -> Policy | Recurrent:
        if self.learner is None:
            return agent_policy(sample_act(self.network), self.seed_params(seed), None, greedy)
        return agent_policy(self.learner.act, self.seed_params(seed), self.learner.memory,
                            greedy)

    @property
    def params_hash(self) -> str:
        """A short fingerprint of all parameters (to log which agent answered)."""
        digest = hashlib.sha256()
        for leaf in jax.tree.leaves(self.params):
            digest.update(np.asarray(leaf).tobytes())
        return digest.hexdigest()[:16]


def load_agent(run_dir: str | Path) -> Agent:
    """The agent of a trained (or checkpointed) run; readable errors if it is missing."""
    from trainee.train import TrainConfig, Trainer, config_from_dict

    run_dir = Path(run_dir)
    if run_dir.exists() and not run_dir.is_dir():
        raise ValueError(f"{run_dir} is a file, not a run directory; pass the directory "
                         "`trainee train --out` wrote")
    if not run_dir.is_dir():
        raise FileNotFoundError(f"run directory {run_dir} does not exist; train one first "
                                f"with `trainee train --out {run_dir}`")
    config: TrainConfig = config_from_dict(
        store.read_json_mapping(run_dir / "config.json", "a train config"))
    trainer = Trainer(config)
    state, _ = checkpoint.load(run_dir, trainer.init(), checkpoint.config_hash(config.identity()))
    params = jax.tree.map(jnp.asarray, state.params)
    return Agent(trainer.world, trainer.learner.network, params, run_dir, trainer.learner,
                 trainer.program)
