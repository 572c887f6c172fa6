"""What several subcommands share: `--config FILE`, tyro parsing, the run-table print."""

from __future__ import annotations

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
    """`tyro.cli` for `trainee COMMAND`: `--help` shows the config's docstrings."""
    return tyro.cli(cls, args=args, prog=f"trainee {command}", default=default,
                    description=description)


def new_run_dir(original: Path) -> Path:
    """`DIR-rerun`, `DIR-rerun2`, ...: the first that does not exist yet."""
    original = Path(original)
    for i in range(1, 1000):
        path = original.with_name(f"{original.name}-rerun{'' if i == 1 else i}")
        if not path.exists():
            return path
    raise FileExistsError(f"too many reruns beside {original}; pass --out")
