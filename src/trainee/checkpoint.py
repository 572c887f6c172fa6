"""Checkpoints: a train state (any pytree) as msgpack bytes, plus a JSON description.

`checkpoint.msgpack` holds the state; `checkpoint.json` says which config and update it
belongs to, so a resume with a different config, or a truncated or corrupt file, is
refused with a readable `CheckpointError` instead of a traceback.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import jax
import numpy as np
from flax import serialization

from trainee.store import StoreError, atomic_write_bytes, atomic_write_json, read_json

STATE_FILE = "checkpoint.msgpack"
META_FILE = "checkpoint.json"


class CheckpointError(Exception):
    """A checkpoint that cannot be used, with the reason and the fix."""


def config_hash(config: dict) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:16]


def _to_storable(tree: Any) -> Any:
    """Typed PRNG keys cannot be serialised; store their raw uint32 data."""
    is_key = lambda x: isinstance(x, jax.Array) and jax.dtypes.issubdtype(
        x.dtype, jax.dtypes.prng_key)
    return jax.tree.map(lambda x: jax.random.key_data(x) if is_key(x) else x, tree)


def host_copy(tree: Any) -> Any:
    """The tree as numpy arrays, typed PRNG keys as their raw uint32 data: picklable (to
    send between processes) and exactly what `save` stores."""
    return jax.tree.map(np.asarray, _to_storable(tree))


def _from_storable(stored: Any, like: Any) -> Any:
    def restore(saved, template):
        if isinstance(template, jax.Array) and jax.dtypes.issubdtype(
                template.dtype, jax.dtypes.prng_key):
            return jax.random.wrap_key_data(np.asarray(saved))
        return np.asarray(saved)

    return jax.tree.map(restore, stored, like)


def save(run_dir: Path, state: Any, meta: dict) -> None:
    """Write the state, then its description (the description names a complete file)."""
    data = serialization.to_bytes(_to_storable(state))
    meta = dict(meta, sha256=hashlib.sha256(data).hexdigest())
    atomic_write_bytes(Path(run_dir) / STATE_FILE, data)
    atomic_write_json(Path(run_dir) / META_FILE, meta)


def load(run_dir: Path, like: Any, expected_config_hash: str) -> tuple[Any, dict]:
    """Restore a state shaped like `like`; check it belongs to this config."""
    run_dir = Path(run_dir)
    state_path = run_dir / STATE_FILE
    if not state_path.exists():
        raise CheckpointError(f"no checkpoint in {run_dir}; train without --resume first")
    try:
        meta = read_json(run_dir / META_FILE)
    except StoreError as err:
        raise CheckpointError(f"checkpoint description unreadable: {err}") from err
    data = state_path.read_bytes()
    if hashlib.sha256(data).hexdigest() != meta.get("sha256"):
        raise CheckpointError(
            f"{state_path} is corrupt (checksum mismatch); delete {run_dir} and train again")
    if meta.get("config_hash") != expected_config_hash:
        raise CheckpointError(
            f"the checkpoint in {run_dir} was made with a different config; "
            "resume with the run's own config (omit other flags) or use a new --out")
    try:
        template = _to_storable(like)
        stored = serialization.from_bytes(template, data)
        jax.tree.map(_check_shape, stored, template)
    except (ValueError, KeyError, TypeError) as err:
        raise CheckpointError(f"{state_path} does not match this learner: {err}") from err
    return _from_storable(stored, like), meta


def _check_shape(saved, template) -> None:
    if np.shape(saved) != np.shape(template):
        raise ValueError(f"shape {np.shape(saved)} != expected {np.shape(template)}")
