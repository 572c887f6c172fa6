"""The apprentice's acceptance comparison (issue 15; docs/apprentice.md): career-conflict,
every continual learner of the on-the-job study and the apprentice, against a fresh ppo
per job (scratch) and a multitask ppo on all jobs at once, at equal env steps per job.

    # run arms on some seeds (each seed keeps its keys, pools and instances of the full run)
    nice python benchmarks/apprentice_comparison.py run --jobs 12 --steps 122880 --seeds 10 \\
        --only-seeds 0,1,2,3,4 --out /tmp/apprentice-part-a.json
    # merge parts (same arms, disjoint seeds) and summarise
    python benchmarks/apprentice_comparison.py summarise /tmp/apprentice-part-*.json \\
        --out benchmarks/apprentice/career-conflict.json

The learner is career-conflict's (`benchmarks/conflict_matrix.py`: 16 envs x 64 steps,
64x64 tanh, lr 1e-3 annealed per job), with which ppo alone reached 0.8 training success
on every job in every seed at 122,880 steps (docs/careers.md). The per-arm numbers are
the on-the-job study's (`studies.on_the_job.summarise`: Continual World's metrics,
learning-speed gain, plasticity change); this adds the acceptance's own: the median over
jobs 5.. (1-based) and seeds of the apprentice's samples to competence over scratch's
(bootstrap 95% CI over seeds; a job never reached counts as its budget, so the ratio is
bounded, and the fraction reached is reported beside it), and each learner's average
performance minus the multitask learner's at the same total experience.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import time
from pathlib import Path

import numpy as np

from trainee.careers import Career, CareerConfig, run_career
from trainee.careers.career import PRESETS
from trainee.learners import LearnerConfig
from trainee.measures import samples_to_competence
from trainee.store import atomic_write_json
from trainee.studies import on_the_job
from trainee.studies.experiment import ci

ARMS = ("scratch", "multitask", "finetune", "replay", "shrink_perturb", "reset_dormant",
        "l2_init", "apprentice")
# the GRU apprentice (the default until session 12; `--recurrent` since) and its ablations
# (learner settings changed): each removes one component. "apprentice" is the default,
# without the GRU since session 12, by session 11's rule (docs/apprentice.md, "The GRU decision")
GRU = {"recurrent": True}
ABLATIONS = {"apprentice-gru": GRU, "apprentice-no-gru": {"recurrent": False},
             "apprentice-no-rehearsal": {**GRU, "rehearsal": 0.0}}
# apprentice variants (docs/apprentice.md, "Variants, pre-registered"): each adds one
# change to the GRU apprentice
VARIANTS = {"apprentice-rehearse-half": {**GRU, "rehearsal": 0.5},
            "apprentice-distill": {**GRU, "distill": 1.0, "distill_rate": 0.01},
            "apprentice-entropy-floor": {**GRU, "entropy_floor": 2.0, "floor_coef": 0.1}}
# session 10's round (docs/apprentice.md): each one change to the lean base, the
# apprentice without its GRU ("apprentice-no-gru")
LEAN = {"recurrent": False}
VARIANTS.update({
    "lean-distill": {**LEAN, "distill": 1.0, "distill_rate": 0.01},
    "lean-distill-told": {**LEAN, "distill": 1.0, "teacher": "job-start"},
    "lean-rehearse-half": {**LEAN, "rehearsal": 0.5}})
# the arm a variant's paired difference is read against (its base)
BASE_OF = {name: "apprentice-no-gru" if name.startswith("lean-") else "apprentice-gru"
           for name in VARIANTS}
COMPETENCE = on_the_job.COMPETENCE
FIRST_LATER_JOB = 4  # 0-based index of job 5: "samples to competence on jobs 5 and later"
HP = LearnerConfig(num_envs=16, num_steps=64, lr=1e-3)  # career-conflict's learner


def career(jobs: int, steps: int) -> Career:
    preset = PRESETS["career-conflict"]()
    return Career(preset.name, tuple(dataclasses.replace(j, steps=steps)
                                     for j in preset.jobs[:jobs]))


def settings_for(args, seeds: tuple[int, ...]) -> CareerConfig:
    return CareerConfig(seeds=args.seeds, seed=args.seed + 300, num_tasks=256, eval_tasks=64,
                        episodes=2, chunks=on_the_job.CHUNKS, seed_tasks=True,
                        only_seeds=seeds)


def run_arm(name: str, jobs: Career, settings: CareerConfig) -> dict:
    if name == "placebo":  # a second from-scratch career (other training keys): no
        # transfer and no forgetting by construction, read like a continual learner
        return run_career(jobs, HP, dataclasses.replace(
            settings, baseline="scratch", train_seed=settings.seed + 1000), quiet=True)
    if name in ("scratch", "multitask"):
        return run_career(jobs, HP, dataclasses.replace(settings, baseline=name), quiet=True)
    if name in ABLATIONS or name in VARIANTS:
        hp = dataclasses.replace(HP, learner="apprentice", **{**ABLATIONS, **VARIANTS}[name])
        return run_career(jobs, hp, settings, quiet=True)
    hp = dataclasses.replace(HP, learner=on_the_job.LEARNER_OF.get(name, HP.learner))
    return run_career(jobs, hp, dataclasses.replace(
        settings, interventions=on_the_job.arms()[name]), quiet=True)


def to_json(result: dict) -> dict:
    return {k: (np.asarray(v).tolist() if k != "jobs" else v) for k, v in result.items()}


def run(args) -> None:
    seeds = tuple(int(s) for s in args.only_seeds.split(",")) if args.only_seeds else ()
    jobs, settings = career(args.jobs, args.steps), settings_for(args, seeds)
    out = {"jobs": args.jobs, "steps": args.steps, "seeds": args.seeds, "only_seeds": seeds,
           "seed": args.seed, "hp": dataclasses.asdict(HP), "arms": {}, "seconds": {},
           "load": {}}
    if args.out.is_file():  # resume: arms already done are kept
        out = json.loads(args.out.read_text())
    for name in args.arms.split(","):
        if name in out["arms"]:
            continue
        start = time.perf_counter()
        out["arms"][name] = to_json(run_arm(name, jobs, settings))
        out["seconds"][name] = time.perf_counter() - start
        out["load"][name] = os.getloadavg()
        atomic_write_json(args.out, out)
        print(f"{name}: {out['seconds'][name]:.0f} s, load {os.getloadavg()[0]:.1f}", flush=True)


def group(parts: list[dict]) -> list[dict]:
    """Parts run on the same seeds (other arms, e.g. in two processes) joined into one."""
    groups: dict = {}
    for part in parts:
        seeds = tuple(part["only_seeds"])
        if seeds in groups:
            for key in ("arms", "seconds", "load"):
                groups[seeds][key].update(part[key])
        else:
            groups[seeds] = json.loads(json.dumps(part))
    return list(groups.values())


def merge(parts: list[dict]) -> dict:
    """Concatenate the seed axes of parts run on disjoint seeds (arms in every part)."""
    names = [n for n in parts[0]["arms"] if all(n in p["arms"] for p in parts)]
    seed_axis = {"R": 0, "dormant": 0, "curves": 1, "entropy": 1, "flips_negative": 0,
                 "flips_positive": 0}
    arms = {}
    for name in names:
        first = parts[0]["arms"][name]
        arm = {"jobs": first["jobs"], "curve_steps": np.asarray(first["curve_steps"])}
        for key, axis in seed_axis.items():
            if key in first:
                arm[key] = np.concatenate([np.asarray(p["arms"][name][key]) for p in parts],
                                          axis=axis)
        arms[name] = arm
    return arms


def competence_steps(result: dict, budget: int) -> tuple[np.ndarray, np.ndarray]:
    """(S, J) steps to competence (a job never reached: its budget) and (S, J) reached."""
    rows = [samples_to_competence(np.asarray(s), np.asarray(c), COMPETENCE)
            for s, c in zip(result["curve_steps"], result["curves"], strict=True)]
    steps = np.stack([np.where(r.reached, r.steps, budget) for r in rows], axis=1)
    return steps.astype(float), np.stack([r.reached for r in rows], axis=1)


def summarise(args) -> None:
    parts = group([json.loads(Path(p).read_text()) for p in args.parts])
    arms = merge(parts)
    budget = parts[0]["steps"]
    jobs = career(parts[0]["jobs"], budget)
    scratch = arms.pop("scratch")
    multitask = arms.pop("multitask", None)
    refs = on_the_job.job_references(jobs, settings_for(argparse.Namespace(
        seeds=parts[0]["seeds"], seed=parts[0]["seed"]),
        tuple(s for p in parts for s in (p["only_seeds"] or range(p["seeds"])))))
    result = on_the_job.summarise(arms, scratch, jobs, refs)
    own, reached_scratch = competence_steps(scratch, budget)
    later = slice(FIRST_LATER_JOB, None)
    extra = {}
    mt = None if multitask is None else np.asarray(multitask["R"])[:, -1, :].mean(axis=1)
    averages = {name: np.asarray(arm["R"])[:, -1, :].mean(axis=1) for name, arm in arms.items()}
    for name, arm in arms.items():
        steps, reached = competence_steps(arm, budget)
        ratio = np.median(steps[:, later] / own[:, later], axis=1)  # (S,): per seed
        R = np.asarray(arm["R"])
        average = R[:, -1, :].mean(axis=1)
        extra[name] = {
            "competence_ratio_later_jobs": ci(ratio),
            "reached_later_jobs": float(reached[:, later].mean()),
            "average_performance_minus_multitask": None if mt is None else ci(average - mt),
            # the confirmation rule: paired per seed (same pools and keys), variant minus
            # its base (BASE_OF)
            "average_performance_minus_base": (
                ci(average - averages[BASE_OF[name]])
                if BASE_OF.get(name) in averages else None),
            "average_performance_per_seed": average.tolist(),
        }
    result["acceptance"] = extra
    result["gru_rule"] = gru_rule(averages, parts[0]["hp"]["recurrent"])
    result["scratch_reached_later_jobs"] = float(reached_scratch[:, later].mean())
    result["multitask_average"] = None if mt is None else ci(mt)
    result["budget_per_job"] = budget
    result["seeds_run"] = int(np.asarray(scratch["R"]).shape[0])
    result["seeds"] = [s for p in parts for s in p["only_seeds"]]
    result["seconds"] = {n: [p["seconds"].get(n) for p in parts] for n in parts[0]["seconds"]}
    result["load"] = {n: [p["load"].get(n) for p in parts] for n in parts[0]["load"]}
    hours = hours_to_competence({"apprentice": arms.get("apprentice"),
                                 "apprentice-no-gru": arms.get("apprentice-no-gru"),
                                 "scratch": scratch, "replay": arms.get("replay")}, jobs, budget)
    result["hours_to_competence"] = hours
    atomic_write_json(args.out, result)
    plot_hours(hours, result["jobs"], args.out.with_suffix(".hours.png"))
    print(table(result))


def gru_rule(averages: dict, default_was_gru: bool) -> dict | None:
    """Session 11's GRU decision (docs/apprentice.md): the per-seed paired difference of
    average performance, the GRU apprentice minus `apprentice-no-gru`. The GRU one is the
    arm `apprentice` in runs made while it was the default (their `hp.recurrent`), else
    `apprentice-gru`."""
    gru = "apprentice" if default_was_gru else "apprentice-gru"
    if gru not in averages or "apprentice-no-gru" not in averages:
        return None
    diff = averages[gru] - averages["apprentice-no-gru"]
    return {"gru_arm": gru, "difference": ci(diff), "per_seed": diff.tolist(),
            "keeps_the_gru": bool(ci(diff)["ci_low"] > 0)}


def hours_to_competence(arms: dict, jobs: Career, budget: int) -> dict:
    """{arm: per job IQM [CI] over seeds of simulated hours to competence (a job not
    reached counts as its budget) and the fraction of seeds that reached it}."""
    from trainee.careers.career import career_worlds

    seconds = next(iter(career_worlds(jobs).values())).seconds_per_step
    out = {}
    for name, arm in arms.items():
        if arm is None:
            continue
        steps, reached = competence_steps(arm, budget)
        out[name] = {"hours": [ci(steps[:, k] * seconds / 3600) for k in range(steps.shape[1])],
                     "reached": reached.mean(axis=0).tolist(),
                     "budget_hours": budget * seconds / 3600}
    return out


def plot_hours(hours: dict, jobs: list, path: Path) -> None:
    """Simulated hours to competence per job, IQM with 95% CI, one line per learner."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from trainee.careers.summary import save_figure

    fig, ax = plt.subplots(figsize=(8, 3.8))
    x = np.arange(len(jobs))
    for name, row in hours.items():
        mid = np.array([h["iqm"] for h in row["hours"]])
        low = np.array([h["ci_low"] for h in row["hours"]])
        high = np.array([h["ci_high"] for h in row["hours"]])
        ax.errorbar(x, mid, yerr=[mid - low, high - mid], marker="o", capsize=3, label=name)
    budget = next(iter(hours.values()))["budget_hours"]
    ax.axhline(budget, color="grey", ls=":", label="job budget (not reached)")
    ax.set_xticks(x, jobs, rotation=60, fontsize=7)
    ax.set_ylabel("simulated hours to 0.8\ntraining success")
    ax.set_title("career-conflict: hours on the job to competence")
    ax.legend(fontsize=8)
    save_figure(fig, path)


def table(result: dict) -> str:
    fmt = lambda c: "-" if c is None else f"{c['iqm']:.3f} [{c['ci_low']:.3f}, {c['ci_high']:.3f}]"
    rows = ["| learner | competence ratio, jobs 5+ (vs scratch) | reached, jobs 5+ | forgetting "
            "| average performance | minus multitask | plasticity change | mean gain |",
            "|---|---|---|---|---|---|---|---|"]
    for name, arm in result["arms"].items():
        a = result["acceptance"][name]
        rows.append(f"| {name} | {fmt(a['competence_ratio_later_jobs'])} | "
                    f"{a['reached_later_jobs']:.2f} | {fmt(arm.get('forgetting'))} | "
                    f"{fmt(arm.get('average_performance'))} | "
                    f"{fmt(a['average_performance_minus_multitask'])} | "
                    f"{fmt(arm.get('plasticity_change'))} | {fmt(arm['mean_gain'])} |")
    variants = [n for n in result["arms"] if n in VARIANTS or n in ABLATIONS]
    paired = [f"| {n} | {BASE_OF[n]} | "
              f"{fmt(result['acceptance'][n]['average_performance_minus_base'])} |"
              for n in variants if n in BASE_OF]
    if paired:
        paired = ["", "| variant | base | average performance minus the base's, paired |",
                  "|---|---|---|", *paired]
    return "\n".join(rows + paired + ["", targets(result)]
                     + [f"\n{n}\n{targets(result, n)}" for n in variants])


def targets(result: dict, name: str = "apprentice") -> str:
    """issue 15's acceptance targets for `name`: measured, met or missed, and by how much
    (each target read at the end of its interval that it is stated for)."""
    if name not in result["arms"]:
        return ""
    arm, acc = result["arms"][name], result["acceptance"][name]
    ratio, forget = acc["competence_ratio_later_jobs"], arm["forgetting"]
    versus, plastic = acc["average_performance_minus_multitask"], arm["plasticity_change"]
    rows = [("competence ratio, jobs 5+ <= 0.5, CI high < 1", ratio,
             ratio["iqm"] <= 0.5 and ratio["ci_high"] < 1, ratio["iqm"] - 0.5),
            ("forgetting: CI high <= 0.05", forget, forget["ci_high"] <= 0.05,
             forget["ci_high"] - 0.05)]
    if versus is not None:
        rows.append(("average performance >= multitask - 0.05", versus,
                     versus["iqm"] >= -0.05, versus["iqm"] + 0.05))
    rows.append(("plasticity change >= 0", plastic, plastic["iqm"] >= 0, plastic["iqm"]))
    fmt = lambda c: f"{c['iqm']:.3f} [{c['ci_low']:.3f}, {c['ci_high']:.3f}]"
    out = ["| target | measured | met | margin |", "|---|---|---|---|"]
    out += [f"| {t} | {fmt(c)} | {'yes' if ok else 'no'} | {m:+.3f} |" for t, c, ok, m in rows]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run")
    r.add_argument("--jobs", type=int, default=12)
    r.add_argument("--steps", type=int, default=122_880)
    r.add_argument("--seeds", type=int, default=10)
    r.add_argument("--only-seeds", default="")
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--arms", default=",".join(ARMS))
    r.add_argument("--out", type=Path, required=True)
    s = sub.add_parser("summarise")
    s.add_argument("parts", nargs="+")
    s.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    run(args) if args.command == "run" else summarise(args)


if __name__ == "__main__":
    main()
