"""trainee: a JAX research system for learning that generalises."""

__version__ = "0.1.0"
