"""trainee: a JAX research system for learning that generalises."""

import importlib.util
import os


def _cpu_compile_level() -> None:
    """Compile with XLA's LLVM backend at optimisation level 1 (not 2) on CPU-only
    installs: measured here, our programs compile 20-25% faster and run as fast or
    faster (benchmarks/README.md). XLA reads XLA_FLAGS once, when its backend starts, so
    this works when trainee is imported before JAX runs anything. Your own XLA_FLAGS
    setting of the option wins; CUDA installs are left alone (not measured there)."""
    flag = "--xla_backend_optimization_level"
    flags = os.environ.get("XLA_FLAGS", "")
    cuda = any(importlib.util.find_spec(p) for p in ("jax_cuda12_plugin", "jax_cuda13_plugin"))
    if flag not in flags and not cuda:
        os.environ["XLA_FLAGS"] = f"{flags} {flag}=1".strip()


_cpu_compile_level()

__version__ = "0.1.0"
