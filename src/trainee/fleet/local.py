"""The local fleet: N instances as one vmapped batch of train states in one process.

One round = K updates of every instance on its own task pool (`jax.vmap` of
`run_updates`), then a merge of the stacked parameters. All rounds are one `lax.scan`,
so a whole fleet, however many instances, is one compiled program.

What a merge touches (a decision, see docs/fleet.md):
- Parameters: replaced in every instance by the merged parameters.
- Optimiser state (Adam moments, step count): kept per instance and never sent. Only
  parameters are communicated, as in FedAvg and DiLoCo, whose workers keep their inner
  optimiser locally; the step count also keeps each instance's learning-rate schedule
  where it was.
- Env state: kept. Each instance goes on with the episodes it was playing (its job's
  tasks); a rollout after the merge is collected by the merged policy, so ppo's
  importance ratios stay on-policy.
- PRNG keys, step counters: kept per instance.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from trainee.fleet.merge import MergeRule
from trainee.learners import Learner, TrainState
from trainee.learners import run_updates as _run_updates

__all__ = ["FleetOutput", "broadcast", "init_fleet", "make_fleet_run"]


class FleetOutput(NamedTuple):
    states: TrainState  # every leaf (N, ...): the instances after the last round
    merged: Any  # the merged parameters after the last merge (None: no merging)
    initial: Any  # the shared initial parameters (the anchor of task arithmetic)
    metrics: dict  # each (rounds, N, K)


def broadcast(params, n: int):
    """Every leaf repeated along a new leading instance axis of size n."""
    return jax.tree.map(lambda x: jnp.broadcast_to(x, (n, *x.shape)), params)


def init_fleet(learner: Learner, key: jax.Array, pools) -> TrainState:
    """N instance states (N = the pools' leading axis) sharing one initialisation.

    Merging averages parameters coordinate by coordinate, which is meaningful only for
    networks that started from the same point (FedAvg and DiLoCo start every worker from
    one global model), so instance 0's initial parameters are given to all; env states,
    keys and optimiser states are each instance's own."""
    n = jax.tree.leaves(pools)[0].shape[0]
    states = jax.vmap(learner.init)(jax.random.split(key, n), pools)
    shared = jax.tree.map(lambda x: x[0], states.params)
    return states._replace(params=broadcast(shared, n))


def fleet_round(learner: Learner, rule: MergeRule | None, num_updates: int, carry, pools,
                merging: bool | jax.Array = True):
    """K updates of every instance, then (if `rule` and `merging`, which may be traced)
    a merge; returns (carry, metrics)."""
    states, merge_state = carry
    train = lambda s, t: _run_updates(learner, s, t, num_updates)
    states, metrics = jax.vmap(train)(states, pools)  # metrics: each (N, K)
    if rule is not None:
        n = jax.tree.leaves(pools)[0].shape[0]
        merged, new_state = rule.merge(states.params, merge_state)
        keep = lambda new, old: jnp.where(merging, new, old)
        states = states._replace(params=jax.tree.map(keep, broadcast(merged, n), states.params))
        merge_state = jax.tree.map(keep, new_state, merge_state)
    return (states, merge_state), metrics


def make_fleet_run(learner: Learner, rule: MergeRule | None, merge_every: int, rounds: int,
                   merging: bool | jax.Array = True):
    """`run(key, pools) -> FleetOutput`: `rounds` rounds of `merge_every` updates.

    `pools`: every leaf (N, P, ...), instance i's task pool. With `rule=None` nothing is
    merged (independent specialists); so it is with `merging` False, which may be traced
    (one program for a merged fleet and its specialists: `FleetOutput.merged` is then
    instance 0's parameters, for the caller to ignore). Jit the result once; keys and
    pools are arguments."""

    def run(key: jax.Array, pools) -> FleetOutput:
        states = init_fleet(learner, key, pools)
        shared = jax.tree.map(lambda x: x[0], states.params)
        merge_state = rule.init(shared) if rule is not None else None
        one = lambda carry, _: fleet_round(learner, rule, merge_every, carry, pools, merging)
        (states, merge_state), metrics = jax.lax.scan(
            one, (states, merge_state), None, length=rounds
        )
        merged = jax.tree.map(lambda x: x[0], states.params) if rule is not None else None
        return FleetOutput(states, merged, shared, metrics)

    return run
