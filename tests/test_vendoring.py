"""The vendoring promise: copy procnet/ alone next to any CPython 3.8-3.13 and it works.

Runs tests/stdlib_check.py (standard library only) under every interpreter found under
``pyenv root``/versions/3.{8..13}*, isolated (-I, no PYTHONPATH), against a copy of the
procnet/ directory alone in a temporary directory. Interpreters that are not installed are
skipped; with PROCNET_REQUIRE_ALL_PYTHONS=1 the test fails unless 3.8 and 3.13 are found.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from typing import Dict, List

import pytest

from conftest import FIXTURES, ROOT, TESTS

MINORS = range(8, 14)


def _pyenv_root() -> str:
    try:
        out = subprocess.run(["pyenv", "root"], capture_output=True, text=True, timeout=20)
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))


def interpreters() -> Dict[int, str]:
    """3.<minor> -> the newest pyenv python3 of that minor that exists."""
    found: Dict[int, str] = {}
    versions = os.path.join(_pyenv_root(), "versions")
    for minor in MINORS:
        candidates: List[str] = sorted(glob.glob(os.path.join(versions, "3.%d.*" % minor, "bin", "python3")))
        candidates = [c for c in candidates if os.access(c, os.X_OK) and "-dev" not in c]
        if candidates:
            found[minor] = candidates[-1]
    return found


FOUND = interpreters()


def test_required_interpreters_present() -> None:
    if os.environ.get("PROCNET_REQUIRE_ALL_PYTHONS") != "1":
        pytest.skip("set PROCNET_REQUIRE_ALL_PYTHONS=1 to require CPython 3.8 and 3.13")
    missing = [m for m in (8, 13) if m not in FOUND]
    assert not missing, "CPython %s not found under %s/versions" % (
        " and ".join("3.%d" % m for m in missing),
        _pyenv_root(),
    )


@pytest.fixture(scope="module")
def vendored(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A directory holding a copy of procnet/ and nothing else."""
    lib = str(tmp_path_factory.mktemp("vendored"))
    shutil.copytree(
        os.path.join(ROOT, "procnet"),
        os.path.join(lib, "procnet"),
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    assert sorted(os.listdir(lib)) == ["procnet"]
    return lib


@pytest.mark.parametrize("minor", list(MINORS), ids=["3.%d" % m for m in MINORS])
def test_stdlib_check_under_each_python(minor: int, vendored: str) -> None:
    python = FOUND.get(minor)
    if python is None:
        pytest.skip("CPython 3.%d is not installed under pyenv" % minor)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    proc = subprocess.run(
        [python, "-I", "-B", os.path.join(TESTS, "stdlib_check.py"), "--lib", vendored, "--fixtures", FIXTURES],
        capture_output=True,
        text=True,
        env=env,
        cwd=vendored,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Python 3.%d." % minor in proc.stdout and "all match" in proc.stdout


def test_stdlib_check_fails_on_a_mismatch(tmp_path: "os.PathLike[str]", vendored: str) -> None:
    """The check can fail: one changed expected value makes it exit non-zero, naming the scenario."""
    name = "tcp-timewait-and-synrecv"
    copy = os.path.join(str(tmp_path), name)
    shutil.copytree(os.path.join(FIXTURES, name), copy)
    path = os.path.join(copy, "expected.json")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    with open(path, "w", encoding="utf-8") as f:
        f.write(text.replace('"TIME_WAIT"', '"CLOSE"', 1))
    proc = subprocess.run(
        [sys.executable, "-I", os.path.join(TESTS, "stdlib_check.py"), "--lib", vendored, "--fixtures", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1
    assert "MISMATCH " + name in proc.stderr and "1 FAILED" in proc.stdout
