"""Shared test helpers. Keep this small: per-module helpers belong in their test module."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

TESTS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(TESTS)
FIXTURES = os.path.join(ROOT, "fixtures")

# `import procnet` and `import strategies` work however pytest was started.
for _p in (ROOT, TESTS):
    if _p not in sys.path:
        sys.path.insert(0, _p)


def fixture_dir(name: str) -> str:
    """The directory of a fixture scenario (``fixtures/<name>``)."""
    return os.path.join(FIXTURES, name)


def read_json(path: str) -> Any:
    with open(path, "rb") as f:
        return json.loads(f.read().decode("utf-8"))

