"""The release: the sdist and the wheel hold what they should, and nothing else.

Builds both from a copy of the checkout (tests, benchmarks and fixtures included, so that
their absence from the sdist is the packaging's doing), as ``python -m build
--no-isolation`` does: the sdist first, then the wheel from the unpacked sdist, as pip
would build it. No network: setuptools and wheel are those of the test environment (the
``test`` extra). Then reads the archives and runs ``twine check --strict`` on them.
"""

from __future__ import annotations

import email.parser
import glob
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from typing import Dict, List

import pytest

from conftest import ROOT

pytest.importorskip("build", reason="the test extra (python -m build) is not installed")

# Not copied: what a checkout holds but a release never reads (venvs, caches, old builds).
_NOT_COPIED = shutil.ignore_patterns(
    ".git", ".venv", ".venv-*", "__pycache__", "*.pyc", ".mypy_cache", ".pytest_cache",
    ".hypothesis", "build", "dist", "*.egg-info",
)
# Directories of the checkout that no distribution may hold.
_LEFT_OUT = ("tests/", "benchmarks/", "fixtures/", "tools/", ".ci/")


def _package_files() -> List[str]:
    """procnet/**/*.py and procnet/py.typed of the checkout, as archive paths."""
    found = []
    for dirpath, dirnames, files in os.walk(os.path.join(ROOT, "procnet")):
        dirnames[:] = [d for d in dirnames if d != "__pycache__"]
        for name in files:
            if name.endswith(".py") or name == "py.typed":
                found.append(os.path.relpath(os.path.join(dirpath, name), ROOT).replace(os.sep, "/"))
    return sorted(found)


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> Dict[str, str]:
    """{"sdist": path, "wheel": path}, built from a copy of the checkout."""
    top = str(tmp_path_factory.mktemp("packaging"))
    src = os.path.join(top, "src")
    out = os.path.join(top, "dist")
    shutil.copytree(ROOT, src, symlinks=True, ignore=_NOT_COPIED)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    proc = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", out, src],
        capture_output=True,
        text=True,
        env=env,
        cwd=top,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    sdists = glob.glob(os.path.join(out, "*.tar.gz"))
    wheels = glob.glob(os.path.join(out, "*.whl"))
    assert len(sdists) == 1 and len(wheels) == 1, os.listdir(out)
    return {"sdist": sdists[0], "wheel": wheels[0]}


def _sdist_files(path: str) -> Dict[str, bytes]:
    """Member path below the sdist's top directory -> content (files only)."""
    files = {}
    with tarfile.open(path) as tar:
        for member in tar.getmembers():
            if member.isfile():
                name = member.name.split("/", 1)[1]
                f = tar.extractfile(member)
                assert f is not None
                files[name] = f.read()
    return files


def _wheel_files(path: str) -> Dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist() if not name.endswith("/")}


def _read(name: str) -> bytes:
    with open(os.path.join(ROOT, name), "rb") as f:
        return f.read()


def test_license_is_in_the_sdist_and_the_wheel(dists: Dict[str, str]) -> None:
    assert os.path.isfile(os.path.join(ROOT, "LICENSE")), "the checkout has no LICENSE"
    license_text = _read("LICENSE")
    assert b"MIT License" in license_text and b"Copyright (c) 2026 the procnet authors" in license_text
    assert _sdist_files(dists["sdist"]).get("LICENSE") == license_text
    in_wheel = {n: c for n, c in _wheel_files(dists["wheel"]).items() if n.rsplit("/", 1)[-1] == "LICENSE"}
    assert list(in_wheel.values()) == [license_text], sorted(in_wheel)
    assert next(iter(in_wheel)).split("/")[0].endswith(".dist-info")


def test_wheel_holds_the_package_and_its_metadata_only(dists: Dict[str, str]) -> None:
    names = sorted(_wheel_files(dists["wheel"]))
    dist_info = [n for n in names if n.split("/")[0].endswith(".dist-info")]
    package = [n for n in names if n not in dist_info]
    assert "procnet/py.typed" in package
    # Every module of the checkout, and nothing else: no tests, no caches, no data.
    assert package == _package_files()
    assert not [n for n in names if n.startswith(_LEFT_OUT) or "__pycache__" in n or n.endswith(".pyc")]
    meta = {n.split("/", 1)[1] for n in dist_info}
    required = {"METADATA", "WHEEL", "RECORD", "entry_points.txt", "licenses/LICENSE"}
    assert required <= meta and meta - required <= {"top_level.txt"}, sorted(meta)


def test_sdist_leaves_out_tests_benchmarks_fixtures(dists: Dict[str, str]) -> None:
    names = sorted(_sdist_files(dists["sdist"]))
    leaked = [n for n in names if n.startswith(_LEFT_OUT) or "__pycache__" in n or n.endswith(".pyc")]
    assert not leaked
    for needed in ["LICENSE", "README.md", "pyproject.toml", "PKG-INFO"] + _package_files():
        assert needed in names


def _metadata(dists: Dict[str, str]) -> "List[email.message.Message]":
    wheel = _wheel_files(dists["wheel"])
    (metadata,) = [c for n, c in wheel.items() if n.endswith(".dist-info/METADATA")]
    pkg_info = _sdist_files(dists["sdist"])["PKG-INFO"]
    parser = email.parser.BytesHeaderParser()
    return [parser.parsebytes(metadata), parser.parsebytes(pkg_info)]


def test_metadata_license_name_version_and_no_dependencies(dists: Dict[str, str]) -> None:
    import procnet

    for meta in _metadata(dists):
        assert meta["Name"] == "procnet-sockets"
        assert meta["Version"] == procnet.__version__
        assert meta["License-Expression"] == "MIT"
        assert meta.get_all("License-File") == ["LICENSE"]
        assert meta["Requires-Python"] == ">=3.8"
        assert meta["Description-Content-Type"] == "text/markdown"
        # Zero dependencies: every Requires-Dist belongs to an extra (test, bench).
        requires = meta.get_all("Requires-Dist") or []
        assert [r for r in requires if "extra ==" not in r] == []


def test_console_script_is_procnet_cli_main(dists: Dict[str, str]) -> None:
    wheel = _wheel_files(dists["wheel"])
    (entry_points,) = [c for n, c in wheel.items() if n.endswith(".dist-info/entry_points.txt")]
    assert entry_points.decode().split() == ["[console_scripts]", "procnet", "=", "procnet.cli:main"]


def test_twine_check_strict(dists: Dict[str, str]) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "twine", "--no-color", "check", "--strict", dists["sdist"], dists["wheel"]],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("PASSED") == 2, proc.stdout + proc.stderr
