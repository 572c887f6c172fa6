"""Continual-learning interventions, optax-style: each is a pair of pure functions
`init(params) -> state` and `update(ctx, state) -> (ctx, state)` with a small NamedTuple
state, composed with `chain`. The career calls `update` at two events:

- `"job_start"`: a new job begins (`ctx.tasks` is its task pool; `ctx.past_tasks` the
  pools of earlier jobs);
- `"chunk_end"`: after each chunk of updates within a job.

Every function works on seed-stacked parameters (leaves (S, ...)), so one call serves
all seeds of a career.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from trainee.registry import Registry


class Context(NamedTuple):
    event: str  # "job_start" | "chunk_end"
    key: jax.Array
    params: Any  # (S, ...) current parameters
    init_params: Any  # (S, ...) parameters at the start of the career
    tasks: Any  # the current job's task pool (what the learner trains on)
    past_tasks: list  # task pools of the jobs before this one
    obs: jax.Array  # (B, *obs_shape) observations of the current job (for unit statistics)
    apply_hidden: Callable | None  # (params of one seed, obs) -> list of (B, units) activations
    seed_tasks: bool = False  # task pools carry a leading seed axis (S, P, ...)


class Intervention(NamedTuple):
    init: Callable[[Any], Any]
    update: Callable[[Context, Any], tuple[Context, Any]]


class NoState(NamedTuple):
    pass


def chain(*interventions: Intervention) -> Intervention:
    """Apply interventions in order, like `optax.chain`."""

    def init(params):
        return tuple(i.init(params) for i in interventions)

    def update(ctx: Context, states):
        new_states = []
        for intervention, state in zip(interventions, states, strict=True):
            ctx, state = intervention.update(ctx, state)
            new_states.append(state)
        return ctx, tuple(new_states)

    return Intervention(init, update)


def replay(fraction: float = 0.25) -> Intervention:
    """At each job start, replace `fraction` of the task pool with tasks drawn uniformly
    from earlier jobs' pools (experience replay at the level of tasks: the learner keeps
    practising old jobs; cf. Rolnick et al. 2019, CLEAR). A pool holds one world's tasks,
    so in a mixed-world career only earlier jobs of the current job's world are replayed
    (those whose task pytrees have the same structure). With per-seed pools (`seed_tasks`)
    each seed replays from its own earlier pools (the same positions in every seed)."""

    def update(ctx: Context, state):
        same_world = [p for p in ctx.past_tasks
                      if jax.tree.structure(p) == jax.tree.structure(ctx.tasks)]
        if ctx.event != "job_start" or not same_world:
            return ctx, state
        axis = 1 if ctx.seed_tasks else 0  # the pool axis
        n = jax.tree.leaves(ctx.tasks)[0].shape[axis]
        n_old = int(round(fraction * n))
        past = jax.tree.map(lambda *x: jnp.concatenate(x, axis=axis), *same_world)
        pick = jax.random.randint(ctx.key, (n_old,), 0, jax.tree.leaves(past)[0].shape[axis])
        mixed = jax.tree.map(lambda new, old: jnp.concatenate(
            [jnp.take(new, jnp.arange(n - n_old), axis=axis), jnp.take(old, pick, axis=axis)],
            axis=axis), ctx.tasks, past)
        return ctx._replace(tasks=mixed), state

    return Intervention(lambda params: NoState(), update)


def shrink_perturb(shrink: float = 0.8, noise: float = 0.01) -> Intervention:
    """At each job start: params <- shrink * params + noise * N(0, 1) (Ash & Adams 2020,
    "On warm-starting neural network training"), which restores trainability."""

    def update(ctx: Context, state):
        if ctx.event != "job_start" or not ctx.past_tasks:
            return ctx, state
        leaves, treedef = jax.tree.flatten(ctx.params)
        keys = jax.random.split(ctx.key, len(leaves))
        new = [shrink * x + noise * jax.random.normal(k, x.shape, x.dtype)
               for x, k in zip(leaves, keys, strict=True)]
        return ctx._replace(params=jax.tree.unflatten(treedef, new)), state

    return Intervention(lambda params: NoState(), update)


def l2_init(strength: float = 0.01) -> Intervention:
    """After each chunk, pull parameters toward their initial values:
    params <- params - strength * (params - init_params). A decoupled form of the "L2
    Init" regulariser (Kumar et al. 2023, "Maintaining plasticity in continual learning
    via regenerative regularization"), applied per chunk rather than per gradient step."""

    def update(ctx: Context, state):
        if ctx.event != "chunk_end":
            return ctx, state
        params = jax.tree.map(lambda p, p0: p - strength * (p - p0), ctx.params, ctx.init_params)
        return ctx._replace(params=params), state

    return Intervention(lambda params: NoState(), update)


def reset_dormant(threshold: float = 0.1) -> Intervention:
    """After each chunk, re-initialise dormant hidden units: a unit is dormant when its mean
    |activation| on current observations is at most `threshold` times the layer's average
    (ReDo, Sokar et al. 2023; in the spirit of continual backprop, Dohare et al. 2024).
    Its incoming weights are set back to their initial values and its outgoing weights
    to zero, so the network's output does not jump."""

    def update(ctx: Context, state):
        if ctx.event != "chunk_end" or ctx.apply_hidden is None:
            return ctx, state
        dormant = jax.vmap(lambda p: _dormant_masks(ctx.apply_hidden(p, ctx.obs), threshold))(
            ctx.params)
        params = _reset_units(ctx.params, ctx.init_params, dormant)
        return ctx._replace(params=params), state._replace(
            resets=state.resets + sum(int(m.sum()) for m in jax.tree.leaves(dormant)))

    return Intervention(lambda params: ResetState(resets=0), update)


def dormant_fraction(ctx: Context, threshold: float = 0.1):
    """(S,) fraction of hidden units that are dormant (ReDo's score <= `threshold`, as
    `reset_dormant` counts them) on the context's observations: the diagnostic of lost
    plasticity, recorded whether or not anything resets them; None without a network."""
    if ctx.apply_hidden is None:
        return None
    masks = jax.vmap(lambda p: _dormant_masks(ctx.apply_hidden(p, ctx.obs), threshold))(
        ctx.params)
    dead = sum(m.sum(axis=-1) for m in jax.tree.leaves(masks))
    units = sum(m.shape[-1] for m in jax.tree.leaves(masks))
    return dead / units


class ResetState(NamedTuple):
    resets: int  # units re-initialised so far (all seeds)


def _dormant_masks(activations: dict, threshold: float) -> dict:
    """{layer path: (units,) bool} from {layer path: (B, units) activations}."""
    masks = {}
    for path, h in activations.items():
        score = jnp.mean(jnp.abs(h), axis=0)
        masks[path] = score <= threshold * jnp.mean(score)
    return masks


def _reset_units(params, init_params, dormant: dict):
    """For each hidden Dense layer `(tower, i)`: reset column units of its kernel and bias,
    and zero the matching rows of the next layer's kernel. Params are seed-stacked."""
    params = jax.tree.map(lambda x: x, params)  # a copy we may rebuild
    tree = params["params"]
    init_tree = init_params["params"]
    for (tower, i), mask in dormant.items():
        layer, nxt = f"Dense_{i}", f"Dense_{i + 1}"
        m = mask[:, None, :]  # (S, 1, units)
        tree[tower][layer]["kernel"] = jnp.where(m, init_tree[tower][layer]["kernel"],
                                                 tree[tower][layer]["kernel"])
        tree[tower][layer]["bias"] = jnp.where(mask, init_tree[tower][layer]["bias"],
                                               tree[tower][layer]["bias"])
        tree[tower][nxt]["kernel"] = jnp.where(mask[:, :, None], 0.0, tree[tower][nxt]["kernel"])
    return params


# Adding an intervention is one `register` call here (the career settings, the CLI and the
# docs' list read the registry): a factory of an init/update pair with default settings.
INTERVENTIONS: Registry[Callable[[], Intervention]] = Registry("intervention")
INTERVENTIONS.register("replay", replay)
INTERVENTIONS.register("shrink_perturb", shrink_perturb)
INTERVENTIONS.register("reset_dormant", reset_dormant)
INTERVENTIONS.register("l2_init", l2_init)


def make_interventions(names: tuple[str, ...]) -> Intervention:
    """The named interventions chained in order (an unknown name: one-line ValueError)."""
    return chain(*(INTERVENTIONS.get(n)() for n in names))
