"""Host-side rendering of episodes: states to frames, frames to a GIF or a PNG strip.

Worlds draw one state with `render_rgb(state, task)` / `render_text(state, task)`;
this module plays an episode and collects the states (a Python loop over a jitted
step: rendering is for people, not for speed).
"""

from __future__ import annotations

import io
from pathlib import Path

import jax
import numpy as np

from trainee.store import atomic_write_bytes
from trainee.worlds.base import State, Task, World


def record_episode(world: World, policy, key: jax.Array, task: Task) -> list[State]:
    """The states of one episode, from reset to the step that ended it (inclusive).
    `policy(key, obs, state, task) -> action`, as in `trainee.evaluate`."""
    step = jax.jit(world.step)
    act = jax.jit(policy)
    key, key_reset = jax.random.split(key)
    obs, state = jax.jit(world.reset)(key_reset, task)
    states = [state]
    for _ in range(world.max_steps):
        key, key_policy, key_step = jax.random.split(key, 3)
        out = step(key_step, state, act(key_policy, obs, state, task), task)
        obs, state = out.obs, out.state
        states.append(state)
        if bool(out.terminated | out.truncated):
            break
    return states


def save_gif(frames: list[np.ndarray], path: str | Path, fps: int = 8) -> Path:
    """Write (H, W, 3) uint8 frames as an animated GIF (looping)."""
    from PIL import Image

    images = [Image.fromarray(np.asarray(f, np.uint8)) for f in frames]
    gif = io.BytesIO()
    images[0].save(gif, format="GIF", save_all=True, append_images=images[1:],
                   duration=int(1000 / fps), loop=0)
    atomic_write_bytes(Path(path), gif.getvalue())
    return Path(path)


def save_strip(frames: list[np.ndarray], path: str | Path, every: int = 1) -> Path:
    """Write every `every`-th frame side by side as one PNG."""
    from PIL import Image

    chosen = [np.asarray(f, np.uint8) for f in frames[::every]]
    gap = np.full((chosen[0].shape[0], 2, 3), 255, np.uint8)
    row = np.concatenate([x for f in chosen for x in (f, gap)][:-1], axis=1)
    png = io.BytesIO()
    Image.fromarray(row).save(png, format="PNG")
    atomic_write_bytes(Path(path), png.getvalue())
    return Path(path)
