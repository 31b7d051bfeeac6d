"""The exporter's text is valid exposition format 0.0.4, by rule, by the official parser and by promtool.

The parsers are lenient (prometheus_client accepts duplicate series, a late TYPE, a family
split in two and no final newline; promtool 2.42 still accepts duplicates and split
families), so :func:`check_exposition` asserts the rules of EXPORTER.md §5.1/§11.2 itself:
UTF-8, ``\\n`` line ends and a final one (a carriage return inside a label value is only
text), each family one contiguous group with HELP and TYPE once before its samples, each
series once, legacy charset names with the ``procnet_`` prefix, ``_total`` iff counter, no
timestamps, no ``__`` label names, only the three label escapes. It is applied to the
exporter's output for every fixture tree (also folded by a small ``max_series``), the live
machine with a hostile process name (``"``, ``\\``, line feed, ``\\xff``), and text rendered
from arbitrary families (hypothesis); the same outputs go through ``prometheus_client.parser``
(values and label strings equal to the model's rows) and ``promtool check metrics`` (exit 0;
Debian's package, see tests/promtools.py).
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from typing import Dict, List, Optional, Tuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import promtools
from conftest import FIXTURES, ROOT

exporter = pytest.importorskip("procnet.exporter", reason="procnet.exporter is not written yet")
from procnet import _metrics  # noqa: E402

NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")
VALUE = re.compile(r"(?:[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|NaN|[+-]Inf)\Z")
LABEL = re.compile(r'([^=,{}"]*)="((?:[^"\\]|\\.)*)"')
SAMPLE = re.compile(r"([^{ ]*)(?:\{(.*)\})? ([^ ]*)(.*)\Z")
ESCAPES = {"\\\\": "\\", '\\"': '"', "\\n": "\n"}
TYPES = ("counter", "gauge")

Labels = Tuple[Tuple[str, str], ...]  # (name, value) pairs, sorted


class ParsedFamily:
    """One family as the checker read it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.help: Optional[str] = None
        self.type: Optional[str] = None
        self.samples: Dict[Labels, float] = {}


# --- the checker ---------------------------------------------------------------------------


def _fail(lineno: int, line: str, why: str) -> None:
    raise AssertionError("line %d: %s | %r" % (lineno, why, line))


def _unescape(text: str, allowed: Dict[str, str], lineno: int, line: str) -> str:
    def one(m: "re.Match[str]") -> str:
        if m.group(0) not in allowed:
            _fail(lineno, line, "escape %r is not one of %s" % (m.group(0), sorted(allowed)))
        return allowed[m.group(0)]

    if text.endswith("\\") and not text.endswith("\\\\"):
        _fail(lineno, line, "a lone backslash ends the text")
    return re.sub(r"\\.", one, text, flags=re.S)


def _check_name(name: str, prefix: str, lineno: int, line: str) -> None:
    if not NAME.match(name) or not name.startswith(prefix):
        _fail(lineno, line, "metric name %r is not [a-zA-Z_][a-zA-Z0-9_]* starting %r" % (name, prefix))


def _parse_labels(text: str, lineno: int, line: str) -> Labels:
    pairs: List[Tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        m = LABEL.match(text, pos)
        if m is None:
            _fail(lineno, line, "cannot read a label at %r" % text[pos:])
        assert m is not None
        name = m.group(1)
        if not NAME.match(name) or name.startswith("__"):
            _fail(lineno, line, "label name %r: not [a-zA-Z_][a-zA-Z0-9_]* or starts with __" % name)
        pairs.append((name, _unescape(m.group(2), ESCAPES, lineno, line)))
        pos = m.end()
        if pos < len(text):
            if text[pos] != ",":
                _fail(lineno, line, "expected ',' between labels at %r" % text[pos:])
            pos += 1
    names = [n for n, _ in pairs]
    if len(set(names)) != len(names):
        _fail(lineno, line, "a label name twice in one series")
    return tuple(sorted(pairs))


class _Reader:
    """The state of one pass over the text: which family is open, which are closed."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.families: Dict[str, ParsedFamily] = {}
        self.current: Optional[ParsedFamily] = None

    def open(self, name: str, lineno: int, line: str) -> ParsedFamily:
        if self.current is not None and self.current.name == name:
            return self.current
        if name in self.families:
            _fail(lineno, line, "family %s is split: its group ended earlier" % name)
        self.current = self.families[name] = ParsedFamily(name)
        return self.current

    def meta(self, lineno: int, line: str) -> None:
        parts = line.split(" ", 3)
        if len(parts) < 3 or parts[1] not in ("HELP", "TYPE"):
            return  # a plain comment
        _check_name(parts[2], self.prefix, lineno, line)
        family = self.open(parts[2], lineno, line)
        if family.samples:
            _fail(lineno, line, "%s after the family's samples" % parts[1])
        text = parts[3] if len(parts) == 4 else ""
        if parts[1] == "HELP":
            if family.help is not None:
                _fail(lineno, line, "a second HELP")
            family.help = _unescape(text, {"\\\\": "\\", "\\n": "\n"}, lineno, line)
            return
        if family.type is not None:
            _fail(lineno, line, "a second TYPE")
        if text not in TYPES:
            _fail(lineno, line, "type %r is not one of %s" % (text, TYPES))
        if (text == "counter") != family.name.endswith("_total"):
            _fail(lineno, line, "_total is for counters only, and every counter's name ends with it")
        family.type = text

    def sample(self, lineno: int, line: str) -> None:
        m = SAMPLE.match(line)
        if m is None:
            _fail(lineno, line, "not a sample line")
        assert m is not None
        name, labels, value, rest = m.groups()
        _check_name(name, self.prefix, lineno, line)
        family = self.current
        if family is None or family.name != name or family.help is None or family.type is None:
            _fail(lineno, line, "sample outside its family's group, or before its HELP and TYPE")
        assert family is not None
        if rest:
            _fail(lineno, line, "a timestamp or trailing text %r" % rest)
        if not VALUE.match(value):
            _fail(lineno, line, "value %r is not a Go float" % value)
        key = _parse_labels(labels or "", lineno, line)
        if key in family.samples:
            _fail(lineno, line, "series repeated")
        # a whole number stays an int, as the model and prometheus_client keep it (exact past 2**53)
        family.samples[key] = int(value) if value.lstrip("+-").isdigit() else float(value.replace("Inf", "inf"))


def check_exposition(text: "str | bytes", prefix: str = "procnet_") -> Dict[str, ParsedFamily]:
    """Assert the rules of text format 0.0.4 the parsers let pass; the families read, in order."""
    if isinstance(text, bytes):
        decoded = text.decode("utf-8")  # raises on bytes that are not UTF-8
    else:
        text.encode("utf-8")  # raises on lone surrogates (a name's undecodable bytes left in)
        decoded = text
    assert decoded.endswith("\n"), "the last line does not end in a line feed: %r" % decoded[-80:]
    reader = _Reader(prefix)
    for lineno, line in enumerate(decoded[:-1].split("\n"), 1):
        if line.startswith("#"):
            reader.meta(lineno, line)
        elif line:
            reader.sample(lineno, line)
    for family in reader.families.values():
        assert family.help is not None and family.type is not None, "%s lacks HELP or TYPE" % family.name
    return reader.families


# --- the checker rejects what it must ----------------------------------------------------

GOOD = (
    "# HELP procnet_a_total Drops.\n# TYPE procnet_a_total counter\n"
    'procnet_a_total{comm="x\\"\\\\\\ny",port="1"} 3\n'
    "# HELP procnet_b B \\\\ and \\n.\n# TYPE procnet_b gauge\nprocnet_b 1.5e3\nprocnet_b{x=\"\"} NaN\n"
)

BAD = [
    ("no final line feed", GOOD[:-1]),
    ("split family", GOOD + "# HELP procnet_a_total x\n"),
    ("sample of a closed family", GOOD + 'procnet_a_total{port="2"} 1\n'),
    ("series twice", GOOD + 'procnet_b{x=""} 2\n'),
    ("labels in another order, same series", GOOD.replace("procnet_b 1.5e3", 'procnet_b{y="1",x="2"} 1\nprocnet_b{x="2",y="1"} 1')),
    ("TYPE after samples", GOOD + "# TYPE procnet_b gauge\n"),
    ("HELP twice", GOOD.replace("# TYPE procnet_b", "# HELP procnet_b again\n# TYPE procnet_b")),
    ("no HELP", GOOD.replace("# HELP procnet_b B \\\\ and \\n.\n", "")),
    ("no TYPE", GOOD.replace("# TYPE procnet_b gauge\n", "")),
    ("timestamp", GOOD + "# HELP procnet_c c\n# TYPE procnet_c gauge\nprocnet_c 1 1700000000000\n"),
    ("label name __", GOOD.replace('comm="', '__comm="')),
    ("label name charset", GOOD.replace('comm="', 'co-mm="')),
    ("colon in a name", GOOD.replace("procnet_b", "procnet:b")),
    ("name without prefix", GOOD.replace("procnet_b", "other_b")),
    ("counter without _total", GOOD.replace("procnet_a_total", "procnet_a")),
    ("gauge with _total", GOOD.replace("procnet_b", "procnet_b_total")),
    ("untyped", GOOD.replace("procnet_b gauge", "procnet_b untyped")),
    ("unknown escape", GOOD.replace('x\\"', "x\\t")),
    ("raw quote in a value", GOOD.replace('x\\"', 'x"')),
    ("HELP with an escaped quote", GOOD.replace("Drops.", 'Dr\\"ops.')),
    ("carriage return line ends", GOOD.replace("\n", "\r\n")),
    ("bad value", GOOD.replace("1.5e3", "1_500")),
    ("lone surrogate", GOOD.replace("x\\\"", "\udcff")),
    ("bytes that are not UTF-8", GOOD.encode("utf-8").replace(b"Drops", b"Dr\xffops")),
]


def test_checker_accepts_the_rules_and_reads_the_values() -> None:
    families = check_exposition(GOOD)
    assert list(families) == ["procnet_a_total", "procnet_b"]
    assert families["procnet_a_total"].samples == {(("comm", 'x"\\\ny'), ("port", "1")): 3.0}
    assert families["procnet_b"].help == "B \\ and \n."
    assert families["procnet_b"].samples[()] == 1500.0
    assert math.isnan(families["procnet_b"].samples[(("x", ""),)])


@pytest.mark.parametrize("why, text", BAD, ids=[why for why, _ in BAD])
def test_checker_rejects(why: str, text: "str | bytes") -> None:
    with pytest.raises((AssertionError, UnicodeError)):
        check_exposition(text)


# --- the official parser and promtool -------------------------------------------------------


def model_samples(families: List[_metrics.Family]) -> Dict[Tuple[str, Labels], float]:
    """The model's rows as (sample name, labels) -> value (an int stays an int: exact comparison)."""
    out: Dict[Tuple[str, Labels], float] = {}
    for family in families:
        for labels, value in family.samples():
            out[(family.name, tuple(sorted(labels.items())))] = value
    return out


def parsed_samples(text: str) -> Dict[Tuple[str, Labels], float]:
    """What prometheus_client's parser reads, as (sample name, labels) -> value."""
    parser = pytest.importorskip("prometheus_client.parser")
    out: Dict[Tuple[str, Labels], float] = {}
    for family in parser.text_string_to_metric_families(text):
        for sample in family.samples:
            key = (sample.name, tuple(sorted(sample.labels.items())))
            assert key not in out, "the parser read %r twice" % (key,)
            out[key] = sample.value
    return out


def same_values(a: Dict[Tuple[str, Labels], float], b: Dict[Tuple[str, Labels], float]) -> bool:
    return a.keys() == b.keys() and all(a[k] == b[k] or (math.isnan(a[k]) and math.isnan(b[k])) for k in a)


def assert_round_trip(families: List[_metrics.Family], text: str) -> None:
    """The checker, the official parser and the model agree on every value and label string."""
    checked = check_exposition(text)
    model = model_samples(families)
    parsed = parsed_samples(text)
    mine = {(f.name, k): v for f in checked.values() for k, v in f.samples.items()}
    assert same_values(parsed, model), "prometheus_client read: %r\nthe model has: %r" % (
        sorted(set(parsed.items()) ^ set(model.items()))[:10], len(model))
    assert same_values(mine, model)
    kinds = {f.name: f.type for f in families if f.rows}
    assert {name: f.type for name, f in checked.items()} == kinds


def promtool_check(text: str) -> None:
    tools = promtools.for_tests()
    done = subprocess.run([tools.promtool, "check", "metrics"], input=text.encode("utf-8"),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    assert done.returncode == 0, "promtool check metrics exited %d: %s" % (
        done.returncode, done.stdout.decode("utf-8", "replace"))


def test_promtools_without_apt_says_why(tmp_path: "os.PathLike[str]", monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROCNET_PROMTOOLS_CACHE", os.path.join(os.fspath(tmp_path), "cache"))
    monkeypatch.setenv("PATH", os.fspath(tmp_path))  # no apt-get, no dpkg-deb
    with pytest.raises(promtools.Unavailable, match="no apt-get"):
        promtools.fetch()


def test_promtools_skip_says_why_and_fails_when_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(promtools, "_FOR_TESTS", [promtools.Unavailable("no apt-get here")])
    monkeypatch.delenv(promtools.REQUIRE_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception, match="Prometheus tools are unavailable: no apt-get here"):
        promtools.for_tests()
    monkeypatch.setenv(promtools.REQUIRE_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match="PROCNET_REQUIRE_PROMETHEUS=1 requires them"):
        promtools.for_tests()


FIXTURE_ROOTS = sorted(d for d in os.listdir(FIXTURES) if os.path.isdir(os.path.join(FIXTURES, d, "net")))


@pytest.fixture(scope="module", params=FIXTURE_ROOTS)
def fixture_output(request: pytest.FixtureRequest) -> Tuple[str, List[_metrics.Family], str]:
    root = os.path.join(FIXTURES, request.param)
    families = exporter.collect(root=root)
    return root, families, _metrics.render(families)


def _without_duration(text: str) -> str:
    return "\n".join(line for line in text.split("\n") if not line.startswith("procnet_scrape_duration_seconds "))


def test_fixture_output_follows_the_rules_and_round_trips(fixture_output: Tuple[str, List[_metrics.Family], str]) -> None:
    root, families, text = fixture_output
    assert_round_trip(families, text)
    # exposition() is the same collection rendered (the duration aside)
    assert _without_duration(exporter.exposition(root=root)) == _without_duration(text)


def test_fixture_output_passes_promtool(fixture_output: Tuple[str, List[_metrics.Family], str]) -> None:
    promtool_check(fixture_output[2])


@pytest.mark.parametrize("max_series", [1, 2, 3])
@pytest.mark.parametrize("name", ["live-loopback-every-kind", "owners-forked-listener", "tcp-timewait-and-synrecv"])
def test_folded_output_follows_the_rules_and_passes_promtool(name: str, max_series: int) -> None:
    families = exporter.collect(root=os.path.join(FIXTURES, name), max_series=max_series)
    text = _metrics.render(families)
    assert_round_trip(families, text)
    dropped = {key[0]: value for f in families if f.name == "procnet_series_dropped" for key, value in f.rows.items()}
    for family in families:
        if family.name == "procnet_series_dropped":
            assert len(family.rows) == len(dropped)  # one row per data family: bounded by the metric set
            continue
        if family.name not in dropped:
            assert len(family.rows) == 1, family  # the exporter's own health: one row each
            continue
        assert len(family.rows) <= max_series, family
        other = family.rows.get(("other",) * len(family.labels))
        if family.rows:
            assert (other is not None) == (dropped[family.name] > 0), (family, dropped)
    promtool_check(text)


# --- arbitrary families through the renderer (hypothesis) ---------------------------------------

# a value from another process: the kernel's bytes, as procnet holds them (os.fsdecode), made a label
label_values = st.one_of(
    st.binary(max_size=20).map(lambda b: _metrics.label_text(os.fsdecode(b))),
    st.text(alphabet='"\\\n{}=, ab\xff\u00e9\u2603', max_size=12),
)
sample_values = st.one_of(
    st.integers(min_value=0, max_value=2 ** 64),
    st.floats(allow_nan=True, allow_infinity=True),
)
FAMILY_SHAPES = [
    ("procnet_x_sockets", "gauge", ("netns", "comm")),
    ("procnet_x_drops_total", "counter", ("port", "comm", "path")),
    ("procnet_x_info", "gauge", ()),
]


@st.composite
def family_sets(draw: st.DrawFn) -> List[_metrics.Family]:
    families = []
    for name, kind, labels in FAMILY_SHAPES:
        family = _metrics.Family(name, kind, draw(st.text(alphabet="ab \\\n\"", max_size=10)), labels)
        size = 1 if not labels else draw(st.integers(0, 6))
        for _ in range(size):
            key = tuple(draw(label_values) for _ in labels)
            family.rows[key] = draw(sample_values)
        families.append(family)
    return families


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(family_sets())
def test_any_families_render_to_valid_text_that_round_trips(families: List[_metrics.Family]) -> None:
    text = _metrics.render(families)
    if not text:
        return
    assert_round_trip(families, text)


def test_rendered_hostile_families_pass_promtool() -> None:
    family = _metrics.Family("procnet_x_drops_total", "counter", 'help with \\ and "\nlines', ("comm", "path"))
    for raw in (b'a"b', b"back\\slash", b"line\nfeed", b"\xff\xfe", b"\\n", b'"}', b"", b"\xe2\x98\x83", b"cr\rhere"):
        family.add((_metrics.label_text(os.fsdecode(raw)), "p" + raw.hex()), 1)
    text = _metrics.render([family])
    assert_round_trip([family], text)
    promtool_check(text)


# --- live: a process with a hostile name ----------------------------------------------------

HOSTILE_COMM = b'a"\\\n\xffz'  # quote, backslash, line feed, a byte that is not UTF-8
HOSTILE_LABEL = 'a"\\\n\\xffz'  # the label value: the bad byte written \xff (6 characters)


def _series(families: List[_metrics.Family], name: str, **match: str) -> List[Dict[str, str]]:
    family = [f for f in families if f.name == name]
    assert family, "no family %s" % name
    return [labels for labels, _ in family[0].samples() if all(labels.get(k) == v for k, v in match.items())]


@pytest.mark.live
@pytest.mark.skipif(not os.path.exists("/proc/self/comm"), reason="needs a live Linux /proc")
@pytest.mark.parametrize("netns", ["host", "all"])
def test_live_hostile_comm_is_valid_text_and_the_parsers_read_it_back(netns: str) -> None:
    assert HOSTILE_COMM.decode("utf-8", "backslashreplace") == HOSTILE_LABEL
    with promtools.listener(HOSTILE_COMM, backlog=4) as held:
        families = exporter.collect(netns=netns, udp_include_ephemeral=True, unix_listeners=True)
    text = _metrics.render(families)
    assert_round_trip(families, text)
    assert HOSTILE_LABEL in text.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")
    tcp = _series(families, "procnet_tcp_listen_sockets", port=str(held.tcp_port), address="127.0.0.1")
    assert [labels["comm"] for labels in tcp] == [HOSTILE_LABEL]
    udp = _series(families, "procnet_udp_sockets", port=str(held.udp_port), address="127.0.0.1")
    assert [labels["comm"] for labels in udp] == [HOSTILE_LABEL]
    assert _series(families, "procnet_process_sockets", comm=HOSTILE_LABEL, proto="tcp")
    parsed = parsed_samples(text)
    key = ("procnet_tcp_listen_sockets", tuple(sorted(tcp[0].items())))
    assert parsed[key] == 1.0
    promtool_check(text)


def _cli_or_skip() -> None:
    pytest.importorskip("procnet.cli.exporter", reason="procnet exporter's command line is not written yet")


@pytest.mark.live
@pytest.mark.skipif(not os.path.exists("/proc/self/comm"), reason="needs a live Linux /proc")
def test_live_textfile_from_the_command_line_is_valid_with_a_hostile_comm(tmp_path: "os.PathLike[str]") -> None:
    _cli_or_skip()
    path = os.path.join(os.fspath(tmp_path), "procnet.prom")
    env = dict(os.environ, PYTHONPATH=ROOT)
    with promtools.listener(HOSTILE_COMM, backlog=4) as held:
        done = subprocess.run([sys.executable, "-m", "procnet", "exporter", "--textfile", path, "--udp-include-ephemeral"],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == b""
    with open(path, "rb") as f:
        data = f.read()
    families = check_exposition(data)
    listen = families["procnet_tcp_listen_sockets"].samples
    mine = [dict(k) for k in listen if dict(k)["port"] == str(held.tcp_port)]
    assert [labels["comm"] for labels in mine] == [HOSTILE_LABEL]
    parsed = parsed_samples(data.decode("utf-8"))
    assert parsed == {(f.name, k): v for f in families.values() for k, v in f.samples.items()}
    promtool_check(data.decode("utf-8"))
