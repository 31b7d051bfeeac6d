#!/usr/bin/env python3
"""The exporter's cost: one scrape against ``procnet.sockets("tcp")`` at the same moment,
and its memory over many scrapes (issue 16).

    python3 benchmarks/exporter.py                             # 40k, 5 rounds, memory at small
    python3 benchmarks/exporter.py --scale 10k --rounds 3 --skip-memory
    python3 benchmarks/exporter.py --scale small --skip-memory --profile 20

The target: one scrape (``procnet.exporter.exposition()``) at 40,000 TCP sockets takes at
most 1.2x ``procnet.sockets("tcp")``. A loopback population (benchmarks/population.py) is
built, then, on it:

* **in one process**: a child interpreter (this checkout first on ``sys.path``) makes
  each call once untimed, then ``--rounds`` rounds of ``exposition()`` and
  ``sockets("tcp")``, the order swapped every round; beside them the parts of a scrape:
  ``snapshot()`` (the read: every socket table with skmem and owners), decoding the
  records' lazy fields (``sockets("tcp")`` never reads them), ``build()`` and
  ``render()`` on that snapshot, and ``sockets("all")`` (the same tables without skmem);
* **in fresh processes**: ``--rounds`` rounds of ``python -c "import procnet.exporter;
  procnet.exporter.exposition()"`` against ``python -c "import procnet;
  procnet.sockets('tcp')"``, alternating: wall time (start-up and imports included) and
  the call's time inside the process (both import ``procnet.exporter`` before the call,
  so that the query modules' import counts in neither).

Medians and their ratio, and the scale (TCP sockets, every table's rows, processes and
descriptors on the machine) are appended to benchmarks/results/exporter.md. ``--profile
K`` also runs cProfile over K scrapes in the child and prints where the time goes.

Memory (``--scrapes``, default 1000, at ``--memory-scale``, default small): one process
scrapes that many times; the number of objects the collector tracks, the interpreter's
allocated blocks (``sys.getallocatedblocks()``) and its RSS (VmRSS) after 10, 100 and
every 250 scrapes up to the last. Flat: from 100 to the last, at most 100 more objects
(module caches fill once) and at most 1% more allocated blocks. RSS is shown, not judged:
it also grows with the allocator's arenas when a scrape is the largest so far (the
population's TIME-WAIT batch comes and goes).

The population is ended by its controller's pid (benchmarks/population.py). Run one
benchmark at a time: the figures are wall times on a machine that may be shared.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any, Dict, List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
RESULTS = os.path.join(HERE, "results", "exporter.md")
sys.path.insert(0, HERE)

from population import Population, count_descriptors, count_sockets  # noqa: E402

TARGET = 1.2
CHILD_TIMEOUT = 1800.0
# Run from an empty directory with the checkout on PYTHONPATH (see benchmarks/README.md: `python -c` puts
# the working directory ahead of PYTHONPATH).
EMPTY = tempfile.mkdtemp(prefix="procnet-cwd-")

IN_PROCESS = r"""
import gc, json, sys, time
import procnet, procnet.exporter
from procnet import _metrics
from procnet._records import UnixSocket
rounds, profile = int(sys.argv[1]), int(sys.argv[2])

def scrape():
    return procnet.exporter.exposition()

def tcp():
    return procnet.sockets("tcp")

def all_():
    return procnet.sockets("all")

def parts():
    t0 = time.perf_counter()
    snap = procnet.exporter.snapshot()
    t1 = time.perf_counter()
    for rec in snap.sockets:  # the records' lazy fields, decoded on first read (what build() reads first)
        if rec.__class__ is not UnixSocket:
            rec.local
    t2 = time.perf_counter()
    families = _metrics.build(snap, _metrics.Options())
    t3 = time.perf_counter()
    text = _metrics.render(families)
    t4 = time.perf_counter()
    return {"snapshot": t1 - t0, "decode": t2 - t1, "build": t3 - t2, "render": t4 - t3,
            "records": len(snap.sockets), "series": text.count("\n") - 2 * sum(1 for f in families if f.rows)}

cases = {"exposition": scrape, "sockets_tcp": tcp, "sockets_all": all_}
sizes = {"exposition_bytes": len(scrape().encode()), "sockets_tcp": len(tcp()), "sockets_all": len(all_())}
parts()
times = {name: [] for name in cases}
times.update({name + "_cpu": [] for name in cases})
times.update({"snapshot": [], "decode": [], "build": [], "render": []})
for r in range(rounds):
    order = list(cases) if r % 2 == 0 else list(reversed(list(cases)))
    for name in order:
        gc.collect()
        c, t = time.process_time(), time.perf_counter()
        cases[name]()
        times[name].append(time.perf_counter() - t)
        times[name + "_cpu"].append(time.process_time() - c)
    gc.collect()
    p = parts()
    for k in ("snapshot", "decode", "build", "render"):
        times[k].append(p[k])
    sizes["records"], sizes["series"] = p["records"], p["series"]
out = {"times": times, "sizes": sizes}
if profile:
    import cProfile, io, pstats
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(profile):
        scrape()
    prof.disable()
    buf = io.StringIO()
    st = pstats.Stats(prof, stream=buf)
    st.sort_stats("tottime").print_stats(25)
    st.sort_stats("cumulative").print_stats(30)
    out["profile"] = buf.getvalue()
print(json.dumps(out))
"""

# Both import procnet.exporter first, so that "inside" times the call alone in both.
_TIMED = ("import sys, time; import procnet, procnet.exporter; c, t = time.process_time(), time.perf_counter(); %s; "
          "sys.stderr.write('inner=%%r cpu=%%r\\n' %% (time.perf_counter() - t, time.process_time() - c))")
FRESH = {
    "exposition": _TIMED % "procnet.exporter.exposition()",
    "sockets_tcp": _TIMED % "procnet.sockets('tcp')",
}

MEMORY = r"""
import gc, json, sys
import procnet.exporter
n = int(sys.argv[1])
marks = sorted({10, 100, n} | set(range(250, n + 1, 250)))

def rss_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0

out = []
for i in range(1, n + 1):
    procnet.exporter.exposition()
    if i in marks:
        gc.collect()
        out.append({"scrapes": i, "rss_kib": rss_kib(), "objects": len(gc.get_objects()),
                    "blocks": sys.getallocatedblocks()})
print(json.dumps(out))
"""


def _env() -> Dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = TOP + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def _child(code: str, *args: str, timeout: float = CHILD_TIMEOUT) -> Any:
    r = subprocess.run([sys.executable, "-c", code] + list(args), env=_env(), cwd=EMPTY, capture_output=True,
                       text=True, timeout=timeout)
    if r.returncode:
        raise RuntimeError("child failed (%d): %s" % (r.returncode, r.stderr.strip()[-2000:]))
    return json.loads(r.stdout)


def fresh_rounds(rounds: int) -> Dict[str, Dict[str, List[float]]]:
    """Whole processes, alternating: wall time and the time inside."""
    out: Dict[str, Dict[str, List[float]]] = {k: {"wall": [], "inner": [], "cpu": [], "inner_cpu": []} for k in FRESH}
    names = list(FRESH)
    for name in names:  # once untimed: page cache, pyc files
        subprocess.run([sys.executable, "-c", FRESH[name]], env=_env(), cwd=EMPTY, capture_output=True,
                       timeout=CHILD_TIMEOUT)
    for r in range(rounds):
        for name in (names if r % 2 == 0 else names[::-1]):
            usage, t = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
            p = subprocess.run([sys.executable, "-c", FRESH[name]], env=_env(), cwd=EMPTY, capture_output=True,
                               text=True, timeout=CHILD_TIMEOUT)
            wall = time.perf_counter() - t
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if p.returncode:
                raise RuntimeError("%s failed: %s" % (name, p.stderr.strip()[-2000:]))
            inner, inner_cpu = p.stderr.strip().rsplit("inner=", 1)[1].split(" cpu=")
            out[name]["wall"].append(wall)
            out[name]["cpu"].append(after.ru_utime + after.ru_stime - usage.ru_utime - usage.ru_stime)
            out[name]["inner"].append(float(inner))
            out[name]["inner_cpu"].append(float(inner_cpu))
    return out


def _med(xs: List[float]) -> float:
    return statistics.median(xs)


def _ms(x: float) -> str:
    return "%.0f" % (x * 1e3) if x >= 0.1 else "%.1f" % (x * 1e3)


def cost(scale: str, rounds: int, profile: int, log: Any) -> Dict[str, Any]:
    logf = os.path.join(tempfile.gettempdir(), "procnet-exporter-bench-population.log")
    t0 = time.monotonic()
    with Population(scale, seconds=3600, log=logf) as pop:
        c = pop.info["counts"]
        log("population %s ready in %.0f s: %d TCP sockets, %d processes / %d descriptors (ours)" % (
            scale, pop.info["setup_seconds"], c["sockets"]["tcp_total"], c["ours"]["processes"],
            c["ours"]["descriptors"]))
        before = {"sockets": count_sockets(), "system": count_descriptors()}
        log("in one process: %d rounds" % rounds)
        inproc = _child(IN_PROCESS, str(rounds), str(profile))
        log("fresh processes: %d rounds" % rounds)
        fresh = fresh_rounds(rounds)
        after = {"sockets": count_sockets(), "system": count_descriptors()}
        controller = pop.proc.pid if pop.proc is not None else None
    return {"scale": scale, "before": before, "after": after, "in_process": inproc, "fresh": fresh,
            "population_controller": controller, "seconds": time.monotonic() - t0}


def memory(scale: str, scrapes: int, log: Any) -> Dict[str, Any]:
    logf = os.path.join(tempfile.gettempdir(), "procnet-exporter-bench-memory.log")
    with Population(scale, seconds=3600, log=logf) as pop:
        log("memory: %d scrapes at %s (%d TCP sockets)" % (scrapes, scale, pop.info["counts"]["sockets"]["tcp_total"]))
        marks = _child(MEMORY, str(scrapes))
        sockets = count_sockets()
    at = {m["scrapes"]: m for m in marks}
    first, last = at[min(100, scrapes)], at[scrapes]
    return {"scale": scale, "scrapes": scrapes, "marks": marks, "rss_growth_kib_after_100": last["rss_kib"] - first["rss_kib"],
            "objects_growth_after_100": last["objects"] - first["objects"],
            "blocks_growth_after_100": last["blocks"] - first["blocks"], "blocks_at_100": first["blocks"],
            "tcp_sockets": sockets["tcp_total"]}


def markdown(res: Dict[str, Any], argv: List[str]) -> str:
    L: List[str] = []
    a = L.append
    a("## %s, `python3 benchmarks/exporter.py%s`" % (res["date"], (" " + " ".join(argv)) if argv else ""))
    a("")
    m = res["machine"]
    a("Machine: %s, %s cores, kernel %s, Python %s; load average at start %s." % (
        m["cpu"], m["cores"], m["kernel"], m["python"], " ".join(m["loadavg"])))
    a("")
    c = res.get("cost")
    if c:
        b, s = c["before"], c["in_process"]["sizes"]
        a("**Scale** (%s population, the machine's tables at the start): %d TCP sockets (%s), %d UDP, %d unix; "
          "%d processes, %d descriptors. A scrape read %d records and wrote %d series (%d bytes)." % (
              c["scale"], b["sockets"]["tcp_total"],
              ", ".join("%s %d" % kv for kv in b["sockets"]["tcp_states"].items()),
              b["sockets"]["udp"] + b["sockets"]["udp6"], b["sockets"]["unix"],
              b["system"]["processes"], b["system"]["descriptors"], s["records"], s["series"], s["exposition_bytes"]))
        a("")
        t = c["in_process"]["times"]
        n = len(t["exposition"])
        ref = _med(t["sockets_tcp"])
        a("In one process, medians of %d alternating rounds (each call made once untimed first):" % n)
        a("")
        a("| call | median ms | min ms | x sockets('tcp') | CPU ms (median) | CPU x sockets('tcp') |")
        a("|---|---|---|---|---|---|")
        ref_cpu = _med(t["sockets_tcp_cpu"])
        for name, label in (("exposition", "`exposition()` (one scrape)"), ("sockets_tcp", "`sockets('tcp')`"),
                            ("sockets_all", "`sockets('all')`"), ("snapshot", "part: `snapshot()` (the read)"),
                            ("decode", "part: decoding the records' fields"),
                            ("build", "part: `build()` on decoded records"), ("render", "part: `render()`")):
            cpu = t.get(name + "_cpu")
            a("| %s | %s | %s | %.2f | %s | %s |" % (
                label, _ms(_med(t[name])), _ms(min(t[name])), _med(t[name]) / ref,
                _ms(_med(cpu)) if cpu else "", "%.2f" % (_med(cpu) / ref_cpu) if cpu else ""))
        a("")
        f = c["fresh"]
        a("Fresh processes, medians of %d alternating rounds:" % len(f["exposition"]["wall"]))
        a("")
        a("| process | wall ms | CPU ms | the call inside, ms | its CPU ms |")
        a("|---|---|---|---|---|")
        for name in ("exposition", "sockets_tcp"):
            a("| `%s` | %s | %s | %s | %s |" % (name, _ms(_med(f[name]["wall"])), _ms(_med(f[name]["cpu"])),
                                              _ms(_med(f[name]["inner"])), _ms(_med(f[name]["inner_cpu"]))))
        ratio_in = _med(t["exposition"]) / ref
        ratio_min = min(t["exposition"]) / min(t["sockets_tcp"])
        ratio_wall = _med(f["exposition"]["wall"]) / _med(f["sockets_tcp"]["wall"])
        ratio_inner = _med(f["exposition"]["inner"]) / _med(f["sockets_tcp"]["inner"])
        cpu_in = _med(t["exposition_cpu"]) / ref_cpu
        cpu_fresh = _med(f["exposition"]["inner_cpu"]) / _med(f["sockets_tcp"]["inner_cpu"])
        a("")
        a("**Ratio scrape / sockets('tcp')**: %.2f in one process (%.2f of the fastest rounds), %.2f fresh (wall), "
          "%.2f fresh (inside); target at most %.1f: %s." % (
              ratio_in, ratio_min, ratio_wall, ratio_inner, TARGET,
              "met" if max(ratio_in, ratio_inner) <= TARGET else "NOT met"))
        a("")
        a("By CPU time (user + system, every thread; steadier than wall time on a shared machine): %.2f in one "
          "process, %.2f fresh (the call inside)." % (cpu_in, cpu_fresh))
        a("")
        a("After the rounds: %d TCP sockets, %d processes, %d descriptors." % (
            c["after"]["sockets"]["tcp_total"], c["after"]["system"]["processes"], c["after"]["system"]["descriptors"]))
        a("")
    mem = res.get("memory")
    if mem:
        a("**Memory** over %d scrapes in one process (%s population, %d TCP sockets):" % (
            mem["scrapes"], mem["scale"], mem["tcp_sockets"]))
        a("")
        a("| after scrapes | VmRSS KiB | gc objects | allocated blocks |")
        a("|---|---|---|---|")
        for row in mem["marks"]:
            a("| %d | %d | %d | %d |" % (row["scrapes"], row["rss_kib"], row["objects"], row["blocks"]))
        a("")
        g, o, b = mem["rss_growth_kib_after_100"], mem["objects_growth_after_100"], mem["blocks_growth_after_100"]
        flat = o <= 100 and b <= mem["blocks_at_100"] // 100
        a("From 100 to %d scrapes: objects %+d, allocated blocks %+d, RSS %+d KiB: %s (objects and blocks are the "
          "verdict; RSS also moves with the allocator's arenas and the size of the largest scrape so far)." % (
              mem["scrapes"], o, b, g, "flat" if flat else "NOT flat"))
        a("")
    return "\n".join(L) + "\n"


def main(argv: Optional[List[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", default="40k", help="population scale for the cost (small, 10k, 40k, 100k)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--profile", type=int, default=0, metavar="K", help="cProfile over K scrapes, printed")
    ap.add_argument("--skip-cost", action="store_true")
    ap.add_argument("--skip-memory", action="store_true")
    ap.add_argument("--memory-scale", default="small")
    ap.add_argument("--scrapes", type=int, default=1000)
    ap.add_argument("--no-write", action="store_true", help="print the Markdown, do not append it to %s" % RESULTS)
    args = ap.parse_args(argv)

    def log(msg: str) -> None:
        sys.stderr.write("[%s] %s\n" % (time.strftime("%H:%M:%S"), msg))
        sys.stderr.flush()

    res: Dict[str, Any] = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": {"cpu": _cpu(), "cores": os.cpu_count(), "kernel": platform.release(),
                    "python": platform.python_version(), "loadavg": open("/proc/loadavg").read().split()[:3]},
    }
    if not args.skip_cost:
        res["cost"] = cost(args.scale, args.rounds, args.profile, log)
        prof = res["cost"]["in_process"].get("profile")
        if prof:
            sys.stdout.write(prof + "\n")
    if not args.skip_memory:
        res["memory"] = memory(args.memory_scale, args.scrapes, log)
    text = markdown(res, argv)
    sys.stdout.write(text)
    if not args.no_write:
        new = not os.path.exists(RESULTS)
        with open(RESULTS, "a", encoding="utf-8") as f:
            if new:
                f.write("# The exporter's cost\n\nWritten by `benchmarks/exporter.py` (see its docstring); newest last.\n\n")
            f.write(text + "\n")
        with open(os.path.join(tempfile.gettempdir(), "procnet-exporter-bench-last.json"), "w") as f:
            json.dump(res, f)
    return 0


def _cpu() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "?"


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        os.rmdir(EMPTY)
