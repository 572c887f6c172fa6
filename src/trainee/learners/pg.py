"""pg: outcome-only policy gradient with no critic.

Each update samples `num_envs / group_size` tasks; for each task it plays a group of G
episodes from the same start state (same task, same reset key; different action keys)
to the end or to the time limit. Every action of episode i gets the advantage
R_i - mean_{j != i} R_j: the leave-one-out group baseline of RLOO (Kool et al. 2019;
Ahmadian et al. 2024) and GRPO-style training (Shao et al. 2024) without the std
scaling. Nothing credits the middle of an episode: only its outcome counts.

`advantage` (LearnerConfig) swaps the estimator and nothing else, so a study can compare
estimators on the same rollouts, the same real env steps and the same clipped update
(studies/value_function.py): `group` (the default, above); `gae`, GAE(lambda) with a
critic trained on the same batch (Schulman et al. 2016); `mc_critic`, the Monte-Carlo
return-to-go minus the critic (GAE with lambda 1). Every episode is whole, so each one's
end is terminal for the critic's targets (no bootstrap: an episode that hits the time
limit counts as failed, as it does for the group baseline).

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
    masked_mean,
    update_epochs,
)
from trainee.learners.config import LearnerConfig
from trainee.learners.learner import Learner, actor_critic_learner
from trainee.learners.networks import ActorCritic
from trainee.learners.ppo import compute_gae
from trainee.worlds.base import World
from trainee.worlds.wrappers import TaskPool


class Episodes(NamedTuple):
    """Shapes (T, E, ...): T = world.max_steps, E = num_envs; padded after the end."""

    obs: jax.Array
    action: jax.Array
    logp: jax.Array
    value: jax.Array  # the critic's value of `obs` (unused by the `group` estimator)
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
        logits, value = network.apply(params, obs)
        action = jax.random.categorical(key_action, logits)
        out = step(jax.random.split(key_step, num_envs), state, action, tasks)
        valid = ~done
        record = Episodes(
            obs,
            action,
            log_prob(logits, action),
            value,
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


def critic_advantages(episodes: Episodes, gamma, gae_lambda):
    """(advantages, value targets), each (T, E), of GAE(`gae_lambda`) on whole padded
    episodes: the step before the first padded one (or the last step) ends its episode,
    terminally; padded steps get values the mask drops."""
    valid = episodes.valid.astype(jnp.float32)
    end = 1.0 - jnp.concatenate([valid[1:], jnp.zeros_like(valid[:1])])  # (T, E)
    next_value = jnp.concatenate([episodes.value[1:], jnp.zeros_like(episodes.value[:1])])
    return compute_gae(episodes.reward, episodes.value, next_value, end, end, gamma,
                       gae_lambda)


def episode_advantages(episodes: Episodes, config: LearnerConfig):
    """(advantages (T, E), value targets (T, E) or None when no critic is trained) of
    `config.advantage`."""
    if config.advantage == "group":
        returns = episodes.reward.sum(axis=0)  # (E,)
        advantage = leave_one_out_advantage(returns, config.group_size)
        return jnp.broadcast_to(advantage, episodes.valid.shape), None
    lam = 1.0 if config.advantage == "mc_critic" else config.gae_lambda
    return critic_advantages(episodes, config.gamma, lam)


def masked_explained_variance(batch: Batch) -> jax.Array:
    """1 - Var(target - value) / Var(target) over the real (unpadded) steps."""
    def var(x):
        return masked_mean((x - masked_mean(x, batch.mask)) ** 2, batch.mask)
    return 1.0 - var(batch.target - batch.value) / jnp.maximum(var(batch.target), 1e-8)


def pg_update(
    env: World, network: ActorCritic, optimizer, config: LearnerConfig, state: TrainState, tasks
) -> tuple[TrainState, Metrics]:
    """One update: play the groups, score each episode by its outcome, several epochs."""
    key, key_rollout, key_update = jax.random.split(state.key, 3)
    episodes = collect_group_episodes(
        env, network, state.params, key_rollout, tasks, config.num_envs, config.group_size
    )
    returns = episodes.reward.sum(axis=0)  # (E,)
    advantage, targets = episode_advantages(episodes, config)
    critic = targets is not None
    mask = episodes.valid.astype(jnp.float32)
    flat = lambda x: x.reshape(-1, *x.shape[2:])
    zeros = jnp.zeros_like(flat(mask))
    batch = Batch(
        flat(episodes.obs),
        flat(episodes.action),
        flat(episodes.logp),
        flat(episodes.value) if critic else zeros,
        flat(advantage),
        flat(targets) if critic else zeros,
        flat(mask),
    )
    params, opt_state, loss_metrics = update_epochs(
        network, optimizer, config, state.params, state.opt_state, batch, key_update, critic
    )
    steps = jnp.sum(mask)
    ended = jnp.ones_like(returns, bool)  # every episode of the update ends in it
    metrics = {
        **episode_metrics(ended, returns, episodes.success.any(axis=0)),
        **loss_metrics,
        "explained_variance": (masked_explained_variance(batch) if critic
                               else jnp.zeros(())),
        "env_steps": state.env_steps + steps,
    }
    new_state = TrainState(params, opt_state, None, key, state.env_steps + steps, state.update + 1)
    return new_state, metrics


def make_pg(config: LearnerConfig, world: World) -> Learner:
    """The `pg` learner: whole episodes of TaskPool(world), padded to the time limit (an
    update simulates `num_envs * max_steps` steps); no carry between updates."""
    return actor_critic_learner(config, world, TaskPool(world), pg_update,
                                config.num_envs * world.max_steps, None)
