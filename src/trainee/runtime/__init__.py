"""The bottom layer: what every command and library module shares about the process it
runs in, and nothing about learning.

- `xla`: the XLA flag set at import (`set_cpu_compile_level`) and the persistent
  compilation cache (`enable_compilation_cache`);
- `cluster`: the one way to reach Ray (`ensure_ray`, `ray_map` over tasks,
  `ray_actors` for long-lived workers);
- `progress`: progress bars (`progress_bar`);
- `environment`: versions and machine facts for run records (`environment`).

Nothing here imports another trainee module, so every layer may import it.
"""

from trainee.runtime.cluster import MISSING_RAY, ensure_ray, ray_actors, ray_map
from trainee.runtime.environment import environment
from trainee.runtime.xla import enable_compilation_cache, set_cpu_compile_level

__all__ = ["MISSING_RAY", "enable_compilation_cache", "ensure_ray", "environment",
           "ray_actors", "ray_map", "set_cpu_compile_level"]
