"""The apprentice (issue 15, docs/apprentice.md): its new pieces against naive loops, that
it learns the corridor in a small budget, and that it runs through `trainee train` and
`trainee career` and keeps its reservoir from job to job (only when careers carry)."""

from __future__ import annotations

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from trainee.learners import LearnerConfig, make_learner, make_train
from trainee.learners.apprentice import (
    NO_ACTION,
    ApprenticeNet,
    collect_rollout,
    distill_term,
    floor_term,
    regularised,
    unroll,
)
from trainee.learners.rehearsal import (
    Rehearse,
    Reservoir,
    Sources,
    reservoir_add,
    reservoir_init,
    reservoir_merge,
)
from trainee.worlds import make

TINY = dict(learner="apprentice", num_envs=8, num_steps=16, hidden=16, num_minibatches=2)


def naive_reservoir(seen: int, kept: list, offered: list, keys, size: int):
    """Algorithm R, one Python step per offer, with the same random draws."""
    kept = list(kept)
    for i, task in enumerate(offered):
        seen += 1
        if seen <= size:
            kept[seen - 1] = task
        else:
            j = int(jax.random.randint(keys[i], (), 0, seen))
            if j < size:
                kept[j] = task
    return seen, kept


def test_reservoir_matches_algorithm_r_by_hand():
    size = 5
    res = reservoir_init({"x": jnp.zeros((3, 2))}, size)
    seen, kept = 0, [np.zeros(2)] * size
    for r in range(4):  # 4 batches of 3 offers: fills, then replaces
        offered = np.arange(6, dtype=np.float32).reshape(3, 2) + 10 * r
        key = jax.random.key(r)
        res = reservoir_add(res, key, {"x": jnp.asarray(offered)})
        seen, kept = naive_reservoir(seen, kept, list(offered), jax.random.split(key, 3), size)
        assert int(res.seen) == seen
        np.testing.assert_array_equal(np.asarray(res.tasks["x"]), np.stack(kept))
    # after many offers every offer is kept with probability size / n: offer batches of
    # tasks 0..99 and count how often the first and the last half survive
    counts = np.zeros(100)
    add = jax.jit(reservoir_add)
    for r in range(200):
        res = add(reservoir_init({"x": jnp.zeros((100,))}, 10), jax.random.key(r),
                  {"x": jnp.arange(100.0)})
        counts[np.asarray(res.tasks["x"]).astype(int)] += 1
    assert abs(counts[:50].sum() - counts[50:].sum()) < 0.15 * counts.sum()  # ~1000 each
    assert counts.sum() == 200 * 10


def test_unroll_matches_a_step_by_step_loop_with_resets():
    net = ApprenticeNet(num_actions=3, hidden=8, layers=2, recurrent=True)
    params = net.init(jax.random.key(0), jnp.zeros((1, 4)))
    rng = np.random.default_rng(0)
    steps, batch = 7, 2
    obs = jnp.asarray(rng.normal(size=(steps, batch, 4)), jnp.float32)
    prev = rng.integers(0, 3, size=(steps, batch))
    prev[rng.random((steps, batch)) < 0.3] = NO_ACTION  # episode starts
    h0 = jnp.asarray(rng.normal(size=(batch, 8)), jnp.float32)
    logits, values = unroll(net, params, h0, jnp.asarray(prev), obs)
    step = jax.jit(lambda h, p, o: net.apply(params, h, p, o, method=ApprenticeNet.step))
    for b in range(batch):
        h = h0[b:b + 1]
        for t in range(steps):
            if prev[t, b] == NO_ACTION:
                h = jnp.zeros_like(h)
            h, lg, v = step(h, jnp.asarray(prev[t, b:b + 1]), obs[t, b:b + 1])
            np.testing.assert_allclose(logits[t, b], lg[0], rtol=1e-5, atol=1e-6)
            np.testing.assert_allclose(values[t, b], v[0], rtol=1e-5, atol=1e-6)
    # the memory matters: the same inputs from another hidden state give other outputs
    other, _ = unroll(net, params, jnp.zeros_like(h0), jnp.asarray(prev), obs)
    assert not np.allclose(other[0], logits[0])


def test_rollout_and_training_unroll_agree():
    """The loss re-reads a rollout from its start state: at the rollout's parameters it
    must give the log-probabilities the rollout recorded (hidden resets included)."""
    world = make("corridor")
    learner = make_learner(LearnerConfig(**TINY, recurrent=True, total_steps=8 * 16 * 2),
                           world)
    tasks = world.tasks(jax.random.key(1), "train", 16)
    state = learner.init(jax.random.key(0), tasks)
    from trainee.worlds.wrappers import AutoReset

    env = AutoReset(Rehearse(world, 0.25))
    carry, rollout = collect_rollout(env, learner.network, state.params, state.env,
                                     jax.random.key(2), Sources(tasks, state.reservoir), 40)
    assert (np.asarray(rollout.prev_action) == NO_ACTION).sum() > 8  # episodes ended inside
    logits, values = unroll(learner.network, state.params, state.env.h, rollout.prev_action,
                            rollout.obs)
    logp = jnp.take_along_axis(jax.nn.log_softmax(logits), rollout.action[..., None], -1)[..., 0]
    np.testing.assert_allclose(logp, rollout.logp, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(values, rollout.value, rtol=1e-4, atol=1e-5)


def test_rehearse_draws_from_the_reservoir_only_when_it_holds_tasks():
    world = make("corridor")
    pool = world.tasks(jax.random.key(0), "train", 4)
    old = world.tasks(jax.random.key(1), "longer", 4)
    keys = jax.random.split(jax.random.key(2), 256)
    empty = reservoir_init(pool, 4)
    full = Reservoir(old, jnp.int32(4))
    for fraction, res, expected in ((1.0, empty, 0.0), (1.0, full, 1.0), (0.0, full, 0.0),
                                    (0.5, full, 0.5)):
        env = Rehearse(world, fraction)
        _, states = jax.vmap(env.reset, in_axes=(0, None))(keys, Sources(pool, res))
        got = float(np.mean(states.rehearsed))
        assert abs(got - expected) < 0.1, (fraction, got)
    # a rehearsed episode plays a kept task and keeps it while it lasts
    env = Rehearse(world, 1.0)
    _, state = env.reset(keys[0], Sources(pool, full))
    out = env.step(keys[1], state, jnp.int32(0), Sources(pool, empty))
    leaves = lambda t: [np.asarray(x) for x in jax.tree.leaves(t)]
    assert any(all(np.array_equal(a, b[i]) for a, b in zip(leaves(out.state.task), leaves(old),
                                                          strict=True)) for i in range(4))
    assert bool(out.info["rehearsed"])


# The corridor test's settings; only `learner`, `recurrent` and `total_steps` differ below.
CORRIDOR = dict(num_envs=8, num_steps=64, lr=1e-3, hidden=32, num_minibatches=2)
# The default apprentice's budget, set by ppo (the rule in the test's docstring), measured
# 2026-12-03 08:42 UTC: ppo's last 5 of the updates 0.12 / 0.91 at 10,240 (fails), 1.00 /
# 1.00 at 20,480 and at 40,960 (first 2 updates 0.17 / 0.06 at each).
CORRIDOR_BUDGET = 20_480


def corridor_success(**fields) -> np.ndarray:
    """Training success per update, (2 seeds, updates), on the corridor's `longer` split
    (goals 8-15 cells away: a random policy finishes 0.10 of them,
    benchmarks/world_references.jsonl), 64 tasks."""
    world = make("corridor")
    config = LearnerConfig(**CORRIDOR, **fields)
    train = jax.jit(jax.vmap(make_train(config, world), in_axes=(0, None)))
    out = train(jax.random.split(jax.random.key(0), 2), world.tasks(jax.random.key(1),
                                                                       "longer", 64))
    return np.asarray(out.metrics["success"])


def assert_learns(success: np.ndarray) -> None:
    """Starts near random (first 2 updates < 0.3) and ends >= 0.9 (last 5), both seeds."""
    assert np.all(success[:, :2].mean(axis=1) < 0.3), success
    assert np.all(success[:, -5:].mean(axis=1) >= 0.9), success


@pytest.mark.slow  # the GRU is an option since session 12; its fast tests: unroll, `train`
def test_gru_apprentice_learns_the_corridor():
    """The GRU apprentice (`recurrent=True`) in 10,240 env steps: training success over
    the last 5 of 20 updates >= 0.9 in both seeds (measured 1.00 from update 13 on; the
    first updates score 0.00-0.14). The bar was set on this learner, so it stays as it
    was; slow since the GRU left the default (session 11's rule, docs/apprentice.md)."""
    assert_learns(corridor_success(learner="apprentice", recurrent=True, total_steps=10_240))


def test_apprentice_learns_the_corridor():
    """The default apprentice (no GRU) on the same corridor, at a budget set by ppo.

    Rule, written before any run (session 12): on one job the GRU-less apprentice is ppo
    plus rehearsal from the same tasks, so its budget is set by ppo, not by itself: the
    smallest of 10,240 / 20,480 / 40,960 env steps at which ppo (`learner="ppo"`, the same
    settings) reaches >= 0.9 training success over the last 5 updates on both seeds; then
    the apprentice runs at that budget against the same bar (0.9) and the same
    starts-near-random check. If the apprentice misses it, neither bar nor budget moves:
    it is reported (the default would learn one job slower than ppo). If ppo reaches
    none of the three, no budget is chosen and this is reported instead."""
    assert_learns(corridor_success(learner="apprentice", total_steps=CORRIDOR_BUDGET))


def test_apprentice_through_train_and_career(tmp_path):
    from trainee.careers import run as career_run
    from trainee.cli import main
    from trainee.cli.common import parse
    from trainee.train import TrainConfig

    # the GRU (an option since session 12) reaches the learner's config from the flag; the
    # default (no GRU) trains through `train` and a career, whose programs are the same
    # compiled ones (the GRU's rollout and loss are checked above; its learning, slow, on
    # the corridor)
    gru = parse(TrainConfig, ["--learner", "apprentice", "--recurrent"], "train")
    assert gru.hp.learner == "apprentice" and gru.hp.recurrent
    out = tmp_path / "run"
    assert main(["train", "--world", "corridor", "--learner", "apprentice", "--total-steps",
                 "1024", "--num-envs", "8", "--num-steps", "16", "--num-minibatches", "2",
                 "--hidden", "16", "--seeds", "2", "--num-tasks", "16", "--out", str(out)]) == 0
    assert len(json.loads((out / "summary.json").read_text())["final_return"]) == 2
    seen = []
    train_job = career_run._train_job

    def spy(program, hp, state, *args):
        seen.append(np.asarray(state.reservoir.seen))
        return train_job(program, hp, state, *args)

    jobs = tmp_path / "two.json"
    jobs.write_text(json.dumps({"jobs": [
        {"name": "near", "world": "corridor", "split": "train", "steps": 1024},
        {"name": "far", "world": "corridor", "split": "longer", "steps": 1024}]}))
    career = tmp_path / "career"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(career_run, "_train_job", spy)
        assert main(["career", str(jobs), "--learner", "apprentice",
                     "--num-envs", "8", "--num-steps", "16", "--num-minibatches", "2",
                     "--hidden", "16", "--seeds", "2", "--num-tasks", "16", "--eval-tasks", "4",
                     "--out", str(career)]) == 0
    summary = json.loads((career / "summary.json").read_text())
    assert np.asarray(summary["R"]).shape == (2, 2, 2)
    # the career run carries the reservoir into job 2; its from-scratch reference does not
    assert seen[0].max() == 0 and seen[1].min() > 0
    assert seen[2].max() == 0 and seen[3].max() == 0


def test_careers_keep_only_declared_fields_of_the_same_shape():
    """`careers.run._kept`: what `Learner.keep` names carries when the next job's state has
    the same structure and shapes (a mixed career's other world: it does not)."""
    from types import SimpleNamespace

    from trainee.careers.run import _kept

    learner = SimpleNamespace(keep=("reservoir",))
    old = SimpleNamespace(reservoir={"x": jnp.ones((4, 2))}, other=1)
    same = SimpleNamespace(reservoir={"x": jnp.zeros((4, 2))}, other=2)
    other = SimpleNamespace(reservoir={"x": jnp.zeros((4, 3))}, other=2)
    assert set(_kept(learner, old, same)) == {"reservoir"}
    assert float(_kept(learner, old, same)["reservoir"]["x"].sum()) == 8.0
    assert _kept(learner, old, other) == {}
    assert _kept(SimpleNamespace(keep=()), old, same) == {}


def test_distillation_term_by_hand():
    """KL(teacher || policy) on the masked steps: 0 where the teacher is the policy, the
    hand value elsewhere, unmasked steps ignored, 0 with no masked step."""
    policy = jnp.log(jnp.array([[0.5, 0.5], [0.9, 0.1]]))
    assert float(distill_term(policy, policy, jnp.ones(2))) == pytest.approx(0.0, abs=1e-7)
    teacher = jnp.log(jnp.array([[0.8, 0.2], [0.9, 0.1]]))
    kl = 0.8 * np.log(0.8 / 0.5) + 0.2 * np.log(0.2 / 0.5)  # step 0; step 1 agrees
    assert float(distill_term(policy, teacher, jnp.ones(2))) == pytest.approx(kl / 2, rel=1e-5)
    assert float(distill_term(policy, teacher, jnp.array([1.0, 0.0]))) == pytest.approx(
        kl, rel=1e-5)
    assert float(distill_term(policy, teacher, jnp.array([0.0, 1.0]))) == pytest.approx(
        0.0, abs=1e-7)
    assert float(distill_term(policy, teacher, jnp.zeros(2))) == 0.0
    # its gradient moves the policy towards the teacher, never the teacher
    grad = jax.grad(lambda lg: distill_term(lg, teacher, jnp.ones(2)))(policy)
    assert float(grad[0, 0]) < 0 < float(grad[0, 1])
    assert float(jnp.abs(jax.grad(lambda t: distill_term(policy, t, jnp.ones(2)))(teacher)).max()
                 ) == 0.0


def test_entropy_floor_term_is_zero_above_the_floor():
    uniform = jnp.zeros((3, 2))  # entropy ln 2 = 0.693 at every step
    assert float(floor_term(uniform, jnp.ones(3), 0.5)) == 0.0
    assert float(floor_term(uniform, jnp.ones(3), 1.0)) == pytest.approx(1 - np.log(2), rel=1e-5)
    # below the floor its gradient raises the entropy (pushes the logits together)
    peaked = jnp.array([[2.0, 0.0]])
    grad = jax.grad(lambda lg: floor_term(lg, jnp.ones(1), 1.0))(peaked)
    assert float(grad[0, 0]) > 0 > float(grad[0, 1])


def test_options_off_leave_the_loss_unchanged():
    """The placebo of both options: off (the defaults), `regularised` returns ppo's loss
    and metrics as given; on, the terms are added with their weights."""
    logits = jnp.array([[2.0, 0.0], [0.0, 1.0]])
    base = (jnp.float32(1.5), {"entropy": jnp.float32(0.3)})
    off = regularised(LearnerConfig(**TINY), base, logits, jnp.ones(2), None)
    assert off[0] is base[0] and off[1] == base[1]
    teacher = jnp.zeros((2, 2))
    on = regularised(LearnerConfig(**TINY, distill=2.0, entropy_floor=1.0, floor_coef=0.5),
                     base, logits, jnp.ones(2), (teacher, jnp.array([1.0, 0.0])))
    expected = 1.5 + 2.0 * distill_term(logits, teacher, jnp.array([1.0, 0.0])) \
        + 0.5 * floor_term(logits, jnp.ones(2), 1.0)
    assert float(on[0]) == pytest.approx(float(expected), rel=1e-6)
    assert set(on[1]) == {"entropy", "distill_kl", "entropy_gap"}


def test_distilling_apprentice_keeps_a_moving_average_teacher():
    """With `distill`: the teacher starts as the parameters, moves `distill_rate` of the
    way to them after an update, and is carried from job to job; without, no teacher."""
    world = make("corridor")
    tasks = world.tasks(jax.random.key(1), "train", 16)
    config = LearnerConfig(**TINY, total_steps=8 * 16 * 2, distill=1.0, distill_rate=0.25)
    learner = make_learner(config, world)
    assert learner.keep == ("reservoir", "teacher")
    state = learner.init(jax.random.key(0), tasks)
    leaves = lambda t: [np.asarray(x) for x in jax.tree.leaves(t)]
    for a, b in zip(leaves(state.teacher), leaves(state.params), strict=True):
        np.testing.assert_array_equal(a, b)
    new, metrics = jax.jit(learner.update)(state, tasks)
    assert "distill_kl" in metrics
    for t, p, old in zip(leaves(new.teacher), leaves(new.params), leaves(state.params),
                         strict=True):
        np.testing.assert_allclose(t, 0.75 * old + 0.25 * p, rtol=1e-5, atol=1e-7)
    assert not all(np.array_equal(p, o) for p, o in zip(leaves(new.params),
                                                        leaves(state.params), strict=True))
    plain = make_learner(LearnerConfig(**TINY, total_steps=8 * 16 * 2), world)
    assert plain.keep == ("reservoir",) and plain.init(jax.random.key(0), tasks).teacher is None


@pytest.mark.slow  # compiles a distilling update: 28 s at load 8 (the told variant, not a default)
def test_job_start_teacher_is_the_parameters_at_the_job_start():
    """`teacher="job-start"` (the told variant): the teacher is the parameters of a job's
    first update and stays through the job; the term is off in a job that started with an
    empty reservoir (the first job), on in a later one."""
    world = make("corridor")
    tasks = world.tasks(jax.random.key(1), "train", 16)
    config = LearnerConfig(**TINY, total_steps=8 * 16 * 3, distill=1.0, teacher="job-start")
    learner = make_learner(config, world)
    update = jax.jit(learner.update)
    leaves = lambda t: [np.asarray(x) for x in jax.tree.leaves(t)]
    same = lambda a, b: all(np.array_equal(x, y) for x, y in zip(leaves(a), leaves(b),
                                                                 strict=True))
    first = learner.init(jax.random.key(0), tasks)
    after, metrics = update(first, tasks)  # job 1: empty reservoir at its start
    assert same(after.teacher, first.params) and float(metrics["distill_kl"]) == 0.0
    job2 = after._replace(update=jnp.zeros((), jnp.int32))  # a new job: update restarts
    one, metrics = update(job2, tasks)
    assert same(one.teacher, after.params) and not same(one.params, after.params)
    assert float(metrics["distill_kl"]) > 0.0
    two, _ = update(one, tasks)
    assert same(two.teacher, after.params) and not same(two.params, one.params)


def test_reservoir_merge_by_hand():
    """Merging reservoirs: with fewer offers than slots the union is kept whole; an empty
    reservoir adds nothing; seen adds up; with full reservoirs each instance fills its
    share seen_i / sum(seen) of the slots (300 vs 100 offers: 3/4), every kept row of it
    equally often, and no row twice in one merge (draws without replacement)."""
    merge = jax.jit(reservoir_merge)  # one compile for both hand cases (same shapes)
    small = merge(Reservoir(jnp.array([[10, 11, 0], [20, 0, 0]]), jnp.array([2, 1])),
                  jax.random.key(0))
    assert sorted(np.asarray(small.tasks).tolist()) == [10, 11, 20] and int(small.seen) == 3
    one = merge(Reservoir(jnp.array([[0, 0, 0], [1, 2, 3]]), jnp.array([0, 7])),
                jax.random.key(3))
    assert sorted(np.asarray(one.tasks).tolist()) == [1, 2, 3] and int(one.seen) == 7
    full = Reservoir(jnp.array([[100, 101, 102, 103], [200, 201, 202, 203]]),
                     jnp.array([300, 100]))
    merged = jax.jit(jax.vmap(lambda k: reservoir_merge(full, k)))(
        jax.random.split(jax.random.key(1), 4000))
    kept = np.asarray(merged.tasks)  # (4000, 4)
    first = kept[kept < 200] - 100
    assert abs((kept < 200).mean() - 0.75) < 0.02
    np.testing.assert_allclose(np.bincount(first, minlength=4) / first.size, 0.25, atol=0.02)
    assert all(len(set(row)) == 4 for row in kept.tolist())
    assert set(np.asarray(merged.seen).tolist()) == {400}
