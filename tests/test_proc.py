"""ProcFS: the one way into the file system, and its errors."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


# -- one way to read a file under the root (procnet/_proc.py _open_file, _read, _read_text) --

def test_decimal_names_are_ascii_digits_only() -> None:
    from procnet._proc import is_decimal_name

    assert [n for n in ("0", "42", "\u00b2", "\u0663", "4\u00b2", "x", "", "-1", " 1") if is_decimal_name(n)] == ["0", "42"]


def test_pids_skip_names_that_only_look_numeric(tmp_path) -> None:
    for name in ("7", "\u00b2", "1\u0663"):
        (tmp_path / name).mkdir()
    assert ProcFS(str(tmp_path)).pids() == [7]


def _pipe_with(data: bytes):
    """A pipe's read end holding ``data``: a file whose size fstat does not tell, as /proc's."""
    import threading

    r, w = os.pipe()

    def feed() -> None:
        with os.fdopen(w, "wb") as f:
            f.write(data)

    thread = threading.Thread(target=feed)
    thread.start()
    return r, thread


@pytest.mark.parametrize("text", [False, True])
def test_a_file_of_unknown_size_is_read_up_to_its_limit_only(text: bool) -> None:
    from procnet._errors import UnsafeFile
    from procnet._proc import _read, _read_text

    r, thread = _pipe_with(b"x" * 1000)
    try:
        with pytest.raises(UnsafeFile) as err:
            (_read_text if text else _read)(r, 0, 999, "/proc/42/status")
        assert "999 bytes" in str(err.value) and "/proc/42/status" in str(err.value)
    finally:
        os.close(r)
        thread.join()
    r, thread = _pipe_with(b"y" * 1000)
    try:
        assert (_read_text if text else _read)(r, 0, 1000, "/proc/42/status") in (b"y" * 1000, "y" * 1000)
    finally:
        os.close(r)
        thread.join()


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200), st.integers(min_value=1, max_value=9))
def test_text_read_a_chunk_at_a_time_is_the_whole_decode(data: bytes, chunk: int) -> None:
    """UTF-8 split anywhere, invalid bytes included: the same str as decoding the whole."""
    from procnet import _proc

    r, w = os.pipe()
    os.write(w, data)
    os.close(w)
    saved = _proc._TEXT_CHUNK
    _proc._TEXT_CHUNK = chunk
    try:
        assert _proc._read_text(r, 0, 1000, "t") == data.decode("utf-8", "surrogateescape")
    finally:
        _proc._TEXT_CHUNK = saved
        os.close(r)


def _table(rows: int) -> bytes:
    row = b"%4d: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 %d 1 0000000000000000 100 0 0 10 0\n"
    header = b"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
    return header + b"".join(row % (i % 10000, 10000 + i) for i in range(rows))


def test_a_table_is_held_once_while_it_is_read(tmp_path) -> None:
    """A capture's table (size known) and a /proc one (size 0, here a pipe): the peak of
    Python's allocations is the text and a chunk or two (reading the bytes, then decoding
    them, held two copies)."""
    import tracemalloc

    from procnet._proc import _read_text

    data = _table(100000)  # 13 MB
    (tmp_path / "net").mkdir()
    (tmp_path / "net" / "tcp").write_bytes(data)
    fs = ProcFS(str(tmp_path))
    r, thread = _pipe_with(data)
    try:
        for read in (lambda: fs.read_net_text("tcp"), lambda: _read_text(r, 0, 1 << 30, "pipe")):
            tracemalloc.start()
            try:
                text = read()
                peak = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
            assert text == data.decode()
            assert peak < len(data) * 1.3 + (2 << 20), (peak, len(data))
            del text
    finally:
        os.close(r)
        thread.join()


def test_intermediate_link_in_a_process_directory_is_not_followed(tmp_path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink("net:[4026531840]", str(outside / "net"))
    root = tmp_path / "root"
    (root / "5").mkdir(parents=True)
    os.symlink(str(outside), str(root / "5" / "ns"))
    from procnet._errors import UnsafeFile

    with ProcFS(str(root)).process(5) as proc:
        with pytest.raises(UnsafeFile) as err:
            proc.readlink("ns/net")
    assert "symbolic link" in str(err.value) and str(root / "5" / "ns") in str(err.value)


def test_links_inside_the_root_under_it_are_followed_as_on_a_live_proc(tmp_path) -> None:
    """``<root>/net -> self/net`` and ``<root>/self -> <pid>``, as /proc has them."""
    (tmp_path / "9" / "net").mkdir(parents=True)
    (tmp_path / "9" / "net" / "tcp").write_bytes(_table(2))
    os.symlink("9", str(tmp_path / "self"))
    os.symlink("self/net", str(tmp_path / "net"))
    assert len(procnet.sockets("tcp", root=str(tmp_path), owners=False)) == 2


def test_a_link_further_down_the_root_path_is_refused(tmp_path) -> None:
    """``<root>/<pid>/net`` is a directory on every proc: a link there is not followed,
    even one that stays inside."""
    (tmp_path / "net").mkdir()
    (tmp_path / "net" / "tcp").write_bytes(_table(2))
    (tmp_path / "9").mkdir()
    os.symlink("../net", str(tmp_path / "9" / "net"))
    from procnet._errors import UnsafeFile

    with pytest.raises(UnsafeFile):
        ProcFS(str(tmp_path)).read_net_table("tcp", 9)


def test_a_directory_where_a_file_belongs_is_refused_by_its_kind(tmp_path) -> None:
    (tmp_path / "5" / "comm").mkdir(parents=True)
    from procnet._errors import UnsafeFile

    with ProcFS(str(tmp_path)).process(5) as proc:
        with pytest.raises(UnsafeFile) as err:
            proc.read("comm")
    assert "is a directory, not a regular file" in str(err.value)
    assert isinstance(err.value, procnet.AccessDenied)  # the scan counts the process as not inspected


def test_live_socket_fds_skip_nothing() -> None:
    import socket

    if not os.path.exists("/proc/self/fd"):
        pytest.skip("needs a live /proc")
    with socket.socket() as s:
        inode = os.fstat(s.fileno()).st_ino
        with ProcFS().process(os.getpid()) as proc:
            names, found = proc.socket_fds({inode})
            assert found == [(s.fileno(), inode)] and proc.skipped == []
            assert str(s.fileno()) in names
