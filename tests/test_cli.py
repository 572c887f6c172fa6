"""The CLI: a tiny end-to-end run, and a one-line error for every bad input."""

import json

import pytest

from trainee.cli import main

# tests/test_runs.py's train and eval (its module fixture runs early in the suite), so the
# compilation cache serves their programs
TRAIN = ["--world", "corridor", "--total-steps", "256", "--num-envs", "8", "--num-steps", "16",
         "--hidden", "16", "--seeds", "2", "--num-tasks", "16", "--update-epochs", "1",
         "--num-minibatches", "1"]


def test_train_eval_show_end_to_end(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", *TRAIN, "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    for key in ("final_return", "steps_per_second", "compile_seconds"):
        assert key in summary
    assert len(summary["final_return"]) == 2
    assert main(["eval", "--run", str(out), "--split", "longer", "--num-tasks", "4",
                 "--episodes", "1"]) == 0
    result = json.loads((out / "eval-longer.json").read_text())
    assert len(result["success"]) == 2
    assert main(["worlds"]) == 0
    assert "corridor" in capsys.readouterr().out


def test_config_file_sets_fields_and_flags_override(tmp_path):
    config = tmp_path / "c.yaml"
    # TRAIN's shapes (the flag makes the seeds 2), so the compilation cache serves its programs
    config.write_text("world: corridor\ntotal_steps: 256\nnum_envs: 8\nnum_steps: 16\n"
                      "hidden: 16\nupdate_epochs: 1\nnum_minibatches: 1\nseeds: 1\n"
                      "num_tasks: 16\nlr: 0.01\n")
    out = tmp_path / "run"
    assert main(["train", "--config", str(config), "--seeds", "2", "--out", str(out)]) == 0
    stored = json.loads((out / "config.json").read_text())
    assert stored["seeds"] == 2 and stored["hp"]["lr"] == 0.01


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "--world", "nowhere"], "unknown world 'nowhere'"),
        (["train", "--learner", "ppo", "--total-steps", "-3"],
         "total_steps (--total-steps) must be an integer in [1, "),
        (["train", "--config", "/no/such.yaml"], "not found"),
        (["eval", "--run", "/no/such/run"], "does not exist"),
        (["show", "corridor", "--split", "nope"], "unknown split 'nope'"),
        (["frobnicate"], "unknown command"),
    ],
)
def test_bad_input_gives_one_line_error(args, message, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_bad_config_file_fields(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("lrr: 3\n")
    assert main(["train", "--config", str(bad)]) == 2
    assert "unknown config field 'lrr'" in capsys.readouterr().err
    bad.write_text("lr: fast\n")
    assert main(["train", "--config", str(bad)]) == 2
    assert "must be a float" in capsys.readouterr().err
    bad.write_text("[not: a: mapping")
    assert main(["train", "--config", str(bad)]) == 2
    assert "cannot read config file" in capsys.readouterr().err


def test_unknown_learner_is_refused(capsys):
    # any string parses (a learner may be `file.py:factory`); resolving it is one line
    assert main(["train", "--learner", "sarsa", "--out", "/nonexistent/never-made"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "sarsa" in err[0]


def test_exam_commands(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", *TRAIN, "--out", str(out)]) == 0
    assert main(["exam", "query", "--run", str(out)]) == 0
    assert '"budget_left"' in capsys.readouterr().out
    assert main(["exam", "final", "--run", str(out)]) == 0
    assert main(["exam", "final", "--run", str(out)]) == 2
    assert "already taken" in capsys.readouterr().err
    assert main(["exam", "status", "--db", str(tmp_path / "trainee.db")]) == 0
    assert main(["exam", "query"]) == 2
    assert "needs --run" in capsys.readouterr().err


def _trainee_imports(path) -> set[str]:
    """Every `trainee...` module name a file imports, at the top or inside functions."""
    import ast

    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return {name for name in found if name.startswith("trainee")}


def test_layers_import_downwards_only():
    """Nothing below the commands imports a command module; the runtime layer imports no
    other trainee module (except the package itself, for its version)."""
    from pathlib import Path

    import trainee

    src = Path(trainee.__file__).parent
    for path in src.rglob("*.py"):
        rel = path.relative_to(src).as_posix()
        imports = _trainee_imports(path)
        if not rel.startswith("cli/"):
            assert not [m for m in imports if m.startswith("trainee.cli")], rel
        if rel.startswith("runtime/"):
            assert all(m.startswith("trainee.runtime") or m == "trainee"
                       for m in imports), (rel, imports)
