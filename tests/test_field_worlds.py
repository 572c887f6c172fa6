"""The field's worlds (XLand-MiniGrid, Craftax-Classic) as trainee worlds: the shared
contract at tiny sizes, the split, termination from the TimeStep, the registry, and the
errors a missing extra gives. A failed import fails (never skips): `.[dev]` installs both."""

import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import require

from trainee.worlds import make, names
from trainee.worlds.contract import check_world


def test_xland_contract_spaces_vmap_and_splits():
    # As Craftax's below: the checks that compile the package's reset and step once each
    # (58 s cold for the whole contract, at session 13's end; test_xland_benchmark_contract)
    require("xminigrid")
    from trainee.worlds.contract import check_spaces_and_vmap, check_splits_disjoint, check_tasks
    from trainee.worlds.xminigrid_adapter import XLandWorld

    world = XLandWorld("trivial-2k", max_steps=16)
    check_tasks(world, 8)
    check_spaces_and_vmap(world, 8)
    check_splits_disjoint(world, 64)


@pytest.mark.slow
def test_xland_benchmark_contract():
    require("xminigrid")
    from trainee.worlds.xminigrid_adapter import XLandWorld

    # max_steps 16 (243 by default) keeps the contract's episodes short.
    check_world(XLandWorld("trivial-2k", max_steps=16), num_tasks=8, split_samples=64)


@pytest.mark.slow
def test_minigrid_classic_contract():
    require("xminigrid")
    from trainee.worlds.xminigrid_adapter import MiniGridWorld

    check_world(MiniGridWorld("MiniGrid-UnlockPickUp", max_steps=16), num_tasks=8,
                split_samples=16)


def test_craftax_contract_spaces_vmap_and_splits():
    # The parts of the contract that compile the package's reset and step once each
    # (jit of vmap); the whole contract compiles them about seven times, which took
    # 664 s cold at load 20 (test_craftax_contract, slow).
    require("craftax")
    from trainee.worlds.contract import check_spaces_and_vmap, check_splits_disjoint, check_tasks
    from trainee.worlds.craftax_adapter import CraftaxClassic

    world = CraftaxClassic(max_steps=8)
    check_tasks(world, 4)
    check_spaces_and_vmap(world, 4)
    # 64 draws a split, as the whole contract's: a task is its seed and the world generated
    # from it, and generating 4096 worlds a split took ~30 s; the splits are disjoint seed
    # ranges, which 64 draws a split check as well as 4096
    check_splits_disjoint(world, 64)


def test_craftax_reset_is_the_seeds_generated_world():
    # A task carries its seed's first state (reset copies it): the package's own reset
    # of the same seed, field by field, and the bytes a task costs as documented.
    require("craftax")
    from trainee.worlds.craftax_adapter import TASK_BYTES, CraftaxClassic

    world = CraftaxClassic(max_steps=8)
    tasks = world.tasks(jax.random.key(0), "heldout", 2)
    generate = jax.jit(jax.vmap(lambda s: world.env.reset_env(jax.random.key(s), world.params)))
    want_obs, want = generate(tasks.seed)
    obs, state = jax.vmap(world.reset)(jax.random.split(jax.random.key(1), 2), tasks)
    np.testing.assert_array_equal(obs, want_obs)
    unwrap = lambda x: jax.random.key_data(x) if jnp.issubdtype(x.dtype, jax.dtypes.prng_key) else x
    for got, expected in zip(jax.tree.leaves(state), jax.tree.leaves(want), strict=True):
        np.testing.assert_array_equal(unwrap(got), unwrap(expected))
    assert sum(leaf.nbytes for leaf in jax.tree.leaves(tasks)) == 2 * TASK_BYTES


@pytest.mark.slow
def test_craftax_contract():
    require("craftax")
    from trainee.worlds.craftax_adapter import CraftaxClassic

    check_world(CraftaxClassic(max_steps=8), num_tasks=4, split_samples=64)


def test_names_list_and_make_dispatch_external_worlds():
    require("xminigrid")
    require("craftax")
    listed = names()
    assert {"xminigrid:trivial-2k", "xminigrid:MiniGrid-UnlockPickUp", "craftax:classic"} <= set(
        listed)
    assert not any(":" in n for n in names(external=False))
    world = make("xminigrid:small-2k")
    assert world.name == "xminigrid:small-2k" and world.splits == ("train", "heldout")
    assert make("xminigrid:MiniGrid-DoorKey-5x5").max_steps == 250
    assert make("craftax:classic").max_steps == 10_000
    for bad, match in (("xminigrid:nope", "choose a benchmark"),
                       ("xminigrid:MiniGrid-Nope", "unknown xminigrid env"),
                       ("craftax:full", "choose craftax:classic")):
        with pytest.raises(ValueError, match=match) as err:
            make(bad)
        assert "\n" not in str(err.value)


def test_xland_split_is_the_package_shuffle_and_split():
    require("xminigrid")
    from trainee.worlds.xminigrid_adapter import XLandWorld, load_benchmark

    world = XLandWorld("small-2k", split_seed=3)
    bench = load_benchmark("small-2k")
    (train, train_ids), (heldout, heldout_ids) = world._pools["train"], world._pools["heldout"]
    assert train.num_rulesets() == 1600 and heldout.num_rulesets() == 400
    ids = np.concatenate([np.asarray(train_ids), np.asarray(heldout_ids)])
    assert sorted(ids.tolist()) == list(range(2000))  # a partition of the file's rows
    # each split's rulesets are the file's rows at its ids (the shuffle we record)
    np.testing.assert_array_equal(np.asarray(train.rules), np.asarray(bench.rules)[train_ids])
    np.testing.assert_array_equal(np.asarray(heldout.goals), np.asarray(bench.goals)[heldout_ids])
    # and no held-out ruleset is also a train ruleset by content (the generator's rows are
    # unique), so the split is over tasks, not only over ids
    rows = lambda b: {np.concatenate([np.ravel(b.goals[i]), np.ravel(b.rules[i]),
                                      np.ravel(b.init_tiles[i])]).tobytes()
                      for i in range(b.num_rulesets())}
    assert not rows(train) & rows(heldout)
    tasks = world.tasks(jax.random.key(0), "heldout", 32)
    assert not bool(jax.vmap(world.is_train)(tasks).any())
    assert XLandWorld("small-2k", split_seed=4)._pools["train"][1].tolist() != train_ids.tolist()


def test_xminigrid_termination_from_the_timestep():
    require("xminigrid")
    from xminigrid.types import StepType

    from trainee.worlds.xminigrid_adapter import end_flags

    step_type = jnp.array([StepType.LAST, StepType.LAST, StepType.MID, StepType.FIRST])
    discount = jnp.array([0.0, 1.0, 1.0, 1.0])  # goal reached, time limit, mid, first
    terminated, truncated = end_flags(step_type, discount)
    assert terminated.tolist() == [True, False, False, False]
    assert truncated.tolist() == [False, True, False, False]


def test_a_missing_extra_names_what_to_install(monkeypatch):
    from trainee.worlds.craftax_adapter import import_craftax
    from trainee.worlds.xminigrid_adapter import import_xminigrid

    monkeypatch.setitem(sys.modules, "xminigrid", None)
    with pytest.raises(ImportError, match=r"pip install 'trainee\[xminigrid\]'"):
        import_xminigrid("world 'xminigrid:trivial-2k'")
    for name in [m for m in sys.modules if m.startswith("craftax")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "craftax", None)
    with pytest.raises(ImportError, match=r"pip install 'trainee\[craftax\]'"):
        import_craftax("world 'craftax:classic'")
    # an installed package whose own dependency is missing shows that dependency
    for name in [m for m in sys.modules if m.startswith("xminigrid")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)  # xminigrid.benchmarks imports it
    with pytest.raises(ImportError, match="xminigrid is installed but fails.*pip install tqdm"):
        import_xminigrid("world 'xminigrid:trivial-2k'")


def test_a_broken_gymnax_install_shows_its_missing_dependency(monkeypatch):
    """gymnax 1.0.1 imports `six` without declaring it: the error must say so, not
    claim gymnax is missing (a fresh install once failed that way)."""
    import gymnax  # noqa: F401  (as after any earlier test: six's submodules are loaded)

    from trainee.worlds.gymnax_adapter import import_gymnax

    for name in [m for m in sys.modules if m == "gymnax" or m.startswith("gymnax.")]:
        monkeypatch.delitem(sys.modules, name)
    # hide six and its submodules: gymnax imports `six.moves.urllib.request`, which an
    # earlier import leaves in sys.modules (where the import system looks first)
    for name in [m for m in sys.modules if m.startswith("six.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "six", None)
    with pytest.raises(ImportError, match="gymnax is installed but fails.*pip install six"):
        import_gymnax("world 'gymnax:CartPole-v1'")
    monkeypatch.setitem(sys.modules, "gymnax", None)
    with pytest.raises(ImportError, match=r"needs gymnax: pip install 'trainee\[gymnax\]'"):
        import_gymnax("world 'gymnax:CartPole-v1'")
