import os

import jax
import pytest

# Share compiled programs across test processes and runs (JAX persistent cache).
jax.config.update(
    "jax_compilation_cache_dir",
    os.environ.get("TRAINEE_CACHE", os.path.expanduser("~/.cache/trainee/jax")),
)
# Every program, however small: the two workers compile many of the same small programs
# (ops run one by one, tiny helpers), and ~3,000 compiles under 0.5 s were ~300 s of a cold
# suite's CPU (session 14). Measured on six test files, -n 2, cold, two pairs in turn:
# 0.83-0.87x the CPU, 0.81-0.91x the wall (benchmarks/README.md, "Session 15").
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)

# `TRAINEE_TEST_COMPILES=<dir>`: every test's XLA compiles (name, seconds, loaded from the
# persistent cache or not) go to <dir>/<worker>.jsonl, read by benchmarks/suite_compiles.py
# (issue 17: where the suite's time goes). Off by default.
COMPILE_LOG = os.environ.get("TRAINEE_TEST_COMPILES")
_compiles_at_start: dict[str, int] = {}  # test id -> compiles recorded before it began


def pytest_runtest_logstart(nodeid, location):
    if COMPILE_LOG:
        from trainee.runtime.compiles import compiles, record_compiles

        record_compiles()
        _compiles_at_start[nodeid] = len(compiles())


def pytest_runtest_logfinish(nodeid, location):
    if nodeid in _compiles_at_start:
        import json
        from pathlib import Path

        from trainee.runtime.compiles import compiles

        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        with open(Path(COMPILE_LOG) / f"{worker}.jsonl", "a") as log:
            for c in compiles()[_compiles_at_start.pop(nodeid):]:
                log.write(json.dumps({"test": nodeid, "name": c.name, "seconds": c.seconds,
                                      "cached": c.cached}) + "\n")


# The heaviest files first (longest first): with `--dist loadfile` the two workers take
# files in collection order (`--no-loadscope-reorder` in pyproject.toml: without it xdist
# reorders files by their number of tests, and this order had no effect), and a heavy file
# collected last kept one worker busy while the other idled at the end. Order from the
# per-file durations of a cold suite (session 13; benchmarks/suite_compiles.py shows where a
# file's time goes), except that a file whose programs others reuse through the persistent
# compilation cache comes before them: test_runs' tiny corridor train, eval and career
# before test_careers, test_cli and test_executor_ray; test_world_contract's task samplers
# before test_task_samplers.
HEAVY_FIRST = ("test_world_contract.py", "test_runs.py", "test_field_worlds.py",
               "test_apprentice.py", "test_careers.py", "test_networks.py", "test_fleet_ray.py",
               "test_errands.py", "test_learner_pieces.py", "test_task_samplers.py",
               "test_conflict.py", "test_train.py", "test_studies.py", "test_controls.py",
               "test_cli.py", "test_exam.py")


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(HEAVY_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: files keep
    # their tests' order, the other files theirs


@pytest.fixture(autouse=True)
def _exam_keys_in_a_temporary_home(tmp_path_factory, monkeypatch):
    """The exam writes its key under $XDG_DATA_HOME: never the real user's in tests."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("data-home")))
    monkeypatch.delenv("TRAINEE_EXAM_KEY", raising=False)


@pytest.fixture(autouse=True, scope="session")
def _studies_in_this_process():
    """`trainee run` runs studies in this process unless a test passes --workers: tests
    patch study modules in-process, and tiny studies gain nothing from worker processes
    (tests/test_processes.py tests the workers). Session-scoped, so that module-scoped
    fixtures (tests/test_report.py's run) get it too: with function scope they ran their
    studies in spawned workers, where a patched study is the real one (~100 s of fleet
    compiles in test_report's setup)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("trainee.runtime.processes.default_workers", lambda: 1)
        yield


def require(module: str):
    """Import an optional integration that `.[dev]` installs, failing (never skipping)
    when it does not import: a skip here once hid a broken gymnax install in CI."""
    import importlib

    import pytest

    try:
        return importlib.import_module(module)
    except Exception as err:  # a broken install raises more than ImportError
        pytest.fail(f"{module} does not import ({type(err).__name__}: {err}); "
                    "pip install -e '.[dev]' installs it", pytrace=False)
