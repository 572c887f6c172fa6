"""The one config loader: YAML/JSON files and stored records into frozen config
dataclasses, checked field by field against the dataclass's annotations.

    values = read_mapping(Path("run.yaml"))                 # a mapping, or a one-line error
    config = from_mapping(TrainConfig, values, flat="hp")   # typed, unknown keys refused

Every problem is one line naming the field and what it must be (`ValueError`, which
the commands print as `trainee: error: ...`). A config class declares its fields'
ranges once (`RANGES = {"lr": Range(0, 10, low_open=True), ...}`) and checks them, with
its other rules, in `validate()`; `from_mapping` and `trainee.cli.common.parse` call
`validate()` on every config they build, so no bad value reaches a run. Used by every
command, by `trainee rerun` (which rebuilds configs from `record.json`) and by the career
and fleet file loaders.
"""

from __future__ import annotations

import dataclasses
import json
import math
import types
import typing
from pathlib import Path
from typing import Any, Literal, NamedTuple, Union

_MISSING = object()


def read_mapping(path: Path) -> dict:
    """Read a YAML or JSON file holding a mapping, with one-line errors."""
    import yaml

    path = Path(path)
    if path.is_dir():
        raise ValueError(f"config file {path} is a directory; pass a YAML or JSON file")
    if not path.is_file():
        raise FileNotFoundError(f"config file {path} not found; check the path")
    try:
        text = path.read_text()
        values = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, yaml.YAMLError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ValueError(f"cannot read config file {path}: {first}") from err
    if not isinstance(values, dict):
        raise ValueError(f"config file {path} must hold a mapping of field: value")
    return values


def from_mapping(cls: type, values: dict, base: Any = None, flat: str | None = None,
                 where: str = "config") -> Any:
    """`cls` (a dataclass) from a mapping of its fields, starting from `base` (default:
    `cls()` when every field has a default). `flat`: the name of a nested-dataclass field
    whose own fields may also be given at the top (`lr: 0.01` for `hp: {lr: 0.01}`)."""
    if not isinstance(values, dict):
        raise ValueError(f"{where} must be a mapping of field: value (got {values!r})")
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    values = dict(values)
    inner: set[str] = set()
    if flat is not None:
        nested = values.pop(flat, None)
        nested = {} if nested is None else nested  # absent; an empty list is refused
        if not isinstance(nested, dict):
            raise ValueError(f"{where} field {flat!r} must be a mapping of field: value "
                             f"(got {nested!r})")
        nested = dict(nested)
        inner = {f.name for f in dataclasses.fields(hints[flat])}
        for name in [n for n in values if n not in names and n in inner]:
            if name in nested:
                raise ValueError(f"{where} gives {name!r} twice (at the top and under "
                                 f"{flat!r}); keep one")
            nested[name] = values.pop(name)
        values[flat] = nested
    unknown = [name for name in values if name not in names]
    if unknown:
        raise ValueError(f"unknown {where} field {unknown[0]!r}; known fields: "
                         f"{', '.join(sorted(set(names) | inner))}")
    if base is None and _all_defaults(cls):
        base = cls()
    checked = {}
    for name, value in values.items():
        inner_base = getattr(base, name) if base is not None else None
        checked[name] = check_value(value, hints[name], f"{where} field {name!r}", inner_base)
    try:
        config = dataclasses.replace(base, **checked) if base is not None else cls(**checked)
    except TypeError as err:  # a required field missing
        raise ValueError(f"{where}: {err}") from err
    validate(config, where)
    return config


def validate(config: Any, where: str = "config") -> None:
    """`config.validate()` if it has one (its message prefixed with `where` when that
    names a file or record, so the user knows which input to fix)."""
    check = getattr(config, "validate", None)
    if check is None:
        return
    try:
        check()
    except ValueError as err:
        if where == "config" or str(err).startswith(where):
            raise
        raise ValueError(f"{where}: {err}") from err


class Range(NamedTuple):
    """The values a number field may take: finite, between `low` and `high` (None: no
    bound), each end closed unless `*_open`."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False

    def __str__(self) -> str:
        low = "-inf" if self.low is None else _number(self.low)
        high = "inf" if self.high is None else _number(self.high)
        return f"{'(' if self.low_open or self.low is None else '['}{low}, {high}" \
               f"{')' if self.high_open or self.high is None else ']'}"

    def holds(self, value: float) -> bool:
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return False
        return self.high is None or (value < self.high if self.high_open else value <= self.high)


def _number(x: float) -> str:
    return f"{int(x):,}" if float(x).is_integer() and abs(x) < 1e7 else f"{x:g}"


def check_ranges(config: Any, ranges: dict[str, Range]) -> None:
    """Every field named in `ranges` a finite number in its range (an integer if the
    field is an int), and every other float field finite; else a ValueError naming the
    field, its flag and the allowed values."""
    for f in dataclasses.fields(config):
        value, bound = getattr(config, f.name), ranges.get(f.name)
        if value is None or (bound is None and not isinstance(value, float)):
            continue  # None: an optional field left to its default
        integer = "int" in str(f.type) and "float" not in str(f.type)
        kinds = int if integer else int | float
        number = isinstance(value, kinds) and not isinstance(value, bool)
        if not number or not math.isfinite(value) or (bound and not bound.holds(value)):
            kind = "an integer" if integer else "a finite number"
            allowed = f"{kind} in {bound}" if bound else kind
            raise ValueError(f"{f.name} (--{f.name.replace('_', '-')}) must be {allowed} "
                             f"(got {value!r})")


def check_value(value: Any, tp: Any, what: str, base: Any = None) -> Any:
    """`value` as type `tp` (ints pass as floats, strings as paths, lists as tuples), or a
    ValueError saying what `what` must be."""
    converted = _convert(value, tp, what, base)
    if converted is _MISSING:
        raise ValueError(f"{what} must be {describe(tp)} (got {value!r})")
    return converted


def describe(tp: Any) -> str:
    """A type in words, for error messages: `a float`, `one of 'ppo', 'pg'`, ..."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if origin in (Union, types.UnionType):
        return " or ".join("None" if a is type(None) else describe(a) for a in args)
    if origin is tuple:
        return f"a list of {describe(args[0])}" if args else "a list"
    if dataclasses.is_dataclass(tp):
        return f"a mapping of {tp.__name__} fields"
    name = getattr(tp, "__name__", str(tp))
    return f"an {name}" if name[0] in "aeiou" else f"a {name}"


def _convert(value: Any, tp: Any, what: str, base: Any) -> Any:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp is Any:
        return value
    if origin is Literal:
        return value if value in args else _MISSING
    if origin in (Union, types.UnionType):
        if value is None:
            return None if type(None) in args else _MISSING
        for arg in (a for a in args if a is not type(None)):
            converted = _convert(value, arg, what, base)
            if converted is not _MISSING:
                return converted
        return _MISSING
    if origin is tuple:
        return _tuple(value, args, what)
    if dataclasses.is_dataclass(tp):
        nested_where = what.replace(" field ", " ").replace("'", "")
        return from_mapping(tp, value, base, where=nested_where) \
            if isinstance(value, dict) else (value if isinstance(value, tp) else _MISSING)
    return _scalar(value, origin or tp)


def _tuple(value: Any, args: tuple, what: str) -> Any:
    if not isinstance(value, list | tuple):
        return _MISSING
    if len(args) == 2 and args[1] is Ellipsis:
        return tuple(check_value(v, args[0], f"{what} item", None) for v in value)
    if args and len(args) != len(value):
        return _MISSING
    return tuple(check_value(v, a, f"{what} item", None) for v, a in zip(value, args or
                                                                           [Any] * len(value),
                                                                           strict=True))


def _scalar(value: Any, tp: Any) -> Any:
    if tp is bool:
        return value if isinstance(value, bool) else _MISSING
    if tp is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return float(value) if ok else _MISSING
    if tp is int:
        return value if isinstance(value, int) and not isinstance(value, bool) else _MISSING
    if tp is Path:
        return Path(value) if isinstance(value, str | Path) else _MISSING
    if isinstance(tp, type):
        return value if isinstance(value, tp) else _MISSING
    return value  # an annotation we do not check (e.g. a callable)


def _all_defaults(cls: type) -> bool:
    return all(f.default is not dataclasses.MISSING or f.default_factory is not
               dataclasses.MISSING for f in dataclasses.fields(cls))


def to_mapping(config: Any) -> dict:
    """A config dataclass as plain JSON-ready values (paths as strings, tuples as lists);
    `from_mapping` reads it back to an equal config."""
    return json.loads(json.dumps(dataclasses.asdict(config), default=str))
