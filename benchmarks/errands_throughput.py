"""Where ppo's time goes on errands, below the parts of `ppo_update_parts.py`: one
minibatch's gradient, one optimiser step, and the floor of the minibatch passes (their
matrix products alone), with the FLOPs XLA counts, so "is the update compute-bound?" has
a number (issue 17, item 4).

    PYTHONPATH=src nice python benchmarks/errands_throughput.py
    PYTHONPATH=src nice python benchmarks/errands_throughput.py --variants base hidden128

Variants (config fields changed from the errands shape of `ppo_update_parts.py`: 128
envs x 16 steps, 2 x 256 relu towers, 4 epochs x 4 minibatches): `base`; options that
change what is learned, timed only here (`hidden128`, `epochs2`, `minibatches2`). Every
part of every variant is timed in rotation (best of `--repeats` calls a round, median of
`--rounds` rounds), so all see the same load. One JSON line a variant.

Parts beyond ppo_update_parts's: `grad` = `value_and_grad` of the loss on one minibatch;
`adam` = the optimiser's update and its application, on those gradients; `floor` = the
matrix products of every minibatch's forward and backward pass (both towers, no
activations, loss or optimiser), scanned like the epochs. `matmul_gflop`: those
products' FLOPs (counted from the shapes); `sgd_gflops` and `floor_gflops`: that count /
the part's median time.

`--learn STEPS` (declared 2026-12-03 11:58 UTC, before any run): the options change what
is learned, so each variant also trains ppo for STEPS env steps (lr annealed over them,
seed key 0) on a pool of 4096 train tasks with chains of 1-2 (key 0), and its final
policy (sampled actions) plays 2 episodes on each of 512 fresh train tasks with chains of
1-2 (tasks key 8, episodes key 9). Rule: an option "learns as base does" at equal env
steps if its success is within 2 standard errors of the difference, sqrt(p1 (1 - p1) /
1024 + p2 (1 - p2) / 1024), of base's; else it learns less (or more). One seed; nothing
is tuned after a result. `train_s`: the training's wall time (compile excluded; the
variants train one after another, so that ratio is noisier than the parts' above).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

import jax
import jax.numpy as jnp
import optax
from ppo_update_parts import SHAPES, parts

from trainee.evaluate import agent_policy, evaluate
from trainee.learners import LearnerConfig, make_learner, make_train, sample_act
from trainee.learners.common import loss_fn
from trainee.worlds import make

VARIANTS = {"base": {}, "hidden128": {"hidden": 128}, "epochs2": {"update_epochs": 2},
            "minibatches2": {"num_minibatches": 2}}


def matmul_floor(params, obs, config: LearnerConfig):
    """The minibatch passes' matrix products alone: per minibatch and tower, the forward
    products, the kernels' gradients and the hidden inputs' gradients."""
    towers = [params["params"][name] for name in ("actor", "critic")]
    kernels = [[t[f"Dense_{i}"]["kernel"] for i in range(config.layers + 1)] for t in towers]
    mb = obs.shape[0] // config.num_minibatches
    batches = obs[: mb * config.num_minibatches].reshape(config.num_minibatches, mb, -1)

    def minibatch(total, x):
        for tower in kernels:
            hs = [x]
            for kernel in tower:
                hs.append(hs[-1] @ kernel)
            grad = hs[-1]
            for i in reversed(range(len(tower))):
                total = total + jnp.sum(hs[i].T @ grad)
                if i:
                    grad = grad @ tower[i].T
        return total, None

    def epoch(total, _):
        return jax.lax.scan(minibatch, total, batches)

    return jax.lax.scan(epoch, jnp.float32(0.0), None, length=config.update_epochs)[0]


def variant_parts(name: str, pool: int):
    """ppo_update_parts's parts of the variant, plus grad, adam and floor."""
    overrides = VARIANTS[name]
    config = LearnerConfig(total_steps=10**7, **{**SHAPES["errands"], **overrides})
    fns, steps = parts("errands", "errands", pool, **overrides)
    learner = make_learner(config, make("errands"))  # the same network and optimiser
    network, optimizer = learner.network, learner.update.args[2]
    params, opt_state, batch, _ = fns["sgd"][1]
    mb = batch.action.shape[0] // config.num_minibatches
    minibatch = jax.tree.map(lambda x: x[:mb], batch)
    grad = jax.jit(lambda p, b: jax.value_and_grad(loss_fn, has_aux=True)(
        p, network, config, b, True))
    _, grads = grad(params, minibatch)

    def adam(p, s, g):
        updates, s = optimizer.update(g, s, p)
        return optax.apply_updates(p, updates), s

    floor = jax.jit(lambda p, obs: matmul_floor(p, obs, config))
    fns = {**fns, "grad": (grad, (params, minibatch)),
           "adam": (jax.jit(adam), (params, opt_state, grads)),
           "floor": (floor, (params, batch.obs))}
    return fns, steps


def matmul_flops(config: LearnerConfig, obs_dim: int, batch: int, num_actions: int) -> float:
    """FLOPs of the minibatch passes' matrix products (the floor's): per sample and
    tower, forward and kernel gradients 2 x sum(d_i d_i+1) multiply-adds, the hidden
    inputs' gradients those of every layer but the first (XLA's own count of a scanned
    program counts the loop body once)."""
    total = 0
    for out in (num_actions, 1):
        dims = [obs_dim] + [config.hidden] * config.layers + [out]
        pairs = [a * b for a, b in zip(dims[:-1], dims[1:], strict=True)]
        total += 2 * sum(pairs) + sum(pairs[1:])
    used = batch // config.num_minibatches * config.num_minibatches
    return 2.0 * total * used * config.update_epochs


def timed(variants: dict, rounds: int, repeats: int) -> dict:
    """{variant: {part: median ms}}, every part of every variant in rotation."""
    times = {v: {name: [] for name in fns} for v, (fns, _) in variants.items()}
    for _ in range(rounds):
        for v, (fns, _) in variants.items():
            for name, (fn, args) in fns.items():
                best = float("inf")
                for _ in range(repeats):
                    start = time.perf_counter()
                    jax.block_until_ready(fn(*args))
                    best = min(best, time.perf_counter() - start)
                times[v][name].append(best)
    return {v: {n: 1e3 * statistics.median(t) for n, t in parts_.items()}
            for v, parts_ in times.items()}


def learn(name: str, total_steps: int) -> dict:
    """Train the variant for `total_steps` env steps; success on fresh train tasks."""
    world = make("errands")
    config = LearnerConfig(total_steps=total_steps, **{**SHAPES["errands"], **VARIANTS[name]})
    pool = world.tasks(jax.random.key(0), "train", 4096, max_chain=2)
    fresh = world.tasks(jax.random.key(8), "train", 512, max_chain=2)
    train = jax.jit(make_train(config, world)).lower(jax.random.key(0), pool).compile()
    start = time.perf_counter()
    out = jax.block_until_ready(train(jax.random.key(0), pool))
    seconds = time.perf_counter() - start
    network = make_learner(config, world).network
    play = lambda params, key, tasks: evaluate(
        world, agent_policy(sample_act(network), params), key, tasks, 2).success
    success = jax.jit(play)(out.params, jax.random.key(9), fresh)
    return {"variant": name, "changes": VARIANTS[name], "env_steps": total_steps,
            "fresh_train_success": round(float(jnp.mean(success)), 4),
            "episodes": int(success.size), "train_s": round(seconds, 1),
            "load_1min": round(os.getloadavg()[0], 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", nargs="+", choices=sorted(VARIANTS), default=["base"])
    parser.add_argument("--pool", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--learn", type=int, default=0, help="env steps of the learning runs")
    args = parser.parse_args()
    if args.learn:
        for v in args.variants:
            print(json.dumps(learn(v, args.learn)), flush=True)
        return
    variants = {v: variant_parts(v, args.pool) for v in args.variants}
    counts = {}
    for v, (fns, steps) in variants.items():
        for fn, fn_args in fns.values():  # compile
            jax.block_until_ready(fn(*fn_args))
        config = LearnerConfig(total_steps=10**7, **{**SHAPES["errands"], **VARIANTS[v]})
        counts[v] = matmul_flops(config, fns["floor"][1][1].shape[-1], steps, 5)
    load = [os.getloadavg()[0]]
    ms = timed(variants, args.rounds, args.repeats)
    load.append(os.getloadavg()[0])
    for v, (_, steps) in variants.items():
        m = ms[v]
        print(json.dumps({
            "variant": v, "changes": VARIANTS[v], "ms": {k: round(x, 3) for k, x in m.items()},
            "policy_in_loop_ms": round(m["rollout"] - m["draws"] - m["env"], 3),
            "sgd_share": round(m["sgd"] / m["update"], 3),
            "matmul_gflop": round(counts[v] / 1e9, 2),
            "sgd_gflops": round(counts[v] / m["sgd"] / 1e6, 1),
            "floor_gflops": round(counts[v] / m["floor"] / 1e6, 1),
            "floor_over_sgd": round(m["floor"] / m["sgd"], 3),
            "update_env_steps_per_s": round(steps / m["update"] * 1e3),
            "load_1min": [round(x, 2) for x in load],
        }), flush=True)


if __name__ == "__main__":
    main()
