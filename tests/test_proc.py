"""ProcFS: the one way into the file system, and its errors."""

from __future__ import annotations

import os

import pytest

import procnet
from procnet._proc import Gone, ProcFS


def test_root_without_net_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(procnet.ProcRootError) as err:
        procnet.sockets("tcp", root=str(tmp_path), owners=False)
    assert str(tmp_path) in str(err.value) and "net" in str(err.value)
    assert isinstance(err.value, procnet.ProcNetError)


def test_missing_root_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(procnet.ProcRootError):
        procnet.sockets("tcp", root=str(tmp_path / "nope"))


def test_missing_table_means_no_sockets_of_that_kind(tmp_path) -> None:
    (tmp_path / "net").mkdir()
    (tmp_path / "net" / "tcp").write_text(
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
    )
    assert ProcFS(str(tmp_path)).read_net_table("udplite") is None
    assert list(procnet.sockets("all", root=str(tmp_path), owners=False)) == []


def test_unknown_proto_lists_the_valid_ones() -> None:
    with pytest.raises(ValueError) as err:
        procnet.sockets("sctp")
    for name in ("tcp", "udp6", "inet", "unix", "all", "raw", "udplite"):
        assert name in str(err.value)


def test_root_must_be_a_path() -> None:
    with pytest.raises(TypeError):
        ProcFS(42)  # type: ignore[arg-type]


def test_symlinked_file_in_a_capture_is_not_followed(tmp_path) -> None:
    """A capture whose comm is a link out of the root is not read through."""
    pid = tmp_path / "77"
    (pid / "fd").mkdir(parents=True)
    secret = tmp_path.parent / "secret-outside-root"
    secret.write_text("do not read\n")
    os.symlink(str(secret), str(pid / "comm"))
    with ProcFS(str(tmp_path)).process(77) as proc:
        with pytest.raises(procnet.ProcNetError):
            proc.read("comm")


def test_vanished_pid_directory_is_gone(tmp_path) -> None:
    with pytest.raises(Gone):
        ProcFS(str(tmp_path)).process(99999)


def test_pids_are_numeric_entries_only(tmp_path) -> None:
    for name in ("1", "20", "self", "net", "3x"):
        (tmp_path / name).mkdir()
    assert ProcFS(str(tmp_path)).pids() == [1, 20]
