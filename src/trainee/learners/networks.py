"""Networks: separate actor and critic towers (as PureJaxRL's CartPole PPO), each an MLP
over the observation or over an encoder's features. `LearnerConfig.network` chooses:

- `mlp`: the observation flattened (grids too: PureJaxRL's MinAtar PPO uses an MLP);
- `cnn`: two 3x3 convolutions in front, for grid observations (H, W, C);
- `attention`: for worlds that declare an `entity_layout` (errands): each entity slot is
  a token, the rest of the observation (agent, instruction) is the query of a multi-head
  dot-product attention over them (Vaswani et al. 2017). Matching "the blue ball" to a
  slot is then one dot product between the instruction's and the slot's features, the
  same for every slot, where an MLP must learn it separately for each slot position;
- `per_bit`: repair only: the logit of "flip bit i" from one MLP shared by every bit,
  over bit i's features and a pooled context (`trainee.learners.bit_network`); the
  critic is the MLP tower;
- `auto`: mlp everywhere, until another network is shown to pay (docs/learners.md).

Parameters are plain pytrees (nested dicts of arrays): average them, vmap them, save them.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from trainee.learners.bit_network import BitLayout, bit_layout, per_bit_inputs
from trainee.learners.config import LearnerConfig
from trainee.worlds.base import EntityLayout, World

ATTENTION_DIM = 64  # token and query width of the attention encoder
ATTENTION_HEADS = 4  # e.g. one for the named object, one for the goal tile, ...


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
    """obs (B, *obs_shape) -> (logits (B, A), value (B,)). `encoder` is a resolved
    network name (`mlp`, `cnn`, `attention` or `per_bit`; never `auto`)."""

    num_actions: int
    hidden: int = 64
    layers: int = 2
    activation: str = "tanh"
    encoder: str = "mlp"
    obs_rank: int = 1  # len(obs_shape): the trailing dims that make one observation
    layout: EntityLayout | None = None  # for `attention`
    bits: BitLayout | None = None  # for `per_bit`

    def encode(self, obs: jax.Array, name: str) -> jax.Array:
        if self.encoder == "cnn":
            return GridEncoder(name=name)(obs)
        if self.encoder == "attention":
            return EntityEncoder(self.layout, name=name)(obs)
        return obs.reshape(*obs.shape[: obs.ndim - self.obs_rank], -1)

    @nn.compact
    def __call__(self, obs: jax.Array) -> tuple[jax.Array, jax.Array]:
        features = [self.hidden] * self.layers
        actor_in = self.encode(obs, "actor_encoder")
        critic_in = self.encode(obs, "critic_encoder")
        if self.encoder == "per_bit":  # one logit per bit, from one tower shared by all
            actor_in = per_bit_inputs(obs, self.bits)
            logits = MLP(features, 1, 0.01, self.activation, name="actor")(actor_in)[..., 0]
        else:
            logits = MLP(features, self.num_actions, 0.01, self.activation, name="actor")(actor_in)
        value = MLP(features, 1, 1.0, self.activation, name="critic")(critic_in)
        return logits, value[..., 0]


def towers_as_one(network: ActorCritic, params):
    """`obs -> (logits, value)` of `network` at fixed `params`, for a rollout: an MLP
    network's two towers' hidden layers computed as one, the first layers' kernels side
    by side and the later ones block-diagonal, so each hidden layer is one matrix
    product for both towers (at a few envs per step, the count of products, not their
    size, is the cost). The zeros add exact zeros to each sum, so the outputs equal
    `network.apply`'s up to float rounding (tests/test_networks.py: bit for bit on a Xeon
    with AVX-512, 1 ulp apart at batch 1 on an AMD with AVX2, where XLA's matrix-vector
    product sums the wider kernel in another order); the output layers stay apart (a
    one-column product sums in another order than a wider one). Other encoders:
    `network.apply` itself. Build it once, outside the step loop."""
    if network.encoder != "mlp":
        return partial(network.apply, params)
    act = {"tanh": jnp.tanh, "relu": jax.nn.relu}[network.activation]
    towers = params["params"]["actor"], params["params"]["critic"]
    kernels, biases = [], []
    for i in range(network.layers):
        (ka, ba), (kc, bc) = ((t[f"Dense_{i}"]["kernel"], t[f"Dense_{i}"]["bias"]) for t in towers)
        if i == 0:
            kernels.append(jnp.concatenate([ka, kc], axis=1))
        else:
            kernels.append(jnp.block([[ka, jnp.zeros((ka.shape[0], kc.shape[1]), ka.dtype)],
                                      [jnp.zeros((kc.shape[0], ka.shape[1]), kc.dtype), kc]]))
        biases.append(jnp.concatenate([ba, bc]))
    out = [t[f"Dense_{network.layers}"] for t in towers]

    def apply(obs: jax.Array) -> tuple[jax.Array, jax.Array]:
        x = obs.reshape(*obs.shape[: obs.ndim - network.obs_rank], -1)
        for kernel, bias in zip(kernels, biases, strict=True):
            x = act(x @ kernel + bias)
        heads = (x[..., : network.hidden], x[..., network.hidden:])
        logits, value = (h @ o["kernel"] + o["bias"] for h, o in zip(heads, out, strict=True))
        return logits, value[..., 0]

    return apply


class GridEncoder(nn.Module):
    """(B, H, W, C) -> (B, H * W * 32): two 3x3 convolutions, no pooling (grids are small)."""

    @nn.compact
    def __call__(self, obs: jax.Array) -> jax.Array:
        init = orthogonal(np.sqrt(2))
        x = nn.relu(nn.Conv(16, (3, 3), kernel_init=init)(obs))
        x = nn.relu(nn.Conv(32, (3, 3), kernel_init=init)(x))
        return x.reshape(*x.shape[:-3], -1)


def split_entities(obs: jax.Array, layout: EntityLayout):
    """(B, size) -> context (B, C), one (B, count, width) array per group (static slices,
    no gather)."""
    end = lambda g: g.start + g.count * g.width
    context, at = [], 0
    for g in sorted(layout.groups, key=lambda g: g.start):
        context.append(obs[..., at:g.start])
        at = end(g)
    context.append(obs[..., at:layout.size])
    groups = [obs[..., g.start:end(g)].reshape(*obs.shape[:-1], g.count, g.width)
              for g in layout.groups]
    return jnp.concatenate(context, axis=-1), groups


class EntityEncoder(nn.Module):
    """(B, size) flat observation -> (B, (1 + rounds) * ATTENTION_DIM) features.

    The context (everything outside the entity groups: agent, wall, door, carried object,
    current sub-goal) is embedded as h; each head's query from h attends over the
    tokens, one per slot of each group, with keys and values linear in the slot's
    features (a projection per group, shared by its slots); absent slots (all zeros) are
    masked out. Output: [h, attended]. With `rounds` = 2, a second query from [h,
    attended] attends over the same tokens again (e.g. first the named object, then the
    goal tile of its colour) and its result is appended. No slot index enters anywhere,
    so the output is invariant to reordering the slots of a group
    (tests/test_networks.py checks it)."""

    layout: EntityLayout
    dim: int = ATTENTION_DIM
    heads: int = ATTENTION_HEADS
    rounds: int = 1  # attention passes over the tokens, each with its own query

    @nn.compact
    def __call__(self, obs: jax.Array) -> jax.Array:
        context, groups = split_entities(obs, self.layout)
        h = nn.relu(nn.Dense(self.dim, kernel_init=orthogonal(np.sqrt(2)), name="context")(context))
        kv = jnp.concatenate([  # keys and values in one projection per group
            nn.Dense(2 * self.dim, kernel_init=orthogonal(1.0), name=f"key_value_{g.name}")(x)
            for g, x in zip(self.layout.groups, groups, strict=True)
        ], axis=-2)
        present = jnp.concatenate([jnp.any(x != 0, axis=-1) for x in groups], -1)[..., None]
        features = [h]
        for i in range(self.rounds):
            query_in = h if i == 0 else nn.relu(nn.Dense(
                self.dim, kernel_init=orthogonal(np.sqrt(2)), name=f"refine_{i}")(
                    jnp.concatenate(features, axis=-1)))
            name = "query" if i == 0 else f"query_{i}"
            q = nn.Dense(self.dim, kernel_init=orthogonal(1.0), name=name)(query_in)
            features.append(self.attend(q, kv, present))
        return jnp.concatenate(features, axis=-1)

    def attend(self, q: jax.Array, kv: jax.Array, present: jax.Array) -> jax.Array:
        """q (B, D), kv (B, N, 2D), present (B, N, 1) -> (B, D). Scores and sums are
        elementwise products and reductions (fused by XLA) rather than batched matmuls of
        16-wide heads over ~12 tokens."""
        head_dim = self.dim // self.heads
        split = lambda x: x.reshape(*x.shape[:-1], self.heads, head_dim)
        q = split(q)[..., None, :, :]  # (B, 1, H, d)
        k, v = split(kv[..., :self.dim]), split(kv[..., self.dim:])  # (B, N, H, d)
        scores = jnp.sum(q * k, axis=-1) / np.sqrt(head_dim)  # (B, N, H)
        scores = jnp.where(present, scores, -1e9)
        weights = jax.nn.softmax(scores, axis=-2) * jnp.any(present, axis=-2, keepdims=True)
        attended = jnp.sum(weights[..., None] * v, axis=-3)  # (B, H, d)
        return attended.reshape(*attended.shape[:-2], self.dim)


def entity_layout(world: World) -> EntityLayout | None:
    """The world's entity layout if it describes this world's observation, else None (a
    wrapper that pads or replaces the observation forwards a layout that no longer fits)."""
    layout = getattr(world, "entity_layout", None)
    shape = world.observation_space.shape
    return layout if layout is not None and shape == (layout.size,) else None


def resolve_network(config: LearnerConfig, world: World) -> str:
    """The network `config.network` means for `world`; ValueError (one line) if the world
    cannot take it."""
    config.validate()
    layout, shape = entity_layout(world), world.observation_space.shape
    if config.network == "auto":
        # The MLP everywhere until another network is shown to pay: attention on errands
        # is ahead at equal steps (held-out 0.11 vs 0.05 at 1M, one seed) but nowhere near
        # the 0.9 target and ~4x slower per step (docs/worlds/errands.md); the CNN was
        # > 40x slower than the MLP on MinAtar Breakout.
        return "mlp"
    if config.network == "cnn" and len(shape) != 3:
        raise ValueError(f"network 'cnn' needs (H, W, C) grid observations; {world.name} "
                         f"gives {shape}: use --network mlp")
    if config.network == "attention" and layout is None:
        raise ValueError(f"network 'attention' needs a world with an entity_layout; "
                         f"{world.name} has none: use --network mlp")
    if config.network == "per_bit" and bit_layout(world) is None:
        raise ValueError(f"network 'per_bit' is for repair's own observation (flip bit i); "
                         f"{world.name} with {shape} is not: use --network mlp")
    return config.network


def network_for(config: LearnerConfig, world: World) -> ActorCritic:
    """The network `config` asks for on `world` (the one way learners build theirs)."""
    shape = world.observation_space.shape
    return ActorCritic(
        num_actions=world.action_space.n,
        hidden=config.hidden,
        layers=config.layers,
        activation=config.activation,
        encoder=resolve_network(config, world),
        obs_rank=len(shape),
        layout=entity_layout(world),
        bits=bit_layout(world),
    )


def init_params(network: ActorCritic, key: jax.Array, obs_shape: tuple[int, ...]):
    return network.init(key, jnp.zeros((1, *obs_shape), jnp.float32))


def parameter_count(network: ActorCritic, obs_shape: tuple[int, ...]) -> int:
    """Number of parameters, from shapes alone (nothing is initialised)."""
    shapes = jax.eval_shape(lambda k: init_params(network, k, obs_shape), jax.random.key(0))
    return sum(int(np.prod(x.shape)) for x in jax.tree.leaves(shapes))


def describe_network(config: LearnerConfig, world: World) -> str:
    """One line for the start of a run, e.g. `network: attention (auto), 2 x 64 tanh
    towers, 61,253 parameters`."""
    network = network_for(config, world)
    chosen = f"{network.encoder} (auto)" if config.network == "auto" else network.encoder
    count = parameter_count(network, world.observation_space.shape)
    return (f"network: {chosen}, {config.layers} x {config.hidden} {config.activation} "
            f"towers, {count:,} parameters")
