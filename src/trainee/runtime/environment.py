"""Facts about the process a run ran in, stored with every run record and report."""

from __future__ import annotations

import os
import platform
import sys


def environment() -> dict:
    """Versions (python, trainee, jax, jaxlib), machine and JAX backend."""
    import jax
    import jaxlib

    import trainee

    return {
        "python": sys.version.split()[0],
        "trainee": trainee.__version__,
        "jax": jax.__version__,
        "jaxlib": jaxlib.__version__,
        "backend": jax.default_backend(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "devices": [str(d) for d in jax.devices()],
        "xla_flags": os.environ.get("XLA_FLAGS", ""),
    }
