"""The typing promise (``py.typed``) is to the user's checker: a file of correct use must
type-check cleanly, and every mistake in a file of mistakes must be reported.

``tests/typing/user_ok.py`` and ``tests/typing/user_mistakes.py`` are checked as a user's
code is: procnet comes from a copy of the package (as from site-packages or a vendored
copy), under ``mypy --strict`` and, where it is installed (the README's test command
installs it), pyright in strict mode. A line of the mistakes file ends in ``# error``
exactly when a checker must report it: the set of reported lines must equal the set of
marked lines.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from typing import Dict, List, Set, Tuple

import pytest

from conftest import ROOT, TESTS

CASES = os.path.join(TESTS, "typing")
OK = "user_ok.py"
MISTAKES = "user_mistakes.py"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A directory with a copy of procnet/ (as a user has it) and the two user files."""
    top = str(tmp_path_factory.mktemp("typing"))
    shutil.copytree(os.path.join(ROOT, "procnet"), os.path.join(top, "lib", "procnet"),
                    ignore=shutil.ignore_patterns("__pycache__"))
    for name in (OK, MISTAKES):
        shutil.copy(os.path.join(CASES, name), os.path.join(top, name))
    return top


def marked_lines(name: str) -> Set[int]:
    with open(os.path.join(CASES, name), encoding="utf-8") as f:
        return {n for n, line in enumerate(f, 1) if line.rstrip().endswith("# error")}


def run_mypy(project: str, name: str) -> Tuple[int, List[Tuple[int, str]]]:
    env = dict(os.environ, MYPYPATH=os.path.join(project, "lib"))
    env.pop("PYTHONPATH", None)
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--show-error-codes",
         "--cache-dir", os.path.join(project, ".mypy_cache"), name],
        cwd=project, env=env, capture_output=True, text=True, timeout=300,
    )
    errors = [(int(m.group(1)), m.group(2)) for m in re.finditer(r"^%s:(\d+): error: (.*)$" % re.escape(name),
                                                                  proc.stdout, re.M)]
    return proc.returncode, errors


def test_correct_use_type_checks_under_mypy(project: str) -> None:
    status, errors = run_mypy(project, OK)
    assert status == 0 and not errors, errors


def test_every_mistake_is_reported_by_mypy(project: str) -> None:
    status, errors = run_mypy(project, MISTAKES)
    assert status == 1
    reported = {line for line, _ in errors}
    expected = marked_lines(MISTAKES)
    assert len(expected) >= 15
    assert reported == expected, "\n".join("%d: %s" % e for e in errors)


def _pyright() -> List[str]:
    exe = os.path.join(os.path.dirname(sys.executable), "pyright")
    if not os.path.exists(exe):
        pytest.skip("pyright is not installed in this environment (tests/check.py installs it)")
    return [exe]


def run_pyright(project: str, name: str) -> Dict[int, List[str]]:
    config = {
        "include": [name],
        "extraPaths": ["lib"],
        "typeCheckingMode": "strict",
        "pythonVersion": "%d.%d" % sys.version_info[:2],
    }
    with open(os.path.join(project, "pyrightconfig.json"), "w", encoding="utf-8") as f:
        json.dump(config, f)
    # Offline: the wheel's own JavaScript and node; no check for a newer pyright on PyPI.
    env = dict(os.environ, PYRIGHT_PYTHON_IGNORE_WARNINGS="1")
    env.pop("PYTHONPATH", None)
    proc = subprocess.run(_pyright() + ["--outputjson", "--project", "pyrightconfig.json",
                                        "--pythonpath", sys.executable],
                          cwd=project, env=env, capture_output=True, text=True, timeout=300)
    try:
        out = json.loads(proc.stdout)
    except ValueError:
        raise AssertionError("pyright printed no JSON: %s %s" % (proc.stdout[-2000:], proc.stderr[-2000:])) from None
    found: Dict[int, List[str]] = {}
    for diag in out["generalDiagnostics"]:
        if diag["severity"] == "error" and os.path.basename(diag["file"]) == name:
            found.setdefault(diag["range"]["start"]["line"] + 1, []).append(diag["message"])
    return found


def test_correct_use_type_checks_under_pyright(project: str) -> None:
    assert run_pyright(project, OK) == {}


def test_every_mistake_is_reported_by_pyright(project: str) -> None:
    found = run_pyright(project, MISTAKES)
    assert set(found) == marked_lines(MISTAKES), found
