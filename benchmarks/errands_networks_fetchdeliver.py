"""Fetch, then deliver: does naming the fetch as its own sub-goal (and paying for it) let
attention learn errands' *deliver* among look-alike objects? ppo on session 13's
`deliver-objects` tasks, the same errand written two ways, interleaved.

    nice python benchmarks/errands_networks_fetchdeliver.py --deadline 18:38 \
        | tee benchmarks/errands_networks/session15.jsonl                     # seed 0
    nice python benchmarks/errands_networks_fetchdeliver.py --seed 1 --deadline 18:38 \
        | tee benchmarks/errands_networks/session15-seed1.jsonl              # seed 1

Session 15 (declared 2026-12-03 17:10 UTC, committed before any run; issue 12 item 6,
brief `fetchdel`). Sessions 13-14 (`errands_networks_deliver.py`,
`errands_networks_binding.py`): on one-`deliver X to Z` tasks attention delivers 0.96-0.98
at 1M env steps with X and Z alone (`deliver-bare`) but 0.01-0.03 (chance) with the two
other errand objects on the floor (`deliver-objects`); zeroing the instruction's object
fields once X is carried and making other objects block did not help. The agent ever
carries X in only 0.13-0.17 of episodes (bare: 0.98): the block is upstream, in choosing X
among look-alikes when the only reward comes at the end. A fetch of X among the same
objects is learned in chains (0.4-0.6 held-out, sessions 11-12), where it is a sub-goal.
Arms, all on session 13's draw (`single_delivers`: pool key 123, 4096 tasks; evaluation
key 7, 512 tasks), default world `Errands()` (no world or task option is new):
- `deliver-bare`: the positive control (X and Z only), re-run;
- `deliver-objects`: the reference (X, Z and the two other errand objects), re-run;
- `fetch-deliver`: `deliver-objects`' tasks with the errand written as the chain
  [fetch X, deliver X to Z] (the same objects, tiles, layout, cells; only the chain
  fields differ: chain_len 2). One factor from `deliver-objects`: the fetch is named as
  its own sub-goal (the observation names `fetch X` first, then `deliver X to Z`, and
  "sub-goals left" counts it). Default sparse reward (1.0 at the end only);
- `fetch-deliver-bonus`: `fetch-deliver`'s pool with `subgoal_bonus` = 0.1 (0.1 when X is
  first picked up, 0.1 + 1.0 on delivery). One factor from `fetch-deliver`: intermediate
  credit. 0.1 is chosen before any run because it is the value of the only bonus run of
  sessions 9-12 (session 9's `attention-bonus`), so the two are comparable, and because it
  keeps the errand's reward dominant (a fetch alone pays a twelfth of the whole errand's
  1.2; progress never goes back, so each sub-goal pays once and nothing can be farmed).
  Its evaluation tasks are `fetch-deliver`'s (sparse; success does not read the reward).
Time limits: by the world's rule (3 x the oracle's creature-free plan + 10, in the world's
blocks) recomputed on each arm's tasks, as in sessions 13-14. The oracle's plan for the
chain is the same walk (to X while the sub-goal is `fetch X`; the step that picks X up
completes the fetch; then to Z), so the rule should give `deliver-objects`' limit task
for task; the script checks it and prints the share of equal limits (pool and evaluation)
in a `time_limits` line; any difference is reported, not corrected.
Network, rollout, optimiser: session 14's (`attention`: width 64, 4 heads, one round,
2 x 128 relu towers, 128 envs x 16 steps, lr 1e-3 annealed over 1M, ent_coef 0.01); 1M
env steps an arm, points every 0.25M, interleaved chunk by chunk in the order above; seed
0 (init and rollout key). Seed 1 (the replication, reported beside, in no verdict) only
if seed 0's run ends by 18:10 UTC; both runs `--deadline 18:38` (no chunk that would end
later; everything heavy stops by 18:40); a cut run is read at the last point all its arms
reached.
Evaluation as session 14 (`deliver_scores` and the pickups, episode key 9) in every arm:
*success* = the whole errand done, X delivered to Z (2 episodes a task), the same event in
every arm, so the arms compare on it; also *deliver* per attempt (in the chain arms an
attempt needs the fetch done first, so it is conditional and not comparable), *fetch* per
attempt (chain arms), *picked* (share of one episode a task, key 9 folded with 2, in which
X was ever carried: the fetch's counterpart in every arm) and *lost*. Random and oracle
success on each arm's evaluation tasks.
Checks: `deliver-bare`'s and `deliver-objects`' lines should equal session14.jsonl's field
for field (timing fields aside); a difference is reported and does not change the
within-run comparison.
Decision rule (per chain arm, at the read point, seed 0 of record), with D =
`deliver-objects`' success, A = the arm's success, B = `deliver-bare`'s, at the same steps:
- the arm **unblocks deliver** if A >= 0.5 while D <= 0.1;
- it **does not** if A <= 0.1 and D <= 0.1 and B >= 0.5 (with B < 0.5 the budget taught
  nothing to compare: inconclusive);
- else **inconclusive** (also if D > 0.1).
Reading: `fetch-deliver` unblocks -> naming the fetch suffices; only `fetch-deliver-bonus`
unblocks -> the intermediate credit is what helps (naming alone does not); neither ->
neither suffices at this budget (a null at bonus 0.1 says nothing of larger bonuses).
If an arm unblocks, the next run (chains of 1-2 with delivers written as fetch + deliver)
is described, and run only if seed 0 ends by 17:50 UTC, pre-registered the same way.
Nothing is tuned after a result; results in docs/worlds/errands.md, "Session 15: fetch,
then deliver".
"""

from __future__ import annotations

import json

import jax
import jax.numpy as jnp
from errands_networks import parse_deadline, train_in_turn
from errands_networks_binding import OptionArm, reference_lines
from errands_networks_deliver import arm_tasks, parse_arm_run, single_delivers

from trainee.worlds.errands import Errands
from trainee.worlds.errands_tasks import DELIVER, FETCH

BONUS = 0.1
# arm -> (errand written as a chain [fetch X, deliver X to Z], training pool's subgoal_bonus)
ARMS = {
    "deliver-bare": (False, 0.0),
    "deliver-objects": (False, 0.0),
    "fetch-deliver": (True, 0.0),
    "fetch-deliver-bonus": (True, BONUS),
}


def as_fetch_deliver(tasks):
    """One-`deliver X to Z` tasks rewritten as [fetch X, deliver X to Z]: nothing else."""
    x = tasks.chain_object[:, 0]
    return tasks.replace(
        chain_verb=tasks.chain_verb.at[:, 0].set(FETCH).at[:, 1].set(DELIVER),
        chain_object=tasks.chain_object.at[:, 1].set(x),
        chain_goal=tasks.chain_goal.at[:, 1].set(tasks.chain_goal[:, 0]),
        chain_len=jnp.full_like(tasks.chain_len, 2))


def tasks_of(views, arm: str, pool: bool = False):
    """The arm's tasks from `single_delivers`' (full, bare) views: session 13's arm, or
    `deliver-objects`' with the chain rewritten (limits and difficulty recomputed by
    `arm_tasks`); the bonus only on a training pool."""
    chained, bonus = ARMS[arm]
    if arm == "deliver-bare":
        return arm_tasks(*views, "deliver-bare")
    full, bare = views
    tasks = arm_tasks(full, as_fetch_deliver(bare) if chained else bare, "deliver-objects")
    if pool and bonus:
        tasks = tasks.replace(subgoal_bonus=jnp.full_like(tasks.subgoal_bonus, bonus))
    return tasks


def limits_line(views: dict) -> dict:
    """Share of tasks whose time limit as a chain equals `deliver-objects`' (pool, eval)."""
    same = lambda v: float(jnp.mean(tasks_of(v, "fetch-deliver").time_limit
                                    == tasks_of(v, "deliver-objects").time_limit))
    return {"time_limits": "fetch-deliver == deliver-objects",
            **{part: round(same(v), 4) for part, v in views.items()}}


def start_line(arm: str, run: OptionArm, args) -> dict:
    """What an arm trains with, and its compile time."""
    return {"arm": arm, "describe": run.description, "seed": args.seed,
            "subgoal_bonus": ARMS[arm][1], "total_steps": args.total_steps,
            "compile_seconds": round(run.compile_seconds, 1)}


def main() -> None:
    args = parse_arm_run(__doc__.splitlines()[0], ARMS)
    world = Errands()
    views = {"eval": single_delivers(world, jax.random.key(7), args.eval_tasks),
             "pool": single_delivers(world, jax.random.key(123), args.pool)}
    print(json.dumps(limits_line(views)), flush=True)
    tests = {arm: tasks_of(views["eval"], arm) for arm in args.arms}
    worlds = dict.fromkeys(args.arms, world)
    for line in reference_lines(worlds, tests, jax.random.key(9)):
        print(json.dumps(line), flush=True)
    runs = {arm: OptionArm(world, arm, tasks_of(views["pool"], arm, pool=True),
                           args.total_steps, args.eval_every, args.seed)
            for arm in args.arms}
    for arm, run in runs.items():
        print(json.dumps(start_line(arm, run, args)), flush=True)
    train_in_turn(runs, tests, parse_deadline(args.deadline), label="arm")


if __name__ == "__main__":
    main()
