"""Layering is checked, not hoped for: imports go one way, only _proc spells "/proc", and
only _bundle (the capture's writer) writes to the file system."""

from __future__ import annotations

import ast
import os

import pytest

PKG = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "procnet")

# Lower layers may not import higher ones (cli -> query -> owners -> proc -> parsers -> records).
RANK = {
    "_lazy": 0,
    "_vocab": 0,
    "_escape": 0,
    "_errors": 0,
    "_records": 1,
    "_states": 2,
    "_json": 2,
    "_services": 2,
    "_parse": 2,
    "_filter": 3,
    "_proc": 3,
    "_bundle": 3,
    "_netlink": 3,
    "_metrics": 3,
    "_owners": 4,
    "_capture": 5,
    "_query": 5,
    "exporter": 5,
    "_wait": 5,
    "prometheus": 6,
    "cli": 6,
    "__init__": 7,
    "__main__": 8,
}


def modules():
    for dirpath, _, files in os.walk(PKG):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, PKG)
                yield rel, path


def layer(rel: str) -> str:
    first = rel.split(os.sep)[0]
    return first[:-3] if first.endswith(".py") else first


def imported_layers(path: str, rel: str):
    tree = ast.parse(open(path, encoding="utf-8").read())
    depth = rel.count(os.sep)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            parts = (node.module or "").split(".")
            if node.level - 1 < depth:
                # relative to a subpackage: "from .inet import" inside _parse stays in _parse
                yield layer(rel), node.lineno
            elif parts[0]:
                yield parts[0], node.lineno
            else:
                for alias in node.names:
                    yield alias.name, node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("procnet."):
                    yield alias.name.split(".")[1], node.lineno


@pytest.mark.parametrize("rel,path", sorted(modules()))
def test_imports_point_down(rel: str, path: str) -> None:
    mine = layer(rel)
    assert mine in RANK, "new module %s: give it a layer in tests/test_layering.py" % rel
    for target, lineno in imported_layers(path, rel):
        if target not in RANK:
            continue
        assert RANK[target] <= RANK[mine], "%s:%d imports %s, a higher layer" % (rel, lineno, target)


@pytest.mark.parametrize("rel,path", sorted(modules()))
def test_only_proc_access_spells_the_proc_root(rel: str, path: str) -> None:
    if rel == "_proc.py":
        return
    tree = ast.parse(open(path, encoding="utf-8").read())
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            assert not node.value.startswith("/proc"), "%s:%d spells %r" % (rel, node.lineno, node.value)


def test_parsers_do_no_io() -> None:
    for name in os.listdir(os.path.join(PKG, "_parse")):
        if not name.endswith(".py"):
            continue
        source = open(os.path.join(PKG, "_parse", name), encoding="utf-8").read()
        tree = ast.parse(source)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id != "open", "_parse/%s calls open()" % name
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "os":
                assert node.attr in ("fsdecode", "fsencode", "makedev", "major", "minor", "strerror"), "_parse/%s uses os.%s" % (name, node.attr)


# os calls and open flags that create, change or remove something on the file system.
_WRITING_OS = {
    "mkdir", "makedirs", "mkfifo", "mknod", "symlink", "link", "write", "pwrite", "writev", "truncate",
    "ftruncate", "chmod", "fchmod", "lchmod", "chown", "fchown", "lchown", "rename", "renames", "replace",
    "remove", "removedirs", "unlink", "rmdir", "utime", "setxattr", "removexattr", "O_WRONLY", "O_RDWR",
    "O_CREAT", "O_TRUNC", "O_APPEND",
}
_WRITING_MODULES = {"shutil", "tempfile"}


@pytest.mark.parametrize("rel,path", sorted(modules()))
def test_only_the_bundle_writer_writes_to_the_file_system(rel: str, path: str) -> None:
    if rel == "_bundle.py":
        return
    tree = ast.parse(open(path, encoding="utf-8").read())
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "os":
            assert node.attr not in _WRITING_OS, "%s:%d uses os.%s: file-system writes belong in _bundle" % (
                rel, node.lineno, node.attr)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "open":
            modes = [a for a in node.args[1:2] + [k.value for k in node.keywords if k.arg == "mode"]]
            for mode in modes:
                written = isinstance(mode, ast.Constant) and isinstance(mode.value, str) and set(mode.value) & set("wax+")
                assert not written and isinstance(mode, ast.Constant), "%s:%d opens a file to write" % (rel, node.lineno)
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            assert not _WRITING_MODULES & {n.split(".")[0] for n in names}, "%s:%d imports %s" % (
                rel, node.lineno, names)
