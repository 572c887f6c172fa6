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


class MLP(nn.Module):
    features: Sequence[int]
    out: int
    out_scale: float
    activation: str

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        act = {"tanh": nn.tanh, "relu": nn.relu}[self.activation]
        for width in self.features:
            x = act(nn.Dense(width, kernel_init=nn.initializers.orthogonal(np.sqrt(2)))(x))
        # Small final gains (0.01 for logits, 1.0 for values): near-uniform initial policy,
        # as in Andrychowicz et al. 2021 ("What matters in on-policy RL").
        return nn.Dense(self.out, kernel_init=nn.initializers.orthogonal(self.out_scale))(x)


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
        init = nn.initializers.orthogonal(np.sqrt(2))
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
