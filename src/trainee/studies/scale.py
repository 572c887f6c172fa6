"""Scales: how big each study's experiment is. `tiny` exists for the tests, `quick` is
what `trainee run` uses on a laptop CPU, `standard` runs gap, jaggedness and the xland
career on the field's own worlds (XLand-MiniGrid, Craftax; issue 18), `full` is sized for
a GPU.

Every field is a budget or a count; none changes what a study measures, only how
precisely. Shapes that reach compiled programs (`num_envs`, `num_steps`, `chunk_updates`,
`eval_tasks`, `episodes`, the network) are shared by every study at one scale, so one
compiled program per (world, learner) serves them all (docs/design.md, "compiled once").
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    name: str
    """Scale name, stored with every result."""
    seeds: int
    """Seeds per configuration (vmapped: one compiled program trains them all)."""
    train_steps: int
    """Env steps per seed for a standard training run."""
    chunks: int
    """Evaluation points along a learning curve (checkpoints)."""
    num_envs: int
    """Parallel environments per seed (a multiple of 4 for pg's groups)."""
    num_steps: int
    """ppo rollout length per environment per update."""
    minibatches: int
    """Minibatches per update epoch of the studies' ppo (pg and the apprentice keep 2:
    `programs.base_config` says why; on-the-job's apprentice arm takes its study's ppo
    config). More, smaller minibatches
    take more gradient steps from the same experience at nearly the same compute: at
    quick, 8 instead of 2 raised ppo's train success from 0.36 to 0.48 on repair and
    from 0.72 to 0.86 on driving at 1.06x the time per env step, the best of a fixed
    sweep within its cost rule (benchmarks/quick_learner_sweep.py, issue 12)."""
    hidden: int
    """Width of the MLP's hidden layers (small networks compile and run fast)."""
    layers: int
    """Hidden layers of the actor and of the critic."""
    pool: int
    """Training tasks per run (a task pool; distinct tasks may repeat inside it)."""
    eval_tasks: int
    """Tasks per evaluation split."""
    episodes: int
    """Episodes per evaluated task."""
    configs: int
    """eval-hacking: hyperparameter configs the simulated researcher compares."""
    worlds: tuple[str, ...]
    """Worlds the gap study compares, every one in its verdict (the first gives the key
    number); single-world studies take the last of repair / corridor among them
    (`tasksets.main_world`). corridor, saturated at every budget (random play 0.78-0.84
    on its train tasks), is the template world of the tests only (issue 12)."""
    single_world: str = ""
    """The world of the single-world studies when it is not the last of repair /
    corridor among `worlds` (`tasksets.main_world`); `standard` puts Craftax there."""

    @property
    def steps_per_chunk(self) -> int:
        return max(1, self.train_steps // self.chunks)


SCALES = {
    # Only for the test suite: seconds, not evidence.
    "tiny": Scale("tiny", seeds=5, train_steps=4_096, chunks=2, num_envs=8, num_steps=16,
                  minibatches=2, hidden=16, layers=1, pool=32, eval_tasks=16, episodes=1,
                  configs=3, worlds=("corridor",)),
    # `trainee run`: all studies in <= 10 minutes on a 2-core CPU (README, "The main job").
    "quick": Scale("quick", seeds=5, train_steps=122_880, chunks=6, num_envs=16, num_steps=32,
                   minibatches=8, hidden=32, layers=2, pool=256, eval_tasks=64, episodes=2,
                   configs=12, worlds=("repair", "driving")),
    # GPU-sized (not run on CPU): ~100x the experience, every world.
    # The field's own worlds (issue 18): gap on XLand-MiniGrid rulesets, jaggedness on
    # Craftax-Classic achievements (episodes cut at 300 steps: evaluation plays every
    # episode to its limit), sized so that they, their placebos and the MiniGrid career
    # fit in the hour a loaded 2-core CPU afforded (docs/studies.md, "The field's worlds").
    "standard": Scale("standard", seeds=5, train_steps=245_760, chunks=4, num_envs=32,
                      num_steps=32, minibatches=8, hidden=64, layers=2, pool=256,
                      eval_tasks=64, episodes=1, configs=12, worlds=("xminigrid:trivial-2k",),
                      single_world="craftax:classic-300"),
    "full": Scale("full", seeds=10, train_steps=10_000_000, chunks=20, num_envs=256,
                  num_steps=128, minibatches=2, hidden=256, layers=2, pool=4096, eval_tasks=512,
                  episodes=4, configs=64, worlds=("repair", "errands", "driving")),
}


def get_scale(name: str) -> Scale:
    if name not in SCALES:
        raise ValueError(f"unknown scale {name!r}; choose one of {', '.join(SCALES)}")
    return SCALES[name]
