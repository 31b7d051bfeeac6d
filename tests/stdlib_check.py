"""Check every fixture with nothing but the standard library, on any CPython 3.8+.

    python3 -I tests/stdlib_check.py [--lib DIR] [--fixtures DIR]

``--lib`` is the directory that holds the ``procnet/`` package (default: the checkout this
script is in); ``--fixtures`` the scenarios (default: the checkout's ``fixtures/``). For
each scenario with an ``expected.json``, reads it with ``procnet.sockets("all", root=DIR,
owners=<manifest "owners", default False>)`` and compares ``procnet.to_jsonable`` of
every record with the expected list, exactly; every record must also survive pickling (every protocol) and copying. The enums' values,
known and unknown to this version (``TcpState(99)``), must pickle, copy, and print as their
names (``str``/``format``). The exporter's text (``procnet.exporter.exposition``) is made for
every scenario too. Prints one summary line; exits 1 on any mismatch, 2 on a usage error.

It proves the vendoring promise: copy ``procnet/`` alone next to any Python 3.8+ and it
reads the same tables to the same records (tests/test_vendoring.py runs it that way under
every interpreter it finds).
"""

import copy
import json
import os
import pickle
import platform
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CHECKOUT = os.path.dirname(HERE)


def _first_difference(expected, actual, where="$"):
    if type(expected) is not type(actual):
        return "%s: expected %r, got %r" % (where, expected, actual)
    if isinstance(expected, dict):
        for key in sorted(set(expected) | set(actual)):
            if key not in actual:
                return "%s.%s: missing" % (where, key)
            if key not in expected:
                return "%s.%s: unexpected (%r)" % (where, key, actual[key])
            diff = _first_difference(expected[key], actual[key], "%s.%s" % (where, key))
            if diff:
                return diff
        return None
    if isinstance(expected, list):
        if len(expected) != len(actual):
            return "%s: %d items expected, got %d" % (where, len(expected), len(actual))
        for i, (e, a) in enumerate(zip(expected, actual)):
            diff = _first_difference(e, a, "%s[%d]" % (where, i))
            if diff:
                return diff
        return None
    return None if expected == actual else "%s: expected %r, got %r" % (where, expected, actual)


def check(procnet, fixtures):
    """(scenarios checked, sockets compared, list of failure messages)."""
    failures = []
    scenarios = sockets = 0
    for name in sorted(os.listdir(fixtures)):
        directory = os.path.join(fixtures, name)
        expected_path = os.path.join(directory, "expected.json")
        if not os.path.isfile(expected_path):
            continue
        scenarios += 1
        try:
            with open(expected_path, "rb") as f:
                expected = json.loads(f.read().decode("utf-8"))
            manifest = {}
            manifest_path = os.path.join(directory, "procnet-manifest.json")
            if os.path.isfile(manifest_path):
                with open(manifest_path, "rb") as f:
                    manifest = json.loads(f.read().decode("utf-8"))
            records = procnet.sockets("all", root=directory, owners=bool(manifest.get("owners", False)))
            actual = json.loads(json.dumps([procnet.to_jsonable(r) for r in records]))
        except Exception as exc:  # report it as this scenario's failure, and go on
            failures.append("%s: %s: %s" % (name, type(exc).__name__, exc))
            continue
        sockets += len(actual)
        diff = _first_difference(expected, actual)
        if diff:
            failures.append("%s: %s" % (name, diff))
            continue
        for rec in records:
            problem = _round_trip_problem(rec)
            if problem:
                failures.append("%s: record of inode %d: %s" % (name, rec.inode, problem))
                break
    return scenarios, sockets, failures


def _round_trip_problem(value):
    """What goes wrong when ``value`` is pickled (every protocol) or copied, or None."""
    try:
        for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
            if pickle.loads(pickle.dumps(value, protocol)) != value:
                return "differs after pickling with protocol %d" % protocol
        if copy.copy(value) != value or copy.deepcopy(value) != value:
            return "differs after copying"
    except Exception as exc:  # the failure this check exists to find
        return "%s: %s" % (type(exc).__name__, exc)
    return None


def check_enums(procnet):
    """Failure messages for the enums: pickling and copying by value, names in str/format."""
    failures = []
    cases = [
        (procnet.TcpState.LISTEN, "LISTEN"),
        (procnet.TcpState(99), "UNKNOWN_99"),
        (procnet.Timer.KEEPALIVE, "KEEPALIVE"),
        (procnet.Timer(9), "UNKNOWN_9"),
        (procnet.SocketStatus.CONNECTED, "CONNECTED"),
        (procnet.SocketStatus(77), "UNKNOWN_77"),
        (procnet.UnixFlag.ACCEPTCON, "ACCEPTCON"),
        (procnet.UnixFlag(0), "0"),
        (procnet.UnixFlag((1 << 16) | 3), "ACCEPTCON|0x3"),
    ]
    for value, name in cases:
        problem = _round_trip_problem(value)
        if problem:
            failures.append("%r: %s" % (value, problem))
        shown = (str(value), "%s" % value, "{}".format(value), format(value, ""))
        if shown != (name,) * 4:
            failures.append("%r prints as %r, not %r" % (value, shown, name))
        if format(value, "d") != str(int(value)):
            failures.append("%r: format 'd' gives %r" % (value, format(value, "d")))
    return failures


def check_exporter(procnet, fixtures):
    """The exporter's text for every scenario: the model and its rendering run here too."""
    import importlib

    exporter = importlib.import_module(procnet.__name__ + ".exporter")
    failures = []
    for name in sorted(os.listdir(fixtures)):
        root = os.path.join(fixtures, name)
        if not os.path.exists(os.path.join(root, "expected.json")):
            continue
        try:
            text = exporter.exposition(root=root, netns="host")
        except Exception as exc:  # reported, not raised: the summary line names it
            failures.append("EXPORTER %s: %s: %s" % (name, type(exc).__name__, exc))
            continue
        if not text.endswith("\n") or "procnet_tcp_sockets{" not in text or "procnet_exporter_info{" not in text:
            failures.append("EXPORTER %s: unexpected text %r" % (name, text[:200]))
    return failures


def main(argv):
    lib, fixtures = CHECKOUT, os.path.join(CHECKOUT, "fixtures")
    args = list(argv)
    while args:
        opt = args.pop(0)
        if opt in ("--lib", "--fixtures") and args:
            value = os.path.abspath(args.pop(0))
            if opt == "--lib":
                lib = value
            else:
                fixtures = value
        else:
            print("usage: stdlib_check.py [--lib DIR] [--fixtures DIR]", file=sys.stderr)
            return 2
    sys.path.insert(0, lib)
    import procnet

    origin = os.path.dirname(os.path.dirname(os.path.abspath(procnet.__file__)))
    if origin != lib:
        print("stdlib_check: procnet was imported from %s, not from %s" % (origin, lib), file=sys.stderr)
        return 1
    scenarios, sockets, failures = check(procnet, fixtures)
    failures.extend("ENUM " + f for f in check_enums(procnet))
    failures.extend(check_exporter(procnet, fixtures))
    for failure in failures:
        print(("" if failure.startswith(("ENUM ", "EXPORTER ")) else "MISMATCH ") + failure, file=sys.stderr)
    if scenarios == 0:
        failures.append("no fixtures found")
    print(
        "stdlib_check: Python %s: %d scenarios, %d sockets: %s"
        % (platform.python_version(), scenarios, sockets, "%d FAILED" % len(failures) if failures else "all match")
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
