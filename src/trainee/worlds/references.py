"""Reference scores of a world: what a random policy, the oracle and the world's scripted
heuristics (e.g. repair's greedy flipper) score on given tasks and episode keys.

Cheap enough to measure in the same run as any study, on the study's own tasks and
keys, so a verdict can be read against "what chance earns" and "what is possible":

    from trainee.worlds.references import measure
    refs = measure(world, tasks, jax.random.key(2), episodes=2)
    refs["random"].records.success.mean(), refs["oracle"].score["success"]

`benchmarks/world_references.py` writes the table for every built-in world and split
(plus ppo at a stated budget); docs/worlds/*.md show it.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import numpy as np

from trainee.evaluate import Policy, Records, evaluate, oracle_policy, random_policy
from trainee.runtime.compiles import named
from trainee.worlds.base import Task, World


class Reference(NamedTuple):
    records: Records  # numpy, (num_tasks, episodes)
    score: dict[str, float]  # success, return, length and every counter, episode means


def score(records: Records) -> dict[str, float]:
    """Episode means of success, return, length and every hidden counter."""
    records = records.to_numpy()
    out = {
        "success": float(np.mean(records.success)),
        "return": float(np.mean(records.episode_return)),
        "length": float(np.mean(records.length)),
    }
    out.update({name: float(np.mean(v)) for name, v in records.counters.items()})
    return out


def reference_policies(world: World) -> dict[str, Policy]:
    """random, oracle (if the world has one) and the world's heuristics, by name."""
    policies = {"random": random_policy(world)}
    if type(world).oracle is not World.oracle:
        policies["oracle"] = oracle_policy(world)
    for name, act in world.heuristics().items():
        policies[name] = lambda key, obs, state, task, act=act: act(key, state, task)
    return policies


def measure(
    world: World, tasks: Task, key: jax.Array, episodes: int, policies: tuple[str, ...] = ()
) -> dict[str, Reference]:
    """Records and scores of each reference policy (default: all of
    `reference_policies(world)`) on `tasks`, every policy with the same episode keys."""
    available = reference_policies(world)
    names = policies or tuple(available)
    unknown = [n for n in names if n not in available]
    if unknown:
        raise ValueError(f"world {world.name!r} has no reference policy {unknown[0]!r}; "
                         f"choose from {', '.join(available)}")
    out = {}
    for name in names:
        records = _evaluator(world, name, episodes, available[name])(key, tasks).to_numpy()
        out[name] = Reference(records, score(records))
    return out


_EVALUATORS: dict = {}


def _evaluator(world: World, name: str, episodes: int, policy: Policy):
    """One jitted evaluation per (world, policy, episodes): every task set of the same
    size then reuses its compiled program (jit caches by argument shapes)."""
    cache_key = (id(world), name, episodes)
    if cache_key not in _EVALUATORS:
        one = named(lambda k, t: evaluate(world, policy, k, t, episodes),
                    f"reference[{name} {world.name} {episodes}ep]")
        _EVALUATORS[cache_key] = (world, jax.jit(one))
    return _EVALUATORS[cache_key][1]
