"""pg: outcome-only policy gradient with no critic.

Each update samples `num_envs / group_size` tasks; for each task it plays a group of G
episodes from the same start state (same task, same reset key; different action keys)
to the end or to the time limit. Every action of episode i gets the advantage
R_i - mean_{j != i} R_j: the leave-one-out group baseline of RLOO (Kool et al. 2019;
Ahmadian et al. 2024) and GRPO-style training (Shao et al. 2024) without the std
scaling. Nothing credits the middle of an episode: only its outcome counts.

Budget: an update simulates num_envs * max_steps steps (episodes are padded to the
time limit); `env_steps` counts only the real ones (see docs/learners.md).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from trainee.learners.common import (
    Batch,
    Metrics,
    TrainState,
    episode_metrics,
    log_prob,
    update_epochs,
)
from trainee.learners.config import LearnerConfig
from trainee.learners.learner import Learner, actor_critic_learner
from trainee.learners.networks import ActorCritic
from trainee.worlds.base import World
from trainee.worlds.wrappers import TaskPool


class Episodes(NamedTuple):
    """Shapes (T, E, ...): T = world.max_steps, E = num_envs; padded after the end."""

    obs: jax.Array
    action: jax.Array
    logp: jax.Array
    reward: jax.Array
    valid: jax.Array  # the step happened (before the episode ended)
    success: jax.Array


def collect_group_episodes(
    env: World, network: ActorCritic, params, key, tasks, num_envs: int, group_size: int
) -> Episodes:
    """One episode per env; envs in the same group of `group_size` share a start state.
    `env` is TaskPool(world) (no auto-reset)."""
    key_reset, key_steps = jax.random.split(key)
    group_keys = jax.random.split(key_reset, num_envs // group_size)
    reset_keys = jnp.repeat(group_keys, group_size, axis=0)  # (E,) same start per group
    obs, state = jax.vmap(env.reset, in_axes=(0, None))(reset_keys, tasks)
    step = jax.vmap(env.step, in_axes=(0, 0, 0, None))

    def one_step(carry, key):
        obs, state, done = carry
        key_action, key_step = jax.random.split(key)
        logits, _ = network.apply(params, obs)
        action = jax.random.categorical(key_action, logits)
        out = step(jax.random.split(key_step, num_envs), state, action, tasks)
        valid = ~done
        record = Episodes(
            obs,
            action,
            log_prob(logits, action),
            out.reward * valid,
            valid,
            out.info["success"] & valid,
        )
        return (out.obs, out.state, done | out.terminated | out.truncated), record

    keys = jax.random.split(key_steps, env.max_steps)
    _, episodes = jax.lax.scan(one_step, (obs, state, jnp.zeros(num_envs, bool)), keys)
    return episodes


def leave_one_out_advantage(returns: jax.Array, group_size: int) -> jax.Array:
    """(E,) episode returns, grouped consecutively by `group_size` -> R_i - mean of the
    other G - 1 returns of its group."""
    grouped = returns.reshape(-1, group_size)
    others = (grouped.sum(axis=1, keepdims=True) - grouped) / (group_size - 1)
    return (grouped - others).reshape(-1)


def pg_update(
    env: World, network: ActorCritic, optimizer, config: LearnerConfig, state: TrainState, tasks
) -> tuple[TrainState, Metrics]:
    """One update: play the groups, score each episode by its outcome, several epochs."""
    key, key_rollout, key_update = jax.random.split(state.key, 3)
    episodes = collect_group_episodes(
        env, network, state.params, key_rollout, tasks, config.num_envs, config.group_size
    )
    returns = episodes.reward.sum(axis=0)  # (E,)
    advantage = leave_one_out_advantage(returns, config.group_size)
    mask = episodes.valid.astype(jnp.float32)
    flat = lambda x: x.reshape(-1, *x.shape[2:])
    zeros = jnp.zeros_like(flat(mask))
    batch = Batch(
        flat(episodes.obs),
        flat(episodes.action),
        flat(episodes.logp),
        zeros,
        flat(jnp.broadcast_to(advantage, mask.shape)),
        zeros,
        flat(mask),
    )
    params, opt_state, loss_metrics = update_epochs(
        network, optimizer, config, state.params, state.opt_state, batch, key_update, critic=False
    )
    steps = jnp.sum(mask)
    ended = jnp.ones_like(returns, bool)  # every episode of the update ends in it
    metrics = {
        **episode_metrics(ended, returns, episodes.success.any(axis=0)),
        **loss_metrics,
        "explained_variance": jnp.zeros(()),
        "env_steps": state.env_steps + steps,
    }
    new_state = TrainState(params, opt_state, None, key, state.env_steps + steps, state.update + 1)
    return new_state, metrics


def make_pg(config: LearnerConfig, world: World) -> Learner:
    """The `pg` learner: whole episodes of TaskPool(world), padded to the time limit (an
    update simulates `num_envs * max_steps` steps); no carry between updates."""
    return actor_critic_learner(config, world, TaskPool(world), pg_update,
                                config.num_envs * world.max_steps, None)
