"""The catalogue of worlds: the `WORLDS` registry, `register`, `names` and `make`
(built-in worlds, `gymnax:<Env>` and the `xminigrid:` / `craftax:` extras).
`trainee.worlds` re-exports all of it; modules inside `trainee.worlds` that need to
find a world by name import it from here (no import cycle through the package)."""

from __future__ import annotations

from collections.abc import Callable

from trainee.registry import Registry
from trainee.worlds.base import World

WORLDS: Registry[Callable[[], World]] = Registry(
    "world", hint=" or gymnax:<EnvName> (e.g. gymnax:CartPole-v1)")


def register(name: str, factory: Callable[[], World]) -> None:
    """Make `factory()` available as `make(name)`."""
    WORLDS.register(name, factory)


# External worlds behind an extra: prefix -> (package that must be installed, adapter
# module with `world_names()` and `make_world(suffix)`).
_EXTERNAL = {
    "xminigrid": ("xminigrid", "trainee.worlds.xminigrid_adapter"),
    "craftax": ("craftax", "trainee.worlds.craftax_adapter"),
}


def names(external: bool = True) -> list[str]:
    """Registered world names, then (with `external`) the `xminigrid:` and `craftax:`
    worlds whose extra is installed (`gymnax:<Env>` worlds are made on demand)."""
    import importlib
    import importlib.util

    found = sorted(WORLDS)
    for package, module in _EXTERNAL.values() if external else ():
        if importlib.util.find_spec(package) is not None:  # installed; not imported here
            found += importlib.import_module(module).world_names()
    return found


def make(name: str) -> World:
    """The world called `name`: a built-in one, `gymnax:<EnvName>`, `xminigrid:<name>`
    or `craftax:classic`."""
    prefix, _, suffix = name.partition(":")
    if prefix == "gymnax" and suffix:
        from trainee.worlds.gymnax_adapter import GymnaxWorld

        return GymnaxWorld(suffix)
    if prefix in _EXTERNAL and suffix:
        import importlib

        return importlib.import_module(_EXTERNAL[prefix][1]).make_world(suffix)
    if name not in WORLDS:
        raise ValueError(
            f"unknown world {name!r}; choose one of {', '.join(names(external=False))}, "
            "gymnax:<EnvName> (e.g. gymnax:CartPole-v1), xminigrid:<benchmark or "
            "MiniGrid env> (e.g. xminigrid:trivial-2k) or craftax:classic"
        )
    return WORLDS.get(name)()


def _register_builtins() -> None:
    from trainee.worlds.corridor import Corridor
    from trainee.worlds.driving import Driving
    from trainee.worlds.errands import Errands
    from trainee.worlds.repair import Repair

    register("corridor", Corridor)
    register("driving", Driving)
    register("errands", Errands)
    register("repair", Repair)


_register_builtins()
