"""ppo: actor-critic with GAE(lambda), the clipped objective, a value loss and an entropy
bonus (Schulman et al. 2016, 2017). The value function lets the learner credit actions
from the middle of an episode, not only from its end.

The structure follows PureJaxRL's `make_train` (pure, jittable, vmappable over seeds), cut
into small top-level functions. One difference: the value bootstrapped after each step
is the critic's value of the *true* next observation, zeroed only at termination, so
truncated episodes are bootstrapped correctly (Pardo et al. 2018). That is the next
step's value except where an episode was truncated: there the auto-reset has replaced
the observation, and the critic reads the true last one (`info["final_obs"]`), in a pass
that runs only on steps where some env was truncated (see `next_values`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
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
from trainee.learners.networks import ActorCritic, towers_as_one
from trainee.worlds.base import World
from trainee.worlds.wrappers import AutoReset, TaskPool


class EnvCarry(NamedTuple):
    obs: jax.Array  # (E, *obs_shape)
    state: object  # batched world state, E envs
    episode_return: jax.Array  # (E,) running return of the current episode


class Rollout(NamedTuple):
    """Shapes (T, E, ...): T = num_steps, E = num_envs."""

    obs: jax.Array
    action: jax.Array
    logp: jax.Array
    value: jax.Array
    reward: jax.Array
    terminated: jax.Array
    truncated: jax.Array
    truncated_value: jax.Array  # critic's value of the true last obs where truncated, else 0
    episode_return: jax.Array  # the finished episode's return where done
    success: jax.Array


def init_env(env: World, key: jax.Array, tasks, num_envs: int) -> EnvCarry:
    keys = jax.random.split(key, num_envs)
    obs, state = jax.vmap(env.reset, in_axes=(0, None))(keys, tasks)
    return EnvCarry(obs, state, jnp.zeros((num_envs,)))


# Resets computed ahead for a whole rollout are kept only below this size (T x E fresh
# states at once); above it, each step resets in the loop (the same numbers either way).
RESETS_AHEAD_BYTES = 64 * 2**20


def rollout_draws(env: AutoReset, key: jax.Array, tasks, num_steps: int, num_envs: int):
    """Every step's randomness, drawn before the rollout: the Gumbel noise of the action
    samples (T, E, A), the env step keys (T, E), and the fresh episodes that `AutoReset`
    switches to where an episode ends ((obs, state), each (T, E, ...)), or their keys
    (T, E) if that many states would take more than RESETS_AHEAD_BYTES.

    The same numbers as drawing them step by step (`key` split per step, each step's
    key into an action key and one key per env, split again into step and reset keys),
    but in a few large vectorised operations outside the step loop: on CPU each JAX
    draw is a small loop of kernels, and in a small world the per-step draws and the
    reset that AutoReset computes every step dominated the rollout."""
    step_keys = jax.vmap(jax.random.split)(jax.random.split(key, num_steps))  # (T, 2)
    gumbel = jax.vmap(lambda k: jax.random.gumbel(k, (num_envs, env.action_space.n)))(
        step_keys[:, 0])
    env_keys = jax.vmap(lambda k: jax.random.split(k, num_envs))(step_keys[:, 1])  # (T, E)
    env_keys = jax.vmap(jax.vmap(jax.random.split))(env_keys)  # (T, E, 2): step, reset
    reset = jax.vmap(jax.vmap(env.world.reset, in_axes=(0, None)), in_axes=(0, None))
    shapes = jax.eval_shape(reset, env_keys[:, :, 1], tasks)
    if sum(x.size * x.dtype.itemsize for x in jax.tree.leaves(shapes)) > RESETS_AHEAD_BYTES:
        return gumbel, env_keys[:, :, 0], env_keys[:, :, 1]
    return gumbel, env_keys[:, :, 0], reset(env_keys[:, :, 1], tasks)


def collect_rollout(
    env: AutoReset, network: ActorCritic, params, carry: EnvCarry, key, tasks, num_steps: int
) -> tuple[EnvCarry, Rollout]:
    """`num_steps` steps of every env under the current policy (env = AutoReset(TaskPool))."""

    def env_step(key, state, action, reset):
        if not isinstance(reset, tuple):  # a reset key: the fresh episode made here
            reset = env.world.reset(reset, tasks)
        return env.step_or_reset(key, state, action, tasks, reset)

    step = jax.vmap(env_step)
    policy = towers_as_one(network, params)

    def one_step(carry: EnvCarry, draws):
        gumbel, env_keys, reset = draws
        logits, value = policy(carry.obs)
        # jax.random.categorical's own sampler (Gumbel-max), with the noise drawn ahead
        action = jnp.argmax(gumbel + logits, axis=-1)
        out = step(env_keys, carry.state, action, reset)
        done = out.terminated | out.truncated
        episode_return = carry.episode_return + out.reward
        truncated_value = jax.lax.cond(
            jnp.any(out.truncated),
            lambda obs: network.apply(params, obs)[1],
            lambda obs: jnp.zeros_like(value),
            out.info["final_obs"],
        )
        record = Rollout(
            carry.obs,
            action,
            log_prob(logits, action),
            value,
            out.reward,
            out.terminated,
            out.truncated,
            jnp.where(out.truncated, truncated_value, 0.0),
            episode_return,
            out.info["success"],
        )
        carry = EnvCarry(out.obs, out.state, jnp.where(done, 0.0, episode_return))
        return carry, record

    draws = rollout_draws(env, key, tasks, num_steps, carry.episode_return.shape[0])
    # Not unrolled: unrolled by 2 the body (world step and two network copies) is
    # compiled twice: errands' chunk program compiled in 22.4 s against 16.4 s, driving's
    # 12.0 against 11.5, CartPole's 9.6-10.8 against 8.9-9.9, at the same run time within
    # the noise (interleaved, fresh processes, load 4-5, 2026-12-03; benchmarks/README.md).
    # Same numbers on every quick study but gap's driving night axis; CartPole's rounding too.
    return jax.lax.scan(one_step, carry, draws)


def next_values(rollout: Rollout, last_value: jax.Array) -> jax.Array:
    """(T, E) critic's value of the true state after each step: the next step's value
    (`last_value` after the last step), or `truncated_value` where the episode was
    truncated. After a termination the value is unused (GAE zeroes it)."""
    following = jnp.concatenate([rollout.value[1:], last_value[None]])
    return jnp.where(rollout.truncated, rollout.truncated_value, following)


def compute_gae(reward, value, next_value, terminated, done, gamma: float, gae_lambda: float):
    """GAE(lambda) over time-major arrays (T, ...). `next_value` is the value of the true
    next state; it is not used after termination, and the recursion stops at any
    episode end (termination or truncation). Returns (advantages, value targets)."""
    delta = reward + gamma * next_value * (1.0 - terminated) - value

    def backward(gae, xs):
        delta, done = xs
        gae = delta + gamma * gae_lambda * (1.0 - done) * gae
        return gae, gae

    # Not unrolled: unrolled by 16 (as PureJaxRL does) it ran no faster and compiled
    # 0.7-1.1 s (10-15%) slower per program, same numbers (interleaved, CartPole 4 x 128
    # and driving at quick scale, 2026-12-03; benchmarks/README.md, "Compile")
    _, advantages = jax.lax.scan(backward, jnp.zeros_like(delta[0]), (delta, done),
                                 reverse=True)
    return advantages, advantages + value


def explained_variance(value: jax.Array, target: jax.Array) -> jax.Array:
    return 1.0 - jnp.var(target - value) / jnp.maximum(jnp.var(target), 1e-8)


def gae_advantages(rollout: Rollout, last_value: jax.Array, config: LearnerConfig):
    """ppo's estimator: GAE(lambda) advantages and value targets, each (T, E)."""
    done = rollout.terminated | rollout.truncated
    return compute_gae(
        rollout.reward,
        rollout.value,
        next_values(rollout, last_value),
        rollout.terminated.astype(jnp.float32),
        done.astype(jnp.float32),
        config.gamma,
        config.gae_lambda,
    )


Advantages = Callable[[Rollout, jax.Array, LearnerConfig], tuple[jax.Array, jax.Array]]


def ppo_update(
    env: World, network: ActorCritic, optimizer, config: LearnerConfig, state: TrainState, tasks,
    advantages: Advantages = gae_advantages,
) -> tuple[TrainState, Metrics]:
    """One update: collect a rollout, estimate advantages (`advantages(rollout,
    last_value, config) -> (advantages, value targets)`), several epochs of SGD."""
    key, key_rollout, key_update = jax.random.split(state.key, 3)
    carry, rollout = collect_rollout(
        env, network, state.params, state.env, key_rollout, tasks, config.num_steps
    )
    _, last_value = network.apply(state.params, carry.obs)
    done = rollout.terminated | rollout.truncated
    advantages, targets = advantages(rollout, last_value, config)
    flat = lambda x: x.reshape(-1, *x.shape[2:])
    batch = Batch(
        flat(rollout.obs),
        flat(rollout.action),
        flat(rollout.logp),
        flat(rollout.value),
        flat(advantages),
        flat(targets),
        jnp.ones_like(flat(rollout.reward)),
    )
    params, opt_state, loss_metrics = update_epochs(
        network, optimizer, config, state.params, state.opt_state, batch, key_update, critic=True
    )
    steps = jnp.float32(config.num_steps * config.num_envs)
    metrics = {
        **episode_metrics(done, rollout.episode_return, rollout.success),
        **loss_metrics,
        "explained_variance": explained_variance(batch.value, batch.target),
        "env_steps": state.env_steps + steps,
    }
    new_state = TrainState(params, opt_state, carry, key, state.env_steps + steps, state.update + 1)
    return new_state, metrics


def make_ppo(config: LearnerConfig, world: World,
             advantages: Advantages = gae_advantages) -> Learner:
    """The `ppo` learner: AutoReset(TaskPool(world)) stepped `num_envs` x `num_steps` per
    update; the env carry persists across updates (and chunks). `advantages`: the
    estimator (GAE by default; examples/nstep_ppo.py brings another)."""
    env = AutoReset(TaskPool(world))
    init_carry = lambda env, key, tasks: init_env(env, key, tasks, config.num_envs)
    update = ppo_update if advantages is gae_advantages else partial(ppo_update,
                                                                       advantages=advantages)
    return actor_critic_learner(config, world, env, update,
                                config.num_envs * config.num_steps, init_carry)
