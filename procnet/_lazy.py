"""Names of a package that load their module on first use (PEP 562 module ``__getattr__``)."""

from __future__ import annotations

import importlib

TYPE_CHECKING = False  # not typing's: see procnet/__init__.py
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, MutableMapping


def lazy_names(namespace: MutableMapping[str, Any], package: str, names: Dict[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package``: ``names`` maps a public name to the
    submodule (relative, without the dot) that defines it. The value is imported on first
    use and stored in ``namespace`` (the package's globals), so later uses cost nothing."""

    def load(name: str) -> Any:
        module = names.get(name)
        if module is None:
            raise AttributeError("module %r has no attribute %r" % (package, name))
        value = getattr(importlib.import_module("." + module, package), name)
        namespace[name] = value
        return value

    return load
