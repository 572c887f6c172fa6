"""gap: models do well on what they trained on and worse on variations of it.

Method (the curve of Cobbe et al. 2019, "Quantifying Generalization in Reinforcement
Learning", CoinRun, and Cobbe et al. 2020, Procgen: the train-test gap shrinks as the
number of distinct training levels grows; CoinRun's gap was about 0.71 / 0.51 / 0.18 /
0.04 for 4 / 16 / 64 / 256 levels). Per world of the scale, ppo agents (S seeds, tasks
drawn per seed) train at equal experience on pools of K = 4, 16, 64 .. pool distinct
train-split tasks (the first K of the seed's pool repeated to fill it); each arm is
scored on tasks it practised ("seen") and on fresh tasks of the same train distribution
("unseen"). On each world the rule reads the seen-minus-unseen gap at the smallest K, its
decline to the whole pool and the whole-pool agent's normalised gap on the world's
*variation* axes (issue 14: the verdict "rests on the distinct-training-tasks curve ...
plus normalised gaps on variation axes"); the worlds' rulings combine by `agree`
(supported only if every world supports it, not supported only if every world rules it
out). The worlds
(`Scale.worlds`; quick: repair and driving) were chosen before any two-world run by a
rule: besides repair, every built-in world other than corridor (saturated: random play
0.78-0.84) whose ppo agent at quick's budget reaches at least 0.5 normalised success on
its train split in benchmarks/world_references.jsonl (twice the learning guard); driving
(0.711, random 0.000) is the only one (errands has no such row: slow under ppo).
The whole-pool agent is also scored on every held-out axis, as raw and normalised gaps
((s - random) / (oracle - random)) grouped by kind: *variation* axes (the same kind of
task, a new value of a parameter; in the verdict) and *extrapolation* axes (inputs never
seen: sizes, counts; reported only).
A reference agent trained on each variation axis's own distribution bounds how much of
that axis's gap is the axis being harder rather than new.
"""

from __future__ import annotations

import jax
import numpy as np

from trainee.studies import figures
from trainee.studies.experiment import (
    Context,
    ci,
    normalise,
    reference_success,
    references,
    repeat_pool,
    seed_tasks,
    take,
    train_curve,
)
from trainee.studies.programs import get_program
from trainee.studies.verdict import (
    INCONCLUSIVE,
    MARGINS,
    NOT_SUPPORTED,
    SUPPORTED,
    Verdict,
    combine,
    positive_effect,
    require_learned,
)

NAME = "gap"
CLAIM = "Models do well on what they trained on and worse on variations of it."
METHOD = (
    "Cobbe et al.'s distinct-training-tasks curve: per world, ppo agents train at equal "
    "experience on K = 4, 16, 64 .. pool distinct train tasks (tasks drawn per seed) and "
    "are scored on seen vs unseen tasks of the train distribution. Rule, fixed before "
    "any run: on each world the seen-minus-unseen gap at the smallest K, per seed (IQM, "
    "95% CI), and its decline to the whole pool must both exceed the margin, and so must "
    "the whole-pool agent's normalised gap on the world's variation axes (added with "
    "issue 14's wording, after the curve-only rule had been run); supported if that "
    "holds on every world, not supported if it fails on every world, otherwise "
    "inconclusive (key number: the first world's gap at the smallest K). Extrapolation "
    "axes' gaps are reported, and an agent trained on each variation axis's own "
    "distribution bounds how much of its gap is the axis being harder."
)
MARGIN = MARGINS[NAME]  # stated and justified in studies/verdict.py
DISTINCT = (4, 16, 64)  # distinct training tasks, then the whole pool
PLACEBO = ("every 'seen' set and every held-out axis is a fresh sample of the train "
           "distribution, unseen by every arm: no gap at any K by construction")


# Each world's seeds are offset by a number fixed by its name, so adding a world to a
# scale or dropping one leaves the others' numbers unchanged (repair kept the offset it
# had when corridor came first).
SEED_OFFSET = {"corridor": 0, "repair": 10, "errands": 20, "driving": 30}


def world_seed(seed: int, name: str, index: int) -> int:
    return seed + SEED_OFFSET.get(name, 10 * (len(SEED_OFFSET) + index))


def counts(pool: int) -> list[int]:
    return [d for d in DISTINCT if d < pool] + [pool]


def gap_sets(world, ctx: Context, key) -> dict:
    """One seed's tasks: per K its pool (the first K of `pool` distinct train tasks
    repeated) and its seen set (the pool's first tasks; a fresh train sample under the
    placebo), unseen train tasks, every held-out axis (train tasks under the placebo)
    and a training pool of each variation axis."""
    variations = [a for a in world.shift_axes if world.axes[a] == "variation"]
    keys = jax.random.split(key, 3 + len(world.shift_axes) + len(variations))
    n, size = ctx.scale.eval_tasks, ctx.scale.pool
    held = {a: world.tasks(k, "train" if ctx.placebo else a, n)
            for k, a in zip(keys[3:], world.shift_axes, strict=False)}
    own = {a: world.tasks(k, "train" if ctx.placebo else a, size)
           for k, a in zip(keys[3 + len(world.shift_axes):], variations, strict=True)}
    distinct = world.tasks(keys[0], "train", size)
    pools = {k: repeat_pool(distinct, k, size) for k in counts(size)}
    fresh = world.tasks(keys[2], "train", n)
    seen = {k: fresh if ctx.placebo else take(p, np.arange(n)) for k, p in pools.items()}
    return {"pools": pools, "seen": seen, "unseen": world.tasks(keys[1], "train", n),
            "held": held, "own": own}


def normalised(success: np.ndarray, refs: dict) -> np.ndarray | None:
    return normalise(success, refs["random"], refs["oracle"]) if "oracle" in refs else None


def world_gap(ctx: Context, name: str, seed: int) -> dict:
    program = get_program(name, ctx.learner, ctx.scale)
    world = program.world
    sets = seed_tasks(lambda key: gap_sets(world, ctx, key), seed, ctx.seeds)
    ks = counts(ctx.scale.pool)
    out = {"distinct": ks, "seen": [], "unseen": [], "gap": [], "references": {}}
    per_k = []
    for k in ks:
        pool, seen = sets["pools"][k], sets["seen"][k]
        evals = {"seen": seen, "unseen": sets["unseen"]}
        if k == ks[-1]:
            evals.update(sets["held"])
        curve = train_curve(program, ctx, pool, evals, ctx.scale.chunks, seed, curve=False)
        s, u = curve.final("seen"), curve.final("unseen")
        per_k.append(s - u)
        out["seen"].append(ci(s))
        out["unseen"].append(ci(u))
        out["gap"].append(ci(s - u))
        refs = references(program, ctx, curve, evals,
                          ("seen",) if k != ks[-1] else tuple(evals))
        out["references"].update({f"K={k}, {split}": b for split, b in refs.items()})
    out["gap_smallest_k"] = out["gap"][0]
    out["gap_decline"] = ci(per_k[0] - per_k[-1])
    out["axes"] = axis_gaps(program, ctx, curve, seen, sets, seed)  # the whole-pool arm
    return out


def axis_gaps(program, ctx: Context, curve, seen, sets: dict, seed: int) -> dict:
    """The whole-pool agent's gap on each held-out axis, raw and normalised, grouped by
    the world's label; for variation axes also the success of an agent trained on the
    axis's own distribution (same program, budget and keys)."""
    world = program.world
    refs = {s: reference_success(world, b, curve.keys, ctx.scale.episodes)
            for s, b in {"seen": seen, **sets["held"]}.items()}
    train = curve.final("seen")
    train_norm = normalised(train, refs["seen"])
    out = {"axes": {}, "by_kind": {}}
    kinds: dict[str, dict[str, list]] = {}
    for axis in world.shift_axes:
        kind = world.axes[axis]
        held = curve.final(axis)
        row = {"kind": kind, "success": ci(held), "raw_gap": ci(train - held)}
        norm = normalised(held, refs[axis])
        if norm is not None and train_norm is not None:
            row["normalised_gap"] = ci(train_norm - norm)
            kinds.setdefault(kind, {"raw": [], "norm": []})["norm"].append(train_norm - norm)
        kinds.setdefault(kind, {"raw": [], "norm": []})["raw"].append(train - held)
        if axis in sets["own"]:
            own = train_curve(program, ctx, sets["own"][axis], {axis: sets["held"][axis]},
                              ctx.scale.chunks, seed, curve=False).final(axis)
            row["own_trained_success"] = ci(own)
            row["own_minus_transferred"] = ci(own - held)  # the part the shift explains
            row["train_minus_own"] = ci(train - own)  # the part the axis being harder explains
        out["axes"][axis] = row
    for kind, parts in kinds.items():
        out["by_kind"][kind] = {"raw_gap": ci(np.mean(parts["raw"], axis=0))}
        if parts["norm"]:
            out["by_kind"][kind]["normalised_gap"] = ci(np.mean(parts["norm"], axis=0))
    return out


def run(ctx: Context) -> dict:
    worlds = {name: world_gap(ctx, name, world_seed(ctx.seed, name, i))
              for i, name in enumerate(ctx.scale.worlds)}
    return {"worlds": worlds, "verdict_worlds": list(ctx.scale.worlds),
            "references": {f"{name}, {split}": block for name, numbers in worlds.items()
                           for split, block in numbers["references"].items()},
            "placebo": PLACEBO if ctx.placebo else None}


def world_ruling(name: str, numbers: dict) -> tuple[str, str]:
    """(status, reason) of the rule on one world: the gap at the smallest K, its decline
    to the whole pool and the whole-pool agent's normalised gap on the world's variation
    axes all above the margin, once the whole-pool agent learned. A world without a
    variation axis cannot show the "small variations" half: inconclusive."""
    small, full = numbers["distinct"][0], numbers["distinct"][-1]
    # The guard: the whole-pool agent learned its train distribution (a K=small agent
    # that memorises nothing shows no gap, and that is a measured "not supported").
    weak = require_learned(numbers["references"][f"K={full}, seen"],
                           f"{name} success on the K={full} agent's seen tasks")
    if weak:
        return INCONCLUSIVE, weak
    kind = numbers["axes"]["by_kind"].get("variation", {})
    # A world without an oracle (XLand-MiniGrid) has no normalised gap; its held-out
    # rulesets are the other side of one shuffled split, so the raw gap reads the same
    # (fixed before the first run on it, issue 18).
    measure = "normalised" if "normalised_gap" in kind else "raw"
    variation = kind.get(f"{measure}_gap")
    return combine(
        positive_effect(numbers["gap_smallest_k"], MARGIN,
                        f"{name} seen minus unseen at K={small}"),
        positive_effect(numbers["gap_decline"], MARGIN,
                        f"its decline from K={small} to K={full}"),
        positive_effect(variation, MARGIN, f"the {measure} gap on its variation axes")
        if variation else (INCONCLUSIVE, f"{name} has no variation axis to read"))


def agree(rulings: dict[str, tuple[str, str]]) -> tuple[str, str]:
    """The worlds' rulings as one verdict, fixed before the two-world run: supported
    when every world supports the claim, not supported when every world rules it out,
    otherwise inconclusive (the worlds disagree, or one cannot tell). One world that
    shows the curve does not make the claim general; one that does not show it does
    not refute a curve another world shows clearly."""
    statuses = {status for status, _ in rulings.values()}
    reason = "; ".join(f"{name}: {status} ({why})" for name, (status, why) in rulings.items())
    if statuses == {SUPPORTED}:
        return SUPPORTED, reason
    if statuses == {NOT_SUPPORTED}:
        return NOT_SUPPORTED, reason
    if len(rulings) > 1:
        reason = "the worlds do not agree: " + reason
    return INCONCLUSIVE, reason


def verdict(result: dict) -> Verdict:
    names = result.get("verdict_worlds") or [result["main_world"]]  # older results
    first = names[0]
    numbers = result["worlds"][first]
    key = (f"{first}: success on seen minus unseen train tasks at K={numbers['distinct'][0]} "
           f"distinct tasks (every world of {', '.join(names)} rules)")
    status, reason = agree({name: world_ruling(name, result["worlds"][name]) for name in names})
    for name, other in result["worlds"].items():
        kinds = other.get("axes", {}).get("by_kind", {})
        shown = ", ".join(f"{kind} {b['normalised_gap']['iqm']:+.3f}"
                          for kind, b in kinds.items()
                          if kind != "variation" and "normalised_gap" in b)
        reason += (f"; {name} gap at K={other['distinct'][0]} "
                   f"{other['gap_smallest_k']['iqm']:+.3f}, at K={other['distinct'][-1]} "
                   f"{other['gap'][-1]['iqm']:+.3f}"
                   + (f", normalised gaps (reported, not in the verdict): {shown}"
                      if shown else ""))
    return Verdict(status, reason, key, numbers["gap_smallest_k"])


def draw(result: dict) -> list[tuple[str, str]]:
    out = []
    for name, d in result["worlds"].items():
        out.append((f"{name}: gap vs distinct training tasks", figures.curves(
            d["distinct"], {"seen tasks": d["seen"], "unseen tasks": d["unseen"],
                            "gap": d["gap"]},
            "distinct training tasks (same experience)", "success rate",
            f"{name}: the Cobbe et al. curve", logx=True)))
        axes = d["axes"]["axes"]
        names = [a for a in axes if "normalised_gap" in axes[a]]
        if names:
            out.append((f"{name}: normalised gap per held-out axis", figures.bars(
                [f"{a} ({axes[a]['kind']})" for a in names],
                {"normalised gap": [axes[a]["normalised_gap"] for a in names]},
                "normalised gap (train minus axis)",
                f"{name}: whole-pool agent, variation vs extrapolation axes")))
    return out
