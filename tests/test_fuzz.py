"""Property-based fuzzing of every command's bad input (issue 16): config files (YAML and
JSON: wrong types, NaN/inf, out-of-range numbers, unknown keys, bad nesting, a file that
is not a mapping) and command-line arguments of train, career, fleet, run, study, eval
and exam.

For each generated bad input the `trainee` entry point is called in-process and must:
return exit code 2, print exactly one line (`trainee: error: ...`) and no traceback,
never reach the start of a run (`runs.begin_run` is replaced by a tripwire: an invalid
value that gets that far was silently accepted), and leave every existing file in the
sandbox (a finished-looking run, a results database) byte-for-byte unchanged.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import math
import os
import typing
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trainee import runs
from trainee.cli import main
from trainee.fleet.config import RANGES as FLEET_RANGES
from trainee.learners.config import RANGES as LEARNER_RANGES
from trainee.learners.config import LearnerConfig
from trainee.train import RANGES as TRAIN_RANGES
from trainee.train import TrainConfig

FUZZ = settings(max_examples=40, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])
FIELD_TYPES = {**typing.get_type_hints(LearnerConfig), **typing.get_type_hints(TrainConfig)}
TINY = {"total_steps": 1024, "num_envs": 4, "num_steps": 32, "num_tasks": 8}


class Accepted(BaseException):
    """Raised where a run would start: the input under test was accepted."""


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    """A working directory with an existing run and database that no input may change."""
    existing = tmp_path / "existing"
    existing.mkdir()
    (existing / "record.json").write_text(json.dumps({"kind": "train", "status": "done"}))
    (existing / "summary.json").write_text(json.dumps({"final_return": [1.0]}))
    (tmp_path / "corrupt.db").write_text("not a database\n")
    (tmp_path / "inputs").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TRAINEE_DB", str(tmp_path / "trainee.db"))
    monkeypatch.setenv("TRAINEE_EXAM_KEY", str(tmp_path / "exam.key"))

    def tripwire(*args, **kwargs):
        raise Accepted(f"a run started: {args[:2]}")

    monkeypatch.setattr(runs, "begin_run", tripwire)
    return tmp_path


def snapshot(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and "inputs" not in p.parts}


REFUSED: list[list[str]] = []  # every bad input refused in this session (for the count)


def refused(root: Path, argv: list[str]) -> str:
    """Run `trainee argv`; assert it was refused cleanly; return the error line."""
    before = snapshot(root)
    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        try:
            code = main(argv)
        except SystemExit as exit_:
            code = exit_.code
        except Accepted as accepted:
            pytest.fail(f"silently accepted {argv}: {accepted}")
    lines = err.getvalue().strip().splitlines()
    assert code == 2, (argv, code, err.getvalue())
    assert "Traceback" not in err.getvalue() + out.getvalue(), argv
    assert len(lines) == 1 and lines[0].startswith("trainee: error: "), (argv, lines)
    assert snapshot(root) == before, f"{argv} changed files"
    REFUSED.append([*argv, *(Path(a).read_text() for a in argv if Path(a).is_file())])
    if os.environ.get("TRAINEE_FUZZ_SHOW"):
        print(lines[0][:150])
    return lines[0]


# ---- values that no field may take -------------------------------------------------

def out_of_range(bound) -> st.SearchStrategy:
    """Numbers outside `bound` (a configs.Range), and the non-finite ones."""
    options = [st.sampled_from([math.nan, math.inf, -math.inf])]
    if bound.low is not None:
        low = bound.low
        options.append(st.just(low) if bound.low_open else st.nothing())
        options.append(st.floats(low - 1e6, low, exclude_max=True).map(
            lambda x, low=low: int(x) if float(low).is_integer() and int(x) < low else x))
    if bound.high is not None:
        high = bound.high
        options.append(st.just(high) if bound.high_open else st.nothing())
        options.append(st.integers(int(high) + 1, int(high) * 1000 + 10))
    return st.one_of(*options)


WRONG_TYPES = st.one_of(st.text(alphabet="abcxyz", min_size=1, max_size=6),
                        st.lists(st.integers(0, 3), max_size=3),
                        st.dictionaries(st.sampled_from("ab"), st.integers(), max_size=2),
                        st.booleans())
NOT_A_NAME = st.text(alphabet="qxzj_", min_size=2, max_size=8).map(lambda s: "zz" + s)
NAMED = {"world": NOT_A_NAME, "split": NOT_A_NAME, "learner": NOT_A_NAME,
         "network": NOT_A_NAME, "activation": NOT_A_NAME, "executor": NOT_A_NAME}


def bad_field(ranges: dict) -> st.SearchStrategy:
    """(field, bad value) for a ranged field: out of range or of the wrong type."""
    return st.sampled_from(sorted(ranges)).flatmap(
        lambda name: st.tuples(st.just(name), st.one_of(out_of_range(ranges[name]),
                                                       WRONG_TYPES)))


TRAIN_FIELD = st.one_of(bad_field({**LEARNER_RANGES, **TRAIN_RANGES}),
                        st.sampled_from(sorted(NAMED)).flatmap(
                            lambda n: st.tuples(st.just(n), NAMED[n])),
                        st.tuples(NOT_A_NAME, st.integers()))  # an unknown key


def write(root: Path, values, fmt: str) -> str:
    path = root / "inputs" / f"config.{fmt}"
    path.write_text(json.dumps(values) if fmt == "json" else yaml.safe_dump(values))
    return str(path)


# ---- config files ------------------------------------------------------------------

@FUZZ
@given(field=TRAIN_FIELD, nested=st.booleans(), fmt=st.sampled_from(["yaml", "json"]))
def test_train_config_files(sandbox, field, nested, fmt):
    name, value = field
    values = dict(TINY)
    learner = name in LEARNER_RANGES or name in ("learner", "network", "activation")
    if nested and learner:
        values["hp"] = {name: value}
    else:
        values[name] = value
    refused(sandbox, ["train", "--config", write(sandbox, values, fmt)])


@settings(FUZZ, max_examples=20)
@given(shape=st.one_of(st.lists(st.integers(), max_size=3), st.integers(), st.text(max_size=5),
                       st.none(), st.fixed_dictionaries({"hp": WRONG_TYPES.filter(
                           lambda v: not isinstance(v, dict))})),
       fmt=st.sampled_from(["yaml", "json"]), command=st.sampled_from(["train", "fleet"]))
def test_config_files_of_the_wrong_shape(sandbox, shape, fmt, command):
    path = write(sandbox, shape, fmt)
    refused(sandbox, ["train", "--config", path] if command == "train" else ["fleet", path])


@FUZZ
@given(field=st.one_of(bad_field(FLEET_RANGES), bad_field(LEARNER_RANGES).map(
    lambda f: ("hp", {f[0]: f[1]})), st.tuples(st.just("merge"), NOT_A_NAME),
    st.tuples(st.just("preset"), NOT_A_NAME), st.tuples(NOT_A_NAME, st.integers())),
    fmt=st.sampled_from(["yaml", "json"]))
def test_fleet_files(sandbox, field, fmt):
    refused(sandbox, ["fleet", write(sandbox, dict([field]), fmt)])


JOB = {"name": "a", "world": "corridor", "split": "train", "steps": 1024}
JOB_FIELD = st.one_of(
    st.tuples(st.just("steps"), st.one_of(st.integers(max_value=0), st.integers(10**12 + 1),
                                          WRONG_TYPES.filter(lambda v: not isinstance(v, bool)),
                                          st.floats(allow_nan=True))),
    st.tuples(st.just("world"), NOT_A_NAME), st.tuples(st.just("split"), NOT_A_NAME),
    st.tuples(st.just("controls"), st.integers(max_value=-1)),
    st.tuples(NOT_A_NAME, st.integers()))


@settings(FUZZ, max_examples=30)
@given(change=st.one_of(
    JOB_FIELD.map(lambda f: {"jobs": [{**JOB, f[0]: f[1]}]}),
    bad_field({k: v for k, v in LEARNER_RANGES.items() if k != "total_steps"}).map(
        lambda f: {"jobs": [JOB], "hp": {f[0]: f[1]}}),
    WRONG_TYPES.map(lambda v: {"jobs": v}), WRONG_TYPES.filter(
        lambda v: not isinstance(v, dict)).map(lambda v: {"jobs": [JOB], "hp": v}),
    st.just({"jobs": []}), st.just({"jobs": [JOB], "extra": 1})),
    fmt=st.sampled_from(["yaml", "json"]))
def test_career_files(sandbox, change, fmt):
    refused(sandbox, ["career", write(sandbox, change, fmt), "--seeds", "1"])


# ---- command-line arguments --------------------------------------------------------

def flag_value(ranges: dict) -> st.SearchStrategy:
    """[--flag, bad value] for a ranged field, as a user would type it."""
    text = st.one_of(out_of_range_text(), st.text(alphabet="abc,.-", min_size=1, max_size=5))
    return st.tuples(st.sampled_from(sorted(ranges)), text).map(
        lambda f: [f"--{f[0].replace('_', '-')}", f[1]])


def out_of_range_text() -> st.SearchStrategy:
    return st.sampled_from(["nan", "inf", "-inf", "-1", "0", "-0.5", "1e400", "10" * 12,
                            "1.5.2", "", "0x"])


def refused_or_valid_arg(ranges: dict, value: str, name: str) -> bool:
    """Whether `value` for field `name` is really invalid (0 is valid for some fields)."""
    try:
        number = float(value)
    except ValueError:
        return True
    if FIELD_TYPES[name] is int and math.isfinite(number) and not number.is_integer():
        return True
    return not (math.isfinite(number) and ranges[name].holds(number))


@settings(FUZZ, max_examples=60)
@given(flag=flag_value({**LEARNER_RANGES, **TRAIN_RANGES}), command=st.sampled_from(
    ["train", "career"]))
def test_train_and_career_flags(sandbox, flag, command):
    ranges = {**LEARNER_RANGES, **TRAIN_RANGES}
    name = flag[0][2:].replace("-", "_")
    if not refused_or_valid_arg(ranges, flag[1], name) or (
            command == "career" and name in ("chunks", "total_steps")):
        return  # a valid value (e.g. gamma 0), or a flag career does not have
    base = ["train", "--total-steps", "1024"] if command == "train" else ["career", "corridor"]
    refused(sandbox, [*base, *flag])


COMMANDS = st.one_of(
    st.tuples(st.just(["run", "--scale", "tiny"]), st.sampled_from(
        [["--seeds", "-1"], ["--seeds", "0"], ["--seeds", "x"], ["--scale", "huge"],
         ["--studies", "zzz"], ["--studies", ",gap,zz"], ["--executor", "mpi"], ["--bogus"]])),
    st.tuples(st.just(["study"]), st.sampled_from(
        [["zzz"], ["gap", "--seeds", "-2"], ["gap", "--scale", "x"], []])),
    st.tuples(st.just(["fleet"]), st.sampled_from(
        [["corridor", "--instances", "0"], ["corridor", "--merge", "sum"], ["nowhere"],
         ["corridor", "--seeds", "-1"], ["corridor", "--merge-every", "0"], []])),
    st.tuples(st.just(["eval"]), st.sampled_from(
        [["--run", "nowhere"], ["--run", "existing"], ["--run", "existing", "--num-tasks", "0"],
         ["--run", "corrupt.db"], ["--run", "existing", "--episodes", "-1"], []])),
    st.tuples(st.just(["exam"]), st.sampled_from(
        [["status", "--db", "corrupt.db"], ["status", "--db", "existing"], ["query"],
         ["final"], ["query", "--run", "nowhere"], ["query", "--run", "existing"],
         ["query", "--run", "existing", "--agent-seed", "-1"], ["cheat"], []])),
    st.tuples(st.just(["career"]), st.sampled_from(
        [["nowhere"], ["corridor", "--intervention", "zap"], ["corridor", "--competence",
                                                            "2"], ["corridor", "--baseline",
                                                                   "x"]])),
    st.tuples(st.just(["train"]), st.sampled_from(
        [["--world", "zzz"], ["--split", "zzz"], ["--config", "existing"], ["--out",
                                                                            "corrupt.db"],
         ["--resume", "--out", "existing"], ["--learner", "sarsa"], ["--executor", "slurm"]])),
    st.tuples(st.just(["runs"]), st.sampled_from([["--db", "corrupt.db"], ["--db", "existing"]])),
)


@settings(FUZZ, max_examples=60)
@given(command=COMMANDS)
def test_other_commands(sandbox, command):
    refused(sandbox, [*command[0], *command[1]])


def test_the_tripwire_catches_an_accepted_input(sandbox):
    """The harness can fail: a valid input reaches the start of a run."""
    with pytest.raises(Accepted):
        main(["train", "--total-steps", "1024", "--num-tasks", "8"])
    with pytest.raises(Accepted):
        main(["career", "corridor", "--seeds", "1"])


def test_enough_bad_inputs_were_tried():
    """Issue 16's bar: >= 200 generated bad inputs per run of this file (runs last)."""
    if len(REFUSED) == 0:
        pytest.skip("run with the rest of tests/test_fuzz.py")
    print(f"{len(REFUSED)} bad inputs refused, {len({tuple(a) for a in REFUSED})} distinct")
    assert len(REFUSED) >= 200, len(REFUSED)


ISSUE_16 = [  # inputs issue 16's campaign found ending in a traceback or accepted silently
    (["train", "--config", "inputs/list.json"], "must hold a mapping"),
    (["train", "--config", "inputs/out.yaml"], "'out' must be a Path"),
    (["train", "--config", "inputs/hp.yaml"], "'hp' must be a mapping"),
    (["train", "--config", "inputs/sarsa.yaml"], "unknown learner 'sarsa'"),
    (["train", "--config", "inputs"], "is a directory"),
    (["train", "--lr", "inf"], "lr (--lr) must be a finite number"),
    (["train", "--num-minibatches", "1000"], "empty minibatches"),
    (["train", "--clip-eps", "-0.2"], "clip_eps"),
    (["train", "--max-grad-norm", "-1"], "max_grad_norm"),
    (["train", "--total-steps", "1000000000000000000000000000000"], "total_steps"),
    (["train", "--total-steps", "1e30"], "--total-steps"),
    (["train", "--total-steps", "999999999999", "--num-envs", "1", "--num-steps", "4"],
     "updates (more than"),
    (["train", "--out", "corrupt.db"], "is a file"),
    (["run", "--seeds", "-1"], "seeds (--seeds) must be"),
    (["runs", "--db", "corrupt.db"], "results database"),
    (["fleet", "inputs/fleet.yaml"], "instances"),
    (["show", "corridor", "--out", "existing"], "is a directory"),
]


def test_the_inputs_issue_16_found(sandbox):
    inputs = sandbox / "inputs"
    (inputs / "list.json").write_text("[1, 2]")
    (inputs / "out.yaml").write_text("out: 5\n")
    (inputs / "hp.yaml").write_text("hp: [1, 2]\n")
    (inputs / "sarsa.yaml").write_text("learner: sarsa\n")
    (inputs / "fleet.yaml").write_text("instances: -1\n")
    for argv, message in ISSUE_16:
        assert message in refused(sandbox, argv), argv


def test_os_and_database_errors_are_one_line(capsys):
    """A full disk, a read-only directory or a corrupt database mid-run: one line, exit 2."""
    import errno
    import sqlite3

    from trainee.errors import run_command

    def full(args):
        raise OSError(errno.ENOSPC, "No space left on device", "runs/x/metrics.json")

    def corrupt(args):
        raise sqlite3.DatabaseError("file is not a database")

    for fn, message in ((full, "runs/x/metrics.json: No space left"),
                        (corrupt, "results database: file is not a database")):
        assert run_command(fn, []) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0], err
    with pytest.raises(OSError):
        run_command(full, [], debug=True)  # --debug: the traceback
