"""Binding or trap? Why distractor objects keep errands' *deliver* at chance: ppo with
attention on session 13's `deliver-objects` tasks, one world option per arm, interleaved.

    nice python benchmarks/errands_networks_binding.py --deadline 15:58 \
        | tee benchmarks/errands_networks/session14.jsonl                     # seed 0
    nice python benchmarks/errands_networks_binding.py --seed 1 --deadline 15:58 \
        | tee benchmarks/errands_networks/session14-seed1.jsonl              # seed 1

Session 14 (declared 2026-12-03 14:15 UTC, committed before any run; issue 12 item 6,
brief `carry`). Session 13 (`errands_networks_deliver.py`, seed 0): on one-`deliver X to
Z` tasks attention delivers 0.959 at 1M env steps with X and Z alone (`deliver-bare`) but
0.023 with the two other errand objects on the floor (`deliver-objects`; random 0.012).
Two explanations, not separated there:
(1) *binding*: once X is carried its floor slot reads zero while the sub-goal still names
    X's kind and colour, so a query made from the instruction keeps matching a look-alike
    on the floor; the target must switch from "the object" to "the tile" on carried bits;
(2) *trap*: walking into any object while carrying swaps X away, so every object on the
    way to Z undoes the fetch.
Arms, all on session 13's draw (`single_delivers`: pool key 123, 4096 tasks; evaluation
key 7, 512 tasks; the same layouts, cells, X, Z and time limits as session 13's arms):
- `deliver-bare`: session 13's positive control (X and Z only), default world;
- `deliver-objects`: session 13's blocked arm, default world: the reference;
- `objects-leg`: `deliver-objects`' tasks in `Errands(deliver_leg=True)`: while the agent
  carries the object the current deliver names, the sub-goal's object kind and colour read
  zero (the sub-goal then names only the tile). Tests (1). Chosen over a "carrying the
  named object" bit: the observation keeps its 116 units (the same network, parameter for
  parameter), the misleading object fields are what (1) blames and they go, and their
  zeros are themselves the leg signal (they return if X is swapped away);
- `objects-noswap`: `deliver-objects`' tasks in `Errands(carry_blocks=True)`: while the
  agent carries the deliver's object, other objects block like walls (no swap; it keeps X
  and stays put). Tests (2). Chosen over "walk through": the agent never shares a cell
  with an object, and the oracle already treats non-target objects as walls, so its plans
  and the time limits (computed in the default world) are the reference arm's.
Each arm differs from `deliver-objects` in that one factor. Network, rollout, optimiser:
session 13's (`attention` of sessions 9-13: width 64, 4 heads, one round, 2 x 128 relu
towers, 128 envs x 16 steps, lr 1e-3 annealed over 1M, ent_coef 0.01); 1M env steps an
arm, points every 0.25M, interleaved chunk by chunk in the order above; seed 0 (init and
rollout key). Seed 1 (the replication, reported beside, in no verdict) only if seed 0's
run ends by 15:15 UTC; both runs `--deadline 15:58` (no chunk that would end later); a cut
run is read at the last point all its arms reached.
Evaluation as session 13 (`deliver_scores`, episode key 9): success (2 episodes a task)
and *deliver* success = successful deliver attempts / attempts, in each arm's own world;
random and oracle on the same tasks in each arm's world. Reported, in no verdict: *picked*
(share of one episode a task, key 9 folded with 2, in which X was ever carried) and *lost*
(share of those in which X was carried and later not, without a delivery).
Checks: `deliver-bare` and `deliver-objects` ran in session 13 with the same code path, so
their lines should equal session13.jsonl's (all but timing fields); a difference is
reported and does not change the within-run comparison.
Decision rule (per factor, at the read point, seed 0 of record), with D = `deliver-objects`'
deliver success, A = the factor's arm's, B = `deliver-bare`'s, at the same steps:
- the factor **unblocks deliver** if A >= 0.5 while D <= 0.1;
- it **does not** if A <= 0.1 and D <= 0.1 and B >= 0.5 (with B < 0.5 the budget taught
  nothing to compare: inconclusive);
- else **inconclusive** (also if the arm has < 50 deliver attempts, or D > 0.1).
Reading: only `objects-leg` unblocks -> binding (1); only `objects-noswap` -> trap (2); both
-> either fix suffices alone; neither -> neither alone suffices (they may act together, or
something else blocks, e.g. the fetch among look-alikes: see *picked*). Nothing is tuned
after a result; results in docs/worlds/errands.md, "Session 14: binding or trap".
Applied: seed 0 ran 14:16-15:00 UTC (ended by 15:15), so seed 1 ran, 15:12 UTC on.
"""

from __future__ import annotations

import json
from functools import partial

import jax
import jax.numpy as jnp
from errands_networks import parse_deadline, train_in_turn
from errands_networks_deliver import Arm, arm_tasks, parse_arm_run, single_delivers

from trainee.evaluate import agent_policy
from trainee.learners import sample_act
from trainee.worlds.errands import Errands
from trainee.worlds.references import measure

# arm -> (session 13's task arm, world options)
ARMS = {
    "deliver-bare": ("deliver-bare", {}),
    "deliver-objects": ("deliver-objects", {}),
    "objects-leg": ("deliver-objects", {"deliver_leg": True}),
    "objects-noswap": ("deliver-objects", {"carry_blocks": True}),
}


def play_pickups(world, policy, key, task):
    """One episode -> (X ever carried, X carried then not without a delivery)."""
    key_reset, key_steps = jax.random.split(key)
    obs, state = world.reset(key_reset, task)
    x = task.chain_object[0]

    def one_step(carry, key):
        obs, state, done, picked, lost = carry
        key_policy, key_world = jax.random.split(key)
        out = world.step(key_world, state, policy(key_policy, obs, state, task), task)
        holds, delivered = out.state.carried == x, out.state.progress > state.progress
        lost = lost | (~done & picked & ~holds & ~delivered)
        picked = picked | (~done & holds)
        keep = lambda new, old: jax.tree.map(lambda n, o: jnp.where(done, o, n), new, old)
        return (out.obs, keep(out.state, state), done | out.terminated | out.truncated,
                picked, lost), None

    keys = jax.random.split(key_steps, world.max_steps)
    start = (obs, state, jnp.bool_(False), jnp.bool_(False), jnp.bool_(False))
    (_, _, _, picked, lost), _ = jax.lax.scan(one_step, start, keys)
    return picked, lost


def make_pickups(world, network):
    """(params, key, tasks) -> (picked share, lost share among picked), jitted."""

    def run(params, key, tasks):
        policy = agent_policy(sample_act(network), params)
        n = jax.tree.leaves(tasks)[0].shape[0]
        keys = jax.random.split(jax.random.fold_in(key, 2), n)
        picked, lost = jax.vmap(partial(play_pickups, world, policy))(keys, tasks)
        return jnp.mean(picked), jnp.sum(lost) / jnp.maximum(jnp.sum(picked), 1)

    return jax.jit(run)


class OptionArm(Arm):
    """Session 13's `Arm` in its own world, with the pickup diagnostics."""

    def __init__(self, world, name, pool, total_steps, eval_every, seed):
        super().__init__(world, name, pool, total_steps, eval_every, seed)
        self.pickups = make_pickups(world, self.learner.network)

    def scores(self, key, tests: dict) -> dict:
        out = super().scores(key, tests)
        picked, lost = self.pickups(self.state.params, key, tests[self.name])
        return {**out, "picked": round(float(picked), 3), "lost": round(float(lost), 3)}


def reference_lines(worlds: dict, tests: dict, key) -> list[dict]:
    """Random and oracle success on each arm's evaluation tasks in the arm's world."""
    lines = []
    for arm, tasks in tests.items():
        refs = measure(worlds[arm], tasks, key, 2, ("random", "oracle"))
        lines.append({"arm": arm, "reference": True,
                      **{p: round(r.score["success"], 3) for p, r in refs.items()},
                      "time_limit_mean": round(float(jnp.mean(tasks.time_limit)), 1)})
    return lines


def main() -> None:
    args = parse_arm_run(__doc__.splitlines()[0], ARMS)
    worlds = {arm: Errands(**ARMS[arm][1]) for arm in args.arms}
    base = Errands()
    views = single_delivers(base, jax.random.key(7), args.eval_tasks)
    tests = {arm: arm_tasks(*views, ARMS[arm][0]) for arm in args.arms}
    for line in reference_lines(worlds, tests, jax.random.key(9)):
        print(json.dumps(line), flush=True)
    runs, views = {}, single_delivers(base, jax.random.key(123), args.pool)
    for arm in args.arms:
        pool = arm_tasks(*views, ARMS[arm][0])
        runs[arm] = run = OptionArm(worlds[arm], arm, pool, args.total_steps,
                                    args.eval_every, args.seed)
        print(json.dumps({"arm": arm, "describe": run.description, "seed": args.seed,
                          "options": ARMS[arm][1], "total_steps": args.total_steps,
                          "compile_seconds": round(run.compile_seconds, 1)}), flush=True)
    train_in_turn(runs, tests, parse_deadline(args.deadline), label="arm")


if __name__ == "__main__":
    main()
