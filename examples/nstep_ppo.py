"""A learner of your own: PPO with n-step returns instead of GAE.

The advantage of step t is the n-step return minus the critic's value,

    A_t = r_t + g r_{t+1} + ... + g^{m-1} r_{t+m-1} + g^m V(s_{t+m}) - V(s_t),

where m = n, or fewer steps when the episode ends first (no bootstrap after a
termination; the true last observation's value after a truncation) or the rollout
ends (the value after the rollout's last step). This is the estimator of A3C (Mnih et
al. 2016, "Asynchronous Methods for Deep Reinforcement Learning"), with PPO's clipped
objective on top. Everything else is trainee's ppo: the rollout, the loss, the epochs.

Run it by path, with no change to trainee:

    trainee train --world corridor --learner examples/nstep_ppo.py:make
    trainee career corridor --learner examples/nstep_ppo.py:make
    trainee run --scale tiny --studies gap --learner examples/nstep_ppo.py:make

The factory takes `(config, world)` and returns a `trainee.learners.Learner`
(docs/learners.md has the contract). Here `config.gae_lambda` is unused and N_STEPS
fixes n (a learner's own settings may live in its file).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from trainee.learners import Learner, LearnerConfig
from trainee.learners.ppo import Rollout, make_ppo, next_values
from trainee.worlds import World

N_STEPS = 5  # n of the n-step return: A3C used 5 on Atari


def nstep_returns(reward, next_value, terminated, done, gamma: float, n: int) -> jax.Array:
    """(T, E) n-step returns from time-major (T, E) arrays. `next_value[t]` is the
    critic's value of the true state after step t; `done` marks any episode end."""
    steps = reward.shape[0]
    t = jnp.arange(steps)[:, None]  # (T, 1)
    target = jnp.zeros_like(reward)
    discount = jnp.ones_like(reward)
    alive = jnp.ones(reward.shape, bool)  # step t + k belongs to step t's return
    for k in range(n):  # n is small and static: unrolled
        index = jnp.minimum(t[:, 0] + k, steps - 1)
        valid = alive & (t + k < steps)
        target = target + jnp.where(valid, discount * reward[index], 0.0)
        # the return stops at step t + k when it ended the episode, is the n-th step, or
        # is the rollout's last; it bootstraps there unless the episode terminated
        last = valid & (done[index] | (k == n - 1) | (t + k == steps - 1))
        bootstrap = discount * gamma * next_value[index] * (1.0 - terminated[index])
        target = target + jnp.where(last, bootstrap, 0.0)
        discount = discount * gamma
        alive = valid & ~last
    return target


def nstep_advantages(rollout: Rollout, last_value: jax.Array, config: LearnerConfig):
    """(advantages, value targets), each (T, E): n-step returns minus the critic."""
    done = rollout.terminated | rollout.truncated
    targets = nstep_returns(rollout.reward, next_values(rollout, last_value),
                            rollout.terminated.astype(jnp.float32), done, config.gamma, N_STEPS)
    return targets - rollout.value, targets


def make(config: LearnerConfig, world: World) -> Learner:
    """The learner factory trainee calls: ppo with the n-step estimator."""
    return make_ppo(config, world, advantages=nstep_advantages)
