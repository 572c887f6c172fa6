"""ppo on errands (chains of 1-2) with each network, interleaved: success on fresh tasks
of every split, success per sub-goal, and training speed, one JSON line per variant per
evaluation point.

    nice python benchmarks/errands_networks.py --variants attention mlp     # interleaved
    nice python benchmarks/errands_networks.py --variants attention-wide --total-steps 2000000

Lines of this session: benchmarks/errands_networks/session9.jsonl.

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

Encoder shapes (width, heads, rounds) are not LearnerConfig fields: a variant sets them
by rebinding `networks.EntityEncoder` in this process only.
"""

from __future__ import annotations

import argparse
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
    out, counts = {}, {"train": 0, "heldout": 0}
    for split, t in tasks.items():
        success, c = run_eval(params, key, t)
        out[split] = round(float(np.mean(success)), 3)
        counts["train" if split == "train" else "heldout"] += np.asarray(c)
    out["heldout"] = round(float(np.mean([out[s] for s in HELDOUT])), 3)
    out["subgoals"] = {part: {name: (round(float(s / a), 3) if a else None)
                              for name, (a, s) in zip(SUBGOALS, c, strict=True)}
                       for part, c in counts.items()}
    return out


class Run:
    """One variant's training: a compiled chunk of updates and its evaluator."""

    def __init__(self, world, name: str, total_steps: int, eval_every: int, pool_args: dict):
        fields, encoder, pool_options = VARIANTS[name]
        self.encoder = partial(ENCODER, **encoder)
        self.use_encoder()
        self.config = LearnerConfig(total_steps=total_steps, **fields)
        self.learner = learner = make_learner(self.config, world)
        self.pool = world.tasks(**pool_args, **pool_options)
        self.updates = max(1, eval_every // learner.steps_per_update)
        step = lambda s, t: jax.lax.scan(lambda c, _: learner.update(c, t), s, None,
                                         length=self.updates)
        self.state: TrainState = jax.jit(learner.init)(jax.random.key(0), self.pool)
        start = time.perf_counter()
        self.chunk = jax.jit(step).lower(self.state, self.pool).compile()
        self.eval = make_eval(world, learner.network)
        self.compile_seconds = time.perf_counter() - start
        self.train_seconds = 0.0
        self.description = describe_network(self.config, world) + (f", encoder {encoder}"
                                                                   if encoder else "")

    def use_encoder(self) -> None:
        """Rebind this variant's encoder shape (jit traces the network on first call)."""
        networks.EntityEncoder = self.encoder

    def scores(self, key, tests: dict) -> dict:
        self.use_encoder()
        return scores(self.eval, self.state.params, key, tests)

    def advance(self) -> dict:
        start = time.perf_counter()
        self.state, metrics = jax.block_until_ready(self.chunk(self.state, self.pool))
        self.train_seconds += time.perf_counter() - start
        return metrics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", nargs="+", default=["attention", "mlp"],
                        choices=sorted(VARIANTS))
    parser.add_argument("--total-steps", type=int, default=1_000_000)
    parser.add_argument("--eval-every", type=int, default=500_000)
    parser.add_argument("--max-chain", type=int, default=2)
    parser.add_argument("--pool", type=int, default=4096)
    parser.add_argument("--eval-tasks", type=int, default=256)
    args = parser.parse_args()
    world = make("errands")
    pool_args = dict(key=jax.random.key(123), split="train", n=args.pool, max_chain=args.max_chain)
    tests = eval_tasks(world, jax.random.key(7), args.eval_tasks, args.max_chain)
    runs = {n: Run(world, n, args.total_steps, args.eval_every, pool_args) for n in args.variants}
    for name, run in runs.items():
        print(json.dumps({"variant": name, "describe": run.description,
                          "total_steps": args.total_steps,
                          "compile_seconds": round(run.compile_seconds, 1)}), flush=True)
    while any(run.state.update < run.learner.num_updates for run in runs.values()):
        for name, run in runs.items():
            if run.state.update >= run.learner.num_updates:
                continue
            metrics = run.advance()
            steps = float(run.state.env_steps)
            line = {"variant": name, "env_steps": int(steps),
                    "learner_success": round(float(np.mean(metrics["success"][-5:])), 3),
                    "steps_per_s": round(steps / run.train_seconds),
                    "load": round(os.getloadavg()[0], 1)}
            line.update(run.scores(jax.random.key(9), tests))
            print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
