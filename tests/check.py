#!/usr/bin/env python3
"""The whole check, in one command: ``python3 tests/check.py``.

Makes its own virtual environment (``.venv/`` in the checkout), installs the test tools
listed in pyproject.toml's ``test`` extra (pytest, hypothesis, mypy), runs the test
suite and ``mypy --strict procnet``, and exits non-zero when anything fails. Extra
arguments go to pytest (``python3 tests/check.py -k unix -x``).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import venv

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
VENV = os.environ.get("PROCNET_VENV", os.path.join(TOP, ".venv"))


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


def main(args: list) -> int:
    python = os.path.join(VENV, "bin", "python")
    if not os.path.exists(python):
        print("+ creating %s" % VENV, flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
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
        print("check: FAILED: %s" % ", ".join(failed), file=sys.stderr)
        return 1
    print("check: all passed (pytest, mypy --strict procnet)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
