"""Lazy public surfaces for alertd's subpackages (PEP 562).

Each subpackage's ``__init__`` names its public objects and the module each lives in; a name's module is imported
the first time the name is used. So ``from alertd.storage import claim`` imports the outbox and not the
migrations, and a command pays only for the modules it touches.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable

__all__ = ["exports"]


def exports(package: str, **modules: tuple[str, ...]) -> Callable[[str], object]:
    """A module ``__getattr__`` for ``package`` serving each ``module=(name, …)`` from ``package.module``."""
    where = {name: module for module, names in modules.items() for name in names}

    def lookup(name: str) -> object:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        # Kept on the package, so the next lookup is an ordinary attribute read.
        setattr(sys.modules[package], name, value)
        return value

    return lookup
