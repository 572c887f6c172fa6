"""What blocks *deliver* on errands' chains? ppo with attention on single-deliver task pools
that each differ from level 0 in one factor; deliver success per arm, interleaved.

    nice python benchmarks/errands_networks_deliver.py --deadline 12:46             # seed 0
    nice python benchmarks/errands_networks_deliver.py --seed 1 --deadline 12:46    # seed 1

Lines: benchmarks/errands_networks/session13.jsonl (seed 0), session13-seed1.jsonl.

Session 13 (declared 2026-12-03 11:30 UTC, committed before any run; issue 12 item 6,
brief `deliver`). Sessions 11-12: attention learns *deliver* on level 0 (1.00) but not on
chains of 1-2 (0.02-0.07 held-out), even with level 0 kept in the pool. The chains'
delivers differ from level 0's in (a) other objects present (distractors, plus the door's
key when locked), (b) a second goal tile of another colour, (c) often a sub-goal before
(the agent then carries another object, swapped away when it picks X up). Four arms, each
a pool of 4096 train tasks (key 123; door never locked, 0-2 creatures as train) drawn from
one sample of one-sub-goal tasks whose sub-goal is `deliver X to Z`, so all arms share
layouts, cells, X and Z and differ only in what else is present:
- `deliver-bare`: level 0's delivers (X and Z only), the reference arm;
- `deliver-objects`: + the two other errand objects (factor a);
- `deliver-goals`: + the second goal tile (factor b);
- `deliver-after-fetch`: the errand becomes `fetch Y, deliver X to Z`, Y one of the other
  two objects (present; nothing else added): the deliver starts carrying Y (factor c).
Time limits are recomputed by the world's rule (3 x the oracle's plan + 10) on each arm's
tasks. Network, rollout and optimiser: `attention` of sessions 9-12 (width 64, 4 heads,
one round, 2 x 128 relu towers, 128 envs x 16 steps, lr 1e-3 annealed over the budget,
ent_coef 0.01). Budget: 1M env steps an arm (attention trained level 0 to 1.00 in 1M in
session 11), points every 0.25M; seed 0 (init and rollout key), then seed 1 as the
replication if seed 0's run ends by 12:12 UTC (`--deadline 12:46` on both; a cut run is
read at the last point all its arms reached).
Evaluation: each arm on 512 fresh tasks of its own kind (key 7; episode key 9): success
(2 episodes a task) and *deliver* success = deliver attempts that succeed / attempts (one
episode a task, both rooms pooled; for `deliver-after-fetch` an attempt needs the fetch
done first). Random and oracle on the same tasks and episode keys.
Decision rule (per factor, at the end point, seed 0 of record): the factor **blocks
deliver** if its arm's deliver success is <= 0.1 while `deliver-bare`'s is >= 0.5;
**does not block** if its arm's is >= 0.5 as well; else (0.1-0.5, or bare < 0.5)
**inconclusive**, reported with the numbers. Fewer than 50 deliver attempts in an arm's
evaluation: inconclusive. Seed 1 is reported beside it whatever it says. Nothing is tuned
after a result; results in docs/worlds/errands.md, "Session 13: what blocks deliver".
Applied: seed 0 ran 11:29-12:26 UTC (ended after 12:12), so seed 1 was not run.
"""

from __future__ import annotations

import argparse
import json
import time

import jax
import jax.numpy as jnp
import numpy as np
from errands_networks import ATTENTION, SUBGOALS, make_eval, parse_deadline, train_in_turn

from trainee.learners import LearnerConfig, make_learner
from trainee.learners.networks import describe_network
from trainee.worlds import make
from trainee.worlds.errands import BLOCK, _with_time_limits
from trainee.worlds.errands_tasks import DELIVER, FETCH, _difficulty
from trainee.worlds.references import measure

ARMS = ("deliver-bare", "deliver-objects", "deliver-goals", "deliver-after-fetch")
DELIVERS = [SUBGOALS.index("deliver_same"), SUBGOALS.index("deliver_other")]
MIN_ATTEMPTS = 50


def single_delivers(world, key, n: int):
    """(with distractors, without) views of the first n one-sub-goal train tasks (door
    unlocked) whose sub-goal is a deliver: the same draw, only presence masks differ."""
    draw = lambda distractors: world.tasks(key, "train", 5 * n, max_chain=1, p_locked=0.0,
                                           distractors=distractors)
    full, bare = draw(True), draw(False)
    keep = np.flatnonzero(np.asarray(full.chain_verb[:, 0] == DELIVER))[:n]
    assert keep.size == n, f"only {keep.size} delivers in {5 * n} tasks"
    take = lambda t: jax.tree.map(lambda a: a[keep], t)
    return take(full), take(bare)


def after_fetch(full, bare):
    """`fetch Y, deliver X to Z`: Y the lowest other errand slot, present; nothing else."""
    x = full.chain_object[:, 0]
    y = jnp.where(x == 1, 2, 1)
    rows = jnp.arange(x.shape[0])
    return bare.replace(
        chain_verb=bare.chain_verb.at[:, 0].set(FETCH).at[:, 1].set(DELIVER),
        chain_object=bare.chain_object.at[:, 0].set(y).at[:, 1].set(x),
        chain_goal=bare.chain_goal.at[:, 1].set(bare.chain_goal[:, 0]),
        chain_len=jnp.full_like(bare.chain_len, 2),
        object_present=bare.object_present.at[rows, y].set(True))


def arm_tasks(full, bare, arm: str):
    """The arm's tasks from `single_delivers`' two views, time limits and difficulty
    recomputed by the world's rules (the limit in the world's blocks of BLOCK tasks)."""
    tasks = {"deliver-bare": bare,
             "deliver-objects": bare.replace(object_present=full.object_present),
             "deliver-goals": bare.replace(goal_present=full.goal_present),
             "deliver-after-fetch": None}[arm]
    if tasks is None:
        tasks = after_fetch(full, bare)
    n = tasks.chain_len.shape[0]
    blocks = [_with_time_limits(jax.tree.map(lambda a, i=i: a[i:i + BLOCK], tasks))
              for i in range(0, n, BLOCK)]
    tasks = jax.tree.map(lambda *xs: jnp.concatenate(xs), *blocks)
    return tasks.replace(difficulty=jax.jit(jax.vmap(_difficulty))(tasks))


class Arm:
    """One arm's training: its pool, a compiled chunk of updates, its evaluator."""

    def __init__(self, world, name: str, pool, total_steps: int, eval_every: int, seed: int):
        self.name, self.config = name, LearnerConfig(total_steps=total_steps, **ATTENTION)
        self.learner = learner = make_learner(self.config, world)
        self.pool = pool
        self.updates = max(1, eval_every // learner.steps_per_update)
        step = lambda s, t: jax.lax.scan(lambda c, _: learner.update(c, t), s, None,
                                         length=self.updates)
        start = time.perf_counter()
        self.state = jax.jit(learner.init)(jax.random.key(seed), pool)
        self.chunk = jax.jit(step).lower(self.state, pool).compile()
        self.eval = make_eval(world, learner.network)
        self.compile_seconds = time.perf_counter() - start
        self.train_seconds, self.slowest_chunk = 0.0, 0.0
        self.description = describe_network(self.config, world)

    def advance(self) -> dict:
        start = time.perf_counter()
        self.state, metrics = jax.block_until_ready(self.chunk(self.state, self.pool))
        self.train_seconds += time.perf_counter() - start
        return metrics

    def done(self) -> bool:
        return int(self.state.update) >= self.learner.num_updates

    def scores(self, key, tests: dict) -> dict:
        return deliver_scores(self.eval, self.state.params, key, tests[self.name])


def deliver_scores(run_eval, params, key, tasks) -> dict:
    """Success (2 episodes a task) and deliver / fetch attempts and success rates."""
    success, counts = run_eval(params, key, tasks)
    counts = np.asarray(counts)
    attempts, wins = counts[DELIVERS, 0].sum(), counts[DELIVERS, 1].sum()
    fetch = counts[SUBGOALS.index("fetch_same")] + counts[SUBGOALS.index("fetch_other")]
    return {"success": round(float(np.mean(success)), 3), "deliver_attempts": int(attempts),
            "deliver": round(float(wins / attempts), 3) if attempts else None,
            "fetch": round(float(fetch[1] / fetch[0]), 3) if fetch[0] else None,
            "subgoals": {s: (round(float(w / a), 3) if a else None)
                         for s, (a, w) in zip(SUBGOALS, counts, strict=True)}}


def reference_lines(world, tests: dict, key) -> list[dict]:
    """Random and oracle success on each arm's evaluation tasks, the arms' episode keys."""
    lines = []
    for arm, tasks in tests.items():
        refs = measure(world, tasks, key, 2, ("random", "oracle"))
        lines.append({"arm": arm, "reference": True,
                      **{p: round(r.score["success"], 3) for p, r in refs.items()},
                      "time_limit_mean": round(float(jnp.mean(tasks.time_limit)), 1)})
    return lines


def parse_arm_run(description: str, arms) -> argparse.Namespace:
    """The command line of an arm-by-arm run (this script's, errands_networks_binding's)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--arms", nargs="+", default=list(arms), choices=list(arms))
    parser.add_argument("--total-steps", type=int, default=1_000_000)
    parser.add_argument("--eval-every", type=int, default=250_000)
    parser.add_argument("--deadline", help="HH:MM UTC: start no chunk that would end later")
    parser.add_argument("--seed", type=int, default=0, help="init and rollout key")
    parser.add_argument("--pool", type=int, default=4096)
    parser.add_argument("--eval-tasks", type=int, default=512)
    return parser.parse_args()


def main() -> None:
    args = parse_arm_run(__doc__.splitlines()[0], ARMS)
    world = make("errands")
    views = single_delivers(world, jax.random.key(7), args.eval_tasks)
    tests = {arm: arm_tasks(*views, arm) for arm in args.arms}
    for line in reference_lines(world, tests, jax.random.key(9)):
        print(json.dumps(line), flush=True)
    runs, views = {}, single_delivers(world, jax.random.key(123), args.pool)
    for arm in args.arms:
        pool = arm_tasks(*views, arm)
        runs[arm] = run = Arm(world, arm, pool, args.total_steps, args.eval_every, args.seed)
        print(json.dumps({"arm": arm, "describe": run.description, "seed": args.seed,
                          "total_steps": args.total_steps,
                          "compile_seconds": round(run.compile_seconds, 1)}), flush=True)
    train_in_turn(runs, tests, parse_deadline(args.deadline), label="arm")


if __name__ == "__main__":
    main()
