"""The lab's stand-in for what the kubelet does to a Deployment's pods once they run: restartPolicy Always with
the kubelet's back-off (a crashed app container is started again after 0 s, then 10 s, 20 s, ... up to 5 min
for each crash in a row; the count resets once it has run 10 minutes), and each app's livenessProbe as written
(period, timeout, failure threshold), sent where Istio rewrites it to: the pod's sidecar, port 15020,
/app-health/<container>/livez. A failed liveness probe stops the container with the pod's grace period
(SIGTERM, then SIGKILL), and it is restarted like any crash.

    python -m lab.mesh.kubelet PODS_JSON     # lab.mesh.up starts it (start) beside the mesh and stops it with it

Not the kubelet: readiness does not yet take a pod out of its callers' endpoints (the sidecars' endpoints are
static), tcpSocket probes are not run (only an httpGet can be rewritten to the sidecar), and a pod is not
rescheduled. It exits once the mesh it was started for is going: when any of its containers is removed (the
kubelet never removes one) or podman's event stream ends.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from lab.mesh.compile import APP_HEALTH_PORT
from lab.mesh.listeners import APP_HEALTH_PATH
from lab.mesh.objects import Objects
from lab.mesh.state import LabPod
from lab.podman import podman

_log = logging.getLogger("lab.kubelet")
BACKOFF_S, BACKOFF_CAP_S, BACKOFF_RESET_S = 10.0, 300.0, 600.0  # the kubelet's crash back-off
PODS_FILE, PID_FILE, LOG_FILE = "kubelet.json", "kubelet.pid", "kubelet.log"
TERMINATIONS_FILE = "kubelet-terminations.jsonl"


class Probe(BaseModel):
    """An httpGet probe's timing as the Deployment writes it, with the kubelet's defaults (its path is the
    sidecar's to know: lab/mesh/compile.py routes /app-health/app/livez to it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    period_s: float = Field(default=10, gt=0)
    timeout_s: float = Field(default=1, gt=0)
    failure_threshold: int = Field(default=3, ge=1)
    initial_delay_s: float = Field(default=0, ge=0)


class Workload(BaseModel):
    """One pod's app container, as the kubelet stand-in watches it."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    pod: str
    container: str
    ip: str
    grace_s: int = Field(default=30, ge=0)
    liveness: Probe | None = None


LIVEZ = APP_HEALTH_PATH + "livez"


async def http_status(host: str, port: int, path: str) -> int:
    """A GET on a new connection, closed after, as the kubelet's prober sends one: the status line's code (0 when
    it is not HTTP). A raw request, not an HTTP client: 18 probes every 10 s are the stand-in's steady cost."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        head = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: kube-probe\r\nConnection: close\r\n\r\n"
        writer.write(head.encode())
        await writer.drain()
        status = (await reader.readline()).split()
    finally:
        writer.close()
    return int(status[1]) if len(status) > 1 and status[0].startswith(b"HTTP/") and status[1].isdigit() else 0


def liveness(container: dict[str, Any]) -> Probe | None:
    """A container's livenessProbe, when it is an httpGet (the only kind Istio's rewrite and this stand-in run)."""
    probe = container.get("livenessProbe", {})
    if "httpGet" not in probe:
        return None
    fields = {"periodSeconds": "period_s", "timeoutSeconds": "timeout_s", "failureThreshold": "failure_threshold",
              "initialDelaySeconds": "initial_delay_s"}  # fmt: skip
    return Probe.model_validate({ours: probe[theirs] for theirs, ours in fields.items() if theirs in probe})


class Termination(BaseModel):
    """How a container ended, as a pod's status keeps it (lastState.terminated): the handover's evidence reads
    these, since podman forgets an OOM kill once the container is started again."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    container: str
    at: float  # epoch seconds, when the stand-in saw it dead
    exit_code: int
    oom_killed: bool
    liveness: bool  # stopped by the stand-in for its failed liveness probe
    restart_in_s: float  # its back-off: when it was started again


def terminations(state_dir: Path, since: float) -> list[Termination]:
    """Every termination the stand-in recorded at or after since (none when it never ran)."""
    path = state_dir / TERMINATIONS_FILE
    lines = path.read_text().splitlines() if path.exists() else []
    found = [Termination.model_validate_json(line) for line in lines if line.strip()]
    return [t for t in found if t.at >= since]


def _ended(container: str) -> tuple[bool, int] | None:
    """(OOM-killed, exit code) of a container that is not running; None when it runs."""
    found = podman(
        "inspect", "--format", "{{.State.Status}} {{.State.OOMKilled}} {{.State.ExitCode}}", container, check=False
    )
    status, oom, code = [*found.split(), "", "", "-1"][:3]
    return None if status == "running" else (oom == "true", int(code))


def _record(state_dir: Path, termination: Termination) -> None:
    with (state_dir / TERMINATIONS_FILE).open("a") as log:
        log.write(termination.model_dump_json() + "\n")


def watched_event(event: bytes, ids: dict[str, str]) -> tuple[str, str] | None:
    """(name, died or remove) when a podman event is about a watched container (ids: container id -> name); None
    for any other, such as one about an earlier container of the same name (podman may deliver those late)."""
    found = json.loads(event)
    name, status = ids.get(found.get("ID", "")), found.get("Status")
    return (name, status) if name is not None and status in ("died", "remove") else None


class Pods(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    workloads: tuple[Workload, ...]


def watched(objects: Objects, pods: tuple[LabPod, ...]) -> Pods:
    """What the stand-in watches: each pod's app container, its grace period and its liveness probe."""
    workloads = []
    for pod in pods:
        workload = objects.workload(pod.namespace, pod.app, pod.version)
        grace = workload.pod_spec.get("terminationGracePeriodSeconds", 30)
        probe = liveness(workload.container)
        workloads.append(Workload(pod=pod.name, container=pod.app_container, ip=pod.ip, grace_s=grace, liveness=probe))
    return Pods(workloads=tuple(workloads))


def _pid(state_dir: Path) -> int | None:
    """The stand-in's process, when it runs."""
    try:
        pid = int((state_dir / PID_FILE).read_text())
        alive = b"lab.mesh.kubelet" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return None
    return pid if alive else None


def start(state_dir: Path, pods: Pods | None = None) -> None:
    """Start the stand-in detached (unless it runs), on new pods (written beside the lab's state; the last
    pods' terminations and log go with them) or on those last written; it logs to kubelet.log there."""
    if pods is not None:
        (state_dir / PODS_FILE).write_text(pods.model_dump_json(indent=1))
        (state_dir / TERMINATIONS_FILE).unlink(missing_ok=True)
        (state_dir / LOG_FILE).unlink(missing_ok=True)
    if _pid(state_dir) is not None:
        return
    with (state_dir / LOG_FILE).open("ab") as log:
        argv = [sys.executable, "-m", "lab.mesh.kubelet", str(state_dir / PODS_FILE)]
        root = Path(__file__).resolve().parents[2]
        child = subprocess.Popen(
            argv, cwd=root, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True
        )
    (state_dir / PID_FILE).write_text(str(child.pid))


def stop(state_dir: Path) -> None:
    """Stop the stand-in and its `podman events` (its own process group, made by start)."""
    pid = _pid(state_dir)
    if pid is not None:
        os.killpg(pid, signal.SIGTERM)
    (state_dir / PID_FILE).unlink(missing_ok=True)


@dataclass
class Backoff:
    """The kubelet's crash back-off for one container: the delay before the next start, from its crashes in a
    row (0 s for the first, then 10 s doubling to 5 min), reset when the last start ran BACKOFF_RESET_S."""

    crashes: int = 0
    started_at: float = field(default_factory=time.monotonic)
    down: bool = False  # between its death and its next start
    stopping: bool = False  # stopped by the stand-in (its liveness probe), not crashed

    def delay(self, died_at: float) -> float:
        if died_at - self.started_at >= BACKOFF_RESET_S:
            self.crashes = 0
        self.crashes += 1
        return 0.0 if self.crashes == 1 else min(BACKOFF_S * 2 ** (self.crashes - 2), BACKOFF_CAP_S)


def backoff_owed(history: list[Termination], died_at: float) -> float:
    """The back-off the stand-in owes a container that dies at died_at (epoch s) after these terminations of it,
    oldest first: its Backoff replayed on their times (each start at its death plus its back-off)."""
    backoff = Backoff(started_at=float("-inf"))
    for ended in history:
        backoff.delay(ended.at)
        backoff.started_at = ended.at + ended.restart_in_s
    return backoff.delay(died_at)


async def _restart(state_dir: Path, workload: Workload, backoff: Backoff) -> None:
    ended = await asyncio.to_thread(_ended, workload.container)
    if ended is None:
        return  # running: already started again
    backoff.down, delay = True, backoff.delay(time.monotonic())
    oom, code = ended
    _record(state_dir, Termination(container=workload.container, at=time.time(), exit_code=code, oom_killed=oom,
                                   liveness=backoff.stopping, restart_in_s=delay))  # fmt: skip
    backoff.stopping = False
    _log.warning("%s exited (crash %d in a row): starting it in %.0f s", workload.container, backoff.crashes, delay)
    await asyncio.sleep(delay)
    await asyncio.to_thread(podman, "start", workload.container, check=False)
    backoff.started_at, backoff.down = time.monotonic(), False


async def restart_on_exit(state_dir: Path, workloads: dict[str, Workload], backoffs: dict[str, Backoff]) -> None:
    """Start each app container again after its back-off whenever podman says it died (one event stream for
    them all: a podman call per container and second would cost the lab a core); return once one is removed,
    the mesh going (podman 4.3 has no network events, and polling for the network cost 2 % of a core)."""
    events = await asyncio.create_subprocess_exec(
        "podman", "events", "--format", "json", "--filter", "event=died", "--filter", "event=remove",
        "--filter", "type=container",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    if events.stdout is None:
        raise RuntimeError("podman events gave no output stream")
    pending: dict[str, asyncio.Task[None]] = {}
    listed = await asyncio.to_thread(podman, "inspect", "--format", "{{.Id}} {{.Name}}", *workloads)
    ids = {found[0]: found[1] for found in (line.split() for line in listed.splitlines()) if len(found) == 2}
    try:
        async for line in events.stdout:
            found = watched_event(line, ids)
            if found is not None and found[1] == "remove":
                _log.warning("%s was removed: the mesh is going, and the kubelet stand-in stops", found[0])
                return
            if found is not None and (found[0] not in pending or pending[found[0]].done()):
                pending[found[0]] = asyncio.create_task(_restart(state_dir, workloads[found[0]], backoffs[found[0]]))
    finally:
        events.kill()


async def probe_liveness(workload: Workload, probe: Probe, backoff: Backoff) -> None:
    """The probe every period; failure_threshold failures in a row stop the container (grace, then SIGKILL)."""
    await asyncio.sleep(probe.initial_delay_s)
    failures = 0
    while True:
        await asyncio.sleep(probe.period_s)
        if backoff.down or time.monotonic() - backoff.started_at < probe.initial_delay_s + probe.period_s:
            failures = 0  # down, or just started: the kubelet probes a new container afresh
            continue
        try:
            async with asyncio.timeout(probe.timeout_s):
                healthy = 200 <= await http_status(workload.ip, APP_HEALTH_PORT, LIVEZ) < 400
        except (OSError, TimeoutError):
            healthy = False
        failures = 0 if healthy else failures + 1
        if failures >= probe.failure_threshold:
            _log.warning("%s failed its liveness probe %d times: stopping it", workload.container, failures)
            backoff.stopping = True
            await asyncio.to_thread(podman, "stop", "-t", str(workload.grace_s), workload.container, check=False)
            failures = 0


async def run(state_dir: Path, pods: Pods) -> None:
    """Watch every workload until the mesh is going."""
    workloads = {w.container: w for w in pods.workloads}
    backoffs = {name: Backoff() for name in workloads}
    probes = [
        asyncio.create_task(probe_liveness(w, w.liveness, backoffs[w.container]))
        for w in pods.workloads
        if w.liveness is not None
    ]
    await restart_on_exit(state_dir, workloads, backoffs)
    for task in probes:
        task.cancel()


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m lab.mesh.kubelet", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("pods", type=Path, help="the workloads to watch (lab.mesh.up writes .cache/mesh/kubelet.json)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    asyncio.run(run(args.pods.parent, Pods.model_validate(json.loads(args.pods.read_text()))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
