"""One study at quick scale (or `--scale`) with k times its env-step budget: what a
decision needs when quick scale cannot reach one (issue 14: "a study that cannot reach a
decision at quick scale says what scale would").

    python benchmarks/study_at_budget.py on-the-job --times 5 --out runs/on-the-job-x5.json

Everything but `Scale.train_steps` is the scale's (seeds, network, envs, evaluation
sizes; the scale keeps its name, so the study's design at that scale is what runs); the
result, its verdict, the budget and the wall clock go to OUT (JSON, atomically).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time
from pathlib import Path

from trainee.store import atomic_write_json
from trainee.studies import study_module
from trainee.studies.experiment import Context
from trainee.studies.scale import get_scale


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("study")
    parser.add_argument("--times", type=int, default=5, help="multiple of the scale's budget")
    parser.add_argument("--scale", default="quick", help="the scale whose budget is multiplied")
    parser.add_argument("--seed", type=int, default=0, help="base seed")
    parser.add_argument("--placebo", action="store_true")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    base = get_scale(args.scale)
    scale = dataclasses.replace(base, train_steps=base.train_steps * args.times)
    module = study_module(args.study)
    start = time.perf_counter()
    result = module.run(Context(scale=scale, seeds=scale.seeds, seed=args.seed,
                                placebo=args.placebo))
    verdict = module.verdict(result).to_json()
    seconds = time.perf_counter() - start
    atomic_write_json(args.out, {"study": args.study, "times": args.times,
                                 "train_steps": scale.train_steps, "seed": args.seed,
                                 "placebo": args.placebo, "seconds": seconds,
                                 "load": os.getloadavg(), "result": result,
                                 "verdict": verdict})
    print(f"{args.study} x{args.times}: {verdict['status']} ({seconds:.0f} s)\n"
          f"{verdict['reason']}")


if __name__ == "__main__":
    main()
