"""Env steps/s of the apprentice next to ppo (and the apprentice with its GRU) on the
same world, in the same process, interleaved (the machine is shared and noisy: read the
ratio, with the load average printed beside it).

    nice python benchmarks/apprentice_speed.py --out benchmarks/apprentice/speed.json

World: career-conflict's first job (driving level 1, keep right, car 0); learners:
career-conflict's (16 envs x 64 steps, 64x64 tanh, 4 epochs x 4 minibatches) and the
on-the-job study's quick scale (16 x 32, 32x32, 2 x 2). One seed, compiled first (compile
time reported apart), then `--repeats` rounds of every learner in turn.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time
from pathlib import Path

import jax

from trainee.careers.career import PRESETS, career_worlds, job_tasks
from trainee.learners import LearnerConfig, make_train, vmap_seeds
from trainee.store import atomic_write_json
from trainee.studies.programs import base_config
from trainee.studies.scale import get_scale

SETTINGS = {
    "career-conflict": LearnerConfig(num_envs=16, num_steps=64, lr=1e-3),
    "quick": dataclasses.replace(base_config("ppo", get_scale("quick")), anneal_lr=False),
}
# the apprentice's default has no GRU since session 12 (session 11's rule);
# `--recurrent` is the GRU one
LEARNERS = {"ppo": {"learner": "ppo"}, "apprentice": {"learner": "apprentice"},
            "apprentice-gru": {"learner": "apprentice", "recurrent": True}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    career = PRESETS["career-conflict"]()
    job = career.jobs[0]
    world = career_worlds(career)[job.world]
    tasks = job_tasks(world, job, jax.random.key(0), 256)
    keys = jax.random.split(jax.random.key(1), 1)
    compiled, out = {}, {"load_start": os.getloadavg(), "settings": {}}
    for setting, base in SETTINGS.items():
        for name, fields in LEARNERS.items():
            config = dataclasses.replace(base, total_steps=args.updates * base.num_envs
                                         * base.num_steps, **fields)
            train = jax.jit(vmap_seeds(make_train(config, world), (0, None)))
            start = time.perf_counter()
            compiled[setting, name] = (train.lower(keys, tasks).compile(), config.total_steps)
            out["settings"].setdefault(setting, {})[name] = {
                "compile_seconds": time.perf_counter() - start, "seconds": []}
    for _ in range(args.repeats):
        for (setting, name), (fn, _) in compiled.items():
            start = time.perf_counter()
            jax.block_until_ready(fn(keys, tasks))
            out["settings"][setting][name]["seconds"].append(time.perf_counter() - start)
    for setting, rows in out["settings"].items():
        for name, row in rows.items():
            steps = compiled[setting, name][1]
            row["steps_per_second"] = steps / min(row["seconds"])
        ppo = rows["ppo"]["steps_per_second"]
        for name, row in rows.items():
            row["relative_to_ppo"] = row["steps_per_second"] / ppo
            print(f"{setting:16} {name:18} {row['steps_per_second']:9,.0f} steps/s "
                  f"({row['relative_to_ppo']:.2f} x ppo; compile {row['compile_seconds']:.1f} s)")
    out["load_end"] = os.getloadavg()
    print(f"load {out['load_start']} -> {out['load_end']}")
    atomic_write_json(args.out, out)


if __name__ == "__main__":
    main()
