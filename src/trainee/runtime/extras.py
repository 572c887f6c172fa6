"""Importing an optional extra with an error that says what to do: install the extra
when the package is missing, or see the real failure when it is installed but broken
(gymnax 1.0.1, for one, imports `six` without declaring it)."""

from __future__ import annotations

import importlib
from types import ModuleType


def import_extra(module: str, extra: str, what: str) -> ModuleType:
    """`importlib.import_module(module)`, or an ImportError naming `what` needs it and
    how to install it (`pip install 'trainee[extra]'`), or why it failed to import."""
    package = module.partition(".")[0]
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as err:
        top = (err.name or "").partition(".")[0]
        if top == package:
            raise ImportError(f"{what} needs {package}: pip install 'trainee[{extra}]'") from err
        raise ImportError(f"{what}: {package} is installed but fails to import ({err}); "
                          f"pip install {top} (or pip install -e '.[{extra}]')") from err
    except ImportError as err:
        raise ImportError(f"{what}: {package} is installed but fails to import ({err})") from err
