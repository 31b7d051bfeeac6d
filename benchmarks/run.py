#!/usr/bin/env python3
"""procnet's benchmark suite: procnet against psutil, ss, netstat, lsof and the floors.

    python3 benchmarks/run.py                               # small,10k,40k,100k; 5 rounds
    python3 benchmarks/run.py --scales small,10k --rounds 3
    python3 benchmarks/run.py --scales 40k --skip-parse --skip-startup

For each scale it builds a loopback population (benchmarks/population.py), then runs
every case once per round, alternating (the order rotates each round), as whole
processes: wall time (median of the rounds) and peak RSS (ru_maxrss from wait4).
Before the timed rounds each case runs once untimed; its output is the sanity check
(row counts). The parse case (benchmarks/parse.py) and the start-up case run once per
invocation, not per scale.

psutil is installed into benchmarks/.venv (made here with ``python3 -m venv``); it is
never a requirement of procnet. Results: benchmarks/results.md (Markdown table) and
benchmarks/results/latest.json (everything, raw times included).

The machine may be shared: figures are indicative; ratios from one run are the point.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any, Dict, List, Optional, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
VENV = os.path.join(HERE, ".venv")
sys.path.insert(0, HERE)

from population import Population, count_descriptors, count_sockets  # noqa: E402

PY = sys.executable
PROC_TIMEOUT = 300.0

# -- programs measured (python snippets run as `python -c`) --------------------------------
PN = "import procnet\n"
SNIPPETS = {
    "pn_tcp": PN + "r = procnet.sockets(proto='tcp')\nprint(len(r), sum(1 for s in r if s.owners))",
    "pn_tcp_noowners": PN + "r = procnet.sockets(proto='tcp', owners=False)\nprint(len(r))",
    "pn_tcp_netlink": PN + "r = procnet.sockets(proto='tcp', backend='netlink')\nprint(len(r), sum(1 for s in r if s.owners))",
    # every record's fields read (compact records decode on first read): the full cost
    "pn_tcp_fields": PN + "r = procnet.sockets(proto='tcp')\nprint(len(r), sum(1 for s in r if s.owners), "
    "sum(1 for s in r if s.local.port and s.remote.ip and s.uid is not None))",
    "pn_iter": PN + "n = o = 0\nfor s in procnet.iter_sockets(proto='tcp'):\n    n += 1\n    o += bool(s.owners)\nprint(n, o)",
    "pn_listen": PN + "r = procnet.listening(proto='tcp')\nprint(len(r), sum(1 for s in r if s.owners))",
    "pn_listen_netlink": PN + "r = procnet.listening(proto='tcp', backend='netlink')\nprint(len(r), sum(1 for s in r if s.owners))",
    "pn_all": PN + "r = procnet.sockets('all')\nprint(len(r), sum(1 for s in r if s.owners))",
    "pn_all_netlink": PN + "r = procnet.sockets('all', backend='netlink')\nprint(len(r), sum(1 for s in r if s.owners))",
    # internal API, may move: the owner scan alone, indexing every socket link (as the bare loop reads every link)
    "pn_scan": PN + "from procnet._owners import scan\nix = scan(procnet.ProcFS('/proc'))\nprint(len(ix.owners))",
    "ps_tcp": "import psutil\nr = psutil.net_connections('tcp')\nprint(len(r), sum(1 for c in r if c.pid))",
    "ps_listen": "import psutil\nr = [c for c in psutil.net_connections('tcp') if c.status == 'LISTEN']\nprint(len(r), sum(1 for c in r if c.pid))",
    "ps_all": "import psutil\nr = psutil.net_connections('all')\nprint(len(r), sum(1 for c in r if c.pid))",
    "bare_loop": (
        "import os\nn = 0\nfor p in os.listdir('/proc'):\n    if not p.isdigit():\n        continue\n"
        "    d = '/proc/' + p + '/fd/'\n    try:\n        fds = os.listdir(d)\n    except OSError:\n        continue\n"
        "    for f in fds:\n        try:\n            os.readlink(d + f)\n        except OSError:\n            continue\n"
        "        n += 1\nprint(n)"
    ),
    # The same loop in two threads sharing the pids (procnet's scan uses two on a
    # multi-core machine): the floor for a threaded scan.
    "bare_loop_threads": (
        "import os, threading\npids = [p for p in os.listdir('/proc') if p.isdigit()]\ncounts = []\n"
        "def work(ps):\n    n = 0\n    for p in ps:\n        d = '/proc/' + p + '/fd/'\n        try:\n"
        "            fds = os.listdir(d)\n        except OSError:\n            continue\n        for f in fds:\n"
        "            try:\n                os.readlink(d + f)\n            except OSError:\n                continue\n"
        "            n += 1\n    counts.append(n)\n"
        "ts = [threading.Thread(target=work, args=(pids[i::2],)) for i in range(2)]\n"
        "[t.start() for t in ts]\n[t.join() for t in ts]\nprint(sum(counts))"
    ),
    "naive_join": (
        "import os\nown = {}\nfor p in os.listdir('/proc'):\n    if not p.isdigit():\n        continue\n"
        "    d = '/proc/' + p + '/fd/'\n    try:\n        fds = os.listdir(d)\n    except OSError:\n        continue\n"
        "    for f in fds:\n        try:\n            l = os.readlink(d + f)\n        except OSError:\n            continue\n"
        "        if l.startswith('socket:['):\n            own.setdefault(l[8:-1], []).append((int(p), int(f)))\n"
        "rows = []\nfor t in ('tcp', 'tcp6'):\n    with open('/proc/net/' + t) as fh:\n        next(fh)\n"
        "        for line in fh:\n            x = line.split()\n            rows.append((x[1], x[2], x[3], x[9], own.get(x[9])))\n"
        "print(len(rows), sum(1 for r in rows if r[4]))"
    ),
    # Timed inside the process (start-up and imports left out): what "the descriptor scan
    # within 15% of the bare loop" compares. Each prints inner=<seconds> on stderr.
    "pn_scan_inner": PN + "import procnet._owners, sys, time\nt = time.perf_counter()\n"
    "ix = procnet._owners.scan(procnet._owners.ProcFS('/proc'))\nsys.stderr.write('inner=%r\\n' % (time.perf_counter() - t))\n"
    "print(len(ix.owners))",
    # In a running program: the second call of the same query, timed inside the process
    # (the first call loads the modules and warms the caches, as a long-lived caller has).
    "pn_listen_inner": PN + "import sys, time\nprocnet.listening(proto='tcp')\nt = time.perf_counter()\n"
    "r = procnet.listening(proto='tcp')\nsys.stderr.write('inner=%r\\n' % (time.perf_counter() - t))\n"
    "print(len(r), sum(1 for s in r if s.owners))",
    "pn_tcp_inner": PN + "import sys, time\nprocnet.sockets(proto='tcp')\nt = time.perf_counter()\n"
    "r = procnet.sockets(proto='tcp')\nsys.stderr.write('inner=%r\\n' % (time.perf_counter() - t))\n"
    "print(len(r), sum(1 for s in r if s.owners))",
    "ps_tcp_inner": "import psutil, sys, time\npsutil.net_connections('tcp')\nt = time.perf_counter()\n"
    "r = psutil.net_connections('tcp')\nsys.stderr.write('inner=%r\\n' % (time.perf_counter() - t))\n"
    "print(len(r), sum(1 for c in r if c.pid))",
    "read_tables": "d = open('/proc/net/tcp', 'rb').read() + open('/proc/net/tcp6', 'rb').read()\nprint(d.count(b'\\n'))",
    "pass": "pass",
    "import_procnet": "import procnet",
}
for _floor in ("bare_loop", "bare_loop_threads"):
    SNIPPETS[_floor + "_inner"] = ("import sys, time\nt = time.perf_counter()\n" + SNIPPETS[_floor].replace("print(", "r = (") +
                                   "\nsys.stderr.write('inner=%r\\n' % (time.perf_counter() - t))\nprint(r)")


def machine() -> Dict[str, Any]:
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            mem = "%.1f GiB" % (int(f.readline().split()[1]) / 1048576)
    except (OSError, ValueError, IndexError):
        pass

    def version(cmd: List[str]) -> str:
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
            return (out.stdout or out.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.SubprocessError):
            return "n/a"

    return {
        "kernel": platform.release(),
        "cpu": model,
        "cores": os.cpu_count(),
        "memory": mem,
        "python": sys.version.split()[0],
        "python_executable": PY,
        "ss": version(["ss", "-V"]),
        "netstat": version(["netstat", "--version"]),
        "lsof": _lsof_version(),
        "loadavg_at_start": open("/proc/loadavg").read().split()[:3],
    }


def _lsof_version() -> str:
    try:
        out = subprocess.run(["lsof", "-v"], capture_output=True, text=True, timeout=10)
        m = re.search(r"revision:\s*(\S+)", out.stdout + out.stderr)
        return m.group(1) if m else "?"
    except (OSError, subprocess.SubprocessError):
        return "n/a"


def _pass_ms(python: str, env: Dict[str, str], runs: int = 7) -> float:
    """Median wall time of ``python -c pass``, in ms."""
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run([python, "-c", "pass"], env=env, cwd=ROOT, capture_output=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3


def ensure_venv(log: Any) -> Optional[str]:
    """benchmarks/.venv with psutil; its python, or None when it cannot be made."""
    py = os.path.join(VENV, "bin", "python")
    if not os.path.exists(py):
        r = subprocess.run([sys.executable, "-m", "venv", VENV], capture_output=True, text=True)
        if r.returncode:
            log("venv failed: " + r.stderr.strip())
            return None
    r = subprocess.run([py, "-c", "import psutil"], capture_output=True)
    if r.returncode:
        r2 = subprocess.run([py, "-m", "pip", "install", "-q", "psutil"], capture_output=True, text=True)
        if r2.returncode:
            log("pip install psutil failed: " + r2.stderr.strip()[-500:])
            return None
    return py


# -- running one process -----------------------------------------------------------------
GNU_TIME = "/usr/bin/time" if os.path.exists("/usr/bin/time") else None


def run_once(cmd: List[str], env: Dict[str, str], capture: bool) -> Dict[str, Any]:
    """Run a whole process; wall time, exit status and, if ``capture``, its output and peak RSS.

    Peak RSS comes from GNU time (``%M``) in the capture run only: a child forked from this
    (large) Python process inherits its high-water mark across exec, so wait4's ru_maxrss
    would never read below this process's own size.
    """
    memf = None
    if capture and GNU_TIME:
        fd, memf = tempfile.mkstemp(prefix="procnet-bench-rss-")
        os.close(fd)
        cmd = [GNU_TIME, "-f", "%M", "-o", memf] + cmd
    out = tempfile.TemporaryFile() if capture else subprocess.DEVNULL
    err = tempfile.TemporaryFile()
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env, cwd=ROOT)
    timer = threading.Timer(PROC_TIMEOUT, p.kill)  # by pid: the process we started
    timer.start()
    _, status, ru = os.wait4(p.pid, 0)
    timer.cancel()
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    res: Dict[str, Any] = {"wall": wall, "exit": p.returncode, "timed_out": wall > PROC_TIMEOUT}
    if memf:
        try:
            with open(memf) as f:
                res["maxrss_kb"] = int(f.read().split()[-1])
        except (OSError, ValueError, IndexError):
            pass
        os.unlink(memf)
    err.seek(0)
    e = err.read().decode(errors="replace")
    err.close()
    inner = re.search(r"^inner=([0-9.e-]+)$", e, re.M)
    if inner:
        res["inner"] = float(inner.group(1))
    if res["exit"] != 0:
        res["stderr"] = e[-600:]
    if capture:
        out.seek(0)
        data = out.read()
        out.close()
        res["lines"] = data.count(b"\n")
        res["head"] = data[:300].decode(errors="replace")
    return res


class Case:
    def __init__(self, name: str, cmd: List[str], env: Dict[str, str], group: str, what: str) -> None:
        self.name, self.cmd, self.env, self.group, self.what = name, cmd, env, group, what
        self.runs: List[Dict[str, Any]] = []
        self.sanity: Dict[str, Any] = {}
        self.disabled: Optional[str] = None

    def summary(self) -> Dict[str, Any]:
        walls = [r["wall"] for r in self.runs if r["exit"] == 0]
        d: Dict[str, Any] = {"group": self.group, "what": self.what, "cmd": self.cmd if self.cmd[0] != PY else None,
                             "sanity": self.sanity, "disabled": self.disabled,
                             "times": [round(r["wall"], 5) for r in self.runs],
                             "failures": sum(1 for r in self.runs if r["exit"] != 0), "python_c": "-c" in self.cmd[:3]}
        if walls:
            d.update(median=statistics.median(walls), min=min(walls), max=max(walls))
        inner = [r["inner"] for r in self.runs if r["exit"] == 0 and "inner" in r]
        if inner and len(inner) == len(walls):  # timed inside the process: that time is the figure
            d.update(inner=True, wall_median=d["median"], median=statistics.median(inner), min=min(inner), max=max(inner))
        if self.sanity.get("maxrss_kb"):
            d["maxrss_mib"] = self.sanity["maxrss_kb"] / 1024
        return d


def alternate(cases: List[Case], rounds: int, log: Any, track: Optional[List[Any]] = None) -> None:
    for c in cases:  # warm-up and sanity, untimed
        r = run_once(c.cmd, c.env, capture=True)
        c.sanity = {k: r.get(k) for k in ("exit", "lines", "head", "stderr", "wall", "maxrss_kb") if k in r}
        if r["exit"] != 0:
            c.disabled = "exit %s: %s" % (r["exit"], (r.get("stderr") or "").strip().splitlines()[-1:] or "")
            log("  %-28s disabled: %s" % (c.name, c.disabled))
    live = [c for c in cases if c.disabled is None]
    for i in range(rounds):
        k = i % len(live)
        t0 = time.monotonic()
        system = count_descriptors() if track is not None else None
        for c in live[k:] + live[:k]:
            c.runs.append(run_once(c.cmd, c.env, capture=False))
        log("  round %d/%d: %.1f s%s" % (i + 1, rounds, time.monotonic() - t0,
                                          "; system-wide before it: %(processes)d processes, %(descriptors)d descriptors" % system if system else ""))
        if track is not None:
            track.append(system)


# -- cases of one scale --------------------------------------------------------------------
def probe(code: str, env: Dict[str, str]) -> Tuple[bool, str]:
    r = subprocess.run([PY, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    return r.returncode == 0, (r.stdout + r.stderr).strip()[-300:]


def build_cases(ps_py: Optional[str], env: Dict[str, str], log: Any) -> Tuple[List[Case], Dict[str, Any]]:
    notes: Dict[str, Any] = {}

    def py(name: str, group: str, what: str) -> Case:
        return Case(name, [PY, "-c", SNIPPETS[name]], env, group, what)

    def tool(name: str, cmd: List[str], group: str, what: str) -> Case:
        return Case(name, cmd, env, group, what)

    cases = [
        py("pn_tcp", "tcp", "procnet.sockets(proto='tcp') with owners"),
        py("pn_tcp_noowners", "tcp", "procnet.sockets(proto='tcp', owners=False)"),
        py("pn_iter", "tcp", "procnet.iter_sockets(proto='tcp') with owners (iterator)"),
        py("pn_scan", "tcp", "procnet owner scan alone (internal _owners.scan, every socket link)"),
        tool("ss_tanp", ["ss", "-tanp"], "tcp", "ss -tanp"),
        tool("ss_tan", ["ss", "-tan"], "tcp", "ss -tan (no owners)"),
        tool("netstat_tanp", ["netstat", "-tanp"], "tcp", "netstat -tanp"),
        tool("lsof_tcp", ["lsof", "-nP", "-iTCP"], "tcp", "lsof -nP -iTCP"),
        py("naive_join", "tcp", "simple pure Python: fd scan + split tables + dict join"),
        py("pn_tcp_fields", "tcp", "procnet.sockets(proto='tcp') with owners, every record's fields read"),
        py("bare_loop", "floor", "floor: bare Python loop, list /proc/*/fd + readlink each"),
        py("bare_loop_threads", "floor", "floor: the same bare loop in 2 threads"),
        py("pn_scan_inner", "floor", "procnet owner scan alone, timed inside the process (no start-up, no import)"),
        py("bare_loop_inner", "floor", "floor: bare loop, timed inside the process"),
        py("bare_loop_threads_inner", "floor", "floor: bare loop in 2 threads, timed inside the process"),
        tool("cat_tables", ["cat", "/proc/net/tcp", "/proc/net/tcp6"], "floor", "floor: cat /proc/net/tcp /proc/net/tcp6"),
        py("read_tables", "floor", "floor: python reads /proc/net/tcp + tcp6"),
        py("pass", "floor", "floor: python3 -c pass (interpreter start-up)"),
        py("pn_listen", "listen", "procnet.listening(proto='tcp') with owners"),
        py("pn_listen_inner", "listen", "procnet.listening(proto='tcp'), second call in the process, timed inside"),
        py("pn_tcp_inner", "tcp", "procnet.sockets(proto='tcp'), second call in the process, timed inside"),
        tool("ss_tlnp", ["ss", "-tlnp"], "listen", "ss -tlnp"),
        tool("netstat_tlnp", ["netstat", "-tlnp"], "listen", "netstat -tlnp"),
        tool("lsof_listen", ["lsof", "-nP", "-iTCP", "-sTCP:LISTEN"], "listen", "lsof -nP -iTCP -sTCP:LISTEN"),
        py("pn_all", "all", "procnet.sockets('all') with owners"),
        tool("ss_anp", ["ss", "-anp"], "all", "ss -anp (every kind)"),
        tool("netstat_anp", ["netstat", "-anp"], "all", "netstat -anp"),
    ]
    ok, msg = probe("import procnet._netlink, sys, procnet\nprocnet.sockets('tcp', backend='netlink', owners=False)\n"
                    "print('_netlink used' if 'procnet._netlink' in sys.modules else '')", env)
    # Was the netlink module merely importable, or did backend='netlink' reach it?
    ok2, msg2 = probe("import sys, procnet\nprocnet.sockets('tcp', backend='netlink', owners=False)\n"
                      "print('used' if 'procnet._netlink' in sys.modules else 'not used')", env)
    notes["netlink"] = {"probe_ok": ok, "query_reaches_netlink": ok2 and msg2.endswith("used") and not msg2.endswith("not used"),
                        "detail": msg2}
    if ok:
        cases += [
            py("pn_tcp_netlink", "tcp", "procnet.sockets(proto='tcp', backend='netlink') with owners"),
            py("pn_listen_netlink", "listen", "procnet.listening(proto='tcp', backend='netlink') with owners"),
            py("pn_all_netlink", "all", "procnet.sockets('all', backend='netlink') with owners"),
        ]
    if not notes["netlink"]["query_reaches_netlink"]:
        log("  note: backend='netlink' does not reach procnet._netlink yet (%s)" % msg2[-80:])
    ok, msg = probe("import runpy, sys\nsys.argv = ['procnet', 'ss', '-tln']\nrunpy.run_module('procnet', run_name='__main__')", env)
    notes["cli"] = {"available": ok, "detail": msg[-200:]}
    if ok:
        cases += [
            Case("cli_tanp", [PY, "-m", "procnet", "ss", "-tanp"], env, "cli", "python3 -m procnet ss -tanp"),
            Case("cli_tlnp", [PY, "-m", "procnet", "ss", "-tlnp"], env, "cli", "python3 -m procnet ss -tlnp"),
            Case("cli_tln", [PY, "-m", "procnet", "ss", "-tln"], env, "cli", "python3 -m procnet ss -tln"),
        ]
    else:
        log("  note: the CLI is not there yet: %s" % msg.splitlines()[-1:])
    if ps_py:
        for name, what in (("ps_tcp", "psutil.net_connections('tcp')"),
                           ("ps_tcp_inner", "psutil.net_connections('tcp'), second call in the process, timed inside"),
                           ("ps_listen", "psutil.net_connections('tcp'), keep LISTEN"),
                           ("ps_all", "psutil.net_connections('all')")):
            cases.append(Case(name, [ps_py, "-c", SNIPPETS[name]], env, {"ps_tcp": "tcp", "ps_tcp_inner": "tcp", "ps_listen": "listen", "ps_all": "all"}[name], what))
    return cases, notes


# -- comparisons and targets ---------------------------------------------------------------
# (label, procnet case, peer case, {scale: max ratio procnet/peer} or {}, target text)
COMPARISONS: List[Tuple[str, str, str, Dict[str, float], str]] = [
    ("sockets(tcp) vs ss -tanp", "pn_tcp", "ss_tanp", {"40k": 1.0, "100k": 0.4}, "<=1.0 at 40k, <=0.4 at 100k"),
    ("sockets(tcp) vs psutil tcp", "pn_tcp", "ps_tcp", {"10k": 1.0, "40k": 0.75, "100k": 0.6}, "<1.0 past small, <=0.75 at 40k, <=0.6 at 100k"),
    ("sockets(tcp) vs netstat -tanp", "pn_tcp", "netstat_tanp", {}, ""),
    ("sockets(tcp) vs lsof -iTCP", "pn_tcp", "lsof_tcp", {}, ""),
    ("sockets(tcp) vs naive dict join", "pn_tcp", "naive_join", {}, ""),
    ("sockets(tcp) vs bare fd loop (floor)", "pn_tcp", "bare_loop", {}, ""),
    ("sockets(tcp, owners=False) vs python read of the tables", "pn_tcp_noowners", "read_tables", {}, ""),
    ("iter_sockets(tcp) vs sockets(tcp)", "pn_iter", "pn_tcp", {}, ""),
    ("owner scan alone (internal) vs bare fd loop", "pn_scan", "bare_loop", {"10k": 1.15, "40k": 1.15, "100k": 1.15}, "<=1.15 (within 15%)"),
    ("owner scan alone (internal) vs bare fd loop in 2 threads", "pn_scan", "bare_loop_threads", {"10k": 1.15, "40k": 1.15, "100k": 1.15}, "<=1.15 (within 15%)"),
    ("owner scan vs bare fd loop, both timed inside the process", "pn_scan_inner", "bare_loop_inner", {"10k": 1.15, "40k": 1.15, "100k": 1.15}, "<=1.15 (within 15%)"),
    ("owner scan vs bare fd loop in 2 threads, both timed inside the process", "pn_scan_inner", "bare_loop_threads_inner", {"10k": 1.15, "40k": 1.15, "100k": 1.15}, "<=1.15 (within 15%)"),
    ("sockets(tcp), every field read, vs psutil tcp", "pn_tcp_fields", "ps_tcp", {}, ""),
    ("sockets(tcp, netlink) vs ss -tanp", "pn_tcp_netlink", "ss_tanp", {"40k": 1.0, "100k": 0.4}, "<=1.0 at 40k, <=0.4 at 100k"),
    ("sockets(tcp, netlink) vs psutil tcp", "pn_tcp_netlink", "ps_tcp", {"10k": 1.0, "40k": 0.75, "100k": 0.6}, "as proc"),
    ("listening(tcp) vs ss -tlnp", "pn_listen", "ss_tlnp", {"small": 1.0, "10k": 1.0, "40k": 1.0, "100k": 1.0}, "<=1.0 at every scale"),
    ("listening(tcp, netlink) vs ss -tlnp", "pn_listen_netlink", "ss_tlnp", {"small": 1.0, "10k": 1.0, "40k": 1.0, "100k": 1.0}, "<=1.0 at every scale"),
    ("listening(tcp) vs psutil tcp+filter", "pn_listen", "ps_listen", {}, ""),
    ("listening(tcp) in a running program (second call, timed inside) vs ss -tlnp", "pn_listen_inner", "ss_tlnp", {}, ""),
    ("sockets(tcp) vs psutil tcp, both second calls timed inside the process", "pn_tcp_inner", "ps_tcp_inner", {}, ""),
    ("listening(tcp) vs netstat -tlnp", "pn_listen", "netstat_tlnp", {}, ""),
    ("sockets('all') vs psutil all", "pn_all", "ps_all", {}, ""),
    ("sockets('all') vs ss -anp", "pn_all", "ss_anp", {}, ""),
    ("sockets('all', netlink) vs ss -anp", "pn_all_netlink", "ss_anp", {}, ""),
    ("CLI procnet ss -tanp vs ss -tanp", "cli_tanp", "ss_tanp", {"40k": 1.0, "100k": 0.4}, "<=1.0 at 40k, <=0.4 at 100k"),
    ("CLI procnet ss -tlnp vs ss -tlnp", "cli_tlnp", "ss_tlnp", {"small": 1.0, "10k": 1.0, "40k": 1.0, "100k": 1.0}, "<=1.0 at every scale"),
    ("CLI procnet ss -tln vs python3 -c pass", "cli_tln", "pass", {}, "close to interpreter start-up"),
]


def compare(scale: str, cs: Dict[str, Dict[str, Any]]) -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
    comps, targets = [], []
    for label, a, b, limits, text in COMPARISONS:
        if a not in cs or b not in cs or "median" not in cs[a] or "median" not in cs[b]:
            continue
        ratio = cs[a]["median"] / cs[b]["median"]
        row = {"label": label, "procnet": a, "peer": b, "procnet_s": cs[a]["median"], "peer_s": cs[b]["median"], "ratio": ratio}
        if scale in limits:
            row["target"] = limits[scale]
            row["pass"] = ratio <= limits[scale]
            targets.append(dict(row, kind="time", target_text=text))
        comps.append(row)
    # The descriptor scan within 15% of the floor, derived: (with owners - without) vs (bare loop - start-up).
    need = ("pn_tcp", "pn_tcp_noowners", "bare_loop", "pass")
    if all(n in cs and "median" in cs[n] for n in need):
        scan = cs["pn_tcp"]["median"] - cs["pn_tcp_noowners"]["median"]
        floor = cs["bare_loop"]["median"] - cs["pass"]["median"]
        if floor > 0:
            row = {"label": "owner cost in sockets(tcp) [(with - without owners) / (bare loop - start-up)]",
                   "procnet": "pn_tcp - pn_tcp_noowners", "peer": "bare_loop - pass",
                   "procnet_s": scan, "peer_s": floor, "ratio": scan / floor}
            if scale in ("10k", "40k", "100k"):
                row.update(target=1.15, **{"pass": scan / floor <= 1.15})
                targets.append(dict(row, kind="time", target_text="<=1.15 (within 15%)"))
            comps.append(row)
    # Memory at 100k.
    if all(n in cs and "maxrss_mib" in cs[n] for n in ("pn_tcp", "ps_tcp")):
        for a, label in (("pn_tcp", "peak RSS sockets(tcp) vs psutil tcp"), ("pn_iter", "peak RSS iter_sockets(tcp) vs psutil tcp"),
                         ("pn_tcp_fields", "peak RSS sockets(tcp), every field read, vs psutil tcp")):
            if a not in cs or "maxrss_mib" not in cs[a]:
                continue
            ratio = cs[a]["maxrss_mib"] / cs["ps_tcp"]["maxrss_mib"]
            row = {"label": label, "procnet": a, "peer": "ps_tcp", "procnet_mib": cs[a]["maxrss_mib"],
                   "peer_mib": cs["ps_tcp"]["maxrss_mib"], "ratio": ratio}
            if scale == "100k":
                row.update(target=0.7, **{"pass": ratio <= 0.7})
                targets.append(dict(row, kind="memory", target_text="<=0.7"))
            comps.append(row)
    return comps, targets


USE = "import procnet; procnet.sockets"


def _importtime_delta(env: Dict[str, str], code: str) -> Optional[float]:
    """ms of imports that ``code`` adds to a bare interpreter, by -X importtime (best of 5)."""
    def total(c: str) -> Optional[int]:
        best = None
        for _ in range(5):
            r = subprocess.run([PY, "-X", "importtime", "-c", c], capture_output=True, text=True, env=env, cwd=ROOT)
            tot = 0
            for line in r.stderr.splitlines():
                f = line.split("|")
                if len(f) == 3 and not f[2].startswith("  "):  # top-level imports only
                    try:
                        tot += int(f[1])
                    except ValueError:
                        pass
            best = tot if best is None else min(best, tot)
        return best
    a, b = total(code), total("pass")
    return None if a is None or b is None else (a - b) / 1000


# -- start-up --------------------------------------------------------------------------------
def startup(env: Dict[str, str], rounds: int, log: Any) -> Dict[str, Any]:
    cases = [Case("pass", [PY, "-c", "pass"], env, "startup", "python3 -c pass"),
             Case("import_procnet", [PY, "-c", "import procnet"], env, "startup", "python3 -c 'import procnet'"),
             Case("import_use", [PY, "-c", USE], env, "startup", "python3 -c 'import procnet; procnet.sockets' (first use loads the query layer)"),
             Case("pass_S", [PY, "-S", "-c", "pass"], env, "startup", "python3 -S -c pass (no site)"),
             # what the records' fixed choice costs by itself (dataclasses imports inspect, ast, dis, tokenize)
             Case("import_dataclasses", [PY, "-c", "import dataclasses"], env, "startup", "python3 -c 'import dataclasses'")]
    alternate(cases, rounds, lambda m: None)
    cs = {c.name: c.summary() for c in cases}
    out: Dict[str, Any] = {"cases": cs}
    if "median" in cs["import_procnet"] and "median" in cs["pass"]:
        out["import_wall_ms"] = (cs["import_procnet"]["median"] - cs["pass"]["median"]) * 1000
    if "median" in cs["import_use"] and "median" in cs["pass"]:
        out["use_wall_ms"] = (cs["import_use"]["median"] - cs["pass"]["median"]) * 1000
    if "median" in cs["import_dataclasses"] and "median" in cs["pass"]:
        out["dataclasses_wall_ms"] = (cs["import_dataclasses"]["median"] - cs["pass"]["median"]) * 1000
    out["use_importtime_ms"] = _importtime_delta(env, USE)
    # -X importtime: the interpreter's own account, best of 5.
    best = None
    for _ in range(5):
        r = subprocess.run([PY, "-X", "importtime", "-c", "import procnet"], capture_output=True, text=True, env=env, cwd=ROOT)
        m = None
        for line in r.stderr.splitlines():
            f = [x.strip() for x in line.split("|")]
            if len(f) == 3 and f[2] == "procnet":
                m = int(f[1])
        if m is not None and (best is None or m < best):
            best, best_err = m, r.stderr
    if best is not None:
        out["importtime_cumulative_ms"] = best / 1000
        heavy = []
        for line in best_err.splitlines():
            f = [x.strip() for x in line.split("|")]
            if len(f) == 3 and f[0].startswith("import time:"):
                try:
                    heavy.append((int(f[1]), f[2]))
                except ValueError:
                    pass
        out["top_imports_cumulative_us"] = sorted(heavy, reverse=True)[:15]
    r = subprocess.run([PY, "-c", "import sys; a = set(sys.modules); import procnet; "
                        "print(' '.join(sorted(m for m in set(sys.modules) - a if not m.startswith('procnet'))))"],
                       capture_output=True, text=True, env=env, cwd=ROOT)
    out["stdlib_modules_pulled_in"] = r.stdout.split()
    r = subprocess.run([PY, "-c", "import sys; a = set(sys.modules); " + USE + "; "
                        "print(' '.join(sorted(m for m in set(sys.modules) - a if not m.startswith('procnet'))))"],
                       capture_output=True, text=True, env=env, cwd=ROOT)
    out["stdlib_modules_pulled_in_by_first_use"] = r.stdout.split()
    v = out.get("use_importtime_ms")
    out["target"] = {"label": "import procnet + first use (procnet.sockets), -X importtime", "target_text": "< 30 ms",
                     "value_ms": v, "pass": v is not None and v < 30}
    log("start-up: import procnet %.1f ms, import + first use %.1f ms (importtime); wall over python -c pass: %.1f / %.1f ms" % (
        out.get("importtime_cumulative_ms") or -1, v or -1, out.get("import_wall_ms") or -1, out.get("use_wall_ms") or -1))
    return out


# -- parse -------------------------------------------------------------------------------------
def parse_case(ps_py: Optional[str], env: Dict[str, str], rounds: int, log: Any) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    for table, extra in (("tcp", []), ("tcp6", ["--v6"])):
        r = subprocess.run([ps_py or PY, os.path.join(HERE, "parse.py"), "--lines", "100000", "--rounds", str(rounds)] + extra,
                           capture_output=True, text=True, env=env, cwd=ROOT, timeout=1800)
        if r.returncode:
            out[table] = {"error": r.stderr[-800:]}
            log("parse %s failed: %s" % (table, r.stderr.strip().splitlines()[-1:]))
            continue
        d = json.loads(r.stdout)
        cs = d["cases"]
        t = []
        ps_full = cs.get("psutil process_inet full", {}).get("median")
        ps_listen = cs.get("psutil process_inet, then keep LISTEN", {}).get("median")
        pn_full = cs["procnet parse_inet full (read + parse)"]["median"]
        pn_listen = cs["procnet parse_inet states={LISTEN}"]["median"]
        if ps_full:
            t.append({"label": "parse %s full records: psutil time / procnet time" % table, "speedup": ps_full / pn_full,
                      "target": 2.0, "pass": ps_full / pn_full >= 2.0, "target_text": ">=2x psutil"})
        pn_read = cs.get("procnet parse_inet full, every field read", {}).get("median")
        if ps_full and pn_read:
            t.append({"label": "parse %s full records, every field of every record read: psutil time / procnet time" % table,
                      "speedup": ps_full / pn_read, "target": 2.0, "pass": ps_full / pn_read >= 2.0,
                      "target_text": ">=2x psutil"})
        if ps_listen:
            t.append({"label": "parse %s one state (LISTEN): psutil (parse + filter) / procnet (states=)" % table,
                      "speedup": ps_listen / pn_listen, "target": 10.0, "pass": ps_listen / pn_listen >= 10.0,
                      "target_text": ">=10x psutil"})
        d["targets"] = t
        out[table] = d
        log("parse %s: procnet full %.3f s, one-state %.3f s, psutil %.3f s" % (table, pn_full, pn_listen, ps_full or -1))
    return out


# -- one scale -----------------------------------------------------------------------------------
def scale_run(scale: str, rounds: int, ps_py: Optional[str], env: Dict[str, str], log: Any, lifetime: float) -> Dict[str, Any]:
    log("scale %s: building the population" % scale)
    logf = os.path.join(tempfile.gettempdir(), "procnet-population-%s.log" % scale)
    t0 = time.monotonic()
    with Population(scale, seconds=lifetime, log=logf) as pop:
        info = pop.info
        c = info["counts"]
        log("  ready in %.1f s: %d TCP sockets, %d processes / %d descriptors (system-wide: %d / %d)" % (
            info["setup_seconds"], c["sockets"]["tcp_total"], c["ours"]["processes"], c["ours"]["descriptors"],
            c["system"]["processes"], c["system"]["descriptors"]))
        cases, notes = build_cases(ps_py, env, log)
        per_round: List[Any] = []
        alternate(cases, rounds, log, per_round)
        after = {"sockets": count_sockets(), "system": count_descriptors()}
    cs = {c.name: c.summary() for c in cases}
    comps, targets = compare(scale, cs)
    info = {k: v for k, v in info.items() if k not in ("pids", "listeners")}
    return {"population": info, "counts_after": after, "system_per_round": per_round, "notes": notes, "cases": cs, "comparisons": comps,
            "targets": targets, "seconds": time.monotonic() - t0}


# -- report ----------------------------------------------------------------------------------------
def fmt_s(x: Optional[float]) -> str:
    if x is None:
        return "n/a"
    return "%.4f" % x if x < 1 else "%.3f" % x


def markdown(res: Dict[str, Any]) -> str:
    m = res["machine"]
    L: List[str] = []
    a = L.append
    a("# procnet benchmarks")
    a("")
    a("Written by `python3 benchmarks/run.py%s` on %s. Medians of %d alternating rounds; every end-to-end "
      "case is a whole process (interpreter start-up included). **Indicative figures**: the machine is shared "
      "with other work (load average at start %s); compare ratios within one run, not absolute times across runs." % (
          res["argv"], res["started"], res["rounds"], " ".join(m["loadavg_at_start"])))
    a("")
    a("Machine: Linux %s, %s, %s cores, %s RAM, Python %s; ss %s; netstat %s; lsof %s; psutil %s." % (
        m["kernel"], m["cpu"], m["cores"], m["memory"], m["python"], m["ss"].replace("ss utility, ", ""),
        m["netstat"].split()[-1] if m["netstat"] != "n/a" else "n/a", m["lsof"], res.get("psutil") or "n/a"))
    a("")
    it = res.get("interpreters") or {}
    if it.get("used"):
        a("Every Python case (procnet, psutil, the floors) runs on `%s`, a venv of `%s` (same binary): "
          "`-c pass` takes %.1f ms there, %.1f ms on the base interpreter (whose site-packages may run "
          "start-up hooks of its own; not a cost of either library)." % (
              it["used"], it["base"], it["used_pass_ms"], it["base_pass_ms"]))
        a("")
    # Targets summary
    a("## Targets")
    a("")
    a("| target | scale | procnet | peer | ratio | required | result |")
    a("|---|---|---|---|---|---|---|")
    for table, d in (res.get("parse") or {}).items():
        for t in d.get("targets", []):
            a("| %s | 100,000 lines | | | %.2fx | %s | %s |" % (t["label"], t["speedup"], t["target_text"], "pass" if t["pass"] else "**FAIL**"))
    for scale, d in res["scales"].items():
        for t in d["targets"]:
            if t["kind"] == "memory":
                a("| %s | %s | %.1f MiB | %.1f MiB | %.2f | %s | %s |" % (t["label"], scale, t["procnet_mib"], t["peer_mib"], t["ratio"],
                                                                      t["target_text"], "pass" if t["pass"] else "**FAIL**"))
            else:
                a("| %s | %s | %s s | %s s | %.2f | %s | %s |" % (t["label"], scale, fmt_s(t["procnet_s"]), fmt_s(t["peer_s"]), t["ratio"],
                                                              t["target_text"], "pass" if t["pass"] else "**FAIL**"))
    st = res.get("startup")
    if st:
        t = st["target"]
        imp = st.get("importtime_cumulative_ms")
        a("| `import procnet` (the issue's target), -X importtime | - | %s ms | | | < 30 ms | %s |" % (
            "%.1f" % imp if imp is not None else "n/a", "pass" if imp is not None and imp < 30 else "**FAIL**"))
        a("| import procnet + first use (`procnet.sockets`: loads the query layer), -X importtime | - | %s ms | | | < 30 ms (stricter) | %s |" % (
            "%.1f" % t["value_ms"] if t["value_ms"] is not None else "n/a", "pass" if t["pass"] else "**FAIL**"))
    a("")
    a("Ratios are procnet time / peer time (lower is better) except parse rows (peer time / procnet time, higher is better). "
      "Peak RSS is GNU time's %M for the untimed warm-up run of each case.")
    a("")
    # Parse
    for table, d in (res.get("parse") or {}).items():
        if "cases" not in d:
            a("Parse %s: failed (%s)" % (table, d.get("error", "")[-200:]))
            continue
        a("## Parse only: a %s-line `%s` table (%s, %.1f MB), in one process" % (format(d["rows"], ","), table, d["source"], d["bytes"] / 1e6))
        a("")
        ps = d["cases"].get("psutil process_inet full", {}).get("median")
        a("| case | median s | records/s | psutil full / case |")
        a("|---|---|---|---|")
        for n, c in d["cases"].items():
            a("| %s | %s | %s | %s |" % (n, fmt_s(c["median"]), format(int(c["records_per_s"]), ","),
                                      "%.2f" % (ps / c["median"]) if ps else ""))
        a("")
    # Scales
    for scale, d in res["scales"].items():
        p = d["population"]
        c = p["counts"]
        s = c["sockets"]
        a("## End to end at scale %s" % scale)
        a("")
        a("Population reached: **%s TCP sockets** (%s), %s UDP, %s unix; population %s processes / %s descriptors; "
          "system-wide %s processes / **%s descriptors** (what a scan reads). Built in %.1f s. After the rounds: %s TCP sockets, "
          "%s descriptors." % (
              format(s["tcp_total"], ","), ", ".join("%s %s" % (k, format(v, ",")) for k, v in s["tcp_states"].items()),
              s["udp"] + s["udp6"], s["unix"], c["ours"]["processes"], format(c["ours"]["descriptors"], ","),
              c["system"]["processes"], format(c["system"]["descriptors"], ","), p["setup_seconds"],
              format(d["counts_after"]["sockets"]["tcp_total"], ","), format(d["counts_after"]["system"]["descriptors"], ",")))
        lp = p["limits"].get("problems") or []
        if lp:
            a("")
            a("Limits: " + "; ".join(lp))
        a("")
        spr = d.get("system_per_round") or []
        if spr:
            a("System-wide descriptors at the start of each round: %s." % ", ".join(format(x["descriptors"], ",") for x in spr))
            a("")
        a("| case | median s | min s | max s | peak RSS MiB | output (sanity run) |")
        a("|---|---|---|---|---|---|")
        order = {"tcp": 0, "listen": 1, "all": 2, "cli": 3, "floor": 4}
        for name, cc in sorted(d["cases"].items(), key=lambda kv: order.get(kv[1]["group"], 9)):
            san = cc["sanity"]
            outp = (san.get("head") or "").strip().replace("\n", " ")[:40] if cc["python_c"] else "%s lines" % san.get("lines")
            if cc.get("disabled"):
                a("| %s | n/a | | | | %s |" % (cc["what"], cc["disabled"][:80].replace("|", "/")))
                continue
            a("| %s | %s | %s | %s | %.1f | %s |" % (cc["what"], fmt_s(cc.get("median")), fmt_s(cc.get("min")), fmt_s(cc.get("max")),
                                                 cc.get("maxrss_mib", 0), outp.replace("|", "/")))
        a("")
        a("| comparison | procnet | peer | ratio procnet/peer | target |")
        a("|---|---|---|---|---|")
        for r in d["comparisons"]:
            tgt = ""
            if "target" in r:
                tgt = "<= %.2f: %s" % (r["target"], "pass" if r["pass"] else "**FAIL**")
            if "procnet_mib" in r:
                a("| %s | %.1f MiB | %.1f MiB | %.2f | %s |" % (r["label"], r["procnet_mib"], r["peer_mib"], r["ratio"], tgt))
            else:
                a("| %s | %s s | %s s | %.2f | %s |" % (r["label"], fmt_s(r["procnet_s"]), fmt_s(r["peer_s"]), r["ratio"], tgt))
        nl = d["notes"].get("netlink", {})
        a("")
        a("Netlink backend: %s. CLI: %s." % (
            "measured, and `backend='netlink'` reaches procnet._netlink" if nl.get("query_reaches_netlink")
            else ("measured, but `backend='netlink'` did not load procnet._netlink in this run (same code path as proc)" if nl.get("probe_ok") else "not available"),
            "measured" if d["notes"].get("cli", {}).get("available") else "not available in this run (%s)" % d["notes"].get("cli", {}).get("detail", "")[-80:].replace("\n", " ")))
        a("")
    if st:
        a("## Start-up")
        a("")
        a("| case | median s | peak RSS MiB |")
        a("|---|---|---|")
        for n, cc in st["cases"].items():
            a("| %s | %s | %.1f |" % (cc["what"], fmt_s(cc.get("median")), cc.get("maxrss_mib", 0)))
        a("")
        a("`import procnet`: %.1f ms by `-X importtime` (cumulative, best of 5); %.1f ms wall over `python3 -c pass` (median). "
          "`import procnet; procnet.sockets` (the names load lazily): %.1f ms by `-X importtime` (top-level imports over a bare "
          "interpreter, best of 5); %.1f ms wall over `python3 -c pass`." % (
            st.get("importtime_cumulative_ms") or -1, st.get("import_wall_ms") or -1, st.get("use_importtime_ms") or -1, st.get("use_wall_ms") or -1))
        if st.get("dataclasses_wall_ms") is not None:
            a("Of that, `import dataclasses` alone (the records are dataclasses; it imports inspect, ast, dis, tokenize): "
              "%.1f ms wall over `python3 -c pass`." % st["dataclasses_wall_ms"])
        a("")
        a("Modules outside procnet loaded by `import procnet`: %s. By `import procnet; procnet.sockets`: %s." % (
            ", ".join(st.get("stdlib_modules_pulled_in", [])) or "none", ", ".join(st.get("stdlib_modules_pulled_in_by_first_use", [])) or "none"))
        a("")
    return "\n".join(L) + "\n"


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scales", default="small,10k,40k,100k")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--parse-rounds", type=int, default=7)
    ap.add_argument("--startup-rounds", type=int, default=20)
    ap.add_argument("--skip-parse", action="store_true")
    ap.add_argument("--skip-startup", action="store_true")
    ap.add_argument("--lifetime", type=float, default=3600.0, help="hard lifetime of each population, seconds")
    ap.add_argument("--out", default=os.path.join(HERE, "results.md"))
    ap.add_argument("--json", default=os.path.join(HERE, "results", "latest.json"))
    args = ap.parse_args(argv)
    scales = [s for s in args.scales.split(",") if s]
    rounds = max(1, min(args.rounds, 50))
    t_start = time.monotonic()

    def log(msg: str) -> None:
        sys.stderr.write("[%6.1fs] %s\n" % (time.monotonic() - t_start, msg))
        sys.stderr.flush()

    env = dict(os.environ, PYTHONPATH=ROOT + (os.pathsep + os.environ["PYTHONPATH"] if os.environ.get("PYTHONPATH") else ""))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["LC_ALL"] = "C"
    ps_py = ensure_venv(log)
    psutil_version = None
    interpreters: Dict[str, Any] = {"base": sys.executable, "base_pass_ms": _pass_ms(sys.executable, env)}
    if ps_py:
        psutil_version = subprocess.run([ps_py, "-c", "import psutil; print(psutil.__version__)"], capture_output=True, text=True).stdout.strip()
        # Every Python case (procnet's, psutil's, the floors) runs on one interpreter: the
        # venv's (the same CPython binary). The base interpreter may run start-up hooks
        # of its own (a .pth in its site-packages) that the venv does not; measuring
        # procnet on one and psutil on the other would compare those hooks.
        global PY
        PY = ps_py
        interpreters.update(used=ps_py, used_pass_ms=_pass_ms(ps_py, env))
        log("python cases run on %s: start-up %.1f ms (base %s: %.1f ms)" % (
            ps_py, interpreters["used_pass_ms"], sys.executable, interpreters["base_pass_ms"]))
    res: Dict[str, Any] = {
        "argv": (" " + " ".join(argv if argv is not None else sys.argv[1:])).rstrip(),
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "machine": machine(),
        "rounds": rounds,
        "psutil": psutil_version,
        "interpreters": interpreters,
        "scales": {},
    }
    res["machine"]["python_executable"] = PY
    if not args.skip_startup:
        res["startup"] = startup(env, max(5, args.startup_rounds), log)
    if not args.skip_parse:
        res["parse"] = parse_case(ps_py, env, args.parse_rounds, log)

    def write() -> None:
        res["seconds"] = time.monotonic() - t_start
        os.makedirs(os.path.dirname(args.json), exist_ok=True)
        with open(args.json, "w") as f:
            json.dump(res, f, indent=1)
        with open(args.out, "w") as f:
            f.write(markdown(res))

    for scale in scales:
        try:
            res["scales"][scale] = scale_run(scale, rounds, ps_py, env, log, args.lifetime)
        except RuntimeError as e:
            log("scale %s failed: %s" % (scale, e))
            res.setdefault("failed_scales", {})[scale] = str(e)
        write()  # after every scale, so a long run leaves results behind
        time.sleep(2)
    write()
    log("wrote %s and %s" % (args.out, args.json))
    return 0


if __name__ == "__main__":
    sys.exit(main())
