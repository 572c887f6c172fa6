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
return-to-go minus the critic (GAE with lambda 1); `vine`, no critic: the value of every
visited state is the mean return of `vine_samples` Monte-Carlo continuations played from
that very state by the current policy (VinePPO, Kazemnejad et al. 2024; the "vine" of
Schulman et al. 2015's TRPO). Every episode is whole, so each one's end is terminal for
the critic's targets (no bootstrap: an episode that hits the time limit counts as
failed, as it does for the group baseline).

Budget: an update simulates num_envs * max_steps steps (episodes are padded to the
time limit); `env_steps` counts only the real ones (see docs/learners.md). `vine`'s
continuations are experience too, and dynamic: the carry (`Continuations`) counts the
steps they simulate and the real ones among them, `env_steps` includes the real ones.
"""

from __future__ import annotations

from typing import Any, NamedTuple

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
    state: Any = None  # the world's state at `obs` (kept for `vine`'s continuations only)


class Continuations(NamedTuple):
    """`vine`'s carry between updates: () float32 counts, since the start of training, of
    the continuation steps simulated (every copy of a batch, until its longest one ends)
    and of the real ones among them (before each copy's own end)."""

    simulated: jax.Array
    real: jax.Array


def collect_group_episodes(
    env: World, network: ActorCritic, params, key, tasks, num_envs: int, group_size: int,
    keep_states: bool = False,
) -> Episodes:
    """One episode per env; envs in the same group of `group_size` share a start state.
    `env` is TaskPool(world) (no auto-reset). `keep_states` records each step's state."""
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
            state if keep_states else None,
        )
        return (out.obs, out.state, done | out.terminated | out.truncated), record

    keys = jax.random.split(key_steps, env.max_steps)
    _, episodes = jax.lax.scan(one_step, (obs, state, jnp.zeros(num_envs, bool)), keys)
    return episodes


def leave_one_out_mean(returns: jax.Array, group_size: int) -> jax.Array:
    """(E,) episode returns, grouped consecutively by `group_size` -> the mean of the
    other G - 1 returns of each one's group."""
    grouped = returns.reshape(-1, group_size)
    return ((grouped.sum(axis=1, keepdims=True) - grouped) / (group_size - 1)).reshape(-1)


def leave_one_out_advantage(returns: jax.Array, group_size: int) -> jax.Array:
    """(E,) episode returns, grouped consecutively by `group_size` -> R_i - mean of the
    other G - 1 returns of its group."""
    return returns - leave_one_out_mean(returns, group_size)


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
    `config.advantage`, one of the estimators that read the episodes alone (`vine` also
    needs its continuations: `continuation_values`, `vine_advantages`)."""
    if config.advantage == "vine":
        raise ValueError("advantage 'vine' needs its continuations (pg_update plays them)")
    if config.advantage == "group":
        returns = episodes.reward.sum(axis=0)  # (E,)
        advantage = leave_one_out_advantage(returns, config.group_size)
        return jnp.broadcast_to(advantage, episodes.valid.shape), None
    lam = 1.0 if config.advantage == "mc_critic" else config.gae_lambda
    return critic_advantages(episodes, config.gamma, lam)


def play_out(env: World, policy, key, obs, state, alive, tasks, gamma, limit):
    """Continue N copies from (obs (N, ...), state (N, ...)) with `policy(key, obs) ->
    actions` until every copy in `alive` (N,) has ended (at most `limit` steps): (the
    discounted return of each copy (N,), real steps (), simulated steps ()). A copy that
    is not alive at the start plays no step and returns 0; the loop stops when the longest
    copy ends, so it simulates N steps per step of that copy (the house's vmap over seeds
    runs every seed to the slowest one; each seed counts only its own)."""
    n = alive.shape[0]
    step = jax.vmap(env.step, in_axes=(0, 0, 0, None))

    def going(carry):
        return jnp.any(carry[3]) & (carry[0] < limit)

    def one_step(carry):
        i, obs, state, alive, ret, real, simulated = carry
        key_action, key_step = jax.random.split(jax.random.fold_in(key, i))
        out = step(jax.random.split(key_step, n), state, policy(key_action, obs), tasks)
        ret = ret + jnp.where(alive, gamma ** i * out.reward, 0.0)
        real = real + jnp.sum(alive)
        simulated = simulated + n * jnp.any(alive)
        alive = alive & ~(out.terminated | out.truncated)
        return i + 1, out.obs, out.state, alive, ret, real, simulated

    start = (jnp.int32(0), obs, state, alive, jnp.zeros(n), jnp.zeros(()), jnp.zeros(()))
    _, _, _, _, ret, real, simulated = jax.lax.while_loop(going, one_step, start)
    return ret, real, simulated


def continuation_values(env: World, policy, key, episodes: Episodes, tasks, samples: int,
                        gamma):
    """(V (T, E), real steps (), simulated steps ()): V(s_t) for t >= 1 is the mean
    discounted return of `samples` continuations from the state the episode reached at
    step t (an exact copy: worlds are pure functions of their state), 0 where the episode
    had already ended; V at t = 0 is left 0 (`vine_advantages` takes it from the group).
    One batch of E x `samples` copies per step t, played to its longest end."""
    T, E = episodes.valid.shape
    repeat = lambda x: jnp.repeat(x, samples, axis=0)  # (E, ...) -> (E * samples, ...)

    def at(_, inputs):
        t, key, obs, state, alive = inputs
        ret, real, simulated = play_out(env, policy, key, repeat(obs),
                                        jax.tree.map(repeat, state), repeat(alive), tasks,
                                        gamma, T - t)
        return None, (ret.reshape(E, samples).mean(axis=1), real, simulated)

    later = lambda x: x[1:]  # s_0 is the group's shared start: no continuation needed
    inputs = (jnp.arange(1, T), jax.random.split(key, T - 1), later(episodes.obs),
              jax.tree.map(later, episodes.state), later(episodes.valid))
    _, (values, real, simulated) = jax.lax.scan(at, None, inputs)
    return jnp.concatenate([jnp.zeros((1, E)), values]), real.sum(), simulated.sum()


def vine_advantages(episodes: Episodes, values: jax.Array, gamma, group_size: int):
    """(T, E) VinePPO's A_t = r_t + gamma V(s_{t+1}) - V(s_t) (Kazemnejad et al. 2024)
    from Monte-Carlo values `values` (T, E) at t >= 1 (`continuation_values`). V(s_0) is
    the mean discounted return of the other G - 1 episodes of the group: they started
    from the same state, so they are Monte-Carlo samples of its value, free, and leaving
    the episode's own out keeps its baseline independent of its actions (as RLOO's). No
    value after an episode's end (its end is terminal, the time limit a failure)."""
    valid = episodes.valid.astype(jnp.float32)
    discount = gamma ** jnp.arange(valid.shape[0], dtype=jnp.float32)[:, None]
    start = leave_one_out_mean((discount * episodes.reward).sum(axis=0), group_size)
    values = values.at[0].set(start)
    after = jnp.concatenate([values[1:] * valid[1:], jnp.zeros_like(values[:1])])
    return (episodes.reward + gamma * after - values) * valid


def masked_explained_variance(batch: Batch) -> jax.Array:
    """1 - Var(target - value) / Var(target) over the real (unpadded) steps."""
    def var(x):
        return masked_mean((x - masked_mean(x, batch.mask)) ** 2, batch.mask)
    return 1.0 - var(batch.target - batch.value) / jnp.maximum(var(batch.target), 1e-8)


def _advantages(env: World, network: ActorCritic, config: LearnerConfig, state: TrainState,
                key, episodes, tasks):
    """(advantage, critic targets or None, the env carry, extra metrics, real continuation
    steps) of one update's episodes: `vine`'s Monte-Carlo values from continuations of
    every visited state (counted in the carry), else `episode_advantages`."""
    if config.advantage != "vine":
        advantage, targets = episode_advantages(episodes, config)
        return advantage, targets, state.env, {}, 0.0

    def policy(key, obs):  # the current policy, the one that played the rollout
        return jax.random.categorical(key, network.apply(state.params, obs)[0])

    values, real, simulated = continuation_values(
        env, policy, key, episodes, tasks, config.vine_samples, config.gamma)
    advantage = vine_advantages(episodes, values, config.gamma, config.group_size)
    carry = Continuations(state.env.simulated + simulated, state.env.real + real)
    extra = {"continuation_steps": carry.simulated, "continuation_real_steps": carry.real}
    return advantage, None, carry, extra, real


def pg_update(
    env: World, network: ActorCritic, optimizer, config: LearnerConfig, state: TrainState, tasks
) -> tuple[TrainState, Metrics]:
    """One update: play the groups, score each episode by its outcome, several epochs."""
    key, key_rollout, key_update = jax.random.split(state.key, 3)
    episodes = collect_group_episodes(
        env, network, state.params, key_rollout, tasks, config.num_envs, config.group_size,
        keep_states=config.advantage == "vine",
    )
    returns = episodes.reward.sum(axis=0)  # (E,)
    advantage, targets, carry, extra, real = _advantages(
        env, network, config, state, jax.random.fold_in(key_rollout, 1), episodes, tasks)
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
    steps = jnp.sum(mask) + real  # real env steps: the episodes' and vine's continuations'
    ended = jnp.ones_like(returns, bool)  # every episode of the update ends in it
    metrics = {
        **episode_metrics(ended, returns, episodes.success.any(axis=0)),
        **loss_metrics,
        "explained_variance": (masked_explained_variance(batch) if critic
                               else jnp.zeros(())),
        "env_steps": state.env_steps + steps,
        **extra,
    }
    new_state = TrainState(params, opt_state, carry, key, state.env_steps + steps,
                           state.update + 1)
    return new_state, metrics


def make_pg(config: LearnerConfig, world: World) -> Learner:
    """The `pg` learner: whole episodes of TaskPool(world), padded to the time limit (an
    update's rollout simulates `num_envs * max_steps` steps); no carry between updates,
    except `vine`'s count of its continuation steps (which come on top: `total_steps`
    and `steps_per_update` count the rollouts only)."""
    init_carry = None
    if config.advantage == "vine":
        if not world.restorable:
            raise ValueError(f"advantage 'vine' replays episodes from saved states, and "
                             f"world {world.name!r} cannot restore a state; use gae, "
                             f"mc_critic or group")
        init_carry = lambda env, key, tasks: Continuations(jnp.zeros(()), jnp.zeros(()))
    return actor_critic_learner(config, world, TaskPool(world), pg_update,
                                config.num_envs * world.max_steps, init_carry)
