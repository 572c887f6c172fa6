"""apprentice: a continual learner of our own (issue 15; docs/apprentice.md has the design,
the evidence it came from and what it measured).

It is ppo (a critic with GAE(lambda), the clipped objective, `trainee.learners.ppo`) with
rehearsal, and a recurrent core as an option, each chosen for a reason the on-the-job
study measured on career-conflict:

- **rehearsal from a reservoir of tasks** (`trainee.learners.rehearsal`: `Reservoir`,
  `Rehearse`). Replay was the only
  continual learner whose forgetting stayed below 0.05 at every base seed; every arm
  gained about as much on new jobs (docs/studies.md, "At 5x quick's budget"). The
  career's `replay` intervention needs to be told when a job starts; the apprentice is
  not told. It keeps a uniform sample of every task it has met (Vitter's Algorithm R,
  1985: after n offers each is kept with probability K/n, so earlier jobs keep their
  share however long the career) and starts a fraction `rehearsal` of its episodes from
  it. What is replayed is the task (a start state and its rules), not stored
  transitions: ppo is on-policy, so re-practising an old task needs no off-policy
  correction (CLEAR, Rolnick et al. 2019, replays transitions with V-trace and behaviour
  cloning instead). Training metrics count only episodes of the pool it is given, so its
  learning curve is that of the current job.
- optionally (`recurrent`, off by default: on career-conflict it did not earn its place
  at 2-4x the wall clock, docs/apprentice.md "The GRU decision") **a recurrent core**
  (`ApprenticeNet`): a GRU (Cho et al. 2014) over (observation,
  previous action) whose state is an extra input of ppo's two towers (RL^2, Duan et al.
  2016; Wang et al. 2016). On career-conflict the car is not in the observation; how
  the car moved after the last button is, so a memory can tell the cars apart within an
  episode without a gradient step, where a feed-forward policy must compromise between
  cars. The reward is not an input: the evaluation contract gives `act` no reward, and
  driving's reward is a function of the states the core sees. Training unrolls each
  rollout's sequences from the hidden state at its start (truncated backprop through
  the rollout; minibatches are whole environments' sequences), and the hidden state
  starts from zero at every episode's first step (`unroll`).

Two options, each off by default (docs/apprentice.md, "Variants"): `distill`, a term
KL(teacher || policy) on the steps of rehearsed episodes, the teacher being an
exponential moving average of the parameters (policy distillation, Rusu et al. 2016,
on replayed tasks as in CLEAR's behaviour cloning; the average stands in for "the
policy that knew the old job" without being told when jobs change); and
`entropy_floor`, a hinge that is zero while the policy's mean entropy stays above it.

It is never told that the job changed: a career starts each job with a fresh optimiser
and fresh environments as for every learner (careers.run) and carries its parameters
and, declared by `Learner.keep`, its reservoir.
"""

from __future__ import annotations

from functools import partial
from typing import Any, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from trainee.learners.common import (
    Batch,
    Metrics,
    clipped_objective,
    entropy,
    episode_metrics,
    log_prob,
    make_optimizer,
    masked_mean,
)
from trainee.learners.config import LearnerConfig
from trainee.learners.learner import Learner, num_updates_for, sample_act
from trainee.learners.networks import MLP
from trainee.learners.ppo import explained_variance, gae_advantages
from trainee.learners.rehearsal import Rehearse, Reservoir, Sources, reservoir_add, reservoir_init
from trainee.worlds.base import World
from trainee.worlds.wrappers import AutoReset, pool_size

NO_ACTION = -1  # the previous action at an episode's first step (one-hot: all zeros)


# ---------------------------------------------------------------- the network
class ApprenticeNet(nn.Module):
    """ppo's two MLP towers (`networks.MLP`, named `actor` and `critic` as in
    `ActorCritic`, so the house's unit statistics read them) over [observation, h],
    h = GRU(h, [observation, one-hot previous action]); without `recurrent`, over the
    observation alone (ppo's network)."""

    num_actions: int
    hidden: int = 64
    layers: int = 2
    activation: str = "tanh"
    obs_rank: int = 1
    recurrent: bool = False

    def setup(self):
        features = [self.hidden] * self.layers
        if self.recurrent:
            self.core = nn.GRUCell(self.hidden)
        self.actor = MLP(features, self.num_actions, 0.01, self.activation)
        self.critic = MLP(features, 1, 1.0, self.activation)

    def flat(self, obs):
        return obs.reshape(*obs.shape[: obs.ndim - self.obs_rank], -1)

    def memory(self, h, prev_action, obs):
        """h (B, hidden) -> the core's next hidden state after seeing obs (B, *obs_shape)
        and prev_action (B,) (the caller zeroes h at an episode's start); h itself
        without `recurrent`."""
        if not self.recurrent:
            return h
        x = jnp.concatenate([self.flat(obs), jax.nn.one_hot(prev_action, self.num_actions)],
                            axis=-1)
        return self.core(h, x)[0]

    def heads(self, obs, h):
        """(logits (..., A), value (...)) of the towers over [observation, h]."""
        x = self.flat(obs)
        x = jnp.concatenate([x, h], axis=-1) if self.recurrent else x
        return self.actor(x), self.critic(x)[..., 0]

    def step(self, h, prev_action, obs):
        """One step of a batch: h (B, hidden), prev_action (B,) int, obs (B, *obs_shape)
        -> (h', logits (B, A), value (B,)). The caller zeroes h at an episode's start."""
        h = self.memory(h, prev_action, obs)
        return (h, *self.heads(obs, h))

    def __call__(self, obs):
        """(logits, value) at an episode's first step (empty memory): what `init` and the
        house's unit statistics (careers.run.hidden_activations) call."""
        batch = obs.shape[: obs.ndim - self.obs_rank]
        _, logits, value = self.step(jnp.zeros((*batch, self.hidden)),
                                     jnp.full(batch, NO_ACTION), obs)
        return logits, value


def unroll(network: ApprenticeNet, params, h0, prev_action, obs):
    """Time-major sequences (T, B) from hidden states h0 (B, hidden) -> (logits (T, B, A),
    values (T, B)). The hidden state restarts from zero where `prev_action` is NO_ACTION
    (an episode's first step), as in the rollout. Only the core is scanned over time;
    the towers read every step's hidden state in one batched call (they are most of the
    arithmetic, and a scan of small steps is what costs on a CPU)."""
    if network.recurrent:
        def one(h, xs):
            prev, o = xs
            h = jnp.where((prev == NO_ACTION)[:, None], 0.0, h)
            h = network.apply(params, h, prev, o, method=ApprenticeNet.memory)
            return h, h

        _, hs = jax.lax.scan(one, h0, (prev_action, obs))
    else:
        hs = jnp.zeros((*prev_action.shape, h0.shape[-1]))
    return network.apply(params, obs, hs, method=ApprenticeNet.heads)


# ---------------------------------------------------------------- rollouts and updates
class Carry(NamedTuple):
    obs: jax.Array  # (E, *obs_shape)
    state: Any  # batched Pinned states
    episode_return: jax.Array  # (E,)
    h: jax.Array  # (E, hidden): zero at an episode's first step
    prev_action: jax.Array  # (E,) int32: NO_ACTION at an episode's first step


class ApprenticeState(NamedTuple):
    params: Any
    opt_state: Any
    env: Carry
    key: jax.Array
    env_steps: jax.Array  # () float32
    update: jax.Array  # () int32
    reservoir: Reservoir
    teacher: Any = None  # the parameters' moving average (`distill` > 0), else None


class Rollout(NamedTuple):
    """Shapes (T, E, ...); the fields `ppo.gae_advantages` reads have ppo's names."""

    obs: jax.Array
    prev_action: jax.Array
    action: jax.Array
    logp: jax.Array
    value: jax.Array
    reward: jax.Array
    terminated: jax.Array
    truncated: jax.Array
    truncated_value: jax.Array
    episode_return: jax.Array
    success: jax.Array
    counted: jax.Array  # float: 1 where the episode plays a task of the given pool


def collect_rollout(env, network: ApprenticeNet, params, carry: Carry, key, sources: Sources,
                    num_steps: int) -> tuple[Carry, Rollout]:
    step = jax.vmap(env.step, in_axes=(0, 0, 0, None))
    forward = partial(network.apply, params, method=ApprenticeNet.step)

    def one_step(carry: Carry, key):
        key_action, key_step = jax.random.split(key)
        h, logits, value = forward(carry.h, carry.prev_action, carry.obs)
        action = jax.random.categorical(key_action, logits)
        out = step(jax.random.split(key_step, action.shape[0]), carry.state, action, sources)
        done = out.terminated | out.truncated
        episode_return = carry.episode_return + out.reward
        truncated_value = jax.lax.cond(  # the true last obs, read with the episode's memory
            jnp.any(out.truncated), lambda o: forward(h, action, o)[2],
            lambda o: jnp.zeros_like(value), out.info["final_obs"])
        record = Rollout(carry.obs, carry.prev_action, action, log_prob(logits, action), value,
                         out.reward, out.terminated, out.truncated,
                         jnp.where(out.truncated, truncated_value, 0.0), episode_return,
                         out.info["success"], 1.0 - out.info["rehearsed"].astype(jnp.float32))
        carry = Carry(out.obs, out.state, jnp.where(done, 0.0, episode_return),
                      jnp.where(done[:, None], 0.0, h),
                      jnp.where(done, NO_ACTION, action).astype(jnp.int32))
        return carry, record

    return jax.lax.scan(one_step, carry, jax.random.split(key, num_steps))


def distill_term(logits, teacher_logits, mask):
    """KL(teacher || policy) per step, averaged over the steps where `mask` is 1 (0 where
    the two agree, and 0 with no masked step); no gradient into the teacher."""
    teacher = jax.nn.log_softmax(jax.lax.stop_gradient(teacher_logits))
    kl = jnp.sum(jnp.exp(teacher) * (teacher - jax.nn.log_softmax(logits)), axis=-1)
    return masked_mean(kl, mask)


def floor_term(logits, mask, floor: float):
    """max(0, floor - mean policy entropy over the masked steps): zero above the floor."""
    return jnp.maximum(0.0, floor - masked_mean(entropy(logits), mask))


def regularised(config: LearnerConfig, loss_and_metrics, logits, mask, extras):
    """ppo's (loss, metrics) plus the options' terms: `distill` x distill_term on the
    rehearsed steps (`extras` = (teacher logits, rehearsed mask)), `floor_coef` x
    floor_term when `entropy_floor` > 0; unchanged with both off."""
    loss, metrics = loss_and_metrics
    if config.distill > 0:
        teacher_logits, rehearsed = extras
        kl = distill_term(logits, teacher_logits, rehearsed * mask)
        loss, metrics = loss + config.distill * kl, {**metrics, "distill_kl": kl}
    if config.entropy_floor > 0:
        gap = floor_term(logits, mask, config.entropy_floor)
        loss, metrics = loss + config.floor_coef * gap, {**metrics, "entropy_gap": gap}
    return loss, metrics


def sequence_epochs(network: ApprenticeNet, optimizer, config: LearnerConfig, params, opt_state,
                    batch: Batch, prev_action, h0, key, extras=None):
    """ppo's epochs of minibatch steps, a minibatch being whole sequences of
    E / num_minibatches environments (time-major (T, E) `batch`), each unrolled from its
    hidden state at the rollout's start (`h0`, (E, hidden); no gradient flows into it).
    `extras`: time-major arrays the options' terms read (`regularised`), or None."""
    envs = batch.action.shape[1]
    n, mb = config.num_minibatches, envs // config.num_minibatches

    def loss(params, minibatch: Batch, prev, h, extra):
        logits, value = unroll(network, params, h, prev, minibatch.obs)
        return regularised(config, clipped_objective(logits, value, config, minibatch,
                                                     critic=True),
                           logits, minibatch.mask, extra)

    grad_fn = jax.value_and_grad(loss, has_aux=True)

    def minibatch_step(carry, xs):
        params, opt_state = carry
        (_, metrics), grads = grad_fn(params, *xs)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), metrics

    def epoch(carry, key):
        order = jax.random.permutation(key, envs)
        # (T, E, ...) -> (n, T, mb, ...): minibatch k holds environments order[k*mb:(k+1)*mb]
        split = lambda x: jnp.moveaxis(x[:, order].reshape(x.shape[0], n, mb, *x.shape[2:]), 1, 0)
        xs = (jax.tree.map(split, batch), split(prev_action), h0[order].reshape(n, mb, -1),
              jax.tree.map(split, extras))
        return jax.lax.scan(minibatch_step, carry, xs)

    (params, opt_state), metrics = jax.lax.scan(epoch, (params, opt_state),
                                                jax.random.split(key, config.update_epochs))
    return params, opt_state, jax.tree.map(jnp.mean, metrics)


def job_teacher(config: LearnerConfig, state: ApprenticeState):
    """(teacher parameters, weight () of the distillation term) for this update. `average`:
    the moving average, weight 1. `job-start` (told): at a job's first update (`update`
    restarts at 0 with every job) the parameters it starts the job with, kept through the
    job; weight 0 in a job that started with an empty reservoir (nothing earlier to keep)."""
    if config.teacher == "average":
        return state.teacher, jnp.float32(1.0)
    first = state.update == 0
    teacher = jax.tree.map(lambda t, p: jnp.where(first, p, t), state.teacher, state.params)
    seen_at_start = state.reservoir.seen - state.update * config.num_envs
    return teacher, (seen_at_start > 0).astype(jnp.float32)


def apprentice_update(env, network: ApprenticeNet, optimizer, config: LearnerConfig,
                      state: ApprenticeState, tasks) -> tuple[ApprenticeState, Metrics]:
    """Collect a rollout (some episodes rehearse kept tasks), GAE, epochs of sequence
    minibatches, then offer `num_envs` tasks of the given pool to the reservoir (and,
    with `distill`, move the teacher towards the new parameters)."""
    key, key_rollout, key_update, key_offer, key_keep = jax.random.split(state.key, 5)
    start = state.env
    carry, rollout = collect_rollout(env, network, state.params, start, key_rollout,
                                     Sources(tasks, state.reservoir), config.num_steps)
    _, _, last_value = network.apply(state.params, carry.h, carry.prev_action, carry.obs,
                                     method=ApprenticeNet.step)
    advantages, targets = gae_advantages(rollout, last_value, config)
    batch = Batch(rollout.obs, rollout.action, rollout.logp, rollout.value, advantages, targets,
                  jnp.ones_like(rollout.reward))
    extras, teacher = None, None
    if config.distill > 0:
        teacher, weight = job_teacher(config, state)
        # the teacher's logits on the rollout, once per update (it does not move during
        # the epochs); its memory starts from the policy's at the rollout's start (exact
        # from each episode's first step on, where both memories are zero)
        teacher_logits, _ = unroll(network, teacher, start.h, rollout.prev_action, rollout.obs)
        extras = (teacher_logits, (1.0 - rollout.counted) * weight)
    params, opt_state, loss_metrics = sequence_epochs(
        network, optimizer, config, state.params, state.opt_state, batch, rollout.prev_action,
        start.h, key_update, extras)
    if config.distill > 0 and config.teacher == "average":
        teacher = optax.incremental_update(params, state.teacher, config.distill_rate)
    picks = jax.random.randint(key_offer, (config.num_envs,), 0, pool_size(tasks))
    reservoir = reservoir_add(state.reservoir, key_keep, jax.tree.map(lambda x: x[picks], tasks))
    done = (rollout.terminated | rollout.truncated) * rollout.counted
    steps = jnp.float32(config.num_steps * config.num_envs)
    metrics = {
        **episode_metrics(done, rollout.episode_return, rollout.success),
        **loss_metrics,
        "explained_variance": explained_variance(batch.value, batch.target),
        "rehearsed": 1.0 - jnp.mean(rollout.counted),
        "env_steps": state.env_steps + steps,
    }
    return ApprenticeState(params, opt_state, carry, key, state.env_steps + steps,
                           state.update + 1, reservoir, teacher), metrics


def recurrent_act(network: ApprenticeNet):
    """`act` with memory (h, previous action): one step of the core per call."""

    def act(params, key, obs, memory, greedy: bool = False):
        h, prev = memory
        h, logits, _ = network.apply(params, h[None], prev[None], obs[None],
                                     method=ApprenticeNet.step)
        action = (jnp.argmax(logits[0]) if greedy else jax.random.categorical(key, logits[0]))
        return action, (h[0], action.astype(jnp.int32))

    return act


def make_apprentice(config: LearnerConfig, world: World) -> Learner:
    """The `apprentice` learner (module docstring): `num_envs` x `num_steps` env steps per
    update on AutoReset(Rehearse(world)); its reservoir is carried from job to job."""
    if config.network not in ("auto", "mlp"):
        raise ValueError(f"the apprentice builds its own MLP towers; network "
                         f"{config.network!r} is not available to it (use --network mlp)")
    shape = world.observation_space.shape
    network = ApprenticeNet(world.action_space.n, config.hidden, config.layers,
                            config.activation, len(shape), config.recurrent)
    env = AutoReset(Rehearse(world, config.rehearsal))
    steps_per_update = config.num_envs * config.num_steps
    num_updates = num_updates_for(config, steps_per_update)
    optimizer = make_optimizer(config, num_updates)
    envs = config.num_envs

    def init(key: jax.Array, tasks) -> ApprenticeState:
        key, key_params, key_env = jax.random.split(key, 3)
        params = network.init(key_params, jnp.zeros((1, *shape), jnp.float32))
        reservoir = reservoir_init(tasks, config.reservoir)
        obs, states = jax.vmap(env.reset, in_axes=(0, None))(jax.random.split(key_env, envs),
                                                              Sources(tasks, reservoir))
        carry = Carry(obs, states, jnp.zeros((envs,)), jnp.zeros((envs, config.hidden)),
                      jnp.full((envs,), NO_ACTION, jnp.int32))
        return ApprenticeState(params, optimizer.init(params), carry, key, jnp.zeros(()),
                               jnp.zeros((), jnp.int32), reservoir,
                               params if config.distill > 0 else None)

    update = partial(apprentice_update, env, network, optimizer, config)
    if config.recurrent:
        act, memory = recurrent_act(network), (jnp.zeros((config.hidden,)),
                                               jnp.int32(NO_ACTION))
    else:
        act, memory = sample_act(network), None
    keep = ("reservoir", "teacher") if config.distill > 0 else ("reservoir",)
    return Learner(init, update, act, num_updates, steps_per_update, network, memory, keep)
