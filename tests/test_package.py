"""Package-level behaviour: the XLA compile level trainee picks on CPU, and that yours wins."""

import os
import subprocess
import sys

import pytest


def _flags_after_import(env_flags: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    if env_flags is not None:
        env["XLA_FLAGS"] = env_flags
    code = "import os, trainee; print(os.environ.get('XLA_FLAGS', ''))"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True)
    return out.stdout.strip()


@pytest.mark.parametrize(("given", "expected"), [
    (None, "--xla_backend_optimization_level=1"),
    ("--xla_dump_to=/tmp/x", "--xla_dump_to=/tmp/x --xla_backend_optimization_level=1"),
    ("--xla_backend_optimization_level=3", "--xla_backend_optimization_level=3"),
])
def test_cpu_compile_level_unless_set(given, expected):
    assert _flags_after_import(given) == expected
