"""Learner pieces against naive loops and hand-computed cases."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from trainee.learners.common import entropy, log_prob, masked_mean
from trainee.learners.config import LearnerConfig
from trainee.learners.pg import (
    Episodes,
    continuation_values,
    episode_advantages,
    leave_one_out_advantage,
    vine_advantages,
)
from trainee.learners.ppo import compute_gae
from trainee.worlds.base import Box, Discrete, Step, World


def naive_gae(reward, value, next_value, terminated, done, gamma, lam):
    """GAE written as the textbook backward loop, one env at a time."""
    T, E = reward.shape
    adv = np.zeros((T, E))
    for e in range(E):
        gae = 0.0
        for t in reversed(range(T)):
            delta = reward[t, e] + gamma * next_value[t, e] * (1 - terminated[t, e]) - value[t, e]
            gae = delta + gamma * lam * (1 - done[t, e]) * gae
            adv[t, e] = gae
    return adv


def test_gae_matches_naive_loop_with_terminations_and_truncations():
    rng = np.random.default_rng(0)
    T, E = 37, 5
    reward = rng.normal(size=(T, E)).astype(np.float32)
    value = rng.normal(size=(T, E)).astype(np.float32)
    next_value = rng.normal(size=(T, E)).astype(np.float32)
    terminated = (rng.random((T, E)) < 0.1).astype(np.float32)
    truncated = (rng.random((T, E)) < 0.05).astype(np.float32) * (1 - terminated)
    done = np.maximum(terminated, truncated)
    for gamma, lam in [(0.99, 0.95), (0.9, 0.0), (1.0, 1.0)]:
        adv, targets = compute_gae(jnp.asarray(reward), jnp.asarray(value),
                                   jnp.asarray(next_value), jnp.asarray(terminated),
                                   jnp.asarray(done), gamma, lam)
        expected = naive_gae(reward, value, next_value, terminated, done, gamma, lam)
        np.testing.assert_allclose(adv, expected, rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(targets, expected + value, rtol=1e-4, atol=1e-4)


def test_gae_bootstraps_truncation_but_not_termination():
    # One step each: a terminated step gets r - V; a truncated one r + gamma V(next) - V.
    reward = jnp.array([[1.0, 1.0]])
    value = jnp.array([[0.5, 0.5]])
    next_value = jnp.array([[2.0, 2.0]])
    terminated = jnp.array([[1.0, 0.0]])
    done = jnp.array([[1.0, 1.0]])
    adv, _ = compute_gae(reward, value, next_value, terminated, done, 0.9, 0.95)
    np.testing.assert_allclose(adv, [[0.5, 1.0 + 0.9 * 2.0 - 0.5]], rtol=1e-6)


def test_leave_one_out_baseline_hand_computed():
    # Two groups of three: [1, 0, 0] and [2, 4, 6].
    returns = jnp.array([1.0, 0.0, 0.0, 2.0, 4.0, 6.0])
    adv = leave_one_out_advantage(returns, group_size=3)
    # 1 - (0+0)/2 = 1; 0 - (1+0)/2 = -0.5; 2 - 5 = -3; 4 - 4 = 0; 6 - 3 = 3
    np.testing.assert_allclose(adv, [1.0, -0.5, -0.5, -3.0, 0.0, 3.0])


def test_log_prob_entropy_and_masked_mean():
    logits = jnp.log(jnp.array([[0.25, 0.75]]))
    np.testing.assert_allclose(log_prob(logits, jnp.array([1])), [np.log(0.75)], rtol=1e-6)
    expected = -(0.25 * np.log(0.25) + 0.75 * np.log(0.75))
    np.testing.assert_allclose(entropy(logits), [expected], rtol=1e-6)
    assert float(masked_mean(jnp.array([1.0, 3.0, 100.0]), jnp.array([1.0, 1.0, 0.0]))) == 2.0


def test_orthogonal_init_matches_jax_without_lapack():
    from trainee.learners.networks import orthogonal

    key = jax.random.key(3)
    for shape in [(4, 64), (64, 64), (64, 2), (3, 3, 16, 32), (115, 256)]:
        ours = orthogonal(np.sqrt(2))(key, shape)
        theirs = jax.nn.initializers.orthogonal(np.sqrt(2))(key, shape)
        np.testing.assert_allclose(ours, theirs, atol=1e-5)
    # vmapped (many seeds in one program) it lowers to plain XLA, no LAPACK custom call
    many = jax.vmap(lambda k: orthogonal()(k, (64, 64)))
    text = jax.jit(many).lower(jax.random.split(key, 5)).as_text()
    assert "lapack" not in text and "custom_call" not in text
    q = many(jax.random.split(key, 5))
    gram = jnp.einsum("sij,sik->sjk", q, q)
    np.testing.assert_allclose(gram, np.broadcast_to(np.eye(64), (5, 64, 64)), atol=1e-5)


def test_next_values_use_the_true_last_observation_only_at_truncation():
    from trainee.learners import LearnerConfig, make_learner
    from trainee.learners.ppo import collect_rollout, next_values
    from trainee.worlds import make
    from trainee.worlds.wrappers import AutoReset, TaskPool

    world = make("corridor")  # a random policy rarely reaches the goal: truncation at 48 steps
    tasks = world.tasks(jax.random.key(0), "train", 8)
    learner = make_learner(LearnerConfig(num_envs=4, num_steps=100, total_steps=400), world)
    state = learner.init(jax.random.key(1), tasks)
    env = AutoReset(TaskPool(world))
    carry, rollout = collect_rollout(env, learner.network, state.params, state.env,
                                     jax.random.key(2), tasks, 100)
    truncated = np.asarray(rollout.truncated)
    assert truncated.any() and (~truncated).any()

    # the naive way: step the same envs again and read the critic on every final obs
    step = jax.jit(jax.vmap(env.step, in_axes=(0, 0, 0, None)))
    critic = jax.jit(lambda obs: learner.network.apply(state.params, obs)[1])
    env_state, final_values = state.env.state, []
    for t, key in enumerate(jax.random.split(jax.random.key(2), 100)):
        key_step = jax.random.split(key)[1]
        out = step(jax.random.split(key_step, 4), env_state, rollout.action[t], tasks)
        final_values.append(critic(out.info["final_obs"]))
        env_state = out.state
    _, last_value = learner.network.apply(state.params, carry.obs)
    expected = np.where(rollout.terminated, 0.0, np.stack(final_values))
    got = np.where(rollout.terminated, 0.0, next_values(rollout, last_value))
    np.testing.assert_allclose(got, expected, atol=1e-5)


def _two_episodes() -> Episodes:
    """Time-major (T=3, E=2): episode 0 succeeds at its 2nd step (reward 1, then one
    padded step); episode 1 runs all 3 steps to the time limit with no reward."""
    valid = jnp.array([[True, True], [True, True], [False, True]])
    value = jnp.array([[0.5, 0.2], [0.8, 0.1], [9.0, 0.3]])  # 9.0: a padded step's value
    reward = jnp.array([[0.0, 0.0], [1.0, 0.0], [0.0, 0.0]])
    zeros = jnp.zeros((3, 2))
    return Episodes(zeros[..., None], zeros.astype(jnp.int32), zeros, value, reward, valid,
                    valid & (reward > 0))


@pytest.mark.parametrize(("advantage", "lam", "expected", "targets"), [
    # Monte-Carlo return-to-go minus the critic, whatever gae_lambda says: episode 0's
    # returns 0.9 * 1 and 1; episode 1's 0 (its time-limit end is terminal).
    ("mc_critic", 0.0, [[0.4, -0.2], [0.2, -0.1], [None, -0.3]],
     [[0.9, 0.0], [1.0, 0.0], [None, 0.0]]),
    # GAE(0), one-step TD: r + 0.9 V(next) - V, with no V after an episode's end.
    ("gae", 0.0, [[0.22, -0.11], [0.2, 0.17], [None, -0.3]],
     [[0.72, 0.09], [1.0, 0.27], [None, 0.0]]),
    # Outcome only: returns [1, 0] in one group of 2 -> 1 - 0 and 0 - 1 on every step.
    ("group", 0.95, [[1.0, -1.0], [1.0, -1.0], [None, -1.0]], None),
])
def test_episode_advantages_hand_computed(advantage, lam, expected, targets):
    config = dataclasses.replace(LearnerConfig(learner="pg"), advantage=advantage,
                                 gamma=0.9, gae_lambda=lam, group_size=2)
    adv, target = episode_advantages(_two_episodes(), config)
    real = np.array([[True, True], [True, True], [False, True]])  # padded steps: masked
    np.testing.assert_allclose(np.asarray(adv)[real],
                               np.array(expected, dtype=float)[real], atol=1e-6)
    if targets is None:
        assert target is None  # no critic is trained
    else:
        np.testing.assert_allclose(np.asarray(target)[real],
                                   np.array(targets, dtype=float)[real], atol=1e-6)


def test_gae_lambda_one_on_whole_episodes_is_mc_critic():
    episodes = _two_episodes()
    base = dataclasses.replace(LearnerConfig(learner="pg"), gamma=0.97, group_size=2)
    gae1, _ = episode_advantages(episodes, dataclasses.replace(base, advantage="gae",
                                                               gae_lambda=1.0))
    mc, _ = episode_advantages(episodes, dataclasses.replace(base, advantage="mc_critic"))
    np.testing.assert_allclose(gae1, mc, atol=1e-6)


def test_unknown_advantage_is_refused():
    with pytest.raises(ValueError, match="advantage must be one of"):
        LearnerConfig(learner="pg", advantage="td").validate()


class _Climb(World):
    """A deterministic world whose Monte-Carlo values are known by hand: x starts at 0,
    action a (0 or 1) adds a; the episode ends when x reaches 2 or after 3 steps, with
    reward x on its last step. The policy "always 1" from (t, x) gets x + 1 next step."""

    name, max_steps = "climb", 4

    @property
    def observation_space(self):
        return Box(0.0, 4.0, (2,))

    @property
    def action_space(self):
        return Discrete(2)

    def reset(self, key, task):
        state = {"t": jnp.int32(0), "x": jnp.int32(0)}
        return jnp.zeros(2), state

    def step(self, key, state, action, task):
        new = {"t": state["t"] + 1, "x": state["x"] + action}
        end = (new["t"] >= 3) | (new["x"] >= 2)
        obs = jnp.stack([new["t"], new["x"]]).astype(jnp.float32)
        reward = jnp.where(end, new["x"], 0).astype(jnp.float32)
        return Step(obs, new, reward, end, jnp.array(False), {"success": new["x"] >= 2})


def _climb_episodes(world) -> Episodes:
    """One group of two episodes, time-major (T = 4): episode 0 plays 1, 1 (x reaches 2
    at its 2nd step, reward 2); episode 1 plays 0, 0, 0 (the 3-step limit, reward 0)."""
    actions = [[1, 0], [1, 0], [0, 0], [0, 0]]
    obs, state = jax.vmap(world.reset, in_axes=(0, None))(jax.random.split(
        jax.random.key(0), 2), None)
    done = jnp.zeros(2, bool)
    rows = []
    for a in actions:
        out = jax.vmap(world.step, in_axes=(None, 0, 0, None))(None, state, jnp.array(a), None)
        rows.append((obs, state, out.reward * ~done, ~done))
        obs, state, done = out.obs, out.state, done | out.terminated
    stack = lambda i: jax.tree.map(lambda *x: jnp.stack(x), *[r[i] for r in rows])
    zeros = jnp.zeros((4, 2))
    return Episodes(stack(0), jnp.array(actions), zeros, zeros, stack(2), stack(3),
                    stack(3) & (stack(2) > 0), stack(1))


def test_vine_values_and_advantages_hand_computed():
    """V from 3 continuations of the policy "always 1" at every visited state; V(s_0)
    from the group's other episode; VinePPO's A_t = r_t + g V(s_{t+1}) - V(s_t)."""
    world, g, samples = _Climb(), 0.9, 3
    episodes = _climb_episodes(world)
    always_one = lambda key, obs: jnp.ones(obs.shape[0], jnp.int32)
    values, real, simulated = continuation_values(world, always_one, jax.random.key(1),
                                                  episodes, None, samples, g)
    # e0 at (t 1, x 1): 1 step to x = 2, reward 2. e1 at (1, 0): 2 steps, reward 2 at
    # the second (2 g); at (2, 0): 1 step to the limit, reward 1. e0 at t 2 had ended.
    real_steps = np.asarray(episodes.valid)
    np.testing.assert_allclose(np.asarray(values)[1:][real_steps[1:]],
                               [2.0, 2 * g, 1.0], atol=1e-6)
    # copies from t 1: 3 x 1 + 3 x 2 real steps, the batch of 6 ran 2 steps; from t 2:
    # e1's 3 copies 1 step each, the batch of 6 ran 1 step; from t 3 nobody is alive.
    assert (float(real), float(simulated)) == (12.0, 18.0)
    adv = vine_advantages(episodes, values, g, group_size=2)
    # V(s_0): e0's is e1's return 0, e1's is e0's return 2 g (reward 2 at its 2nd step)
    expected = [[2 * g, 2 * g * g - 2 * g], [0.0, -g], [None, -1.0], [None, None]]
    np.testing.assert_allclose(np.asarray(adv)[real_steps],
                               np.array(expected, dtype=float)[real_steps], atol=1e-6)
    assert np.all(np.asarray(adv)[~real_steps] == 0.0)  # padded steps: no advantage


def test_vine_learner_counts_its_continuations_as_experience():
    """One pg update with `vine` on corridor: its real env steps are the episodes' plus
    the continuations' real steps; the carry counts the simulated ones, whole batches
    (E x K copies) per step of the longest copy."""
    from trainee.learners import make_learner
    from trainee.worlds import make

    world = make("corridor")
    tasks = world.tasks(jax.random.key(0), "train", 8)
    config = LearnerConfig(learner="pg", advantage="vine", num_envs=4, group_size=2,
                           vine_samples=3, total_steps=4 * world.max_steps)
    learner = make_learner(config, world)
    state, metrics = jax.jit(learner.update)(learner.init(jax.random.key(1), tasks), tasks)
    carry = state.env
    assert float(carry.real) > 0 and float(carry.simulated) >= float(carry.real)
    assert float(carry.simulated) % (4 * 3) == 0
    rollout_real = float(state.env_steps) - float(carry.real)
    assert 0 < rollout_real <= 4 * world.max_steps
    assert float(metrics["continuation_steps"]) == float(carry.simulated)
    assert learner.steps_per_update == 4 * world.max_steps  # the rollouts only


def test_vine_refuses_a_world_that_cannot_restore_a_state():
    from trainee.learners import make_learner
    from trainee.worlds.wrappers import TaskPool

    class Remote(_Climb):
        restorable = False

    with pytest.raises(ValueError, match="cannot restore a state"):
        make_learner(LearnerConfig(learner="pg", advantage="vine", num_envs=4,
                                   group_size=2), Remote())
    assert TaskPool(Remote()).restorable is False  # wrappers say what they wrap
    assert TaskPool(_Climb()).restorable is True


def test_rollout_draws_are_the_step_by_step_draws():
    """ppo draws a rollout's randomness ahead; these are the numbers the step loop used
    to draw (key split per step, into an action key and a step key split per env, each
    split into the world's step key and AutoReset's reset key), and resets made ahead
    or in the loop give the same rollout."""
    from trainee.learners import LearnerConfig, make_learner, ppo
    from trainee.worlds import make
    from trainee.worlds.wrappers import AutoReset, TaskPool

    world = make("corridor")
    tasks = world.tasks(jax.random.key(0), "train", 8)
    env = AutoReset(TaskPool(world))
    key, T, E = jax.random.key(3), 3, 2
    gumbel, step_keys, (reset_obs, _) = ppo.rollout_draws(env, key, tasks, T, E)
    for t, k in enumerate(jax.random.split(key, T)):
        key_action, key_step = jax.random.split(k)
        np.testing.assert_array_equal(gumbel[t],
                                      jax.random.gumbel(key_action, (E, world.action_space.n)))
        for e, k_env in enumerate(jax.random.split(key_step, E)):
            k_world, k_reset = jax.random.split(k_env)
            assert np.array_equal(jax.random.key_data(step_keys[t, e]),
                                  jax.random.key_data(k_world))
            np.testing.assert_array_equal(reset_obs[t, e], env.world.reset(k_reset, tasks)[0])

    learner = make_learner(LearnerConfig(num_envs=4, num_steps=60, total_steps=240), world)
    state = learner.init(jax.random.key(1), tasks)
    rollout = lambda: ppo.collect_rollout(env, learner.network, state.params, state.env,
                                          jax.random.key(2), tasks, 60)[1]
    ahead = rollout()
    saved, ppo.RESETS_AHEAD_BYTES = ppo.RESETS_AHEAD_BYTES, 0
    try:
        in_loop = rollout()
    finally:
        ppo.RESETS_AHEAD_BYTES = saved
    assert np.asarray(ahead.terminated | ahead.truncated).any()
    for a, b in zip(ahead, in_loop, strict=True):
        np.testing.assert_array_equal(a, b)
