"""Every command in README.md works on a fresh machine: the slow test makes a new virtual
environment, installs the checkout as the README says and runs each command (and the
Python example) in order, in an empty directory. The default-suite test keeps the list
below in step with the README, so a command added there cannot go untested."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"

# Each README command line -> the shell commands the slow test runs for it: the line
# itself, or the concrete form of a line with a placeholder (`...`, DIR, <command>).
# `{repo}` is the checkout; commands run in order, in one scratch directory.
SUBCOMMANDS = ("run", "study", "report", "train", "eval", "worlds", "show", "career",
               "fleet", "exam", "runs", "rerun")
RUN_AS: dict[str, list[str]] = {
    "pip install -e . && trainee run": ["pip install -e {repo}", "trainee run"],
    # the suite itself would recurse here: collecting it proves the test tools installed
    # and every test module imports
    'pip install -e ".[dev]" && python -m pytest': [
        'pip install -e "{repo}[dev]"', "python -m pytest --collect-only -q {repo}/tests"],
    "trainee run": ["trainee run"],  # run again: every study is read back, not recomputed
    "trainee run --studies gap,jaggedness": ["trainee run --studies gap,jaggedness"],
    "trainee run --workers 1": ["trainee run --workers 1"],  # read back, as above
    "trainee study care": ["trainee study care"],
    "trainee report runs/quick": ["trainee report runs/quick"],
    "trainee worlds": ["trainee worlds"],
    "trainee train --world gymnax:CartPole-v1 --learner ppo --total-steps 500000 --seeds 4 "
    "--out runs/cp": ["trainee train --world gymnax:CartPole-v1 --learner ppo --total-steps "
                      "500000 --seeds 4 --out runs/cp"],
    "trainee train --config my.yaml --lr 1e-3": [
        "printf 'world: corridor\\ntotal_steps: 16384\\nout: runs/my\\n' > my.yaml",
        "trainee train --config my.yaml --lr 1e-3"],
    "trainee train ... --out runs/cp --resume": [
        "trainee train --world gymnax:CartPole-v1 --learner ppo --total-steps 500000 "
        "--seeds 4 --out runs/cp --resume"],
    "trainee train ... --seeds 8 --executor ray": [
        "trainee train --world corridor --total-steps 16384 --seeds 8 --executor ray "
        "--out runs/ray"],
    "trainee eval --run runs/cp --split train": ["trainee eval --run runs/cp --split train"],
    "trainee show corridor --split longer --out ep.gif": [
        "trainee show corridor --split longer --out ep.gif", "test -s ep.gif"],
    "trainee <command> --help": [f"trainee {name} --help" for name in SUBCOMMANDS],
    "trainee career --list": ["trainee career --list"],
    "trainee career errands --intervention replay --seeds 5 --out runs/career": [
        "trainee career errands --intervention replay --seeds 5 --out runs/career"],
    "trainee fleet corridor --merge diloco --instances 4 --seeds 5 --out runs/fleet": [
        "trainee fleet corridor --merge diloco --instances 4 --seeds 5 --out runs/fleet"],
    "trainee exam status | query --run DIR | reseal | final --run DIR": [
        # runs/my: corridor (CartPole, runs/cp, has no held-out split to examine)
        "trainee exam status", "trainee exam query --run runs/my",
        "trainee exam reseal --reason 'README check'", "trainee exam final --run runs/my"],
    "trainee runs": ["trainee runs", "trainee runs --json"],
    "trainee rerun runs/my --out runs/my-again": ["trainee rerun runs/my --out runs/my-again"],
}


def readme_commands() -> list[str]:
    """Every command line of the README's bash blocks, its trailing comment dropped."""
    blocks = re.findall(r"```bash\n(.*?)```", README.read_text(), re.S)
    lines = [re.sub(r"\s+#.*$", "", line).strip() for b in blocks for line in b.splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def readme_python() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


def test_every_readme_command_is_run_by_the_fresh_install_test():
    commands = readme_commands()
    assert commands, "no bash block found in README.md"
    assert set(commands) == set(RUN_AS), (
        f"README commands without a concrete form here: {sorted(set(commands) - set(RUN_AS))}; "
        f"forms of commands no longer in the README: {sorted(set(RUN_AS) - set(commands))}")


@pytest.mark.slow
def test_readme_commands_pass_in_a_fresh_venv(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    # as a new user: the default database (runs/trainee.db in the working directory) and
    # a data directory of their own, outside it (the exam refuses a key beside the runs)
    env = dict(os.environ, PATH=f"{venv / 'bin'}:{os.environ['PATH']}", VIRTUAL_ENV=str(venv),
               RAY_USAGE_STATS_ENABLED="0", XDG_DATA_HOME=str(tmp_path / "data"), PYTHONPATH="")
    for name in ("TRAINEE_DB", "TRAINEE_EXAM_KEY"):
        env.pop(name, None)
    work = tmp_path / "work"
    work.mkdir()
    for line in readme_commands():
        for command in RUN_AS[line]:
            done = subprocess.run(command.format(repo=REPO), shell=True, cwd=work, env=env,
                                  capture_output=True, text=True)
            assert done.returncode == 0, f"{command!r} failed:\n{done.stdout}\n{done.stderr}"
    for number, code in enumerate(readme_python()):
        script = work / f"readme_{number}.py"
        script.write_text(code)
        done = subprocess.run(["python", str(script)], cwd=work, env=env, capture_output=True,
                              text=True)
        assert done.returncode == 0, f"README's Python example failed:\n{done.stderr}"
