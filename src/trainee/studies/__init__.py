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
from types import ModuleType

# name -> module; the order is the report's order.
STUDIES = {
    "gap": "trainee.studies.gap",
    "two-students": "trainee.studies.two_students",
    "value-function": "trainee.studies.value_function",
    "jaggedness": "trainee.studies.jaggedness",
    "eval-hacking": "trainee.studies.eval_hacking",
    "care": "trainee.studies.care",
    "on-the-job": "trainee.studies.on_the_job",
    "fleet": "trainee.studies.fleet",
}


def study_module(name: str) -> ModuleType:
    if name not in STUDIES:
        raise ValueError(f"unknown study {name!r}; choose from {', '.join(STUDIES)}")
    return importlib.import_module(STUDIES[name])


def parse_names(text: str | None) -> list[str]:
    """`"a,b"` -> ["a", "b"] (checked); None or "all" -> every study."""
    if text is None or text == "all":
        return list(STUDIES)
    names = [n.strip() for n in text.split(",") if n.strip()]
    for name in names:
        study_module(name)
    return names
