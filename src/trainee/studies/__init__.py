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

from trainee.registry import Registry

# name -> module path (imported when the study runs); the order is the report's order.
# Adding a study is one `register` call here.
STUDIES: Registry[str] = Registry("study")
for _name, _module in (("gap", "gap"), ("two-students", "two_students"),
                       ("value-function", "value_function"), ("jaggedness", "jaggedness"),
                       ("eval-hacking", "eval_hacking"), ("care", "care"),
                       ("on-the-job", "on_the_job"), ("fleet", "fleet")):
    STUDIES.register(_name, f"trainee.studies.{_module}")


def study_module(name: str) -> ModuleType:
    return importlib.import_module(STUDIES.get(name))


def parse_names(text: str | None) -> list[str]:
    """`"a,b"` -> ["a", "b"] (checked); None or "all" -> every study."""
    if text is None or text == "all":
        return list(STUDIES)
    names = [n.strip() for n in text.split(",") if n.strip()]
    for name in names:
        study_module(name)
    return names
