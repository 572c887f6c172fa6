"""Checkpoints: a train state (any pytree) and its description in one file.

`checkpoint.ckpt` is one atomic unit: a magic line, the length of a JSON header, the
header (which config and update the state belongs to), the state as msgpack bytes, and
the sha256 of everything before it. It is written to a temporary file and renamed into place in
one step, so a kill at any moment leaves either the previous checkpoint or the new one,
never a state without its description (two files renamed one after the other could be
caught between the renames). A resume with a different config, or a truncated or corrupt
file, is refused with a readable `CheckpointError` instead of a traceback.
"""

from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path
from typing import Any

import jax
import numpy as np
from flax import serialization

from trainee.store import atomic_write_bytes

STATE_FILE = "checkpoint.ckpt"
MAGIC = b"trainee checkpoint 1\n"


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
    """Write the state and its description `meta` as one file, atomically."""
    data = serialization.to_bytes(_to_storable(state))
    header = json.dumps(meta).encode()
    blob = MAGIC + struct.pack("<Q", len(header)) + header + data
    atomic_write_bytes(Path(run_dir) / STATE_FILE, blob + hashlib.sha256(blob).digest())


def read(run_dir: Path) -> tuple[dict, bytes]:
    """The description and the payload of the checkpoint in `run_dir`, checked whole."""
    path = Path(run_dir) / STATE_FILE
    if not path.exists():
        raise CheckpointError(f"no checkpoint in {run_dir}; train without --resume first")
    try:
        blob = path.read_bytes()
    except OSError as err:
        raise CheckpointError(f"cannot read {path}: {err.strerror or err}") from err
    start = len(MAGIC) + 8
    if not blob.startswith(MAGIC) or len(blob) < start + 32:
        raise CheckpointError(f"{path} is not a trainee checkpoint (or is truncated); "
                              f"delete {run_dir} and train again")
    blob, digest = blob[:-32], blob[-32:]
    (size,) = struct.unpack("<Q", blob[len(MAGIC):start])
    try:
        meta = json.loads(blob[start:start + size]) if hashlib.sha256(blob).digest() == digest \
            else None
    except ValueError:
        meta = None
    if not isinstance(meta, dict):
        raise CheckpointError(
            f"{path} is corrupt (checksum mismatch); delete {run_dir} and train again")
    data = blob[start + size:]
    return meta, data


def load(run_dir: Path, like: Any, expected_config_hash: str,
         identity: dict | None = None) -> tuple[Any, dict]:
    """Restore a state shaped like `like`; check it belongs to this config (`identity`,
    if given, names the fields that differ from the checkpoint's `meta["identity"]`)."""
    meta, data = read(run_dir)
    if meta.get("config_hash") != expected_config_hash:
        differ = differing_fields(meta.get("identity"), identity)
        what = f" ({', '.join(differ)} differ)" if differ else ""
        raise CheckpointError(
            f"the checkpoint in {run_dir} was made with a different config{what}; "
            "resume with the run's own config (omit other flags) or use a new --out")
    try:
        template = _to_storable(like)
        stored = serialization.from_bytes(template, data)
        jax.tree.map(_check_shape, stored, template)
    except (ValueError, KeyError, TypeError) as err:
        raise CheckpointError(
            f"{Path(run_dir) / STATE_FILE} does not match this learner: {err}") from err
    return _from_storable(stored, like), meta


def differing_fields(a: Any, b: Any, prefix: str = "") -> list[str]:
    """The (dotted) names of the fields whose values differ between two identities."""
    if not isinstance(a, dict) or not isinstance(b, dict):
        return [prefix] if prefix and a != b else []
    return [d for k in sorted(set(a) | set(b))
            for d in differing_fields(a.get(k), b.get(k), f"{prefix}{k}" if not prefix
                                      else f"{prefix}.{k}")]


def _check_shape(saved, template) -> None:
    if np.shape(saved) != np.shape(template):
        raise ValueError(f"shape {np.shape(saved)} != expected {np.shape(template)}")
