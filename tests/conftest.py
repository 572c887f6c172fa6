import os

import jax

# Share compiled programs across test processes and runs (JAX persistent cache).
jax.config.update(
    "jax_compilation_cache_dir",
    os.environ.get("TRAINEE_CACHE", os.path.expanduser("~/.cache/trainee/jax")),
)
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)
