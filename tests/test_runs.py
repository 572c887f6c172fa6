"""The run writer, `trainee runs` and `trainee rerun`: every run kind gets a record and
an index row, and a rerun from the directory alone gives the same numbers."""

import json
import sqlite3
from pathlib import Path

import pytest

from trainee import runs, store
from trainee.cli import COMMANDS, main

TINY_HP = ("total_steps: 1024\n  num_envs: 8\n  num_steps: 16\n  update_epochs: 1\n"
           "  num_minibatches: 1\n  hidden: 16\n  lr: 0.001\n")


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """A train, a career (from a YAML file, deleted afterwards), a fleet and a study
    run, all in one directory (one database)."""
    root = tmp_path_factory.mktemp("runs")
    # the career's learner below (2 updates, 1 epoch, 1 minibatch): its init and chunk
    # programs are the train's (the compile logs showed each compiled twice when the train
    # ran 4 updates of 4 epochs x 4 minibatches)
    assert main(["train", "--world", "corridor", "--total-steps", "256", "--num-envs", "8",
                 "--num-steps", "16", "--hidden", "16", "--seeds", "2", "--num-tasks", "16",
                 "--update-epochs", "1", "--num-minibatches", "1",
                 "--out", str(root / "train")]) == 0
    assert main(["eval", "--run", str(root / "train"), "--split", "longer", "--num-tasks",
                 "4", "--episodes", "1"]) == 0
    career = root / "career.yaml"
    career.write_text("name: tiny\njobs:\n  - {name: near, world: corridor, steps: 256}\n"
                      "  - {name: far, world: corridor, split: longer, steps: 256}\n"
                      "hp:\n  hidden: 16\n")
    assert main(["career", str(career), "--seeds", "2", "--num-tasks", "16", "--eval-tasks", "4",
                 "--num-envs", "8", "--num-steps", "16", "--update-epochs", "1",
                 "--num-minibatches", "1", "--no-reference", "--out", str(root / "career")]) == 0
    career.unlink()  # the rerun must need only the run directory
    fleet = root / "fleet.yaml"
    # test_fleet.py's TINY fleet, whose programs the compilation cache serves
    fleet.write_text("preset: corridor\nmerge: none\ninstances: 2\nmerge_every: 4\npool_size: 4\n"
                     f"eval_tasks: 4\neval_episodes: 2\nseeds: 2\nhp:\n  {TINY_HP}")
    assert main(["fleet", str(fleet), "--out", str(root / "fleet"), "--quiet"]) == 0
    fleet.unlink()
    assert main(["run", "--scale", "tiny", "--studies", "gap", "--quiet",  # 5 seeds: the
                 # programs of the other tests' tiny gap runs
                 "--out", str(root / "study")]) == 0
    return root


def test_every_kind_is_recorded_and_listed(made, capsys):
    for name, kind in (("train", "train"), ("career", "career"), ("fleet", "fleet"),
                       ("study", "study")):
        record = runs.read_record(made / name)
        assert record["kind"] == kind and record["status"] == "done"
        assert record["environment"]["jax"] and record["environment"]["python"]
        if Path("/proc/cpuinfo").exists():  # the CPU, which can change the numbers
            assert record["environment"]["cpu_model"]
            assert "sse4_2" in record["environment"]["cpu_vector_flags"]
    career = runs.read_record(made / "career")["config"]
    assert [j["steps"] for j in career["career"]["jobs"]] == [256, 256]
    assert career["settings"]["seeds"] == 2 and career["settings"]["num_tasks"] == 16
    capsys.readouterr()
    assert main(["runs", "--db", str(made / "trainee.db"), "--json"]) == 0
    listed = {r["path"]: r for r in json.loads(capsys.readouterr().out)}
    for name, kind, worlds, seeds in (("train", "train", "corridor", 2),
                                      ("career", "career", "corridor", 2),
                                      ("fleet", "fleet", "corridor", 2),
                                      ("study", "study", "", 5)):
        row = listed[str((made / name).resolve())]
        assert (row["kind"], row["worlds"], row["seeds"], row["status"]) == (
            kind, worlds, seeds, "done")
    evaluation = listed[str((made / "train").resolve() / "eval-longer.json")]
    assert (evaluation["kind"], evaluation["worlds"]) == ("eval", "corridor")
    assert main(["runs", "--db", str(made / "trainee.db")]) == 0
    table = capsys.readouterr().out
    assert all(kind in table for kind in ("train", "eval", "career", "fleet", "study"))
    assert main(["runs", "--db", str(made / "trainee.db"), "--kind", "fleet", "--json"]) == 0
    assert [r["kind"] for r in json.loads(capsys.readouterr().out)] == ["fleet"]


@pytest.mark.parametrize("name", ["train", "career", "fleet", "study"])
def test_rerun_gives_the_same_numbers(made, name, capsys):
    out = made / f"{name}-again"
    assert main(["rerun", str(made / name), "--out", str(out)]) == 0
    assert "same numbers" in capsys.readouterr().out
    assert runs.read_record(out)["rerun_of"] == str((made / name).resolve())
    result = "studies/gap.json" if name == "study" else "summary.json"
    a, b = (json.loads((d / result).read_text()) for d in (made / name, out))
    key = {"train": "final_return", "career": "R", "fleet": "merged", "study": "result"}[name]
    assert a[key] == b[key]  # exactly: the same program on the same machine


@pytest.mark.slow
def test_fleet_sweep_is_recorded_and_reruns(tmp_path, capsys):
    from trainee.fleet.sweep import main as sweep_main

    config = tmp_path / "fleet.yaml"
    config.write_text("preset: corridor\ninstances: 2\nmerge_every: 4\npool_size: 4\n"
                      f"eval_tasks: 4\neval_episodes: 1\nhp:\n  {TINY_HP}")
    out = tmp_path / "sweep"
    assert sweep_main([str(config), "--rules", "mean", "--intervals", "2", "4", "--seeds", "1",
                       "--out", str(out)]) == 0
    config.unlink()
    record = runs.read_record(out)
    assert (record["kind"], record["status"], record["config"]["intervals"]) == (
        "fleet-sweep", "done", [2, 4])
    assert main(["rerun", str(out)]) == 0
    assert "same numbers" in capsys.readouterr().out
    a, b = (json.loads((d / "results.json").read_text()) for d in (out, tmp_path / "sweep-rerun"))
    assert a["rows"] == b["rows"] and a["reference"] == b["reference"]
    assert sweep_main([str(tmp_path / "nothing.yaml")]) == 2  # a one-line error


def test_rerun_reports_different_numbers(made, tmp_path, capsys):
    """The comparison can fail: a changed original is caught."""
    original = tmp_path / "train"
    original.mkdir()
    for file in ("record.json", "summary.json"):
        (original / file).write_text((made / "train" / file).read_text())
    summary = json.loads((original / "summary.json").read_text())
    summary["final_return"][0] += 1.0
    (original / "summary.json").write_text(json.dumps(summary))
    assert main(["rerun", str(original), "--out", str(tmp_path / "again")]) == 1
    assert "final_return[0]" in capsys.readouterr().out


def test_differing_numbers_skips_timings_only():
    a = {"x": [1.0, 2.0], "seconds": 3.0, "nested": {"y": 1}}
    assert runs.differing_numbers(a, {**a, "seconds": 9.0}) == []
    assert runs.differing_numbers(a, {**a, "x": [1.0, 2.5]}) == ["/x[1]"]
    assert runs.differing_numbers(a, {**a, "nested": {"y": 1, "z": 2}}) == ["/nested (keys differ)"]


def test_failed_run_is_recorded_as_failed(tmp_path):
    with pytest.raises(RuntimeError), runs.recorded_run(
            tmp_path / "r", "fleet", {}, worlds=["corridor"], learner="ppo", seeds=1):
        raise RuntimeError("boom")
    assert runs.read_record(tmp_path / "r")["status"] == "failed"
    (row,) = runs.list_runs(tmp_path / "trainee.db")
    assert (row["kind"], row["status"]) == ("fleet", "failed")


def test_old_database_gains_the_new_columns(tmp_path):
    db = tmp_path / "trainee.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE runs (run_dir TEXT PRIMARY KEY, created REAL NOT NULL, "
                 "world TEXT NOT NULL, learner TEXT NOT NULL, config TEXT NOT NULL, summary TEXT)")
    conn.execute("INSERT INTO runs VALUES ('/old', 1.0, 'corridor', 'ppo', '{}', NULL)")
    conn.commit()
    conn.close()
    store.connect(db).close()
    (row,) = runs.list_runs(db)
    assert (row["kind"], row["status"], row["path"]) == ("train", "done", "/old")


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as stop:
        main([command, "--help"])
    assert stop.value.code == 0
    assert "usage" in capsys.readouterr().out.lower()


@pytest.mark.parametrize(("args", "text", "message"), [
    (["fleet", "{f}"], "preset: corridor\nseeds: many\n", "field 'seeds' must be an int"),
    (["fleet", "{f}"], "preset: corridor\nhp: {lrr: 1}\n", "unknown fleet file"),
    (["fleet", "{f}"], "preset: nowhere\n", "unknown preset 'nowhere'"),
    (["career", "{f}"], "jobs: [{name: a, world: corridor, steps: lots}]\n",
     "job 0 field 'steps' must be an int"),
    (["career", "{f}"], "jobs: [{name: a, world: corridor}]\nhp: {hidden: wide}\n",
     "hp field 'hidden' must be an int"),
    (["career", "{f}"], "jobs: [{name: a, wrld: corridor}]\n", "unknown career file"),
    (["train", "--config", "{f}"], "seeds: [1, 2]\n", "field 'seeds' must be an int"),
    (["rerun", "{d}"], "", "holds no run record"),
])
def test_bad_config_is_one_line(args, text, message, tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    args = [a.format(f=path, d=tmp_path) for a in args]
    assert main([*args, "--out", str(tmp_path / "out")] if args[0] != "rerun" else args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("trainee: error: ") and message in err[0], err


def test_an_evaluation_reruns_from_its_file(made, capsys):
    """`trainee rerun` takes the path `trainee runs` lists for an eval: the same agent,
    settings and keys give the same records; a file without settings is a one-line error."""
    original = made / "train" / "eval-longer.json"
    stored = json.loads(original.read_text())
    assert stored["config"]["num_tasks"] == 4 and stored["config"]["episodes"] == 1
    out = made / "eval-again.json"
    assert main(["rerun", str(original), "--out", str(out)]) == 0
    assert "same numbers" in capsys.readouterr().out
    again = json.loads(out.read_text())
    assert again["records"] == stored["records"] and again["success"] == stored["success"]
    changed = made / "eval-changed.json"
    changed.write_text(json.dumps({**stored, "success": [s + 0.5 for s in stored["success"]]}))
    assert main(["rerun", str(changed), "--out", str(made / "eval-changed-again.json")]) == 1
    (made / "summary-copy.json").write_text("{}")
    assert main(["rerun", str(made / "summary-copy.json")]) == 2
    assert capsys.readouterr().err.strip().count("\n") == 0
