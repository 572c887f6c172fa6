"""Merge rules: pure functions from the instances' stacked parameters to one set.

`stacked` is a parameter pytree whose every leaf has a leading instance axis N. Each
rule is an optax-style pair: `init(params) -> state` (the shared anchor, plus the outer
optimiser's state for DiLoCo) and `merge(stacked, state) -> (merged, state)`. The anchor
is the parameters every instance started the round from (the last merge), so "task
vectors" and "deltas" are always relative to it.

- `mean`: FedAvg (McMahan et al. 2017, "Communication-Efficient Learning of Deep
  Networks from Decentralized Data"): the plain average. With equal data per instance
  the paper's weights n_k / n are all 1 / N.
- `ties`: TIES-Merging (Yadav et al. 2023, "TIES-Merging: Resolving Interference When
  Merging Models"): task vectors tau_i = theta_i - anchor; trim each to its top-k% by
  magnitude (k = 20% is the paper's default); elect a sign per coordinate as the sign
  of the summed trimmed values (the direction with more total mass); average only the
  trimmed values that agree with it (a disjoint mean); add `scale` (lambda) times the
  result to the anchor.
- `diloco`: DiLoCo (Douillard et al. 2023, "DiLoCo: Distributed Low-Communication
  Training of Language Models"): the outer gradient is anchor - mean_i theta_i (the
  averaged delta, negated), applied with SGD + Nesterov momentum, outer lr 0.7 and
  momentum 0.9 as in the paper. Nesterov in the PyTorch form the paper uses:
  v <- mu v + g; theta <- theta - lr (g + mu v).
- `task_arithmetic`: Ilharco et al. 2023, "Editing Models with Task Arithmetic":
  anchor + scale * sum_i tau_i; with scale = 1 / N it is the mean. Used once, at the end
  (the merge-only-at-the-end baseline).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from trainee.registry import Registry

Params = Any

__all__ = [
    "DilocoState",
    "MergeRule",
    "RuleChoice",
    "RuleEntry",
    "RULES",
    "any_rule",
    "diloco",
    "make_rule",
    "mean",
    "param_count",
    "rule_choice",
    "rule_for",
    "task_arithmetic",
    "ties",
]


class DilocoState(NamedTuple):
    anchor: Params  # the global parameters every instance starts the round from
    momentum: Params  # Nesterov buffer, same shapes as the parameters


class MergeRule(NamedTuple):
    """An optax-style pair. `state` is at least the anchor (the last merged params)."""

    init: Callable[[Params], Any]  # params -> state
    merge: Callable[[Params, Any], tuple[Params, Any]]  # (stacked, state) -> (merged, state)


def param_count(params: Params) -> int:
    """Scalars in one instance's parameters (no instance axis)."""
    return sum(int(x.size) for x in jax.tree.leaves(params))


def mean(stacked: Params) -> Params:
    """FedAvg with equal weights: the average over the instance axis."""
    return jax.tree.map(lambda x: jnp.mean(x, axis=0), stacked)


def task_arithmetic(stacked: Params, anchor: Params, scale: float) -> Params:
    """anchor + scale * sum_i (theta_i - anchor)."""
    return jax.tree.map(lambda x, a: a + scale * jnp.sum(x - a, axis=0), stacked, anchor)


def _trim_mask(flat: jax.Array, density: float | jax.Array) -> jax.Array:
    """(N, P) bool: each row's top `density` fraction of entries by magnitude, k =
    round(density x P) of them (at least one). `density` may be traced (one fleet
    program serves every density), so the k-th largest is read from a sort, not
    `lax.top_k` (whose k must be static).

    Ties at the threshold are all kept (a magnitude equal to the k-th largest)."""
    size = flat.shape[1]
    k = jnp.clip(jnp.round(density * size), 1, size).astype(jnp.int32)
    magnitude = jnp.abs(flat)
    threshold = jnp.take(jnp.sort(magnitude, axis=1), size - k, axis=1)  # the k-th largest
    return magnitude >= threshold[:, None]


def ties(stacked: Params, anchor: Params, density: float = 0.2, scale: float = 1.0) -> Params:
    """TIES-Merging of the instances' task vectors (relative to `anchor`).

    Trimming ranks the whole task vector of an instance (all leaves together), as the
    paper ranks a model's full task vector, not each tensor apart."""
    leaves, treedef = jax.tree.flatten(jax.tree.map(lambda x, a: x - a, stacked, anchor))
    num = leaves[0].shape[0]
    flat = jnp.concatenate([leaf.reshape(num, -1) for leaf in leaves], axis=1)  # (N, P)
    trimmed = jnp.where(_trim_mask(flat, density), flat, 0.0)
    elected = jnp.sign(jnp.sum(trimmed, axis=0))  # (P,) the sign with more total mass
    agree = (jnp.sign(trimmed) == elected) & (trimmed != 0.0)
    count = jnp.sum(agree, axis=0)
    merged = jnp.sum(jnp.where(agree, trimmed, 0.0), axis=0) / jnp.maximum(count, 1)
    out, start = [], 0
    for base in jax.tree.leaves(anchor):
        size = base.size
        out.append(base + scale * merged[start:start + size].reshape(base.shape))
        start += size
    return jax.tree.unflatten(treedef, out)


def diloco(
    stacked: Params, state: DilocoState, lr: float = 0.7, momentum: float = 0.9
) -> tuple[Params, DilocoState]:
    """One outer Nesterov-SGD step on the averaged deltas; returns the new anchor."""
    grad = jax.tree.map(lambda a, x: a - jnp.mean(x, axis=0), state.anchor, stacked)
    buf = jax.tree.map(lambda v, g: momentum * v + g, state.momentum, grad)
    anchor = jax.tree.map(
        lambda a, g, v: a - lr * (g + momentum * v), state.anchor, grad, buf
    )
    return anchor, DilocoState(anchor, buf)


class RuleEntry(NamedTuple):
    """A registered merge rule: `make(**hyperparameters) -> MergeRule`, and which fields
    of a fleet config are its hyperparameters (`config -> kwargs`, numbers). The fleet
    passes them traced (`RuleChoice`), so `make` must not branch in Python on them."""

    make: Callable[..., MergeRule]
    hyperparameters: Callable[[Any], dict]


def _stateless(merge_fn: Callable[[Params, Params], Params]) -> Callable[..., MergeRule]:
    """A rule whose state is only the anchor (the last merged parameters)."""

    def make(**kwargs) -> MergeRule:
        def merge(stacked, anchor):
            merged = merge_fn(stacked, anchor, **kwargs)
            return merged, merged

        return MergeRule(lambda params: params, merge)

    return make


def _diloco(**kwargs) -> MergeRule:
    return MergeRule(lambda params: DilocoState(params, jax.tree.map(jnp.zeros_like, params)),
                     lambda stacked, state: diloco(stacked, state, **kwargs))


# Adding a rule is one `register` call here (the fleet config, the CLI and the sweep read
# the registry): the function, and the config fields that are its hyperparameters.
RULES: Registry[RuleEntry] = Registry("merge rule", hint=" (or none)")
RULES.register("mean", RuleEntry(_stateless(lambda stacked, anchor: mean(stacked)),
                                 lambda config: {}))
RULES.register("ties", RuleEntry(_stateless(ties), lambda config: {
    "density": config.ties_density, "scale": config.ties_scale}))
RULES.register("diloco", RuleEntry(_diloco, lambda config: {
    "lr": config.outer_lr, "momentum": config.outer_momentum}))


def make_rule(name: str, **kwargs) -> MergeRule:
    """The merge rule called `name` (`mean`, `ties`, `diloco`) as an init/merge pair;
    `kwargs` are the rule's hyperparameters (ties: density, scale; diloco: lr, momentum)."""
    return RULES.get(name).make(**kwargs)


class RuleChoice(NamedTuple):
    """A fleet config's merge rule as data, so that one compiled fleet serves every
    rule, hyperparameter and `none` (issue 17: a study's five fleets compiled five
    programs of 11-16 s each). All leaves are arrays (traced in the program)."""

    index: jax.Array  # () int32: the rule's position in RULES.names()
    merging: jax.Array  # () bool: False for `none` (the instances are never merged)
    hyperparameters: tuple  # every registered rule's, in RULES.names() order


def rule_choice(config) -> RuleChoice:
    """`config.merge` and every registered rule's hyperparameters from `config`."""
    names = RULES.names()
    merging = config.merge != "none"
    hyperparameters = tuple(
        {k: jnp.asarray(v) for k, v in RULES.get(name).hyperparameters(config).items()}
        for name in names)
    return RuleChoice(jnp.int32(names.index(config.merge) if merging else 0),
                      jnp.bool_(merging), hyperparameters)


def any_rule(choice: RuleChoice) -> MergeRule:
    """Every registered rule as one MergeRule: its state holds every rule's state and
    `merge` runs rule `choice.index` alone (`lax.switch`: one branch executes), with
    its traced hyperparameters; the other rules' states pass through unchanged."""
    rules = [RULES.get(name).make(**hp)
             for name, hp in zip(RULES.names(), choice.hyperparameters, strict=True)]

    def branch(i: int):
        def merge(operands):
            stacked, states = operands
            merged, state = rules[i].merge(stacked, states[i])
            return merged, (*states[:i], state, *states[i + 1:])

        return merge

    def merge(stacked, states):
        return jax.lax.switch(choice.index, [branch(i) for i in range(len(rules))],
                              (stacked, states))

    return MergeRule(lambda params: tuple(rule.init(params) for rule in rules), merge)


def rule_for(config) -> MergeRule | None:
    """A fleet config's merge rule with its hyperparameters (None for `none`)."""
    if config.merge == "none":
        return None
    entry = RULES.get(config.merge)
    return entry.make(**entry.hyperparameters(config))
