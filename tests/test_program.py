"""The one program builder and the one evaluator (issue 11): programs are shared per
static config, a sweep over traced hyperparameters compiles once, and evaluation is
paired across seeds."""

from __future__ import annotations

import dataclasses

import jax
import numpy as np
import pytest

from trainee.learners import LearnerConfig
from trainee.program import get_program, get_world, program_name, seed_keys

TINY = LearnerConfig(total_steps=8 * 16 * 4, num_envs=8, num_steps=16, hidden=16, layers=1,
                     update_epochs=1, num_minibatches=2)


def test_programs_are_shared_per_static_config():
    world = get_world("corridor")
    a = get_program(world, TINY, 2)
    assert get_program("corridor", dataclasses.replace(TINY, lr=1e-2, ent_coef=0.0), 2) is a
    assert get_program(world, dataclasses.replace(TINY, hidden=8), 2) is not a
    assert get_program(world, TINY, 4) is not a


def test_program_names_tell_apart_what_compiles_apart():
    world = get_world("corridor")
    assert program_name(world, TINY, 3) == "corridor ppo auto 16x1 8x16 3u"
    pg = dataclasses.replace(TINY, learner="pg")
    names = {program_name(world, dataclasses.replace(pg, advantage=a)) for a in
             ("group", "gae", "mc_critic", "vine")}
    assert names == {f"corridor pg-{a} auto 16x1 8x16" for a in ("group", "gae", "mc_critic",
                                                                 "vine")}


def test_a_sweep_over_traced_fields_compiles_once_and_changes_the_numbers():
    program = get_program("corridor", TINY, 2)
    tasks = program.world.tasks(jax.random.key(0), "train", 16)
    finals = []
    for lr in (1e-3, 1e-2):
        hp = program.hp(dataclasses.replace(TINY, lr=lr), 2)
        state = program.init(seed_keys(0, 2), tasks, hp)
        state, metrics = program.run(state, tasks, hp)
        finals.append(jax.tree.leaves(state.params)[0])
    assert program.run._cache_size() == 1 and program.init._cache_size() == 1
    assert not np.allclose(finals[0], finals[1])  # the traced lr really reached the update
    with pytest.raises(ValueError, match="static field"):
        program.hp(dataclasses.replace(TINY, num_envs=4), 2)
    with pytest.raises(ValueError, match=r"lr \(--lr\) must be a finite number in \(0, "):
        program.hp(dataclasses.replace(TINY, lr=-1.0), 2)


def test_one_seed_unvmapped_gives_the_vmapped_numbers_and_evaluation_is_paired():
    program = get_program("corridor", TINY, 2)
    tasks = program.world.tasks(jax.random.key(0), "train", 16)
    keys = seed_keys(3, 2)
    both = program.init(keys, tasks, program.hp(TINY, 2))
    both, _ = program.run(both, tasks, program.hp(TINY, 2))
    one = program.init(keys[:1], tasks, program.hp(TINY, 1))
    one, _ = program.run(one, tasks, program.hp(TINY, 1))
    for x, y in zip(jax.tree.leaves(both.params), jax.tree.leaves(one.params), strict=True):
        np.testing.assert_allclose(x[:1], y, rtol=1e-5, atol=1e-6)
    # two seeds with the same parameters meet the same tasks with the same episode keys
    same = jax.tree.map(lambda x: np.stack([x[0], x[0]]), both.params)
    records = program.evaluator(2)(same, jax.random.key(9), tasks)
    assert records.success.shape == (2, 16, 2)
    np.testing.assert_array_equal(records.episode_return[0], records.episode_return[1])


def test_compiles_are_counted_by_program_name():
    """`trainee.runtime.compiles` sees each compiled program under its name, once per
    compilation (issue 17: one program per (world, learner, network shape))."""
    import jax.numpy as jnp

    from trainee.runtime.compiles import Compile, compile_summary, compiles, record_compiles

    record_compiles()
    before = len(compiles())

    def twice(x):
        return x * 2

    twice.__name__ = twice.__qualname__ = "chunk[test 1u]"
    fn = jax.jit(twice)
    fn(jnp.ones(3)), fn(jnp.ones(3)), fn(jnp.ones(4))  # the second call is not compiled
    names = [c.name for c in compiles()[before:]]
    assert names.count("jit(chunk[test 1u])") == 2
    summary = compile_summary([Compile("a", 2.0, False), Compile("a", 1.0, True),
                               Compile("b", 0.1, False)])
    assert summary == {"programs": 2, "seconds": 3.0, "cache_hits": 1, "small": 1,
                       "by_name": {"a": [2.0, 1.0]}}
