"""The Ray fleet: each instance a Ray actor, merges through the object store.

Same arithmetic as the local fleet (`trainee.fleet.local`): the driver builds the N
initial states exactly as `init_fleet` does, gives actor i state i and pool i; each
round every actor runs K updates (`run_updates` of the local fleet's program, with the
same traced hyperparameters; one jitted function per actor process)
and returns its parameters; the driver stacks them, applies the same merge rule, puts
the merged parameters in the object store once, and every actor reads them from there.
Only parameters travel (up and down); optimiser and env states stay in the actors.

Cluster and actors: `trainee.runtime.ensure_ray` / `ray_actors` (RAY_ADDRESS selects an
existing cluster, else a local one starts). Ray is an optional extra: `pip install
"trainee[ray]"`; it is imported only when needed.
"""

from __future__ import annotations

import jax
import numpy as np

from trainee.fleet.jobs import make_world
from trainee.fleet.local import FleetOutput, broadcast, init_fleet
from trainee.fleet.merge import RuleChoice, any_rule
from trainee.learners import LearnerConfig, run_updates
from trainee.program import Program, get_program
from trainee.runtime import ensure_ray, ray_actors

__all__ = ["run_fleet_on_ray"]


def fleet_program(hp: LearnerConfig, world: str, merge_every: int) -> tuple[Program, dict]:
    """The local fleet's program (`FleetPrograms.program`) and its traced hyperparameters
    (scalars: one value for every instance), so actors and driver compute what the
    local fleet computes (constant hyperparameters would fold differently: up to 2.6%)."""
    program = get_program(make_world(world), hp, merge_every)
    return program, program.shared_hp(hp)


class Instance:
    """One fleet instance (what each Ray actor holds)."""

    def __init__(self, hp: LearnerConfig, world: str, state, pool, merge_every: int):
        # The program is rebuilt here from the config: worlds (wrapper objects with
        # __getattr__ delegation) do not survive pickling, configs do.
        program, self.hp = fleet_program(hp, world, merge_every)
        self.state = jax.tree.map(jax.numpy.asarray, state)
        self.pool = jax.tree.map(jax.numpy.asarray, pool)
        self.train = jax.jit(lambda s, t, h: run_updates(program.learner_with(h), s, t,
                                                         merge_every)[0])

    def compile(self) -> None:
        """Compile the round's program now (into the persistent compilation cache)."""
        self.train = self.train.lower(self.state, self.pool, self.hp).compile()

    def run_round(self, params):
        """Take `params` (None: keep mine), run K updates, return my parameters."""
        if params is not None:
            self.state = self.state._replace(params=jax.tree.map(jax.numpy.asarray, params))
        self.state = self.train(self.state, self.pool, self.hp)
        return jax.tree.map(np.asarray, self.state.params)

    def get_state(self):
        return jax.tree.map(np.asarray, self.state)


def _stack(trees):
    return jax.tree.map(lambda *xs: np.stack(xs), *trees)


def run_fleet_on_ray(hp: LearnerConfig, world: str, choice: RuleChoice, merge_every: int,
                     rounds: int, key: jax.Array, pools,
                     cpus_per_instance: float | None = None) -> FleetOutput:
    """The local fleet (`FleetPrograms.fleet`, or `.specialists` for `merge: none`) of
    `rounds` rounds of `merge_every` updates from `key` on `pools`, merged by `choice`
    (`rule_choice(config)`; the same merge program as the local fleet's), with each
    instance a Ray actor; returns the same FleetOutput (metrics empty).

    `cpus_per_instance`: Ray CPUs reserved per actor; default min(1, cluster CPUs / N),
    so a fleet larger than the cluster still fits (its actors share the CPUs)."""
    ray = ensure_ray()
    n = jax.tree.leaves(pools)[0].shape[0]
    if cpus_per_instance is None:
        cpus_per_instance = min(1.0, ray.cluster_resources().get("CPU", 1.0) / n)
    program, traced = fleet_program(hp, world, merge_every)
    init = jax.jit(lambda k, p, h: init_fleet(program.learner_with(h), k, p))
    states = jax.tree.map(np.asarray, init(key, pools, traced))
    shared = jax.tree.map(lambda x: x[0], states.params)
    merging = bool(choice.merging)
    merge_state = any_rule(choice).init(shared)
    merge = jax.jit(lambda stacked, state, c: any_rule(c).merge(stacked, state))
    take = lambda tree, i: jax.tree.map(lambda x: x[i], tree)
    actors = ray_actors(Instance, [(hp, world, take(states, i), take(pools, i), merge_every)
                                   for i in range(n)], cpus_per_instance)
    merged_ref, merged = None, None
    try:
        # One actor compiles first; on one machine (or a shared cache directory) the
        # others then load its program from the persistent cache instead of compiling
        # the same program at once (2 instances on 2 cores: half the compile CPU).
        ray.get(actors[0].call.remote("compile"))
        ray.get([a.call.remote("compile") for a in actors[1:]])
        for _ in range(rounds):
            params = ray.get([a.call.remote("run_round", merged_ref) for a in actors])
            if not merging:
                continue
            merged, merge_state = merge(_stack(params), merge_state, choice)
            merged = jax.tree.map(np.asarray, merged)
            merged_ref = ray.put(merged)  # one copy in the object store, read by all
        final = _stack(ray.get([a.call.remote("get_state") for a in actors]))
    finally:
        for actor in actors:
            ray.kill(actor)
    if merging:
        # The actors hold merged params only after their next round; the fleet's state
        # after the last merge has the merged params in every instance (as locally).
        final = final._replace(params=broadcast(merged, n))
    return FleetOutput(final, merged, shared, {})
