"""The XLA compilations of this process, counted and timed (issue 17, "compile once").

`record_compiles()` listens to JAX's monitoring events: every jitted program JAX
compiles (or loads from the persistent cache) reports its name and seconds. The
program builder names its programs after what they are (`trainee.program.program_name`:
world, learner, network shape, chunk length), so `compile_summary()` shows whether each
(world, learner, network shape) compiled once. Programs under `min_seconds` (JAX's
op-by-op dispatch compiles a tiny program per eager operation) are only counted.
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from dataclasses import dataclass

_BACKEND_COMPILE = "/jax/core/compile/backend_compile_duration"
_CACHE_HIT = "/jax/compilation_cache/cache_hits"


@dataclass(frozen=True)
class Compile:
    """One compiled program: its name (`jit(<function name>)`), the seconds it took
    (to compile, or to load from the persistent cache) and whether it was loaded."""

    name: str
    seconds: float
    cached: bool


_compiles: list[Compile] = []
_hit = threading.local()  # the cache-hit event comes just before its compile's duration
_listening = False


def _on_event(event: str, **_: object) -> None:
    if event == _CACHE_HIT:
        _hit.pending = True


def _on_duration(event: str, seconds: float, **kwargs: object) -> None:
    if event == _BACKEND_COMPILE:
        cached = getattr(_hit, "pending", False)
        _hit.pending = False
        _compiles.append(Compile(str(kwargs.get("fun_name", "?")), float(seconds), cached))


def named(fn, name: str):
    """`fn` under the name `name`: jax.jit names its program after the function, so the
    compile records and logs say what a program is."""
    fn.__name__ = fn.__qualname__ = name
    return fn


def record_compiles() -> None:
    """Start recording this process's compilations (idempotent)."""
    global _listening
    if not _listening:
        from jax import monitoring

        monitoring.register_event_listener(_on_event)
        monitoring.register_event_duration_secs_listener(_on_duration)
        _listening = True


def add(records: list[Compile]) -> None:
    """Add compilations recorded elsewhere (a worker process of `runtime.processes`)."""
    _compiles.extend(records)


def compiles() -> list[Compile]:
    """The compilations recorded so far, in order."""
    return list(_compiles)


def compile_summary(records: list[Compile] | None = None, min_seconds: float = 0.5) -> dict:
    """{"programs": count of compilations of at least `min_seconds`, "seconds": their
    total, "cache_hits": how many of them were loaded, "small": the count of shorter
    ones, "by_name": {name: [seconds of each compilation, ...]}}: a name listed twice
    compiled twice."""
    records = compiles() if records is None else records
    big = [r for r in records if r.seconds >= min_seconds]
    by_name: dict[str, list[float]] = defaultdict(list)
    for r in big:
        by_name[r.name].append(round(r.seconds, 2))
    return {"programs": len(big), "seconds": round(sum(r.seconds for r in big), 1),
            "cache_hits": sum(r.cached for r in big), "small": len(records) - len(big),
            "by_name": dict(by_name)}


def summary_lines(summary: dict) -> list[str]:
    """The summary as lines for a log: a header, then one line per program name
    (repeated names first: those compiled more than once)."""
    counts = Counter({name: len(t) for name, t in summary["by_name"].items()})
    lines = [f"compiled {summary['programs']} programs of >= 0.5 s in {summary['seconds']} s "
             f"({summary['cache_hits']} from the persistent cache; {summary['small']} "
             f"smaller ones)"]
    for name, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        times = ", ".join(f"{t:.1f}" for t in summary["by_name"][name])
        lines.append(f"  {count} x {name}: {times} s")
    return lines
