"""No traceback reaches a user when output cannot be written, for every procnet command:
``procnet`` run as a process with its stdout on ``/dev/full`` says so in one line on
stderr and exits 1; with its stdout on a pipe whose read end was closed before it wrote
(``procnet ss | head`` once head has left) it ends quietly with status 141, as ss and lsof
end there (SIGPIPE; a shell reports 141). Each case runs with Python's stdout buffered
and with ``PYTHONUNBUFFERED=1``, where a write fails at once instead of at the flush.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Dict, List, Tuple

import pytest

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
#: a proc tree with processes (so that lsof has rows to write) and sockets of every kind
FIXTURE = os.path.join(TOP, "fixtures", "owners-forked-listener")
EVERY_KIND = os.path.join(TOP, "fixtures", "live-loopback-every-kind")

COMMANDS: List[List[str]] = [
    ["--help"],
    ["--version"],
    ["-V"],
    ["ss", "--help"],
    ["ss", "-V"],
    ["ss", "-tan", "--root", EVERY_KIND],
    ["ss", "-xap", "--root", EVERY_KIND],
    ["lsof", "--help"],
    ["lsof", "-v"],
    ["lsof", "--root", FIXTURE],
    ["lsof", "-i", "-n", "-P", "--root", FIXTURE],
    ["lsof", "-t", "--root", FIXTURE],
    ["lsof", "--json", "--root", FIXTURE],
    ["capture", "--help"],
    ["capture", "--root", FIXTURE, "{bundle}"],
]

MODES = {"buffered": {}, "unbuffered": {"PYTHONUNBUFFERED": "1"}}


def _env(mode: str) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    env.update(MODES[mode], PYTHONPATH=TOP)
    return env


def _argv(args: List[str], tmp_path: "os.PathLike[str]") -> List[str]:
    return [sys.executable, "-m", "procnet"] + [a.format(bundle=os.path.join(str(tmp_path), "b")) for a in args]


def to_dev_full(args: List[str], mode: str, tmp_path: "os.PathLike[str]") -> Tuple[int, str]:
    with open("/dev/full", "w") as full:
        res = subprocess.run(_argv(args, tmp_path), stdout=full, stderr=subprocess.PIPE, text=True, timeout=120,
                             env=_env(mode), cwd=str(tmp_path))
    return res.returncode, res.stderr


def to_closed_pipe(args: List[str], mode: str, tmp_path: "os.PathLike[str]") -> Tuple[int, str]:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader has left before the command writes
    try:
        res = subprocess.run(_argv(args, tmp_path), stdout=write_end, stderr=subprocess.PIPE, text=True,
                             timeout=120, env=_env(mode), cwd=str(tmp_path))
    finally:
        os.close(write_end)
    return res.returncode, res.stderr


def test_every_command_here_has_output() -> None:
    for args in COMMANDS:
        if "{bundle}" not in args:
            res = subprocess.run(_argv(args, TOP), stdout=subprocess.PIPE, env=_env("buffered"), timeout=120)
            assert res.stdout, args


@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_a_full_device_is_one_line_and_status_1(args: List[str], mode: str, tmp_path: "os.PathLike[str]") -> None:
    status, err = to_dev_full(args, mode, tmp_path)
    assert "Traceback" not in err and "Exception ignored" not in err
    assert status == 1
    assert err.count("\n") == 1 and err.startswith("procnet") and "No space left on device" in err


@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_a_closed_pipe_ends_quietly_with_141(args: List[str], mode: str, tmp_path: "os.PathLike[str]") -> None:
    status, err = to_closed_pipe(args, mode, tmp_path)
    assert err == ""
    assert status == 141


def test_what_the_tools_do_with_a_closed_pipe(tmp_path: "os.PathLike[str]") -> None:
    """The reference for 141: ss, killed by SIGPIPE (subprocess restores the signal's
    default action, as a shell does)."""
    import shutil
    import signal

    ss = shutil.which("ss")
    if ss is None:
        pytest.skip("ss is not installed")
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        res = subprocess.run([ss, "-tan"], stdout=write_end, stderr=subprocess.PIPE, timeout=60)
    finally:
        os.close(write_end)
    assert res.returncode == -signal.SIGPIPE and res.stderr == b""
    from procnet.cli import EXIT_PIPE_CLOSED

    assert EXIT_PIPE_CLOSED == 128 + signal.SIGPIPE


def test_main_in_process_reports_a_failed_flush(monkeypatch: pytest.MonkeyPatch) -> None:
    """main() flushes stdout itself, so that the error is its own one line."""
    import errno
    import io

    from procnet.cli import main

    class Full(io.StringIO):
        def flush(self) -> None:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    err = io.StringIO()
    monkeypatch.setattr(sys, "stdout", Full())
    monkeypatch.setattr(sys, "stderr", err)
    assert main(["--version"]) == 1
    assert err.getvalue() == "procnet: cannot write the output: No space left on device\n"
    err.truncate(0)
    err.seek(0)
    assert main(["lsof", "-h"]) == 1
    assert err.getvalue() == "procnet lsof: cannot write the output: No space left on device\n"
