"""The `trainee` command: one module per subcommand (`trainee.cli.<name>`), each with a
frozen `*Config` dataclass parsed by tyro, so `trainee <command> --help` shows every
field with its docstring, and a `main(args)`.

Bad input (unknown world, bad field, missing file, corrupt checkpoint, ...) ends with a
one-line `trainee: error: ...` naming the problem and the fix, and exit code 2
(`trainee.errors`); `trainee --debug COMMAND ...` shows the traceback instead. The
command layer is the top: nothing in the library imports it.
"""

from __future__ import annotations

import importlib
import sys

# name -> (module in trainee.cli, one line of help); the order is `trainee --help`'s.
COMMANDS = {
    "run": ("run", "run the main job: every study at quick scale, one HTML report (resumable)"),
    "study": ("study", "run one study (trainee study NAME) into a run directory"),
    "report": ("report", "re-render RUN_DIR/report.html from stored results (no training)"),
    "train": ("train", "train a learner on a world (S seeds at once)"),
    "eval": ("evaluate", "evaluate a trained run on a split"),
    "worlds": ("worlds", "list worlds, their splits and shift axes"),
    "career": ("career", "run a career of jobs: forgetting, transfer, plasticity (--list)"),
    "fleet": ("fleet", "train a fleet of instances on different jobs, merged (mean/ties/diloco)"),
    "exam": ("exam", "the sealed exam: status | query --run DIR | reseal | final --run DIR"),
    "show": ("show", "render an episode of a world (oracle or a trained run) to a GIF"),
    "runs": ("runs", "list the runs in the results database (kind, worlds, seeds, status)"),
    "rerun": ("rerun", "repeat a run from its directory alone and check the numbers agree"),
}


def usage() -> str:
    lines = ["usage: trainee [--debug] COMMAND [--help] [options]", "", "commands:"]
    lines += [f"  {name:<8} {text}" for name, (_, text) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    debug = "--debug" in argv[:1]  # `trainee --debug COMMAND ...`: tracebacks shown
    argv = argv[1:] if debug else argv
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        return 0
    command, args = argv[0], argv[1:]
    if command not in COMMANDS:
        print(f"trainee: error: unknown command {command!r}\n{usage()}", file=sys.stderr)
        return 2
    from trainee.errors import run_command
    from trainee.runtime import enable_compilation_cache

    enable_compilation_cache()
    module = importlib.import_module(f"trainee.cli.{COMMANDS[command][0]}")
    return run_command(module.main, args, debug=debug)


if __name__ == "__main__":
    sys.exit(main())
