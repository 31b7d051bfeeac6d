"""Coverage-guided fuzzing of procnet's parsers with atheris (libFuzzer for Python).

    py=$(python3 tests/check.py --print-venv)/bin/python   # the venv tests/check.py made
    "$py" -m pip install atheris
    "$py" tests/fuzz/fuzz_procnet.py TARGET [libFuzzer options]
    "$py" tests/fuzz/fuzz_procnet.py inet:tcp6:little -max_total_time=60
    "$py" tests/fuzz/fuzz_procnet.py --list

TARGET is a name from tests/fuzz/targets.py (``inet:<table>:<little|big>``, ``unix``,
``netlink-inet:<proto>:<order>``, ``netlink-unix:<order>``, ``fdinfo``, ``cmdline``,
``comm``, ``status``, ``stat``, ``filter``, ``services``). The harness seeds libFuzzer
with the real tables (live /proc and fixtures/) written to a temporary corpus
directory, steps over the bugs listed in targets.KNOWN_BUGS, and on any other exception
writes the input to fixtures/fuzz-regressions/<target>--<hash>.bin (the replay test in
tests/test_fuzz.py picks it up) before libFuzzer reports the crash. At the end it prints
how many inputs it ran.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import atheris  # noqa: E402

with atheris.instrument_imports():
    import corpus  # noqa: E402
    import targets  # noqa: E402
    import procnet._filter  # noqa: E402,F401
    import procnet._parse.inet  # noqa: E402,F401
    import procnet._parse.netlink  # noqa: E402,F401
    import procnet._parse.process  # noqa: E402,F401
    import procnet._parse.unix  # noqa: E402,F401
    import procnet._services  # noqa: E402,F401

RUNS = {"n": 0, "known": 0}


def seeds_for(target: str) -> list:
    if target.startswith("inet:"):
        table = target.split(":")[1]
        return corpus.text_seeds()[table]
    if target == "unix":
        return corpus.text_seeds()["unix"]
    if target.startswith("netlink"):
        return corpus.netlink_seeds()
    if target in ("fdinfo", "cmdline", "comm", "status", "stat"):
        return corpus.process_seeds()[target]
    if target == "services":
        return corpus.services_seeds()
    if target == "filter":
        return [w.encode("utf-8", "surrogateescape") for w in corpus.FILTER_WORDS] + [
            b"state established and ( sport = :22 or dport = :http )",
            b"dst 127.0.0.1/8 and not src [::1]:443",
        ]
    return [b""]


def main() -> None:
    args = sys.argv[1:]
    if not args or args[0] == "--list":
        print("\n".join(sorted(targets.targets())))
        return
    target, rest = args[0], args[1:]
    fn = targets.targets()[target]
    slug = target.replace(":", "--")

    def one(data: bytes) -> None:
        RUNS["n"] += 1
        try:
            fn(data)
        except Exception as exc:
            if targets.known_bug(target, exc):
                RUNS["known"] += 1
                return
            digest = hashlib.sha1(data).hexdigest()[:12]
            path = os.path.join(corpus.REGRESSIONS, "%s--%s.bin" % (slug, digest))
            with open(path, "wb") as f:
                f.write(data)
            sys.stderr.write("fuzz_procnet: crash input written to %s\n" % path)
            raise

    seed_dir = tempfile.mkdtemp(prefix="procnet-fuzz-seeds-")
    for i, seed in enumerate(seeds_for(target)):
        with open(os.path.join(seed_dir, "seed-%03d" % i), "wb") as f:
            f.write(seed[:20000])
    import atexit

    atexit.register(lambda: print("fuzz_procnet: %s ran %d inputs (%d hit known bugs)" % (target, RUNS["n"], RUNS["known"])))
    atheris.Setup([sys.argv[0]] + rest + [seed_dir], one)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
