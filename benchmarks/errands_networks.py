"""ppo on errands (chains of 1-2) with each network, interleaved: success on fresh tasks
of every split, success per sub-goal, and training speed, one JSON line per variant per
evaluation point.

    nice python benchmarks/errands_networks.py --variants attention mlp     # interleaved
    nice python benchmarks/errands_networks.py --variants attention-wide --total-steps 2000000

Lines: benchmarks/errands_networks/session9.jsonl (networks), session11.jsonl (curriculum),
session12.jsonl and session12-seed1.jsonl (a mixed second-phase pool), session12-speed.jsonl;
session13.jsonl is `errands_networks_deliver.py`'s (what blocks deliver).

Training tasks: a pool of `--pool` train tasks with chains of 1-2 (`max_chain=2`, locked
doors and distractors as by default). Evaluation (the current policy, sampled actions):
fresh tasks of every split with chains of 1-2 except `longer` (always 4 sub-goals);
`heldout` is the mean over layouts, combos, slippery and crowded; `train` is fresh train
tasks (not the pool): the validation draw variants are selected on. `subgoals` (train and
held-out): the share of attempts of each sub-goal that succeed, by verb, and for fetch and
deliver by whether the target (the object; the goal tile) lies in the room the agent was
in when the sub-goal began. The variants train chunk by chunk in turn, so all see the
same load; `steps_per_s` counts training only (no compile, no evaluation).

Variants (declared 2026-12-02 21:25 UTC, before any run of this session; issue 12 item 6,
brief `attn`). Each changes one thing from `attention`, which is the network, rollout and
optimiser of the first measurement (docs/worlds/errands.md):
- `mlp`: the MLP's best errands config (2 x 256 relu towers), the reference;
- `attention`: width 64, 4 heads, one attention round, 2 x 128 relu towers, 128 envs x 16
  steps, lr 1e-3, ent_coef 0.01;
- `attention-wide`: width 128, 8 heads, 2 x 256 towers (capacity);
- `attention-2rounds`: a second attention round whose query is made from the first's
  result (fetch the blue ball, then find the tile of the errand's colour: two bindings);
- `attention-ent003`: ent_coef 0.003 (less noise in long walks once the errand is known);
- `attention-256envs`: 256 envs x 16 steps (twice the batch per update, half the updates);
- `attention-bonus`: the training pool pays `subgoal_bonus=0.1` per finished sub-goal
  (shaping; evaluation tasks keep the default sparse reward: success is what counts).
Protocol (revised 21:37 UTC, still before any run: the smoke test measured attention at
~1.3k env steps/s at load 5, so 2M steps a variant do not fit the session): every variant
runs 1M env steps (lr annealed over 1M) with points at 0.5M and 1M, in this order as
time allows: `attention`, `mlp` and `attention-bonus` interleaved; then
`attention-2rounds` and `attention-ent003` interleaved; then `attention-wide`,
`attention-256envs`. The best fresh-train success at 1M is the selected variant; longer
budgets only if time remains. Held-out is reported, never selected on.
Every run goes in the table (docs/worlds/errands.md, "PPO with the attention network").

Session 11 (declared 2026-12-03 05:41 UTC, before any run; issue 12 item 6, brief `curric`):
does a curriculum (level 0 -> chains of 1-2) help? Lines in
benchmarks/errands_networks/session11.jsonl. Four arms, one seed (key 0), interleaved in
one process, 3M env steps each (lr annealed over 3M), evaluation points every 0.5M:
- bases `mlp` and `attention` (unchanged, as session 9): the chains-1-2 pool throughout;
- `mlp-curriculum`, `attention-curriculum`: the one change is the training pool of the
  first `--first-phase` env steps (1M, a third of the budget): `world.easiest_tasks` (level
  0: one sub-goal, door never locked, no distractors; 4096 tasks, key 123), then the
  base's chains-1-2 pool. At the switch the envs restart on the new pool (a fresh env
  carry; params, optimiser state, lr schedule and step counts carry on).
Same evaluation as session 9 (256 fresh tasks x 2 episodes per split, chains 1-2, key 9),
plus `level0` (256 fresh easiest tasks: a diagnostic of the first phase, in no verdict)
and the random policy and oracle on the same tasks and episode keys
(`trainee.worlds.references`). Decision rule, per network: "the curriculum helps" if the
held-out mean (layouts, combos, slippery, crowded; 2048 episodes) of the curriculum arm
exceeds its base's by more than 2 standard errors of the difference,
sqrt(p1 (1 - p1) / 2048 + p2 (1 - p2) / 2048), at the end budget; "hurts" if below by
more than 2; else "no difference shown". The end budget is 3M, or, if `--deadline`
(07:22 UTC) stops the arms first, the last point both arms of the pair reached (arms
advance in turn, so a pair stays level; the mlp pair is cheap and should finish; if time
is short the attention pair is the one cut). Target (issue 12): held-out >= 0.9; reported
met or missed by how much, and the first point it was met. Nothing is tuned after a result.
Command: `nice python benchmarks/errands_networks.py --variants mlp mlp-curriculum attention
attention-curriculum --total-steps 3000000 --first-phase 1000000 --deadline 07:22`.

Session 11 replication (declared 06:32 UTC, after the run above, before this one): the
attention pair again with `--seed 1` (the init and rollout key; pools, evaluation tasks
and keys unchanged), same budget and rule, to see whether the seed-0 verdict's sign holds.
The verdict of record stays seed 0's; this run is reported beside it whatever it says.

Session 12 (declared 2026-12-03 08:31 UTC, before any run; issue 12 item 6, brief `mixed`):
does a mixed second-phase pool help attention? Lines in
benchmarks/errands_networks/session12.jsonl (seed 0) and session12-seed1.jsonl. Two arms,
interleaved in one process, 3M env steps each (lr annealed over 3M), points every 0.5M:
- base `attention-curriculum` (session 11's, unchanged; re-run so numbers and speed are
  read side by side);
- `attention-mixed`: the same first phase (1M env steps on the 4096 easiest tasks, key
  123); the one change is the second-phase pool: the base's 4096 chains-1-2 tasks plus
  the first phase's 4096 easiest tasks (8192; `EASIEST_SHARE` 0.5): every reset draws a
  level-0 task with probability 0.5 (level-0 episodes are shorter, so they take less than
  half the env steps). The envs restart at the switch as in the base.
Evaluation, references and level-0 diagnostic unchanged from session 11.
Checks before reading any verdict: the base's seed-0 lines must equal session11.jsonl's
`attention-curriculum` lines (every field but steps_per_s, load, eval_seconds) at 0.5M at
least, and the mixed arm's 0.5M and 1M lines the base's (the same first phase); if not,
said loudly and the cause looked for.
Order and cut, decided by this rule once both arms' first chunks are timed (D = the wall
time of that first round, from the compile lines to the second 0.5M line; run A's end
projected as E = its time then + 5 D): run A = seed 0, both arms, `--deadline 10:15`;
then, if E + 6 D + 2 min <= 10:15, run B = seed 1, both arms; else if E + 3 D + 2 min <=
10:15 and run A's base reproduced session 11, run B = `attention-mixed` alone at seed 1,
compared with session11-seed1.jsonl's `attention-curriculum`; else no seed 1. Run B also
`--deadline 10:15`; a cut pair is compared at the last point both reached.
Decision rule: d = held-out mean (2048 episodes) of mixed - base at 3M (or run A's last
common point), SE = sqrt(p1 (1 - p1) / 2048 + p2 (1 - p2) / 2048). "The mixed pool
helps" if seed 0's d > 2 SE and seed 1's d > 0; "hurts" if seed 0's d < -2 SE and seed 1's
d < 0; else "not shown" (also when seed 1 is not run). Seed 1's d / SE is reported too.
Reported, in no verdict: *deliver* per sub-goal (train, held-out; same, other room) at 1M
and 3M, "learned on chains" if >= 0.5 on held-out in both rooms at 3M, "not learned" if
<= 0.1 in both, else "partly"; level-0 success at 1M and 3M (forgetting after the switch);
the target (held-out >= 0.9) met or missed by how much, and the first point it was met.
Speed: env steps/s of both arms in the same run, with the load; the MLP is not re-run
(session 11's same-run ratio, 0.37-0.41x, stands) unless time remains after run B.
Nothing is tuned after a result. Command (run A): `nice python
benchmarks/errands_networks.py --variants attention-curriculum attention-mixed
--total-steps 3000000 --first-phase 1000000 --deadline 10:15`.
Applied after the first round (D = 401 s, E = 09:24): seed 1 ran both arms; results in
docs/worlds/errands.md, "Session 12: a mixed pool".

Encoder shapes (width, heads, rounds) are not LearnerConfig fields: a variant sets them
by rebinding `networks.EntityEncoder` in this process only.
"""

from __future__ import annotations

import argparse
import calendar
import json
import os
import time
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from trainee.evaluate import agent_policy, evaluate
from trainee.learners import LearnerConfig, make_learner, networks, sample_act
from trainee.learners.common import TrainState
from trainee.learners.networks import describe_network
from trainee.worlds import make
from trainee.worlds.errands_tasks import DELIVER, FETCH, MAX_CHAIN, OPEN, side_of
from trainee.worlds.references import measure
from trainee.worlds.wrappers import pool_size

SPLITS = ("train", "layouts", "combos", "slippery", "crowded")  # `longer` is 4 sub-goals
HELDOUT = SPLITS[1:]

MLP = dict(network="mlp", num_envs=128, num_steps=16, hidden=256, lr=1e-3, activation="relu")
ATTENTION = dict(MLP, network="attention", hidden=128)
# name -> (LearnerConfig fields, EntityEncoder fields, training-pool task options)
VARIANTS = {
    "mlp": (MLP, {}, {}),
    "attention": (ATTENTION, {}, {}),
    "attention-wide": (dict(ATTENTION, hidden=256), dict(dim=128, heads=8), {}),
    "attention-2rounds": (ATTENTION, dict(rounds=2), {}),
    "attention-ent003": (dict(ATTENTION, ent_coef=0.003), {}, {}),
    "attention-256envs": (dict(ATTENTION, num_envs=256), {}, {}),
    "attention-bonus": (ATTENTION, {}, dict(subgoal_bonus=0.1)),
}
ENCODER = networks.EntityEncoder
# curriculum arm -> its base variant: the first `--first-phase` env steps train on
# `world.easiest_tasks` (level 0), then on the base's pool (session 11)
CURRICULA = {"mlp-curriculum": "mlp", "attention-curriculum": "attention",
             "attention-mixed": "attention"}
# curriculum arm -> the share of level-0 tasks its second-phase pool keeps (session 12):
# the base's chains-1-2 pool plus as many easiest tasks as make that share; 0 (absent) is
# session 11's plain switch
EASIEST_SHARE = {"attention-mixed": 0.5}


def mixed_pool(world, key, chains, share: float):
    """The chains pool plus `share` / (1 - share) as many easiest tasks (`key`, the first
    phase's key: at share 0.5 the first phase's own pool), easiest first: every reset draws
    a level-0 task with probability `share`."""
    easiest = world.easiest_tasks(key, round(pool_size(chains) * share / (1 - share)))
    return jax.tree.map(lambda a, b: jnp.concatenate([a, b]), easiest, chains)


def eval_tasks(world, key, n: int, max_chain: int) -> dict:
    keys = jax.random.split(key, len(SPLITS))
    return {s: world.tasks(k, s, n, max_chain=max_chain) for s, k in zip(SPLITS, keys, strict=True)}


def play_subgoals(world, policy, key, task):
    """One episode -> (sub-goals done (), agent cell when each sub-goal began (MAX_CHAIN+1,))."""
    key_reset, key_steps = jax.random.split(key)
    obs, state = world.reset(key_reset, task)
    starts = jnp.zeros(MAX_CHAIN + 1, jnp.int32).at[0].set(state.agent)

    def one_step(carry, key):
        obs, state, done, starts = carry
        key_policy, key_world = jax.random.split(key)
        out = world.step(key_world, state, policy(key_policy, obs, state, task), task)
        advanced = ~done & (out.state.progress > state.progress)
        starts = jnp.where(advanced, starts.at[out.state.progress].set(out.state.agent), starts)
        keep = lambda new, old: jax.tree.map(lambda n, o: jnp.where(done, o, n), new, old)
        return (out.obs, keep(out.state, state), done | out.terminated | out.truncated,
                starts), None

    keys = jax.random.split(key_steps, world.max_steps)
    (_, state, _, starts), _ = jax.lax.scan(one_step, (obs, state, False, starts), keys)
    return state.progress, starts


def subgoal_counts(task, progress, starts) -> jax.Array:
    """(5, 2) attempts and successes of fetch same/other room, open, deliver same/other."""
    i = jnp.arange(MAX_CHAIN)
    attempted = (i < task.chain_len) & (progress >= i)
    succeeded = attempted & (progress > i)
    verb = task.chain_verb
    goal, obj = task.goal_cell[task.chain_goal], task.object_cell[task.chain_object]
    target = jnp.where(verb == DELIVER, goal, obj)
    other = side_of(target, task) != side_of(starts[:MAX_CHAIN], task)
    kinds = [(verb == FETCH) & ~other, (verb == FETCH) & other, verb == OPEN,
             (verb == DELIVER) & ~other, (verb == DELIVER) & other]
    return jnp.stack([jnp.stack([jnp.sum(k & attempted), jnp.sum(k & succeeded)]) for k in kinds])


SUBGOALS = ("fetch_same", "fetch_other", "open", "deliver_same", "deliver_other")


def make_eval(world, network):
    """(params, key, tasks) -> (success (tasks, 2), sub-goal counts (5, 2)), jitted."""

    def run(params, key, tasks):
        policy = agent_policy(sample_act(network), params)
        success = evaluate(world, policy, key, tasks, 2).success
        n = jax.tree.leaves(tasks)[0].shape[0]
        keys = jax.random.split(jax.random.fold_in(key, 1), n)
        progress, starts = jax.vmap(partial(play_subgoals, world, policy))(keys, tasks)
        counts = jax.vmap(subgoal_counts)(tasks, progress, starts).sum(0)
        return success, counts

    return jax.jit(run)


def scores(run_eval, params, key, tasks: dict) -> dict:
    """Success per evaluation set, the held-out mean and success per sub-goal (train,
    held-out and, if evaluated, level0)."""
    out, counts = {}, {"train": 0, "heldout": 0}
    for split, t in tasks.items():
        success, c = run_eval(params, key, t)
        out[split] = round(float(np.mean(success)), 3)
        part = "heldout" if split in HELDOUT else split
        counts[part] = counts.get(part, 0) + np.asarray(c)
    out["heldout"] = round(float(np.mean([out[s] for s in HELDOUT])), 3)
    out["subgoals"] = {part: {name: (round(float(s / a), 3) if a else None)
                              for name, (a, s) in zip(SUBGOALS, c, strict=True)}
                       for part, c in counts.items()}
    return out


class Run:
    """One variant's training: a compiled chunk of updates and its evaluator."""

    def __init__(self, world, name: str, total_steps: int, eval_every: int, pool_args: dict,
                 first_phase: int = 0, seed: int = 0):
        fields, encoder, pool_options = VARIANTS[CURRICULA.get(name, name)]
        self.encoder = partial(ENCODER, **encoder)
        self.use_encoder()
        self.config = LearnerConfig(total_steps=total_steps, **fields)
        self.learner = learner = make_learner(self.config, world)
        self.pool = world.tasks(**pool_args, **pool_options)
        self.later_pool, self.switch_at = None, 0
        if name in CURRICULA:  # the first phase plays level 0, then the base's pool
            self.later_pool, self.switch_at = self.pool, first_phase // eval_every
            self.pool = world.easiest_tasks(pool_args["key"], pool_args["n"])
            if name in EASIEST_SHARE:  # session 12: the later pool keeps level-0 tasks
                self.later_pool = mixed_pool(world, pool_args["key"], self.later_pool,
                                             EASIEST_SHARE[name])
        self.updates = max(1, eval_every // learner.steps_per_update)
        self.switch_at *= self.updates  # in updates: the switch falls on a chunk boundary
        step = lambda s, t: jax.lax.scan(lambda c, _: learner.update(c, t), s, None,
                                         length=self.updates)
        self.init = jax.jit(learner.init)
        self.state: TrainState = self.init(jax.random.key(seed), self.pool)
        start = time.perf_counter()
        self.step = jax.jit(step)
        self.chunk = self.step.lower(self.state, self.pool).compile()
        self.eval = make_eval(world, learner.network)
        self.compile_seconds = time.perf_counter() - start
        self.train_seconds = 0.0
        self.slowest_chunk = 0.0  # wall seconds of a chunk and its evaluation, the worst
        self.description = describe_network(self.config, world) + (f", encoder {encoder}"
                                                                   if encoder else "")

    def use_encoder(self) -> None:
        """Rebind this variant's encoder shape (jit traces the network on first call)."""
        networks.EntityEncoder = self.encoder

    def scores(self, key, tests: dict) -> dict:
        self.use_encoder()
        return scores(self.eval, self.state.params, key, tests)

    def done(self) -> bool:
        return int(self.state.update) >= self.learner.num_updates

    def advance(self) -> dict:
        start = time.perf_counter()
        self.state, metrics = jax.block_until_ready(self.chunk(self.state, self.pool))
        self.train_seconds += time.perf_counter() - start
        if self.later_pool is not None and int(self.state.update) >= self.switch_at:
            self.switch_pool()
        return metrics

    def switch_pool(self) -> None:
        """The curriculum's second phase: the later pool, the envs restarted on it (a
        fresh env carry); params, optimiser state and counters carry on."""
        resized = pool_size(self.pool) != pool_size(self.later_pool)
        self.pool, self.later_pool = self.later_pool, None
        fresh = self.init(jax.random.key(1), self.pool)
        self.state = self.state._replace(env=fresh.env)
        if resized:  # a mixed pool is larger: its chunk is another program (untimed)
            self.use_encoder()
            start = time.perf_counter()
            self.chunk = self.step.lower(self.state, self.pool).compile()
            self.compile_seconds += time.perf_counter() - start


def reference_lines(world, tests: dict, key) -> list[dict]:
    """The random policy's and the oracle's success on the evaluation sets, with the
    variants' episode keys (one line each, as a variant's)."""
    refs = {split: measure(world, t, key, 2, ("random", "oracle")) for split, t in tests.items()}
    lines = []
    for name in ("random", "oracle"):
        line = {"variant": name, **{s: round(r[name].score["success"], 3)
                                    for s, r in refs.items()}}
        line["heldout"] = round(float(np.mean([line[s] for s in HELDOUT])), 3)
        lines.append(line)
    return lines


def out_of_time(run, deadline: float | None) -> bool:
    """Would this run's next chunk (as long as its slowest so far) end past the deadline?"""
    return deadline is not None and time.time() + run.slowest_chunk > deadline


def parse_deadline(hhmm: str | None) -> float | None:
    """'07:22' -> that time today (UTC) as a Unix time; None -> no deadline."""
    if hhmm is None:
        return None
    now = time.gmtime()
    hours, minutes = map(int, hhmm.split(":"))
    return calendar.timegm((now.tm_year, now.tm_mon, now.tm_mday, hours, minutes, 0))


def train_in_turn(runs: dict, tests: dict, deadline: float | None, label="variant") -> None:
    """Advance the runs (`done()`, `advance()`, `scores(key, tests)`) chunk by chunk in
    turn, one evaluation line per chunk; one whose next chunk would end late stops."""
    live = dict(runs)
    while live:
        for name, run in list(live.items()):
            if run.done() or out_of_time(run, deadline):
                if not run.done():
                    print(json.dumps({label: name, "stopped_at": int(run.state.env_steps),
                                      "reason": "deadline"}), flush=True)
                del live[name]
                continue
            start = time.perf_counter()
            metrics = run.advance()
            steps = float(run.state.env_steps)
            line = {label: name, "env_steps": int(steps),
                    "learner_success": round(float(np.mean(metrics["success"][-5:])), 3),
                    "steps_per_s": round(steps / run.train_seconds),
                    "load": round(os.getloadavg()[0], 1)}
            eval_start = time.perf_counter()
            line.update(run.scores(jax.random.key(9), tests))
            line["eval_seconds"] = round(time.perf_counter() - eval_start, 1)
            run.slowest_chunk = max(run.slowest_chunk, time.perf_counter() - start)
            print(json.dumps(line), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", nargs="+", default=["attention", "mlp"],
                        choices=sorted([*VARIANTS, *CURRICULA]))
    parser.add_argument("--total-steps", type=int, default=1_000_000)
    parser.add_argument("--eval-every", type=int, default=500_000)
    parser.add_argument("--first-phase", type=int, default=1_000_000,
                        help="curriculum arms: env steps on level 0 (a multiple of --eval-every)")
    parser.add_argument("--deadline", help="HH:MM UTC: start no chunk that would end later")
    parser.add_argument("--seed", type=int, default=0, help="init and rollout key")
    parser.add_argument("--max-chain", type=int, default=2)
    parser.add_argument("--pool", type=int, default=4096)
    parser.add_argument("--eval-tasks", type=int, default=256)
    args = parser.parse_args()
    world = make("errands")
    pool_args = dict(key=jax.random.key(123), split="train", n=args.pool, max_chain=args.max_chain)
    tests = eval_tasks(world, jax.random.key(7), args.eval_tasks, args.max_chain)
    if any(n in CURRICULA for n in args.variants):  # the first phase's diagnostic
        tests["level0"] = world.easiest_tasks(jax.random.key(8), args.eval_tasks)
        for line in reference_lines(world, tests, jax.random.key(9)):
            print(json.dumps(line), flush=True)
    runs = {n: Run(world, n, args.total_steps, args.eval_every, pool_args, args.first_phase,
                   args.seed)
            for n in args.variants}
    for name, run in runs.items():
        print(json.dumps({"variant": name, "describe": run.description,
                          "total_steps": args.total_steps, "seed": args.seed,
                          "first_phase": args.first_phase if name in CURRICULA else 0,
                          "compile_seconds": round(run.compile_seconds, 1)}), flush=True)
    train_in_turn(runs, tests, parse_deadline(args.deadline))


if __name__ == "__main__":
    main()
