#!/usr/bin/env python3
"""The whole check, in one command: ``python3 tests/check.py``.

Makes a virtual environment of the interpreter that runs it, installs the test tools
listed in pyproject.toml's ``test`` extra (pytest, hypothesis, mypy, the packaging and
typing tools), runs the test suite and ``mypy --strict procnet``, and exits non-zero when
anything fails. Extra arguments go to pytest (``python3 tests/check.py -k unix -x``).

Each interpreter keeps its own venv in the checkout, ``.venv-<X.Y>-<hash>/``, the hash
being that of the interpreter's real path: ``python3 tests/check.py`` (say pyenv's 3.11.7)
and ``/usr/bin/python3 tests/check.py`` (Debian's 3.11.2) never share or overwrite each
other's. ``PROCNET_VENV=DIR`` uses DIR instead. ``python3 tests/check.py --print-venv``
prints the venv's path for that interpreter (made or not) and does nothing else.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)


def base_interpreter() -> str:
    """The real path of the interpreter the venv is made from.

    Run from inside a venv, that is the venv's base interpreter, not the venv's python."""
    exe = sys.executable
    if sys.prefix != sys.base_prefix:
        base = getattr(sys, "_base_executable", "")  # 3.11+: the base interpreter
        if base and os.path.realpath(base) != os.path.realpath(exe):
            exe = base
        else:  # 3.8-3.10 give the venv's own python: take the base prefix's
            candidate = os.path.join(sys.base_prefix, "bin", "python%d.%d" % sys.version_info[:2])
            if os.path.exists(candidate):
                exe = candidate
    return os.path.realpath(exe)


def venv_dir(interpreter: str) -> str:
    override = os.environ.get("PROCNET_VENV")
    if override:
        return os.path.abspath(override)
    digest = hashlib.sha256(interpreter.encode("utf-8", "surrogateescape")).hexdigest()[:8]
    return os.path.join(TOP, ".venv-%d.%d-%s" % (sys.version_info[0], sys.version_info[1], digest))


def test_requirements() -> list:
    """The ``test`` extra of pyproject.toml (the one place the tools are listed)."""
    with open(os.path.join(TOP, "pyproject.toml"), encoding="utf-8") as f:
        text = f.read()
    block = re.search(r"^test = \[(.*?)^\]", text, re.S | re.M)
    if block is None:
        raise SystemExit("pyproject.toml has no [project.optional-dependencies] test = [...] list")
    return re.findall(r'"([^"]+)"', block.group(1))


def run(argv: list, **kw) -> int:
    print("+ " + " ".join(argv), flush=True)
    return subprocess.call(argv, cwd=TOP, **kw)


def make_venv(interpreter: str, venv: str) -> str:
    """The venv's python, made (again) when missing or when it does not start."""
    python = os.path.join(venv, "bin", "python")
    if os.path.exists(python) and subprocess.call([python, "-c", ""], cwd=TOP) == 0:
        return python
    print("+ creating %s" % venv, flush=True)
    # With the base interpreter itself, so that a venv run of this script does not make a
    # venv of a venv.
    if run([interpreter, "-m", "venv", "--clear", venv]) != 0:
        raise SystemExit("check: could not make the venv %s with %s" % (venv, interpreter))
    return python


def main(args: list) -> int:
    interpreter = base_interpreter()
    venv = venv_dir(interpreter)
    if args == ["--print-venv"]:
        print(venv)
        return 0
    print("check: Python %s (%s), venv %s" % (sys.version.split()[0], interpreter, venv), flush=True)
    python = make_venv(interpreter, venv)
    reqs = test_requirements()
    if run([python, "-m", "pip", "install", "--disable-pip-version-check", "-q"] + reqs) != 0:
        print("check: could not install the test tools", file=sys.stderr)
        return 1
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    status = run([python, "-m", "pytest"] + args, env=env)
    typed = run([python, "-m", "mypy", "--strict", "procnet"], env=env)
    failed = [name for name, rc in (("pytest", status), ("mypy --strict procnet", typed)) if rc != 0]
    if failed:
        print("check: FAILED (Python %s): %s" % (sys.version.split()[0], ", ".join(failed)), file=sys.stderr)
        return 1
    print("check: all passed (pytest, mypy --strict procnet) under Python %s" % sys.version.split()[0])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
