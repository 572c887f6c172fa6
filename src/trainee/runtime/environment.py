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
        **cpu(),
    }


# XLA compiles for the CPU it runs on: the vector instructions it may use decide the
# order of float additions, so the same seed can give slightly different numbers on
# another CPU model (docs/studies.md, "Reproducibility"). Recorded so a difference
# between two runs can be traced to the machine.
VECTOR_FLAGS = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl",
                "avx512_vnni", "avx512_bf16", "amx_tile")


def cpu() -> dict:
    """{"cpu_model": ..., "cpu_vector_flags": [...]} from /proc/cpuinfo (Linux; empty
    elsewhere)."""
    try:
        text = open("/proc/cpuinfo").read()
    except OSError:
        return {"cpu_model": platform.processor(), "cpu_vector_flags": []}
    first = text.split("\n\n")[0].splitlines()  # the first processor's block
    fields = dict(line.split(":", 1) for line in first if ":" in line)
    fields = {k.strip(): v.strip() for k, v in fields.items()}
    flags = set(fields.get("flags", "").split())
    return {"cpu_model": fields.get("model name", ""),
            "cpu_vector_flags": [f for f in VECTOR_FLAGS if f in flags]}
