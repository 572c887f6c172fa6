"""trainee: a JAX research system for learning that generalises."""

import os

# XLA's CPU runtime can wedge (every thread parked, the result never ready) on large
# vmapped programs when its Eigen thread pool is multi-threaded; we hit it on 2-core
# machines in long vmapped training runs, and others report the same
# (PyAutoLabs/PyAutoFit#1530). Single-threaded Eigen avoids it at a small cost. Set
# TRAINEE_EIGEN_THREADS=1 to keep XLA's default. This must run before JAX's CPU backend
# starts, which importing trainee first ensures.
if os.environ.get("TRAINEE_EIGEN_THREADS") != "1":
    _flags = os.environ.get("XLA_FLAGS", "")
    if "xla_cpu_multi_thread_eigen" not in _flags:
        os.environ["XLA_FLAGS"] = (_flags + " --xla_cpu_multi_thread_eigen=false").strip()

__version__ = "0.1.0"
