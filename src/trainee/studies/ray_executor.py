"""`--executor ray`: every study a Ray task (on a local or a remote cluster); the driver
stores each result atomically as it arrives, so resume works as with the local executor.
Ray is an optional extra (`pip install 'trainee[ray]'`)."""

from __future__ import annotations

from pathlib import Path

from trainee.store import atomic_write_json


def run_with_ray(names: list[str], run_dir: Path, scale: str, seeds: int, quiet: bool) -> None:
    try:
        import ray
    except ImportError as err:
        raise ImportError("--executor ray needs Ray: pip install 'trainee[ray]'") from err
    from trainee.studies.runner import run_one, study_path

    if not ray.is_initialized():
        ray.init(address=None, include_dashboard=False, log_to_driver=not quiet)
    remote = ray.remote(num_cpus=1)(run_one)
    pending = {remote.remote(n, scale, seeds, 0, True): n for n in names}
    while pending:
        done, _ = ray.wait(list(pending), num_returns=1)
        name = pending.pop(done[0])
        atomic_write_json(study_path(run_dir, name), ray.get(done[0]))
