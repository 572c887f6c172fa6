"""trainee's ppo beside PureJaxRL's on PureJaxRL's own CartPole config, interleaved.

    nice python benchmarks/purejaxrl_compare.py --repeats 3
    nice python benchmarks/purejaxrl_compare.py --kinds purejaxrl bare cli --repeats 3

Needs a snapshot of PureJaxRL (github:luchris429/purejaxrl; `--snapshot`, a git directory,
default the fetched mirror). Its `purejaxrl/ppo.py` and `purejaxrl/wrappers.py` are
exported to a temporary directory at run time and imported from there: none of its
code is part of this repository. Its wrappers module imports brax and navix at the top
(for envs this config does not use); where they are not installed, empty stand-ins are
written beside the export. It needs `distrax` (its Categorical); where distrax is not
installed, a stand-in Categorical (sample, log_prob, entropy from the logits) is
written there too, and the output says so.

Every measurement is its own process (`--worker KIND`), one after another in rotating
order (purejaxrl, bare, cli, then bare, cli, purejaxrl, ...), all with the same
XLA_FLAGS (trainee sets `--xla_backend_optimization_level=1` when imported, so the
PureJaxRL process gets that flag too). Kinds:

- `purejaxrl`: `jax.jit(make_train(config))` of its script's config (DEBUG off);
- `bare`: trainee's `jax.jit(vmap_seeds(make_train(config, world)))`, as
  benchmarks/train_speed.py;
- `cli`: `trainee train --world gymnax:CartPole-v1 --num-tasks 1` in a subprocess
  (chunks, metrics.json, checkpoints, the progress bar; a fresh compilation cache
  unless `--warm`), its summary's steps/s.

`purejaxrl` and `bare` compile once (timed, no persistent cache: the cold cost) and
then run the whole training `--runs` times; steps/s is the median run (and the first run
apart, which is what `cli` is compared with: it trains once). One JSON line per
process, then a summary: ratios of medians, and medians of the per-repeat ratios.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SNAPSHOT = Path("/work/.mirror/luchris429+purejaxrl/repo")
LEVEL_FLAG = "--xla_backend_optimization_level=1"
KINDS = ("purejaxrl", "bare", "cli")

# Stand-ins written beside the export when the real package is missing (imported at the
# top of PureJaxRL's wrappers.py for envs this config never builds).
STANDINS = {
    "brax/__init__.py": "",
    "brax/envs/__init__.py": "def get_environment(*a, **k):\n    raise ImportError('brax')\n",
    "brax/envs/wrappers/__init__.py": "",
    "brax/envs/wrappers/training.py": "EpisodeWrapper = AutoResetWrapper = None\n",
    "navix/__init__.py": "def make(*a, **k):\n    raise ImportError('navix')\n",
}
# The part of distrax.Categorical that PureJaxRL's ppo.py calls.
DISTRAX_STANDIN = '''"""Stand-in for distrax.Categorical (trainee's purejaxrl_compare.py)."""
import jax
import jax.numpy as jnp


class Categorical:
    def __init__(self, logits):
        self.logits = logits

    def sample(self, seed):
        return jax.random.categorical(seed, self.logits)

    def log_prob(self, value):
        logp = jax.nn.log_softmax(self.logits)
        return jnp.take_along_axis(logp, value[..., None].astype(jnp.int32), -1)[..., 0]

    def entropy(self):
        logp = jax.nn.log_softmax(self.logits)
        return -jnp.sum(jnp.exp(logp) * logp, -1)
'''


def export_snapshot(snapshot: Path, into: Path) -> list[str]:
    """Write PureJaxRL's ppo.py and wrappers.py (and stand-ins for what is missing) into
    `into`; returns the stand-ins written."""
    import importlib.util

    for name in ("ppo.py", "wrappers.py"):
        text = subprocess.run(["git", "-C", str(snapshot), "show", f"HEAD:purejaxrl/{name}"],
                              check=True, capture_output=True, text=True).stdout
        (into / name).write_text(text)
    written = []
    for package in ("brax", "navix", "distrax"):
        if importlib.util.find_spec(package) is not None:
            continue
        files = ({"distrax/__init__.py": DISTRAX_STANDIN} if package == "distrax" else
                 {k: v for k, v in STANDINS.items() if k.startswith(package + "/")})
        for path, text in files.items():
            (into / path).parent.mkdir(parents=True, exist_ok=True)
            (into / path).write_text(text)
        written.append(package)
    return written


def purejaxrl_config(total_steps: int) -> dict:
    """PureJaxRL's CartPole config (its ppo.py `__main__`), DEBUG off (a host callback
    per update that prints every episode)."""
    return {"LR": 2.5e-4, "NUM_ENVS": 4, "NUM_STEPS": 128, "TOTAL_TIMESTEPS": total_steps,
            "UPDATE_EPOCHS": 4, "NUM_MINIBATCHES": 4, "GAMMA": 0.99, "GAE_LAMBDA": 0.95,
            "CLIP_EPS": 0.2, "ENT_COEF": 0.01, "VF_COEF": 0.5, "MAX_GRAD_NORM": 0.5,
            "ACTIVATION": "tanh", "ENV_NAME": "CartPole-v1", "ANNEAL_LR": True,
            "DEBUG": False}


class FiveValueStep:
    """A gymnax >= 1.0 env seen through the step API this PureJaxRL snapshot was written
    for (gymnax < 1.0): `step` returns (obs, state, reward, done, info), `done` folding
    the time limit in, and `info` without the keys gymnax 1.0 added."""

    def __init__(self, env):
        self._env = env

    def __getattr__(self, name):
        return getattr(self._env, name)

    def step(self, key, state, action, params=None):
        obs, state, reward, terminated, truncated, info = self._env.step(key, state, action,
                                                                         params)
        info = {k: v for k, v in info.items()
                if k not in ("terminated", "truncated", "final_observation")}
        return obs, state, reward, terminated | truncated, info


def timed_runs(compiled, args, runs: int):
    import jax

    times, out = [], None
    for _ in range(runs):
        start = time.perf_counter()
        out = jax.block_until_ready(compiled(*args))
        times.append(time.perf_counter() - start)
    return out, times


def worker_purejaxrl(export: Path, total_steps: int, runs: int) -> dict:
    sys.path.insert(0, str(export))
    import jax
    import numpy as np
    import ppo  # PureJaxRL's, from the export

    make = ppo.gymnax.make
    if int(importlib.metadata.version("gymnax").split(".")[0]) >= 1:  # 6-value step API
        ppo.gymnax.make = lambda name: (lambda env, params: (FiveValueStep(env), params))(
            *make(name))
    config = purejaxrl_config(total_steps)
    train = jax.jit(ppo.make_train(config))
    rng = jax.random.PRNGKey(30)
    start = time.perf_counter()
    compiled = train.lower(rng).compile()
    compile_seconds = time.perf_counter() - start
    out, times = timed_runs(compiled, (rng,), runs)
    info = jax.tree.map(np.asarray, out["metrics"])  # each (updates, steps, envs)
    steps = config["NUM_UPDATES"] * config["NUM_STEPS"] * config["NUM_ENVS"]
    last = max(1, int(np.ceil(0.05 * config["NUM_UPDATES"])))  # as trainee's final_return
    done = info["returned_episode"][-last:]
    final = float(info["returned_episode_returns"][-last:][done].mean())
    return {"compile_seconds": compile_seconds, "steps": steps, "times": times,
            "final_return": [round(final, 1)]}


def worker_bare(total_steps: int, runs: int, seeds: int) -> dict:
    import jax
    import numpy as np

    from trainee.learners import LearnerConfig, make_train, vmap_seeds
    from trainee.train import final_return
    from trainee.worlds import make

    world = make("gymnax:CartPole-v1")
    tasks = world.tasks(jax.random.key(0), "train", 1)
    config = LearnerConfig(num_envs=4, num_steps=128, total_steps=total_steps)
    train = jax.jit(vmap_seeds(make_train(config, world), (0, None)))
    keys = jax.random.split(jax.random.key(42), seeds)
    start = time.perf_counter()
    compiled = train.lower(keys, tasks).compile()
    compile_seconds = time.perf_counter() - start
    out, times = timed_runs(compiled, (keys, tasks), runs)
    metrics = jax.tree.map(np.asarray, out.metrics)
    steps = float(metrics["env_steps"][0, -1]) * seeds
    return {"compile_seconds": compile_seconds, "steps": steps, "times": times,
            "final_return": np.round(final_return(metrics), 1).tolist()}


def worker_cli(total_steps: int, seeds: int, cache: Path) -> dict:
    with tempfile.TemporaryDirectory(prefix="trainee-compare-") as tmp:
        out = Path(tmp) / "run"
        command = [sys.executable, "-m", "trainee.cli", "train", "--world",
                   "gymnax:CartPole-v1", "--num-tasks", "1", "--seeds", str(seeds),
                   "--total-steps", str(total_steps), "--out", str(out)]
        env = dict(os.environ, TRAINEE_CACHE=str(cache))
        start = time.perf_counter()
        subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - start
        summary = json.loads((out / "summary.json").read_text())
    steps = summary["updates"] * 512 * seeds
    return {"compile_seconds": summary["compile_seconds"], "steps": steps,
            "times": [summary["train_seconds"]], "wall_seconds": wall,
            "final_return": [round(r, 1) for r in summary["final_return"]]}


def run_worker(args) -> None:
    if args.worker == "purejaxrl":
        result = worker_purejaxrl(Path(args.export), args.total_steps, args.runs)
    elif args.worker == "bare":
        result = worker_bare(args.total_steps, args.runs, args.seeds)
    else:
        result = worker_cli(args.total_steps, args.seeds, Path(args.cache))
    result["steps_per_second"] = result["steps"] / statistics.median(result["times"])
    result["first_run_steps_per_second"] = result["steps"] / result["times"][0]
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--snapshot", type=Path, default=SNAPSHOT)
    parser.add_argument("--kinds", nargs="+", choices=KINDS, default=list(KINDS))
    parser.add_argument("--repeats", type=int, default=3, help="processes of each kind")
    parser.add_argument("--runs", type=int, default=3, help="timed trainings per process")
    parser.add_argument("--total-steps", type=int, default=500_000)
    parser.add_argument("--seeds", type=int, default=1, help="trainee's (PureJaxRL: 1)")
    parser.add_argument("--warm", action="store_true",
                        help="cli: one compilation cache for every repeat (the first fills it)")
    parser.add_argument("--worker", choices=KINDS, help=argparse.SUPPRESS)
    parser.add_argument("--export", help=argparse.SUPPRESS)
    parser.add_argument("--cache", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return run_worker(args)
    if "purejaxrl" in args.kinds and not (args.snapshot / "HEAD").exists():
        sys.exit(f"no PureJaxRL snapshot at {args.snapshot} (a git directory); pass --snapshot")
    flags = os.environ.get("XLA_FLAGS", "")
    env = dict(os.environ, XLA_FLAGS=flags if "xla_backend_optimization_level" in flags
               else f"{flags} {LEVEL_FLAG}".strip())
    print(json.dumps({"xla_flags": env["XLA_FLAGS"], "load_average": os.getloadavg()}))
    results: dict[str, list[dict]] = {kind: [] for kind in args.kinds}
    with tempfile.TemporaryDirectory(prefix="purejaxrl-export-") as export:
        if "purejaxrl" in args.kinds:
            standins = export_snapshot(args.snapshot, Path(export))
            print(json.dumps({"stand_ins": standins}))
        warm_cache = Path(export) / "cache"
        for repeat in range(args.repeats):
            kinds = args.kinds[repeat % len(args.kinds):] + args.kinds[:repeat % len(args.kinds)]
            for kind in kinds:
                cache = warm_cache if args.warm else Path(export) / f"cache-{repeat}"
                command = [sys.executable, __file__, "--worker", kind, "--export", export,
                           "--cache", str(cache), "--runs", str(args.runs),
                           "--total-steps", str(args.total_steps), "--seeds", str(args.seeds)]
                load = os.getloadavg()[0]
                line = subprocess.run(command, check=True, env=env, stdout=subprocess.PIPE,
                                      text=True).stdout.strip().splitlines()[-1]
                result = dict(json.loads(line), kind=kind, repeat=repeat, load_before=load)
                results[kind].append(result)
                print(json.dumps(result), flush=True)
    medians = {kind: {key: statistics.median(r[key] for r in rs) for key in
                      ("steps_per_second", "first_run_steps_per_second", "compile_seconds")}
               for kind, rs in results.items()}
    summary = {"medians": medians, "load_average": os.getloadavg()}
    # ratios of the medians, and the median of the ratios within each repeat (the two
    # processes of a pair ran minutes apart at most, so they shared the machine's load)
    for a, b in (("bare", "purejaxrl"), ("cli", "bare"), ("cli", "purejaxrl")):
        if a in medians and b in medians:
            # `cli` trains once: it is compared with the others' first run after compile
            key = "first_run_steps_per_second" if "cli" in (a, b) else "steps_per_second"
            summary[f"{a}/{b} steps/s"] = medians[a][key] / medians[b][key]
            summary[f"{a}/{b} steps/s, median of repeats"] = statistics.median(
                x[key] / y[key] for x, y in zip(results[a], results[b], strict=True))
            summary[f"{a}/{b} compile"] = medians[a]["compile_seconds"] / \
                medians[b]["compile_seconds"]
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
