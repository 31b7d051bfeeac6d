"""deploy/: what can be proven of the systemd units and the DaemonSet without systemd or Kubernetes.

* The units pass ``systemd-analyze verify`` (under ``--root`` of a temporary tree holding a
  stand-in for ``/opt/procnet/bin/procnet``; a misspelt copy is reported, so the check can
  fail), and say what EXPORTER.md §9 asks: DynamicUser and exactly the two capabilities for
  HTTP; for the textfile, the bounding set and the textfile directory as the only writable
  path; no PrivateNetwork, no ProtectProc=invisible.
* Each unit's ExecStart, run by hand with its own arguments (the HTTP one on a loopback port
  instead of every address, the textfile one into a temporary directory with a fixture tree as
  ``--root``), serves or writes valid exposition text.
* The DaemonSet's container args, run as ``python3 <args>`` (its image's entry point) with
  ``--textfile`` instead of ``--listen`` and a fixture tree as ``--root``, write valid text;
  its structure (hostPID, hostNetwork, capabilities, ports) is checked with PyYAML when it is
  installed, else line by line.
What no test here does: start the units under systemd (the sandbox it builds) or the pod on a
cluster (its security context); the README says so.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
from typing import Any, Dict, List

import pytest

import promtools
from conftest import FIXTURES, ROOT

pytest.importorskip("procnet.exporter", reason="procnet.exporter is not written yet")
from test_exporter_format import check_exposition  # noqa: E402

DEPLOY = os.path.join(ROOT, "deploy")
UNITS = os.path.join(DEPLOY, "systemd")
HTTP_UNIT = "procnet-exporter.service"
TEXTFILE_UNIT = "procnet-exporter-textfile.service"
TIMER = "procnet-exporter-textfile.timer"
DAEMONSET = os.path.join(DEPLOY, "kubernetes", "procnet-exporter.yaml")
DOCKERFILE = os.path.join(DEPLOY, "kubernetes", "Dockerfile")
CAPABILITIES = {"CAP_SYS_PTRACE", "CAP_DAC_READ_SEARCH"}


def unit(name: str) -> Dict[str, List[str]]:
    """``Section.Key`` -> every value it is given (systemd allows a key more than once)."""
    out: Dict[str, List[str]] = {}
    section = ""
    with open(os.path.join(UNITS, name), encoding="utf-8") as f:
        for line in f.read().split("\n"):
            if not line or line.startswith(("#", ";")):
                continue
            if line.startswith("["):
                section = line.strip("[]")
                continue
            key, _, value = line.partition("=")
            out.setdefault("%s.%s" % (section, key.strip()), []).append(value.strip())
    return out


def exec_start(name: str) -> List[str]:
    """The unit's ExecStart as procnet's arguments (after the installed ``procnet`` script)."""
    argv = shlex.split(unit(name)["Service.ExecStart"][0])
    assert argv[0] == "/opt/procnet/bin/procnet", argv  # the venv of the unit's install comment
    return argv[1:]


def run_procnet(args: List[str], **kwargs: Any) -> "subprocess.CompletedProcess[bytes]":
    return subprocess.run([sys.executable, "-m", "procnet"] + args, cwd=ROOT, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=120, env=dict(os.environ, PYTHONPATH=ROOT), **kwargs)


def with_option(args: List[str], option: str, value: str) -> List[str]:
    """args with option's value replaced (the option must be there)."""
    i = args.index(option)
    return args[:i + 1] + [value] + args[i + 2:]


# --- systemd ---------------------------------------------------------------------------------


def _verify(units_dir: str, tmp: str) -> "subprocess.CompletedProcess[str]":
    root = os.path.join(tmp, "root")
    bindir = os.path.join(root, "opt", "procnet", "bin")
    os.makedirs(bindir)
    os.makedirs(os.path.join(root, "var", "lib", "prometheus", "node-exporter"))
    stand_in = os.path.join(bindir, "procnet")
    with open(stand_in, "w", encoding="utf-8") as f:
        f.write("#!/bin/sh\n")
    os.chmod(stand_in, 0o755)
    shutil.copytree(units_dir, os.path.join(root, "etc", "systemd", "system"))
    # --recursive-errors=no: the tree has no sysinit.target and friends to load.
    return subprocess.run(["systemd-analyze", "verify", "--root=" + root, "--man=no", "--recursive-errors=no",
                           HTTP_UNIT, TEXTFILE_UNIT, TIMER], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, timeout=120)


def test_units_pass_systemd_analyze_verify(tmp_path: Any) -> None:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed (Debian: the systemd package)")
    done = _verify(UNITS, str(tmp_path / "good"))
    assert done.returncode == 0 and done.stdout == "", done.stdout
    # the check can fail: a misspelt key and a bad timer value are reported
    bad = tmp_path / "bad-units"
    shutil.copytree(UNITS, str(bad))
    for name, old, new in [(HTTP_UNIT, "ProtectSystem=", "ProtectSytem="), (TIMER, "=30s", "=30q")]:
        path = bad / name
        path.write_text(path.read_text().replace(old, new))
    done = _verify(str(bad), str(tmp_path / "bad"))
    assert "Unknown key 'ProtectSytem'" in done.stdout and "30q" in done.stdout, done.stdout


def test_http_unit_sandbox_is_the_contracts() -> None:
    u = unit(HTTP_UNIT)
    assert u["Service.DynamicUser"] == ["yes"] and u["Service.NoNewPrivileges"] == ["yes"]
    assert set(u["Service.AmbientCapabilities"][0].split()) == CAPABILITIES
    assert set(u["Service.CapabilityBoundingSet"][0].split()) == CAPABILITIES
    assert u["Service.ProtectSystem"] == ["strict"]
    assert "AF_NETLINK" in u["Service.RestrictAddressFamilies"][0].split()  # sock_diag: limits and drops
    assert "Service.PrivateNetwork" not in u and "Service.ProtectProc" not in u
    assert u["Install.WantedBy"] == ["multi-user.target"]


def test_textfile_unit_and_timer_are_the_contracts() -> None:
    u = unit(TEXTFILE_UNIT)
    assert u["Service.Type"] == ["oneshot"] and u["Service.NoNewPrivileges"] == ["yes"]
    assert set(u["Service.CapabilityBoundingSet"][0].split()) == CAPABILITIES
    assert "Service.DynamicUser" not in u  # root, so that it may write into root's textfile directory
    assert u["Service.ProtectSystem"] == ["strict"]
    path = exec_start(TEXTFILE_UNIT)[exec_start(TEXTFILE_UNIT).index("--textfile") + 1]
    assert u["Service.ReadWritePaths"] == [os.path.dirname(path)] and path.endswith(".prom")
    t = unit(TIMER)
    assert t["Timer.OnUnitActiveSec"] and t["Install.WantedBy"] == ["timers.target"]
    assert "Timer.Unit" not in t  # so it starts the service of its own name
    assert TIMER.rsplit(".", 1)[0] == TEXTFILE_UNIT.rsplit(".", 1)[0]


@pytest.mark.live
def test_http_unit_command_serves_metrics(tmp_path: Any) -> None:
    args = exec_start(HTTP_UNIT)
    assert args[:3] == ["exporter", "--listen", ":9469"], args
    port = promtools.free_port()
    argv = [sys.executable, "-m", "procnet"] + with_option(args, "--listen", "127.0.0.1:%d" % port)
    with promtools.running(argv, str(tmp_path), "exporter", cwd=ROOT,
                           env=dict(os.environ, PYTHONPATH=ROOT)) as server:
        reply = promtools.wait_for("the unit's command to serve /metrics",
                                   lambda: promtools.request("GET", "127.0.0.1", port, "/metrics"), 30,
                                   explain=server.log)
        assert reply.status == 200, server.log()
        assert reply.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
        families = check_exposition(reply.body)
        assert "procnet_tcp_listen_sockets" in families  # its own listener at least
        assert server.stop() == 0, server.log()


def test_textfile_unit_command_writes_the_file(tmp_path: Any) -> None:
    args = exec_start(TEXTFILE_UNIT)
    target = tmp_path / "procnet.prom"
    done = run_procnet(with_option(args, "--textfile", str(target)) + [
        "--root", os.path.join(FIXTURES, "owners-forked-listener")])
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(os.stat(str(target)).st_mode) == 0o644
    assert os.listdir(str(tmp_path)) == ["procnet.prom"]
    families = check_exposition(target.read_bytes())
    assert any(("comm", "nginx") in labels for labels in families["procnet_tcp_listen_sockets"].samples)


# --- Kubernetes ------------------------------------------------------------------------------


def daemonset_text() -> str:
    with open(DAEMONSET, encoding="utf-8") as f:
        return f.read()


def container_args() -> List[str]:
    """The container's args, a YAML flow sequence of JSON strings (so json reads it too)."""
    lines = re.findall(r"^ +args: (\[.*\])$", daemonset_text(), re.M)
    assert len(lines) == 1, lines
    args = json.loads(lines[0])
    assert isinstance(args, list) and all(isinstance(a, str) for a in args)
    return args


def test_daemonset_args_run_the_exporter(tmp_path: Any) -> None:
    args = container_args()
    assert args[:3] == ["-m", "procnet", "exporter"]
    assert args[args.index("--root") + 1] == "/host/proc"  # the node's proc, mounted below
    assert "mountPath: /host/proc" in daemonset_text() and "path: /proc" in daemonset_text()
    with open(DOCKERFILE, encoding="utf-8") as f:
        assert 'ENTRYPOINT ["python3"]' in f.read().split("\n")  # so args start at "-m"
    target = tmp_path / "procnet.prom"
    listen = args.index("--listen")
    textfile_args = args[2:listen] + ["--textfile", str(target)] + args[listen + 2:]
    done = run_procnet(textfile_args + ["--root", os.path.join(FIXTURES, "owners-two-namespaces")])
    assert done.returncode == 0, done.stderr
    families = check_exposition(target.read_bytes())
    assert families["procnet_network_namespaces"].samples[()] >= 2  # --netns all read both
    assert "--netns" in args and args[args.index("--netns") + 1] == "all"


def _structure_by_lines(text: str, port: int) -> None:
    for line in ("hostPID: true", "hostNetwork: true", "readOnlyRootFilesystem: true",
                 "allowPrivilegeEscalation: false", "drop: [ALL]", "add: [SYS_PTRACE, DAC_READ_SEARCH]",
                 "containerPort: %d" % port, "hostPort: %d" % port, "kind: DaemonSet"):
        assert re.search(r"^ *%s(?: |$)" % re.escape(line), text, re.M), line


def test_daemonset_structure() -> None:
    text = daemonset_text()
    listen = container_args()[container_args().index("--listen") + 1]
    port = int(listen.rsplit(":", 1)[1])
    try:
        import yaml
    except ImportError:
        _structure_by_lines(text, port)
        return
    doc = yaml.safe_load(text)
    assert (doc["apiVersion"], doc["kind"]) == ("apps/v1", "DaemonSet")
    assert doc["spec"]["selector"]["matchLabels"].items() <= doc["spec"]["template"]["metadata"]["labels"].items()
    pod = doc["spec"]["template"]["spec"]
    assert pod["hostPID"] is True and pod["hostNetwork"] is True
    (container,) = pod["containers"]
    assert container["args"] == container_args()
    security = container["securityContext"]
    assert security["capabilities"] == {"drop": ["ALL"], "add": ["SYS_PTRACE", "DAC_READ_SEARCH"]}
    assert security["readOnlyRootFilesystem"] is True and security["allowPrivilegeEscalation"] is False
    (ports,) = container["ports"]
    assert ports["containerPort"] == ports["hostPort"] == port
    assert container["readinessProbe"]["httpGet"]["port"] == port
