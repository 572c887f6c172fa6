"""The exam key: 32 random bytes in a file outside the results database and outside the
folder that holds the runs and their shareable reports.

Default place: `$XDG_DATA_HOME/trainee/exam-keys/<database id>.key` (else
`~/.local/share/trainee/...`), created with mode 0600 in a 0700 directory; or a path the
user names (`key_path=`, `$TRAINEE_EXAM_KEY`). The database stores only the key's
fingerprint, so a database without its key cannot rebuild any holdout, and a wrong key
is refused rather than silently drawing a different one.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import stat
from pathlib import Path

from trainee.exam.errors import ExamError

KEY_ENV = "TRAINEE_EXAM_KEY"
KEY_BYTES = 32


def data_dir() -> Path:
    """trainee's per-user data directory (XDG base directory spec)."""
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "trainee"


def resolve_key_path(db_path: Path, db_id: str, key_path: Path | str | None = None) -> Path:
    """Where the key of the database `db_path` (id `db_id`) lives; refused inside the
    database's folder, which holds the runs and the reports people share."""
    chosen = key_path or os.environ.get(KEY_ENV) or data_dir() / "exam-keys" / f"{db_id}.key"
    path = Path(chosen).expanduser().resolve()
    folder = Path(db_path).resolve().parent
    if path.is_relative_to(folder):
        raise ExamError(f"the exam key {path} would sit inside {folder}, beside the results "
                        "database and the runs (a folder people share): name a path outside it")
    return path


def fingerprint(key: bytes) -> str:
    """A public id of the key (SHA-256 of a tagged key: reveals nothing about it)."""
    return hashlib.sha256(b"trainee-exam-key-id\0" + key).hexdigest()[:16]


def create_key(path: Path) -> bytes:
    """A fresh key at `path` (owner-only), or the key already there."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = secrets.token_bytes(KEY_BYTES)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return load_key(path)
    with os.fdopen(fd, "w") as handle:
        handle.write(key.hex() + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return key


def load_key(path: Path) -> bytes:
    if not path.is_file():
        raise ExamError(f"no exam key at {path}: without the key that sealed this database "
                        "no holdout can be rebuilt. Name its path (key_path / --key / "
                        f"${KEY_ENV}), or reseal with a new key on a new database")
    info = path.stat()
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO) or info.st_uid != os.getuid():
        raise ExamError(f"the exam key {path} is readable by others (mode "
                        f"{stat.filemode(info.st_mode)}) or not yours: chmod 600 {path}")
    try:
        key = bytes.fromhex(path.read_text().strip())
    except ValueError:
        key = b""
    if len(key) != KEY_BYTES:
        raise ExamError(f"{path} is not an exam key ({KEY_BYTES} bytes as hex)")
    return key
