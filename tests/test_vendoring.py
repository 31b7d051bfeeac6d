"""The vendoring promise: copy procnet/ alone next to any CPython 3.8-3.13 and it works.

Runs tests/stdlib_check.py (standard library only) under every interpreter found under
``pyenv root``/versions/3.{8..13}*, isolated (-I, no PYTHONPATH), against a copy of the
procnet/ directory alone in a temporary directory. Interpreters that are not installed are
skipped; with PROCNET_REQUIRE_ALL_PYTHONS=1 the test fails unless 3.8 and 3.13 are found.

Then the same copy under another package name (``myapp/_vendor/procnet``): its command line
runs from there, with no top-level ``procnet`` importable; and the zipapp recipe of the
README, whose exit status is the command's.
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


SYSTEM_PYTHON = "/usr/bin/python3"


@pytest.mark.skipif(not os.access(SYSTEM_PYTHON, os.X_OK), reason="this machine has no /usr/bin/python3")
def test_stdlib_check_under_the_system_python(vendored: str) -> None:
    """The distribution's own interpreter (Debian 12: 3.11.2, whose enum pickles members by
    name where pyenv's 3.11.7 pickles them by value): the fixtures and the enums' pickling,
    copying and printing, checked there too."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    proc = subprocess.run(
        [SYSTEM_PYTHON, "-I", "-B", os.path.join(TESTS, "stdlib_check.py"), "--lib", vendored, "--fixtures", FIXTURES],
        capture_output=True, text=True, env=env, cwd=vendored, timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "all match" in proc.stdout


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


# --- vendored under another name ------------------------------------------------------

# argv[1]: the directory that holds myapp/; argv[2:]: the command line ("{pid}" -> own pid).
# Run with -I -S: no PYTHONPATH, no site-packages, no script directory on sys.path, so that
# only the copy under myapp/_vendor can answer.
VENDORED_MAIN = r"""
import importlib.util, os, sys
sys.path.insert(0, sys.argv[1])
if importlib.util.find_spec("procnet") is not None:
    sys.stderr.write("a top-level procnet is importable: the test would prove nothing\n")
    sys.exit(99)
from myapp._vendor.procnet.cli import main
argv = [a.replace("{pid}", str(os.getpid())) for a in sys.argv[2:]]
try:
    status = main(argv)
finally:
    sys.stdout.flush()
    leaked = sorted(m for m in sys.modules if m == "procnet" or m.startswith("procnet."))
    if leaked:
        sys.stderr.write("imported under the top-level name: %s\n" % ", ".join(leaked))
        sys.exit(98)
sys.exit(status)
"""


def _copy_package(dest: str) -> None:
    shutil.copytree(
        os.path.join(ROOT, "procnet"), dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )


def _isolated_env() -> Dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}


@pytest.fixture(scope="module")
def myapp(tmp_path_factory: pytest.TempPathFactory) -> str:
    """<tmp>/myapp/_vendor/procnet: a copy of procnet/, under two empty packages."""
    top = str(tmp_path_factory.mktemp("renamed"))
    vendor = os.path.join(top, "myapp", "_vendor")
    os.makedirs(vendor)
    for pkg in (os.path.join(top, "myapp"), vendor):
        open(os.path.join(pkg, "__init__.py"), "w").close()
    _copy_package(os.path.join(vendor, "procnet"))
    return top


def _run_isolated(argv: List[str], cwd: str) -> "subprocess.CompletedProcess[str]":
    return subprocess.run(
        [sys.executable, "-I", "-S", "-B"] + argv,
        capture_output=True,
        text=True,
        env=_isolated_env(),
        cwd=cwd,
        timeout=120,
    )


@pytest.mark.parametrize(
    "argv, status, expect",
    [
        (["ss", "-tln"], 0, "State"),
        (["ss", "-xa"], 0, "Netid"),
        (["lsof", "-p", "{pid}", "-P", "-n"], 0, "COMMAND"),
        (["capture", "--help"], 0, "usage: procnet capture"),
        (["--help"], 0, "procnet capture"),
        (["--version"], 0, "procnet "),
        (["wait", "-t", "0", ":1"], 1, ""),
        (["exporter", "--textfile", "m.prom", "--root", os.path.join(FIXTURES, "owners-forked-listener")], 0, ""),
        (["ss", "--no-such-flag"], 2, ""),
        (["no-such-command"], 2, ""),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else None,
)
def test_cli_runs_vendored_under_another_name(myapp: str, argv: List[str], status: int, expect: str) -> None:
    proc = _run_isolated(["-c", VENDORED_MAIN, myapp] + argv, cwd=myapp)
    assert proc.returncode == status, proc.stdout + proc.stderr
    assert expect in proc.stdout, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and "No module named" not in proc.stderr, proc.stderr


def test_python_m_runs_vendored_under_another_name(myapp: str) -> None:
    """``python -m myapp._vendor.procnet ss -tln``: __main__ runs the vendored CLI."""
    script = (
        "import runpy, sys; sys.path.insert(0, sys.argv[1]); del sys.argv[1]; "
        "runpy.run_module('myapp._vendor.procnet', run_name='__main__', alter_sys=True)"
    )
    proc = _run_isolated(["-c", script, myapp, "ss", "-tln"], cwd=myapp)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("State"), proc.stdout + proc.stderr


# --- the zipapp recipe of the README ----------------------------------------------------


@pytest.fixture(scope="module")
def pyz(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The README's recipe: a zipapp of procnet/ alone, entry point procnet.cli:run."""
    top = str(tmp_path_factory.mktemp("zipapp"))
    staging = os.path.join(top, "staging")
    os.mkdir(staging)
    _copy_package(os.path.join(staging, "procnet"))
    out = os.path.join(top, "procnet.pyz")
    subprocess.run(
        [sys.executable, "-m", "zipapp", staging, "-m", "procnet.cli:run", "-p", "/usr/bin/env python3",
         "-o", out],
        check=True,
        timeout=60,
    )
    return out


@pytest.mark.parametrize(
    "argv, status, expect",
    [
        (["ss", "-tln"], 0, "State"),
        (["--version"], 0, "procnet "),
        (["wait", "-t", "0", ":1"], 1, ""),
        (["exporter", "--textfile", "m.prom", "--root", os.path.join(FIXTURES, "owners-forked-listener")], 0, ""),
        (["ss", "--no-such-flag"], 2, ""),
        (["lsof", "-p", "999999999"], 1, ""),
        ([], 2, ""),
    ],
    ids=lambda v: " ".join(v) or "(none)" if isinstance(v, list) else None,
)
def test_zipapp_keeps_the_exit_status(pyz: str, argv: List[str], status: int, expect: str) -> None:
    proc = _run_isolated([pyz] + argv, cwd=os.path.dirname(pyz))
    assert proc.returncode == status, proc.stdout + proc.stderr
    assert expect in proc.stdout, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr


def test_zipapp_runs_by_its_shebang(pyz: str) -> None:
    """``./procnet.pyz --version``, as the README says, through ``/usr/bin/env python3``."""
    if not os.path.exists("/usr/bin/env") or shutil.which("python3") is None:
        pytest.skip("no /usr/bin/env or no python3 on PATH")
    proc = subprocess.run([pyz, "--version"], capture_output=True, text=True, env=_isolated_env(), timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("procnet "), proc.stdout + proc.stderr
