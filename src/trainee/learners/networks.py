"""Networks: separate actor and critic towers (as PureJaxRL's CartPole PPO), an MLP for
flat observations and a small CNN encoder in front for grid observations (H, W, C).

Parameters are plain pytrees (nested dicts of arrays): average them, vmap them, save them.
"""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from trainee.learners.config import LearnerConfig


def orthogonal(scale: float = 1.0):
    """Orthogonal initialiser (Saxe et al. 2014) with the same distribution as
    `jax.nn.initializers.orthogonal`, and the same values up to float error, computed
    without LAPACK.

    Why not jax's own: it takes a QR factorisation, and under `vmap` (several seeds or
    fleet instances in one program) that becomes a batched LAPACK call whose kernel
    splits the batch over XLA's CPU thread pool and blocks until the parts are done.
    When two such calls run at once on a 2-core machine, both pool threads wait for
    work that no free thread can run: the program deadlocks (all threads parked, the
    result never ready). Gram-Schmidt (twice, for float32 accuracy) on the columns of
    a Gaussian matrix gives the Q of the QR factorisation with a positive diagonal of
    R, which is the Haar-distributed Q that `jax.random.orthogonal` returns.
    """

    def init(key, shape, dtype=jnp.float32):
        rows, cols = int(np.prod(shape[:-1])), shape[-1]
        tall = (max(rows, cols), min(rows, cols))
        q = orthonormal_columns(jax.random.normal(key, tall, dtype))
        q = q if rows >= cols else q.T
        return scale * q.reshape(shape)

    return init


def orthonormal_columns(z: jax.Array) -> jax.Array:
    """(p, k) with p >= k -> Q (p, k), orthonormal columns, Q R = z with diag(R) > 0."""

    def column(j, q):
        v = jax.lax.dynamic_index_in_dim(z, j, axis=1, keepdims=False)
        for _ in range(2):  # columns >= j of q are still 0, so they project out nothing
            v = v - q @ (q.T @ v)
        return jax.lax.dynamic_update_index_in_dim(q, v / jnp.linalg.norm(v), j, axis=1)

    return jax.lax.fori_loop(0, z.shape[1], column, jnp.zeros_like(z))


class MLP(nn.Module):
    features: Sequence[int]
    out: int
    out_scale: float
    activation: str

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        act = {"tanh": nn.tanh, "relu": nn.relu}[self.activation]
        for width in self.features:
            x = act(nn.Dense(width, kernel_init=orthogonal(np.sqrt(2)))(x))
        # Small final gains (0.01 for logits, 1.0 for values): near-uniform initial policy,
        # as in Andrychowicz et al. 2021 ("What matters in on-policy RL").
        return nn.Dense(self.out, kernel_init=orthogonal(self.out_scale))(x)


class ActorCritic(nn.Module):
    """obs (B, *obs_shape) -> (logits (B, A), value (B,))."""

    num_actions: int
    hidden: int = 64
    layers: int = 2
    activation: str = "tanh"
    grid: bool = False

    @nn.compact
    def __call__(self, obs: jax.Array) -> tuple[jax.Array, jax.Array]:
        features = [self.hidden] * self.layers
        actor_in, critic_in = obs, obs
        if self.grid:
            actor_in, critic_in = (
                GridEncoder(name="actor_encoder")(obs),
                GridEncoder(name="critic_encoder")(obs),
            )
        logits = MLP(features, self.num_actions, 0.01, self.activation, name="actor")(actor_in)
        value = MLP(features, 1, 1.0, self.activation, name="critic")(critic_in)
        return logits, value[..., 0]


class GridEncoder(nn.Module):
    """(B, H, W, C) -> (B, H * W * 32): two 3x3 convolutions, no pooling (grids are small)."""

    @nn.compact
    def __call__(self, obs: jax.Array) -> jax.Array:
        init = orthogonal(np.sqrt(2))
        x = nn.relu(nn.Conv(16, (3, 3), kernel_init=init)(obs))
        x = nn.relu(nn.Conv(32, (3, 3), kernel_init=init)(x))
        return x.reshape(*x.shape[:-3], -1)


def make_network(
    config: LearnerConfig, obs_shape: tuple[int, ...], num_actions: int
) -> ActorCritic:
    """The network for a world: a CNN encoder when observations are (H, W, C) grids."""
    return ActorCritic(
        num_actions=num_actions,
        hidden=config.hidden,
        layers=config.layers,
        activation=config.activation,
        grid=len(obs_shape) == 3,
    )


def init_params(network: ActorCritic, key: jax.Array, obs_shape: tuple[int, ...]):
    return network.init(key, jnp.zeros((1, *obs_shape), jnp.float32))
