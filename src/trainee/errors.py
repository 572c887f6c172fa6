"""Bad user input ends a command with one line, `PROG: error: ...`, and exit code 2.

Which exceptions count as bad input (an unknown world, a bad field, a missing file, a
corrupt checkpoint, a spent exam budget, Ray not installed, ...) is decided here once,
for the `trainee` command and for the scripts (`python -m trainee.careers.compare`,
`python -m trainee.fleet.sweep`)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable


def user_errors() -> tuple[type[BaseException], ...]:
    """The exception types that mean "the input was wrong", not "trainee is broken":
    bad values, missing or unreadable files (any `OSError`: no permission, a full disk,
    a directory where a file should be), a corrupt results database (`sqlite3.Error`)."""
    import sqlite3

    from trainee.checkpoint import CheckpointError
    from trainee.exam import BudgetExhausted, ExamError
    from trainee.store import StoreError

    return (ExamError, BudgetExhausted, ValueError, OSError, sqlite3.Error, CheckpointError,
            StoreError, ImportError, NotImplementedError)


def one_line(err: BaseException) -> str:
    """The error as one line a user can act on."""
    import sqlite3

    if isinstance(err, OSError) and err.strerror and str(err).startswith("[Errno"):
        where = err.filename if err.filename is not None else "a file"
        text = f"cannot use {where}: {err.strerror}; check the path, its permissions and " \
               "the free space"
    elif isinstance(err, sqlite3.Error):
        text = f"results database: {err} (a trainee.db that is not a SQLite file, or " \
               "unwritable); pass another --db or set TRAINEE_DB"
    else:
        text = str(err) or type(err).__name__
    return " ".join(text.split())  # newlines from a wrapped library message, flattened


def run_command(fn: Callable[[list[str]], object], args: list[str], prog: str = "trainee",
                interrupted: str = "rerun the same command with --resume to continue",
                debug: bool = False) -> int:
    """`fn(args)` with bad input as one line and exit 2, Ctrl-C as one line and 130; else
    `fn`'s own exit code (an int it returns) or 0. `debug` (`trainee --debug ...` or
    TRAINEE_DEBUG=1): bad input raises with its traceback instead."""
    debug = debug or os.environ.get("TRAINEE_DEBUG", "") not in ("", "0")
    errors = user_errors()
    try:
        code = fn(args)
    except BrokenPipeError:  # `trainee ... | head` closed our stdout: not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error
        return 0
    except errors as err:
        if debug:
            raise
        print(f"{prog}: error: {one_line(err)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        if debug:
            raise
        print(f"{prog}: interrupted; {interrupted}", file=sys.stderr)
        return 130
    return code if isinstance(code, int) else 0
