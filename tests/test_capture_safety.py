"""Capture writes only into the bundle, never through a link, and no more readably than its sources.

``procnet capture`` runs as root: a link planted in the bundle while it is written must not
turn it into a write anywhere else. Links are planted deterministically, from a wrapper of
``os.mkdir`` that runs right after the capture makes a given directory (the moment an
attacker watching the bundle would act), so no test depends on timing. Every attack is
checked the same way: the capture stops with a :class:`procnet.CaptureError` naming the
planted entry, and the directory and file outside are exactly as they were.
"""

from __future__ import annotations

import os
import stat
from typing import Any, Callable, Dict, Iterator, List, Tuple

import pytest

import procnet
from procnet.cli import capture as capture_cli

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "fixtures")
FORKED = os.path.join(FIXTURES, "owners-forked-listener")  # pids 100..103, net/tcp and net/unix
IS_ROOT = os.geteuid() == 0


@pytest.fixture
def outside(tmp_path: Any) -> Dict[str, str]:
    """A directory and a file the capture must never touch."""
    directory = tmp_path / "outside"
    directory.mkdir()
    target = tmp_path / "precious"
    target.write_bytes(b"KEEP\n")
    return {"dir": str(directory), "file": str(target)}


def _untouched(outside: Dict[str, str]) -> None:
    assert os.listdir(outside["dir"]) == [], "the capture wrote outside the bundle"
    with open(outside["file"], "rb") as f:
        assert f.read() == b"KEEP\n"


def _plant_after_mkdir(monkeypatch: Any, component: str, plant: Callable[[], None]) -> List[str]:
    """Run ``plant()`` once, right after the capture first makes a directory named ``component``.

    Wraps ``os.mkdir``, which both ``os.makedirs`` and ``mkdir(name, dir_fd=...)`` call."""
    real = os.mkdir
    fired: List[str] = []

    def mkdir(path: Any, *args: Any, **kwargs: Any) -> None:
        real(path, *args, **kwargs)
        if not fired and os.fsdecode(path).rstrip("/").rsplit("/", 1)[-1] == component:
            fired.append(os.fsdecode(path))
            plant()

    monkeypatch.setattr(os, "mkdir", mkdir)
    return fired


# (made just before, planted entry relative to the bundle, planted link points to)
_ATTACKS = [
    ("net", "100", "dir"),  # a process directory, before the capture makes it: comm, fd/... would go outside
    ("net", "net/tcp", "file"),  # a table, before it is written
    ("100", "100/comm", "file"),  # a process file
    ("fd", "100/fdinfo", "dir"),  # a directory beside one just made
]


@pytest.mark.parametrize("after,planted,kind", _ATTACKS)
def test_a_link_planted_during_the_capture_stops_it_and_nothing_is_written_outside(
    tmp_path: Any, monkeypatch: Any, outside: Dict[str, str], after: str, planted: str, kind: str
) -> None:
    dest = str(tmp_path / "bundle")
    os.mkdir(dest, 0o700)
    fired = _plant_after_mkdir(monkeypatch, after, lambda: os.symlink(outside[kind], os.path.join(dest, planted)))
    with pytest.raises(procnet.CaptureError) as caught:
        procnet.capture(dest, root=FORKED)
    monkeypatch.undo()
    assert fired, "the capture never made %r: the attack did not run" % after
    assert caught.value.path == os.path.join(dest, planted)
    assert "already exists" in str(caught.value)
    _untouched(outside)
    assert os.readlink(os.path.join(dest, planted)) == outside[kind]  # refused, not removed or replaced


def test_a_directory_the_writer_made_and_someone_replaced_is_not_reopened(tmp_path: Any, outside: Dict[str, str]) -> None:
    from procnet._bundle import BundleWriter

    dest = str(tmp_path / "bundle")
    with BundleWriter(dest) as top:
        top.directory("400").close()
        os.rename(os.path.join(dest, "400"), os.path.join(dest, "moved"))
        os.symlink(outside["dir"], os.path.join(dest, "400"))
        with pytest.raises(procnet.CaptureError, match="symlink"):
            top.directory("400")
        os.unlink(os.path.join(dest, "400"))
        os.mkdir(os.path.join(dest, "400"))  # a look-alike: same name, another directory
        with pytest.raises(procnet.CaptureError, match="replaced"):
            top.directory("400")
    _untouched(outside)


# --- which directory a capture accepts --------------------------------------------------------


def _refused(dest: str, match: str) -> None:
    with pytest.raises(procnet.CaptureError, match=match):
        procnet.capture(dest, root=FORKED)


def test_a_symlink_to_an_empty_directory_is_refused(tmp_path: Any, outside: Dict[str, str]) -> None:
    link = str(tmp_path / "bundle")
    os.symlink(outside["dir"], link)
    _refused(link, "symlink")
    _refused(link + "/", "symlink")  # a trailing slash must not make the kernel follow it
    _untouched(outside)


def test_a_file_is_refused(tmp_path: Any, outside: Dict[str, str]) -> None:
    _refused(outside["file"], "not a directory")
    _untouched(outside)


@pytest.mark.skipif(not IS_ROOT, reason="needs root to give a directory to another uid")
def test_an_empty_directory_of_another_user_is_refused(tmp_path: Any) -> None:
    dest = tmp_path / "bundle"
    dest.mkdir(mode=0o700)
    os.chown(str(dest), 65534, 65534)  # nobody's, as in the attack
    _refused(str(dest), "owned by uid 65534")
    assert os.listdir(str(dest)) == []


@pytest.mark.parametrize("mode", [0o770, 0o707, 0o777, 0o1777, 0o720])
def test_a_directory_others_may_write_is_refused(tmp_path: Any, mode: int) -> None:
    dest = tmp_path / "bundle"
    dest.mkdir()
    os.chmod(str(dest), mode)
    _refused(str(dest), "writable by group or others")
    assert os.listdir(str(dest)) == []


def test_a_missing_parent_is_not_made(tmp_path: Any) -> None:
    _refused(str(tmp_path / "no" / "bundle"), "does not exist")
    assert not (tmp_path / "no").exists()


# --- modes -------------------------------------------------------------------------------------


def _walk(top: str) -> Iterator[Tuple[str, os.stat_result]]:
    for dirpath, dirnames, filenames in os.walk(top):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            yield path, os.lstat(path)


def assert_private(dest: str) -> Tuple[int, int]:
    """The bundle at ``dest`` is 0700 directories and 0600 files of the caller (and links);
    returns how many directories and files it holds. (tests/test_capture.py uses it too.)"""
    dirs = files = 0
    assert stat.S_IMODE(os.lstat(dest).st_mode) == 0o700
    for path, st in _walk(dest):
        if stat.S_ISDIR(st.st_mode):
            dirs += 1
            assert stat.S_IMODE(st.st_mode) == 0o700, "%s is %04o" % (path, stat.S_IMODE(st.st_mode))
        elif stat.S_ISREG(st.st_mode):
            files += 1
            assert stat.S_IMODE(st.st_mode) == 0o600, "%s is %04o" % (path, stat.S_IMODE(st.st_mode))
        else:
            assert stat.S_ISLNK(st.st_mode), path
        assert st.st_uid == os.geteuid()
    return dirs, files


@pytest.mark.parametrize("umask", [0o000, 0o022, 0o077, 0o277])
@pytest.mark.parametrize(
    "scenario,netns", [("owners-thread-own-fd-table", None), ("owners-two-namespaces", "all"), ("owners-forked-listener", None)]
)
def test_every_directory_is_0700_and_every_file_0600_whatever_the_umask(
    tmp_path: Any, umask: int, scenario: str, netns: Any
) -> None:
    dest = str(tmp_path / "bundle")
    root = os.path.join(FIXTURES, scenario)
    old = os.umask(umask)
    try:
        procnet.capture(dest, root=root, netns=netns)
    finally:
        os.umask(old)
    dirs, files = assert_private(dest)
    assert dirs >= 4 and files >= 5
    # the bundle still reads back as its source did
    assert sorted(map(repr, procnet.sockets("all", root=dest, netns=netns))) == sorted(
        map(repr, procnet.sockets("all", root=root, netns=netns))
    )


def test_an_empty_private_directory_of_the_caller_is_used_and_left_with_its_mode(tmp_path: Any) -> None:
    dest = tmp_path / "bundle"
    dest.mkdir()
    os.chmod(str(dest), 0o750)  # the caller's choice: readable by the group, writable by nobody else
    procnet.capture(str(dest), root=FORKED)
    assert stat.S_IMODE(os.lstat(str(dest)).st_mode) == 0o750
    os.chmod(str(dest), 0o700)
    assert_private(str(dest))


# --- the command line -------------------------------------------------------------------------


def test_the_command_line_escapes_control_characters_in_its_error(tmp_path: Any, capsys: Any) -> None:
    dest = tmp_path / "bad\nname\x1b[2J"
    dest.mkdir()
    (dest / "x").write_text("keep me")
    assert capture_cli.main([str(dest), "--root", FORKED]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.endswith("\n") and "\x1b" not in err
    assert "bad\\x0aname\\x1b[2J" in err and "not empty" in err
