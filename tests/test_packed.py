"""One uint32 vector for a pytree (`trainee.worlds.packed`): bit for bit, in and out of jit."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from trainee.worlds.packed import Packing


def _tree():
    return {"key": jax.random.split(jax.random.key(3), 2),
            "f": jnp.array([1.5, -0.0, jnp.nan, jnp.inf], jnp.float32),
            "i": jnp.array([[-7, 2**31 - 1], [-(2**31), 0]], jnp.int32),
            "b": jnp.array([True, False, True]),
            "small": jnp.array([-128, 127, -1], jnp.int8),
            "u": jnp.uint32(2**32 - 1)}


def _same(a, b):
    a, b = jax.tree.map(lambda x: np.asarray(jax.random.key_data(x) if
                                             jnp.issubdtype(x.dtype, jax.dtypes.prng_key)
                                             else x), (a, b))
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        assert x.dtype == y.dtype and x.shape == y.shape
        assert x.tobytes() == y.tobytes()


def test_packs_and_unpacks_every_leaf_bit_for_bit():
    tree = _tree()
    packing = Packing.of(tree)
    words = packing.pack(tree)
    # in the leaves' order (dict keys sorted): 3 bools, 4 floats, 4 ints, 2 keys x 2 words,
    # 3 int8s, 1 uint32
    assert words.dtype == jnp.uint32 and words.shape == (19,) == (packing.words,)
    assert np.asarray(words)[:3].tolist() == [1, 0, 1]
    assert np.asarray(words)[3:7].tolist() == np.asarray(tree["f"]).view(np.uint32).tolist()
    _same(packing.unpack(words), tree)
    _same(jax.jit(lambda w: packing.pack(packing.unpack(w)))(words), words)
    unpacked = jax.jit(packing.unpack)(words)
    assert jnp.issubdtype(unpacked["key"].dtype, jax.dtypes.prng_key)
    # the unpacked keys draw what the original keys draw
    assert jnp.array_equal(jax.random.bits(unpacked["key"][1]), jax.random.bits(tree["key"][1]))


def test_a_packing_made_from_shapes_packs_the_arrays():
    tree = _tree()
    packing = Packing.of(jax.eval_shape(lambda: _tree()))
    assert packing == Packing.of(tree) and hash(packing) == hash(Packing.of(tree))
    _same(packing.unpack(packing.pack(tree)), tree)


def test_eight_byte_leaves_and_other_key_kinds_are_refused():
    with pytest.raises(TypeError, match="32-bit"):
        Packing.of({"x": jax.ShapeDtypeStruct((2,), np.dtype("float64"))})
    with pytest.raises(TypeError, match="default implementation"):
        Packing.of(jax.random.key(0, impl="rbg"))
