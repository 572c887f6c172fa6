"""What several subcommands share: `--config FILE`, tyro parsing, the run-table print."""

from __future__ import annotations

import contextlib
import io
import sys
from pathlib import Path

import tyro


def split_config_flag(args: list[str]) -> tuple[Path | None, list[str]]:
    """Take `--config FILE` (or `--config=FILE`) out of the arguments."""
    rest, path = [], None
    it = iter(args)
    for arg in it:
        if arg == "--config":
            path = next(it, None)
            if path is None:
                raise ValueError("--config needs a file path: --config run.yaml")
            path = Path(path)
        elif arg.startswith("--config="):
            path = Path(arg.split("=", 1)[1])
        else:
            rest.append(arg)
    return path, rest


def parse(cls: type, args: list[str], command: str, default=None, description: str | None
          = None):
    """`tyro.cli` for `trainee COMMAND`: `--help` shows the config's docstrings. A flag tyro
    refuses, or a value the config's `validate()` refuses, is a one-line ValueError."""
    from trainee.configs import validate

    captured = io.StringIO()
    try:
        with contextlib.redirect_stderr(captured):
            config = tyro.cli(cls, args=args, prog=f"trainee {command}", default=default,
                              description=description)
    except SystemExit as exit_:
        if exit_.code in (0, None):  # --help
            sys.stderr.write(captured.getvalue())
            raise
        raise ValueError(f"{_tyro_message(captured.getvalue())}; see trainee {command} "
                         "--help") from None
    sys.stderr.write(captured.getvalue())  # tyro's warnings, if any
    validate(config)
    return config


_RULE = set("─━-+╭╮╰╯")


def _tyro_message(text: str) -> str:
    """What tyro's error box says is wrong: its first section (after the title and its
    rule, up to the next rule), joined into one line. tyro draws the box in Unicode, or
    with no box at all and ASCII rules, depending on the terminal."""
    lines = [line.strip().strip("│|").strip() for line in text.strip().splitlines()[1:]]
    body: list[str] = []
    for line in (line for line in lines if line):
        if set(line) <= _RULE:
            if body:
                break
            continue  # the rule under the title
        body.append(line)
    return " ".join(body) or "cannot parse the arguments"


def new_run_dir(original: Path) -> Path:
    """`DIR-rerun`, `DIR-rerun2`, ...: the first that does not exist yet."""
    original = Path(original)
    for i in range(1, 1000):
        path = original.with_name(f"{original.name}-rerun{'' if i == 1 else i}")
        if not path.exists():
            return path
    raise FileExistsError(f"too many reruns beside {original}; pass --out")
