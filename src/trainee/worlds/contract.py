"""The contract every world must pass, as one public checker (like Gymnasium's
`env_checker`): the test suite runs it on every registered world, and authors of new
worlds can run it on theirs.

    from trainee.worlds.contract import check_world
    check_world(make("corridor"))

Each check raises `AssertionError` with a message naming the world and what broke.
"""

from __future__ import annotations

from functools import lru_cache, partial
from types import SimpleNamespace

import chex
import jax
import jax.numpy as jnp
import numpy as np

from trainee.evaluate import play_episode, random_policy
from trainee.worlds.base import Discrete, World
from trainee.worlds.wrappers import AutoReset, TaskPool, task_at

AXIS_KINDS = ("variation", "extrapolation")


def check_world(world: World, num_tasks: int = 64, split_samples: int = 4096) -> None:
    """Run every check below on `world`."""
    check_tasks(world, num_tasks)
    check_spaces_and_vmap(world, num_tasks)
    check_no_recompilation(world, num_tasks)
    check_episode_semantics(world, num_tasks)
    check_autoreset(world)
    check_splits_disjoint(world, split_samples, num_tasks)
    check_deterministic(world)
    check_levels(world)
    check_variation_axes(world)


def _fail(world: World, what: str) -> str:
    return f"world {world.name!r}: {what}"


def check_tasks(world: World, n: int) -> None:
    """Every split samples a batch of `n` tasks with a (n,) `difficulty`, under jit."""
    assert world.splits[0] == "train", _fail(world, "the first split must be 'train'")
    for split in world.splits:
        # Tracing with abstract values (what `jit` does before compiling) proves the
        # sampler jittable; the concrete draw must give the same shapes.
        draw = lambda key, split=split: world.tasks(key, split, n)
        shapes = jax.eval_shape(draw, jax.random.key(0))
        tasks = draw(jax.random.key(0))
        same = [a.shape for a in jax.tree.leaves(tasks)] == [
            a.shape for a in jax.tree.leaves(shapes)]
        assert same, _fail(world, f"split {split}: tasks change shape under jit")
        for leaf in jax.tree.leaves(tasks):
            assert leaf.shape[:1] == (n,), _fail(world, f"split {split}: leaf {leaf.shape}")
        assert tasks.difficulty.shape == (n,), _fail(world, "difficulty must be one scalar a task")
        assert np.all(np.isfinite(np.asarray(tasks.difficulty))), _fail(world, "difficulty NaN")


@lru_cache(maxsize=16)
def _jitted(world: World) -> SimpleNamespace:
    """`world`'s reset and step, jitted once, one env and vmapped, shared by every check
    (each check jitting its own copy compiled the same step up to four times a world).
    `traces[0]` counts the traces of `batch_step`, for `check_no_recompilation`."""
    traces = [0]

    def counted_step(key, state, action, task):
        traces[0] += 1  # runs when traced, not when the compiled program runs
        return world.step(key, state, action, task)

    batch_step = jax.jit(jax.vmap(counted_step))
    return SimpleNamespace(reset=jax.jit(world.reset), step=jax.jit(world.step),
                           batch_reset=jax.jit(jax.vmap(world.reset)),
                           batch_step=lambda *args: batch_step(*_strong(args)), traces=traces)


def _strong(tree):
    """`tree` with host copies of its arrays (keys kept): no leaf weakly typed, so one
    compiled step serves a reset's state (errands' reset leaves a weakly typed int) and
    the states of later steps alike."""
    is_key = lambda x: jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key)
    return jax.tree.map(lambda x: x if is_key(x) else np.asarray(x), tree)


def check_spaces_and_vmap(world: World, n: int) -> None:
    """reset/step vmap over tasks; observations lie in the space; info is complete."""
    assert isinstance(world.action_space, Discrete), _fail(world, "actions must be Discrete")
    tasks = world.tasks(jax.random.key(1), "train", n)
    keys = jax.random.split(jax.random.key(2), n)
    jitted = _jitted(world)
    obs, state = jitted.batch_reset(keys, tasks)
    space = world.observation_space
    assert obs.shape == (n, *space.shape), _fail(world, f"obs {obs.shape} vs {space.shape}")
    assert obs.dtype == space.dtype, _fail(world, f"obs dtype {obs.dtype}")
    assert bool(jnp.all(jax.vmap(space.contains)(obs))), _fail(world, "reset obs out of space")
    actions = jax.vmap(world.action_space.sample)(keys)
    out = jitted.batch_step(keys, state, actions, tasks)
    assert bool(jnp.all(jax.vmap(space.contains)(out.obs))), _fail(world, "step obs out of space")
    assert out.reward.shape == (n,) and out.reward.dtype == jnp.float32, _fail(world, "reward")
    for flag in (out.terminated, out.truncated):
        assert flag.shape == (n,) and flag.dtype == jnp.bool_, _fail(world, "flags must be bool")
    for name in ("success", *world.counters):
        assert name in out.info, _fail(world, f"info lacks {name!r}")
        assert out.info[name].shape == (n,), _fail(world, f"info[{name!r}] must be a scalar")


def check_no_recompilation(world: World, n: int) -> None:
    """One compiled step serves every task of every split (tasks are data): after the
    first split, the vmapped step is not traced again."""
    jitted = _jitted(world)
    keys = jax.random.split(jax.random.key(3), n)
    actions = jax.vmap(world.action_space.sample)(keys)
    for i, split in enumerate(world.splits):
        tasks = world.tasks(jax.random.key(10 + i), split, n)
        _, state = jitted.batch_reset(keys, tasks)
        before = jitted.traces[0]
        jitted.batch_step(keys, state, actions, tasks)
        assert i == 0 or jitted.traces[0] == before, _fail(
            world, f"split {split} recompiled the step (its tasks differ in shape or type)")


def check_episode_semantics(world: World, n: int) -> None:
    """Under a random policy: never both terminated and truncated; truncation only at
    the task's time limit (`world.time_limit`, at most `max_steps`); every episode ends
    by `max_steps`; success ends the episode."""
    play = jax.jit(jax.vmap(lambda key, task: play_episode(world, random_policy(world), key, task)))
    for split in world.splits:  # one compiled episode serves every split
        tasks = world.tasks(jax.random.key(4), split, n)
        keys = jax.random.split(jax.random.key(5), n)
        trace = play(keys, tasks)
        term, trunc = np.asarray(trace.terminated), np.asarray(trace.truncated)
        where = f"split {split}"
        assert not np.any(term & trunc), _fail(world, f"{where}: terminated and truncated")
        ended = term | trunc
        assert np.all(ended.sum(-1) == 1), _fail(world, f"{where}: an episode must end once")
        first_end = ended.argmax(-1)
        limits = np.asarray(jax.vmap(world.time_limit)(tasks))
        assert np.all((limits >= 1) & (limits <= world.max_steps)), _fail(
            world, f"{where}: a time limit outside 1..max_steps ({world.max_steps})")
        truncated = trunc.any(-1)
        assert np.all(first_end[truncated] == limits[truncated] - 1), _fail(
            world, f"{where}: truncated away from the task's time limit")
        success = np.asarray(trace.success)
        assert np.all(~success | ended), _fail(world, f"{where}: success must end the episode")
        assert np.all(np.isfinite(np.asarray(trace.reward))), _fail(world, "reward not finite")


def check_autoreset(world: World) -> None:
    """AutoReset restarts the episode on its end and keeps the last obs in info."""
    wrapped = AutoReset(world)
    task = task_at(world.tasks(jax.random.key(6), "train", 1), 0)
    step = jax.jit(wrapped.step)  # not op by op
    plain_step, reset = _jitted(world).step, _jitted(world).reset
    obs, state = jax.jit(wrapped.reset)(jax.random.key(7), task)
    key = jax.random.key(8)
    for _ in range(world.max_steps + 1):
        key, key_action, key_step = jax.random.split(key, 3)
        action = world.action_space.sample(key_action)
        plain = plain_step(jax.random.split(key_step)[0], state, action, task)
        out = step(key_step, state, action, task)
        np.testing.assert_allclose(
            out.info["final_obs"], plain.obs, rtol=1e-5, err_msg=_fail(world, "final_obs")
        )
        if bool(out.terminated | out.truncated):
            fresh, _ = reset(jax.random.split(key_step)[1], task)
            np.testing.assert_allclose(
                out.obs, fresh, rtol=1e-5, err_msg=_fail(world, "reset after end")
            )
            return
        state = out.state
    raise AssertionError(_fail(world, "no episode ended within max_steps + 1 steps"))


def check_splits_disjoint(world: World, samples: int, batch: int = 64) -> None:
    """All train tasks satisfy `is_train`; no held-out task does. The `samples` tasks of
    a split are drawn `batch` at a time (independent keys): the other checks' batch size,
    so a sampler compiled per batch size is not compiled again for thousands of tasks
    (repair's 4096-task program: ~5 s of CPU on a quiet machine, driving's ~3 s)."""
    is_train = jax.jit(jax.vmap(world.is_train))
    batch = min(batch, samples)
    for i, split in enumerate(world.splits):
        keys = jax.random.split(jax.random.key(100 + i), -(-samples // batch))
        inside = np.concatenate([
            np.asarray(jnp.broadcast_to(is_train(world.tasks(k, split, batch)), (batch,)))
            for k in keys])
        if split == "train":
            assert inside.all(), _fail(world, f"{(~inside).sum()} train tasks fail is_train")
        else:
            assert not inside.any(), _fail(world, f"{inside.sum()} {split} tasks overlap train")


def check_deterministic(world: World) -> None:
    """Same key, same task, same action: same result."""
    task = task_at(world.tasks(jax.random.key(9), "train", 1), 0)
    jitted = _jitted(world)  # jitted: op by op is slow
    _, state = jitted.reset(jax.random.key(10), task)
    action = world.action_space.sample(jax.random.key(11))
    step = jitted.step
    a = step(jax.random.key(12), state, action, task)
    b = step(jax.random.key(12), state, action, task)
    chex.assert_trees_all_equal(a, b)


def check_levels(world: World) -> None:
    """Every split takes `level=L` for each of `world.levels` levels, and rejects one more
    (a world of one level, e.g. an external env, need not take the argument)."""
    assert world.levels >= 1, _fail(world, "levels must be >= 1")
    if world.levels == 1:
        return
    for split in world.splits:
        for level in range(world.levels):
            draw = lambda key, split=split, level=level: world.tasks(key, split, 8, level=level)
            tasks = jax.eval_shape(draw, jax.random.key(20 + level))  # traced, not compiled
            assert tasks.difficulty.shape == (8,), _fail(world, f"{split} level {level}")
    try:
        world.tasks(jax.random.key(0), "train", 8, level=world.levels)
    except ValueError:
        return
    raise AssertionError(_fail(world, f"level {world.levels} accepted (levels = {world.levels})"))


def visited(world: World, split: str, num_envs: int = 64, steps: int = 32,
            oracle: bool = False, tasks=None):
    """Observations and the change each action makes to them, under a random policy and,
    with `oracle` (the train split's visits) for a world with an oracle, under it too.

    The oracle's visits are the states a solving policy reaches, which a random walk can
    miss by chance: corridor's cell 6 is reached only on length-7 goals, and through
    `Embedded`'s shared actions (corridor's 3 as `a % 3` of 10: left 0.4, right 0.3) the
    random walk drifts left and, with these keys, never got there on train. More train
    visits only drop units wrongly taken for constant; a variation split's visits stay
    the random ones (the oracle costs as much again per split).

    Returns `obs` (visits, obs_dim) visited observations and `delta` (visits, actions,
    obs_dim): next observation minus observation for every action from each visited
    state (the same step key for every action). `tasks` (a batch of `num_envs`) replaces
    the split's draw: the visits of a given task set (two-students compares pools)."""
    if tasks is None:
        tasks = world.tasks(jax.random.key(30), split, num_envs)
    seen = [_visits(world, tasks, steps, oracle=False)]
    if oracle and _has_oracle(world):
        seen.append(_visits(world, tasks, steps, oracle=True))
    return tuple(np.concatenate(parts) for parts in zip(*seen, strict=True))


@lru_cache(maxsize=16)
def _has_oracle(world: World) -> bool:
    """Whether `world.oracle` exists (traced, not compiled)."""
    def act(key):
        task = task_at(world.tasks(key, "train", 1), 0)
        return world.oracle(key, world.reset(key, task)[1], task)

    try:
        jax.eval_shape(act, jax.random.key(0))
    except NotImplementedError:
        return False
    return True


def _random_actions(world: World, key, states, task, oracle=None) -> jax.Array:
    num_envs = jax.tree.leaves(states)[0].shape[0]
    return jax.random.randint(key, (num_envs,), 0, world.action_space.n)


def _random_or_oracle(world: World, key, states, task, oracle) -> jax.Array:
    """The oracle's actions where the traced flag `oracle` is set, else random ones (from
    the same key): one compiled visit program serves both policies."""
    num_envs = jax.tree.leaves(states)[0].shape[0]
    solving = jax.vmap(world.oracle)(jax.random.split(key, num_envs), states, task)
    return jnp.where(oracle, solving, _random_actions(world, key, states, task))


def _visits(world: World, tasks, steps: int, oracle: bool):
    """`visited` under the oracle (`oracle`) or a random policy on `tasks`: one compiled
    program per world serves every split and both policies (the tasks and the choice of
    policy are arguments, not constants of the program; a world without an oracle gets a
    random-only one). Each action's effect is then played by the contract's own compiled
    vmapped step, one call per (visit step, action): in the scan, the step vmapped over
    every action made the program several times larger and its compile the contract's
    largest."""
    policy = _random_or_oracle if _has_oracle(world) else _random_actions
    seen, inner, keys, task = _visit_scan(world, policy, steps, tasks, jnp.asarray(oracle))
    step, num_envs = _jitted(world).batch_step, seen.shape[1]
    actions = [np.full((num_envs,), a, np.int32) for a in range(world.action_space.n)]
    seen, deltas = np.asarray(seen), []
    for t in range(steps):  # one slice of the visit a step, shared by every action
        at = _strong(_take((keys, inner, task), t))
        after = [np.asarray(step(at[0], at[1], action, at[2]).obs) for action in actions]
        deltas.append(np.stack(after, axis=1) - seen[t][:, None])
    deltas = np.stack(deltas)  # (steps, num_envs, actions, obs_dim)
    return seen.reshape(-1, seen.shape[-1]), deltas.reshape(-1, *deltas.shape[2:])


@jax.jit
def _take(tree, t):
    """`tree`'s entry `t` of its leading axis: one compile a tree, not one a `t`."""
    return jax.tree.map(lambda x: x[t], tree)


@partial(jax.jit, static_argnums=(0, 1, 2))
def _visit_scan(world: World, policy, steps: int, tasks, oracle):
    env = AutoReset(TaskPool(world))
    num_envs = jax.tree.leaves(tasks)[0].shape[0]
    obs, state = jax.vmap(env.reset, in_axes=(0, None))(
        jax.random.split(jax.random.key(31), num_envs), tasks
    )

    def scan_step(carry, key):
        obs, state = carry
        key_action, key_step = jax.random.split(key)
        step_keys = jax.random.split(key_step, num_envs)
        task = task_at(tasks, state.task_index)
        chosen = policy(world, key_action, state.inner, task, oracle)
        out = jax.vmap(env.step, in_axes=(0, 0, 0, None))(step_keys, state, chosen, tasks)
        return (out.obs, out.state), (obs, state.inner, step_keys, task)

    keys = jax.random.split(jax.random.key(32), steps)
    _, visits = jax.lax.scan(scan_step, (obs, state), keys)
    return visits  # per step: observations, world states, step keys, tasks


def constant_units(obs: np.ndarray, delta: np.ndarray, tol: float = 1e-6):
    """(constant units (obs_dim,) bool, their values (obs_dim,), same-effect action pairs
    (actions, actions) bool): the observation units that never change over the samples,
    and the pairs of distinct actions whose effect on the observation is the same from
    every sampled state (actions the samples never tell apart, e.g. flips of bits a
    program does not have)."""
    units = np.ptp(obs, axis=0) <= tol
    gap = np.stack([np.abs(delta - delta[:, a : a + 1]).max(axis=(0, 2))
                    for a in range(delta.shape[1])])  # (actions, actions)
    pairs = (gap <= tol) & ~np.eye(delta.shape[1], dtype=bool)
    return units, obs[0], pairs


# A variation split is faulted for a unit (or an action pair) that train never moved
# (told apart) only when train tasks drawn like the split's would have missed it with
# probability below this: (1 - share) ** train_tasks, where `share` is the fraction of the
# split's sampled tasks on which it moves. A structural gap is moved on many of the split's
# tasks (repair `bigger`'s bits 8-9: up to 64 of 64; corridor `longer`'s far cells: up to 15
# of 64) and is always caught; a rare feature of a split drawn from train's own generator
# is not (craftax `heldout`, new maps: lava or a skeleton in view on at most 5 of 64 tasks,
# (59/64) ** 64 = 0.006, which a 64-task train sample misses by chance).
MISSED_BY_CHANCE = 1e-3


def task_shares(flags: np.ndarray, num_envs: int) -> np.ndarray:
    """(visits, ...) bool flags of `visited`'s samples (steps-major over `num_envs` tasks)
    -> (...) the fraction of tasks on which the flag is set at some visit."""
    return flags.reshape(-1, num_envs, *flags.shape[1:]).any(axis=0).mean(axis=0)


def check_variation_axes(world: World, tol: float = 1e-6, num_envs: int = 64) -> None:
    """Every held-out split is labelled in `world.axes` as a variation or an
    extrapolation, and a variation uses no observation unit or action that is constant
    over the train split: a unit constant over train keeps its train value, and two
    actions train never tells apart stay alike (checked on random-policy visits of
    `num_envs` tasks per split; a departure counts when a train sample would not have
    missed it by chance, `MISSED_BY_CHANCE`)."""
    for split in world.shift_axes:
        kind = world.axes.get(split)
        assert kind in AXIS_KINDS, _fail(world, f"split {split!r} needs an axes label {AXIS_KINDS}")
    variations = [s for s in world.shift_axes if world.axes[s] == "variation"]
    if not variations:
        return
    units, values, pairs = constant_units(
        *visited(world, "train", num_envs=num_envs, oracle=True), tol)

    def beyond_chance(flags: np.ndarray) -> np.ndarray:
        return (1 - task_shares(flags, num_envs)) ** num_envs < MISSED_BY_CHANCE

    for split in variations:
        obs, delta = visited(world, split, num_envs=num_envs)
        moved = units & beyond_chance(np.abs(obs - values) > tol)
        assert not moved.any(), _fail(world, (
            f"variation split {split!r} sets observation units {np.flatnonzero(moved).tolist()}"
            " that are constant over train (label it an extrapolation)"))
        told = np.stack([np.abs(delta - delta[:, a : a + 1]).max(axis=2) > tol
                         for a in range(delta.shape[1])], axis=1)  # (visits, actions, actions)
        apart = np.argwhere(pairs & beyond_chance(told))
        assert not apart.size, _fail(world, (
            f"variation split {split!r} tells apart actions {apart[0].tolist()} that train "
            "never does (label it an extrapolation)"))
