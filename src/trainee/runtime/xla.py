"""XLA settings: the CPU compile level (set when trainee is imported) and the
persistent compilation cache (enabled by every command and every Ray worker)."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

LEVEL_FLAG = "--xla_backend_optimization_level"


def set_cpu_compile_level() -> None:
    """Compile with XLA's LLVM backend at optimisation level 1 (not 2) on CPU-only
    installs: measured here, our programs compile 20-25% faster and run as fast or
    faster (benchmarks/README.md). XLA reads XLA_FLAGS once, when its backend starts, so
    this works when trainee is imported before JAX runs anything. Your own XLA_FLAGS
    setting of the option wins; CUDA installs are left alone (not measured there)."""
    flags = os.environ.get("XLA_FLAGS", "")
    cuda = any(importlib.util.find_spec(p) for p in ("jax_cuda12_plugin", "jax_cuda13_plugin"))
    if LEVEL_FLAG not in flags and not cuda:
        os.environ["XLA_FLAGS"] = f"{flags} {LEVEL_FLAG}=1".strip()


def cache_dir() -> Path:
    """Where compiled programs are kept: $TRAINEE_CACHE, else ~/.cache/trainee/jax."""
    return Path(os.environ.get("TRAINEE_CACHE", Path.home() / ".cache" / "trainee" / "jax"))


def enable_compilation_cache() -> None:
    """Reuse compiled programs across processes (JAX persistent compilation cache);
    programs that compile in under half a second are not worth a disk round trip."""
    import jax

    jax.config.update("jax_compilation_cache_dir", str(cache_dir()))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)
