"""trainee: a JAX research system for learning that generalises."""

import os

# XLA's CPU runtime (jax/jaxlib 0.10.2) deadlocked our large vmapped programs here on 2
# cores: every thread parked on a futex, the result never ready. Two runtime features
# were implicated: the concurrency-optimised scheduler (turning it off fixed every
# reproduction with >= 5 vmapped seeds on repair) and the multi-threaded Eigen pool
# (others report the same wedge on vmap graphs: PyAutoLabs/PyAutoFit#1530). Both are
# off by default; set TRAINEE_XLA_DEFAULTS=1 to keep XLA's own settings. XLA reads
# XLA_FLAGS once, when the CPU backend starts, which importing trainee first precedes.
_XLA_FIXES = (
    "--xla_cpu_enable_concurrency_optimized_scheduler=false",
    "--xla_cpu_multi_thread_eigen=false",
)
if os.environ.get("TRAINEE_XLA_DEFAULTS") != "1":
    _flags = os.environ.get("XLA_FLAGS", "")
    for _fix in _XLA_FIXES:
        if _fix.split("=")[0] not in _flags:
            _flags = f"{_flags} {_fix}".strip()
    os.environ["XLA_FLAGS"] = _flags

__version__ = "0.1.0"
