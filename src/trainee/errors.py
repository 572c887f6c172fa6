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
    """The exception types that mean "the input was wrong", not "trainee is broken"."""
    from trainee.checkpoint import CheckpointError
    from trainee.exam import BudgetExhausted, ExamError
    from trainee.store import StoreError

    return (ExamError, BudgetExhausted, ValueError, FileNotFoundError, FileExistsError,
            CheckpointError, StoreError, ImportError, NotImplementedError)


def run_command(fn: Callable[[list[str]], object], args: list[str], prog: str = "trainee",
                interrupted: str = "rerun the same command with --resume to continue") -> int:
    """`fn(args)` with bad input as one line and exit 2, Ctrl-C as one line and 130; else
    `fn`'s own exit code (an int it returns) or 0."""
    errors = user_errors()
    try:
        code = fn(args)
    except errors as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: interrupted; {interrupted}", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `trainee ... | head` closed our stdout: not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error
        return 0
    return code if isinstance(code, int) else 0
