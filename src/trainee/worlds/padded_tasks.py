"""One compiled task sampler for every batch size: sample a padded batch, keep the first n.

A sampler jitted with the batch size `n` static compiles once per n (issue 17: repair's
and driving's compiled 28 times in a quick `trainee run`). With
`jax_threefry_partitionable` (JAX's default since 0.5) every random draw of shape
(n, ...) is the first n rows of the same draw of shape (N, ...) for N > n: a value's
bits depend on its key and its own index only. So a sampler whose tasks are computed
row by row gives, on a batch of `padded_size(n)` tasks, the n tasks it gives on n,
bit for bit (tests/test_task_samplers.py checks every split), and compiles
once per power of two instead of once per n.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp

SMALLEST = 64  # the smallest padded batch: every small n shares one program


def check_partitionable() -> None:
    """Refuse to pad if JAX's PRNG is not partitionable (then a draw of shape (N,) does
    not start with the draw of shape (n,), and padding would change the tasks)."""
    if not jax.config.jax_threefry_partitionable:
        raise RuntimeError("padded task sampling needs jax_threefry_partitionable=True "
                           "(JAX's default since 0.5): it was turned off")


def padded_size(n: int) -> int:
    """The batch a sampler draws for n tasks: the next power of two, at least SMALLEST."""
    if n < 1:
        raise ValueError(f"a task batch needs at least one task, got n={n}")
    return max(SMALLEST, 1 << (n - 1).bit_length())


@partial(jax.jit, static_argnums=1)
def first(tasks, n: int):
    """The first n tasks of a padded batch (a tiny program per n)."""
    return jax.tree.map(lambda x: x[:n], tasks)


def sample_padded(padded, world: str, splits: tuple[str, ...], key, split: str, n: int,
                  level: jax.Array):
    """The first `n` tasks of `padded(key, split index, padded n, level)`, a world's
    sampler jitted with only the padded batch size static."""
    if split not in splits:
        raise ValueError(f"unknown {world} split {split!r}; one of {', '.join(splits)}")
    check_partitionable()
    return first(padded(key, jnp.int32(splits.index(split)), padded_size(n), level), n)
