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


def _tyro_message(text: str) -> str:
    """The first line of tyro's error box that says what is wrong."""
    lines = [line.strip(" │╮╰╯─\t") for line in text.splitlines()]
    lines = [line for line in lines if not line.startswith("╭")]  # the box's title
    lines = [line for line in lines if line and not line.startswith(("For full helptext",
                                                                      "Value error"))]
    return lines[0] if lines else "cannot parse the arguments"


def new_run_dir(original: Path) -> Path:
    """`DIR-rerun`, `DIR-rerun2`, ...: the first that does not exist yet."""
    original = Path(original)
    for i in range(1, 1000):
        path = original.with_name(f"{original.name}-rerun{'' if i == 1 else i}")
        if not path.exists():
            return path
    raise FileExistsError(f"too many reruns beside {original}; pass --out")
