"""`--executor ray`: every study a Ray task (on a local or a remote cluster, see
`trainee.executor`); the driver stores each result atomically as it arrives, so resume
works as with the local executor. Ray is an optional extra (`pip install 'trainee[ray]'`)."""

from __future__ import annotations

from pathlib import Path

from trainee.executor import ensure_ray, ray_map
from trainee.store import atomic_write_json


def run_with_ray(names: list[str], run_dir: Path, scale: str, seeds: int, quiet: bool) -> None:
    from trainee.studies.runner import run_one, study_path

    ensure_ray(log_to_driver=not quiet)
    ray_map(run_one, [(name, scale, seeds, 0, True) for name in names],
            on_result=lambda i, result: atomic_write_json(study_path(run_dir, names[i]), result))
