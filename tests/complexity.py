#!/usr/bin/env python3
"""Decision points per function: a fixed, simple measure to keep functions readable.

    python3 tests/complexity.py procnet            # every function above 20, worst first
    python3 tests/complexity.py --top 10 FILE...    # the ten worst

One point for each ``if``/``elif``, conditional expression, ``for``/``while`` (and each
``for`` and ``if`` of a comprehension), ``except`` clause, ``case`` of a ``match``,
``assert``, and each extra operand of ``and``/``or``. A function's nested functions and
classes count on their own, not in it. McCabe's cyclomatic number is this plus one: by
this measure psutil 7.2.2's ``_pslinux.py`` peaks at 20 (``sensors_temperatures``;
cyclomatic 21) and h11 0.16's worst outside its tests is 15 (cyclomatic 16).
"""

from __future__ import annotations

import argparse
import ast
import os
import sys
from typing import Iterator, List, Tuple

_BRANCHES = (ast.If, ast.IfExp, ast.For, ast.AsyncFor, ast.While, ast.ExceptHandler, ast.Assert)


def _points(node: ast.AST) -> int:
    total = 0
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        if isinstance(child, _BRANCHES):
            total += 1
        elif isinstance(child, ast.BoolOp):
            total += len(child.values) - 1
        elif isinstance(child, ast.comprehension):
            total += 1 + len(child.ifs)
        elif type(child).__name__ == "match_case":
            total += 1
        total += _points(child)
    return total


def functions(path: str) -> Iterator[Tuple[str, int, int]]:
    """(qualified name, line, decision points) for every function of a file."""
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)

    def walk(node: ast.AST, prefix: str) -> Iterator[Tuple[str, int, int]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = prefix + child.name
                yield name, child.lineno, _points(child)
                yield from walk(child, name + ".")
            elif isinstance(child, ast.ClassDef):
                yield from walk(child, prefix + child.name + ".")
            else:
                yield from walk(child, prefix)

    yield from walk(tree, "")


def python_files(paths: List[str]) -> Iterator[str]:
    for path in paths:
        if os.path.isdir(path):
            for top, dirs, files in os.walk(path):
                dirs.sort()
                for name in sorted(files):
                    if name.endswith(".py"):
                        yield os.path.join(top, name)
        else:
            yield path


def measure(paths: List[str]) -> List[Tuple[int, str, str, int]]:
    """(points, file, function, line) for every function, worst first."""
    rows = [(points, path, name, line) for path in python_files(paths) for name, line, points in functions(path)]
    rows.sort(key=lambda r: (-r[0], r[1], r[3]))
    return rows


def main(argv: List[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("paths", nargs="+")
    ap.add_argument("--top", type=int, default=0, help="print the N worst (default: every one above --above)")
    ap.add_argument("--above", type=int, default=20)
    args = ap.parse_args(argv)
    rows = measure(args.paths)
    shown = rows[: args.top] if args.top else [r for r in rows if r[0] > args.above]
    for points, path, name, line in shown:
        print("%3d  %s:%d  %s" % (points, path, line, name))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
