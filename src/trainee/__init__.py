"""trainee: a JAX research system for learning that generalises."""

from trainee.runtime.xla import set_cpu_compile_level

set_cpu_compile_level()  # before JAX starts: XLA reads XLA_FLAGS once (runtime/xla.py)

__version__ = "0.1.0"
