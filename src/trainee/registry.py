"""One registry shape for everything a user may add by name: worlds, learners,
interventions, merge rules and studies.

A `Registry` maps a name to a factory (or, for studies, a module path) and refuses an
unknown name with one line that lists the known ones. Adding a thing is one call,
`REGISTRY.register(name, factory)`, next to the thing itself.

    from trainee.registry import Registry
    RULES = Registry("merge rule")
    RULES.register("mean", make_mean)
    RULES.get("mean")  # the factory; RULES.get("meen") -> ValueError naming the choices
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """Names -> entries, in registration order (the order `names()` lists them)."""

    def __init__(self, kind: str, hint: str = ""):
        self.kind = kind  # what an entry is, for error messages ("learner", "study")
        self.hint = hint  # appended to the unknown-name error (e.g. other accepted forms)
        self._entries: dict[str, T] = {}

    def register(self, name: str, entry: T) -> T:
        """Make `entry` available as `get(name)`; returns it (usable as a decorator body)."""
        self._entries[name] = entry
        return entry

    def decorator(self, name: str) -> Callable[[T], T]:
        """`@REGISTRY.decorator("name")` above a factory registers it."""
        return lambda entry: self.register(name, entry)

    def get(self, name: str) -> T:
        if name not in self._entries:
            raise ValueError(f"unknown {self.kind} {name!r}; choose one of "
                             f"{', '.join(self._entries)}{self.hint}")
        return self._entries[name]

    def names(self) -> list[str]:
        return list(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)
