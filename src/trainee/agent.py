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
from trainee.evaluate import Policy
from trainee.learners import make_learner
from trainee.learners.networks import ActorCritic
from trainee.worlds import World


@dataclass(frozen=True)
class Agent:
    world: World
    network: ActorCritic
    params: Any  # stacked over seeds: every leaf (S, ...)
    run_dir: Path

    @property
    def num_seeds(self) -> int:
        return jax.tree.leaves(self.params)[0].shape[0]

    def seed_params(self, seed: int) -> Any:
        return jax.tree.map(lambda x: x[seed], self.params)

    def policy(self, seed: int = 0, greedy: bool = False) -> Policy:
        return policy_from_params(self.network, self.seed_params(seed), greedy)

    @property
    def params_hash(self) -> str:
        """A short fingerprint of all parameters (to log which agent answered)."""
        digest = hashlib.sha256()
        for leaf in jax.tree.leaves(self.params):
            digest.update(np.asarray(leaf).tobytes())
        return digest.hexdigest()[:16]


def policy_from_params(network: ActorCritic, params, greedy: bool = False) -> Policy:
    """`policy(key, obs, state, task) -> action`: sample from (or argmax) the logits."""

    def policy(key, obs, state, task):
        logits, _ = network.apply(params, obs[None])
        return jnp.argmax(logits[0]) if greedy else jax.random.categorical(key, logits[0])

    return policy


def load_agent(run_dir: str | Path) -> Agent:
    """The agent of a trained (or checkpointed) run; readable errors if it is missing."""
    from trainee.train import TrainConfig, Trainer, config_from_dict

    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise FileNotFoundError(f"run directory {run_dir} does not exist; train one first "
                                f"with `trainee train --out {run_dir}`")
    config: TrainConfig = config_from_dict(store.read_json(run_dir / "config.json"))
    trainer = Trainer(config)
    like = trainer.init(trainer.seed_keys, trainer.tasks)
    state, _ = checkpoint.load(run_dir, like, checkpoint.config_hash(config.identity()))
    learner = make_learner(config.hp, trainer.world)
    params = jax.tree.map(jnp.asarray, state.params)
    return Agent(trainer.world, learner.network, params, run_dir)
