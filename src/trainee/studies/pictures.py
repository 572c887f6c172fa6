"""Episode pictures for the report: one episode of a trained agent drawn by the world's
renderer as a PNG strip, base64-encoded so the report stays one self-contained file."""

from __future__ import annotations

import base64
import tempfile
from pathlib import Path

import jax

from trainee.evaluate import agent_policy
from trainee.worlds import task_at
from trainee.worlds.render import record_episode, save_strip

MAX_FRAMES = 8  # frames per strip: enough to follow an episode, small enough to embed


def episode_strip(program, params, tasks, index: int, seed: int, caption: str) -> dict | None:
    """Seed 0's agent (`params` stacked over seeds) on task `index` of `tasks`; None if
    the world cannot draw itself."""
    world = program.world
    one = jax.tree.map(lambda x: x[0], params)
    task = task_at(tasks, index)
    try:
        states = record_episode(world, agent_policy(program.learner.act, one),
                                jax.random.key(seed), task)
        every = max(1, -(-len(states) // MAX_FRAMES))
        frames = [world.render_rgb(s, task) for s in states[::every]]
    except NotImplementedError:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = save_strip(frames, Path(tmp) / "strip.png")
        data = base64.b64encode(path.read_bytes()).decode()
    return {"caption": f"{caption} ({len(states) - 1} steps, every {every}th state)",
            "png_base64": data}
