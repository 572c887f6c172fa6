"""Studies: each widely discussed claim turned into an experiment with a verdict.

A study is a module with `NAME`, `CLAIM`, `METHOD`, `run(ctx) -> result` (JSON-ready
numbers, computed over >= 5 vmapped seeds), `verdict(result) -> Verdict` (computed from
those numbers, never written by hand) and `draw(result) -> [(title, svg)]`. `trainee
run` runs them all (`runner.run_studies`) and writes one HTML report.

    from trainee.studies import STUDIES, study_module
    study_module("gap").CLAIM
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

# XLA:CPU's concurrency-optimised scheduler deadlocked here (jax/jaxlib 0.10.2, 2 cores):
# vmapped learner programs over >= 5 seeds on repair never finished, every thread idle
# on a futex. Turning it off fixed it. XLA reads XLA_FLAGS when the backend starts, so
# this must run before the first computation (the CLI and the tests import us first).
_XLA_FIX = "--xla_cpu_enable_concurrency_optimized_scheduler=false"
if _XLA_FIX not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {_XLA_FIX}".strip()

# name -> module; the order is the report's order.
STUDIES = {
    "gap": "trainee.studies.gap",
    "two-students": "trainee.studies.two_students",
    "value-function": "trainee.studies.value_function",
    "jaggedness": "trainee.studies.jaggedness",
    "eval-hacking": "trainee.studies.eval_hacking",
    "care": "trainee.studies.care",
    "on-the-job": "trainee.studies.pending",
    "fleet": "trainee.studies.pending",
}


def study_module(name: str) -> ModuleType:
    if name not in STUDIES:
        raise ValueError(f"unknown study {name!r}; choose from {', '.join(STUDIES)}")
    module = importlib.import_module(STUDIES[name])
    if module.__name__.endswith(".pending"):
        return module.pending(name)
    return module


def parse_names(text: str | None) -> list[str]:
    """`"a,b"` -> ["a", "b"] (checked); None or "all" -> every study."""
    if text is None or text == "all":
        return list(STUDIES)
    names = [n.strip() for n in text.split(",") if n.strip()]
    for name in names:
        study_module(name)
    return names
