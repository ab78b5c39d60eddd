"""The lab's stand-in for what the kubelet (with the endpoints controller and istiod's EDS push) does to a
Deployment's pods once they run:
- restartPolicy Always with the kubelet's back-off (a crashed app container is started again after 0 s, then
  10 s, 20 s, ... up to 5 min for each crash in a row; the count resets once it has run 10 minutes);
- each app's livenessProbe as written (httpGet or tcpSocket, lab/mesh/prober.py): failing its threshold stops the
  container with the pod's grace period (SIGTERM, then SIGKILL), and it is restarted like any crash;
- each app's readinessProbe as written: an unready pod, and at once one whose app container died, leaves every
  caller's endpoints (lab/mesh/endpoints.py) and comes back once its probe passes again;
- a pod's deletion (`--delete POD`, as `kubectl delete pod` asks it): out of its callers' endpoints first, then
  SIGTERM to the app and its grace period for it to drain, then the sidecar, which outlives the app so its
  draining calls still leave; then the ReplicaSet's replacement, the same pod again, ready once its probe passes.

    python -m lab.mesh.kubelet PODS_JSON         # lab.mesh.up starts it (start) beside the mesh and stops it with it
    python -m lab.mesh.kubelet PODS_JSON --delete POD

Not the kubelet: an exec probe is not run (Istio does not rewrite one, and none is rendered), and a replacement
pod keeps the deleted one's name and address instead of being scheduled anew. It exits once the mesh
it was started for is going: when any of its containers is removed (the kubelet never removes one) or podman's
event stream ends.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from lab.mesh import endpoints
from lab.mesh.endpoints import EndpointSet
from lab.mesh.objects import Objects
from lab.mesh.prober import LIVEZ, READYZ, Probe, passes, probe_of
from lab.mesh.state import LabPod
from lab.podman import podman

_log = logging.getLogger("lab.kubelet")
BACKOFF_S, BACKOFF_CAP_S, BACKOFF_RESET_S = 10.0, 300.0, 600.0  # the kubelet's crash back-off
PODS_FILE, PID_FILE, LOG_FILE, SOCKET = "kubelet.json", "kubelet.pid", "kubelet.log", "kubelet.sock"
ENDPOINTS_DIR = "endpoints"  # beside the stand-in's state: what lab.mesh.up mounts into every sidecar
TERMINATIONS_FILE = "kubelet-terminations.jsonl"


class Workload(BaseModel):
    """One pod's app container and its sidecar, as the kubelet stand-in watches them."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    pod: str
    container: str
    sidecar: str
    ip: str
    grace_s: int = Field(default=30, ge=0)
    liveness: Probe | None = None
    readiness: Probe | None = None


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
    endpoints: tuple[EndpointSet, ...] = ()


def watched(objects: Objects, pods: tuple[LabPod, ...], sets: tuple[EndpointSet, ...]) -> Pods:
    """What the stand-in watches: each pod's app container, its grace period and its probes, and the outbound
    clusters whose endpoints it writes."""
    workloads = []
    for pod in pods:
        workload = objects.workload(pod.namespace, pod.app, pod.version)
        workloads.append(
            Workload(
                pod=pod.name, container=pod.app_container, sidecar=pod.sidecar_container, ip=pod.ip,
                grace_s=workload.pod_spec.get("terminationGracePeriodSeconds", 30),
                liveness=probe_of(workload.container, "livenessProbe"),
                readiness=probe_of(workload.container, "readinessProbe"),
            )
        )  # fmt: skip
    return Pods(workloads=tuple(workloads), endpoints=sets)


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
    deleting: bool = False  # its pod is being deleted: its end is no crash

    def delay(self, died_at: float) -> float:
        if died_at - self.started_at >= BACKOFF_RESET_S:
            self.crashes = 0
        self.crashes += 1
        return 0.0 if self.crashes == 1 else min(BACKOFF_S * 2 ** (self.crashes - 2), BACKOFF_CAP_S)


@dataclass
class Readiness:
    """The endpoints controller's view: which pods are ready and which are terminating; every caller's endpoints
    are the ready pods that are not terminating, written to the files the sidecars watch on each change."""

    directory: Path
    sets: tuple[EndpointSet, ...]
    ready: set[str]
    terminating: set[str] = field(default_factory=set)

    def mark(self, pod: str, ready: bool) -> None:
        if (pod in self.ready) != ready:
            (self.ready.add if ready else self.ready.discard)(pod)
            _log.warning("%s is %s", pod, "ready: back in its callers' endpoints" if ready else "not ready")
            self.publish()

    def publish(self) -> list[str]:
        return endpoints.write(self.directory, self.sets, frozenset(self.ready - self.terminating))


def backoff_owed(history: list[Termination], died_at: float) -> float:
    """The back-off the stand-in owes a container that dies at died_at (epoch s) after these terminations of it,
    oldest first: its Backoff replayed on their times (each start at its death plus its back-off)."""
    backoff = Backoff(started_at=float("-inf"))
    for ended in history:
        backoff.delay(ended.at)
        backoff.started_at = ended.at + ended.restart_in_s
    return backoff.delay(died_at)


async def _restart(state_dir: Path, workload: Workload, backoff: Backoff, readiness: Readiness) -> None:
    ended = await asyncio.to_thread(_ended, workload.container)
    if ended is None:
        return  # running: already started again
    readiness.mark(workload.pod, False)  # a container that is not running is not ready
    backoff.down, delay = True, backoff.delay(time.monotonic())
    oom, code = ended
    _record(state_dir, Termination(container=workload.container, at=time.time(), exit_code=code, oom_killed=oom,
                                   liveness=backoff.stopping, restart_in_s=delay))  # fmt: skip
    backoff.stopping = False
    _log.warning("%s exited (crash %d in a row): starting it in %.0f s", workload.container, backoff.crashes, delay)
    await asyncio.sleep(delay)
    await asyncio.to_thread(podman, "start", workload.container, check=False)
    backoff.started_at, backoff.down = time.monotonic(), False


async def restart_on_exit(state_dir: Path, workloads: dict[str, Workload], backoffs: dict[str, Backoff],
                          readiness: Readiness) -> None:  # fmt: skip
    """Start each app container again after its back-off whenever podman says it died (one event stream for
    them all: a podman call per container and second would cost the lab a core), unless its pod is being
    deleted; return once one is removed, the mesh going (podman 4.3 has no network events, and polling for the
    network cost 2 % of a core)."""
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
            if found is None or backoffs[found[0]].deleting:
                continue
            if found[0] not in pending or pending[found[0]].done():
                task = _restart(state_dir, workloads[found[0]], backoffs[found[0]], readiness)
                pending[found[0]] = asyncio.create_task(task)
    finally:
        events.kill()


def _fresh(backoff: Backoff, probe: Probe) -> bool:
    """Down, or started less than its initial delay and a period ago: the kubelet probes a new container afresh."""
    return backoff.down or time.monotonic() - backoff.started_at < probe.initial_delay_s + probe.period_s


async def probe_liveness(workload: Workload, probe: Probe, backoff: Backoff) -> None:
    """The probe every period; failure_threshold failures in a row stop the container (grace, then SIGKILL)."""
    await asyncio.sleep(probe.initial_delay_s)
    failures = 0
    while True:
        await asyncio.sleep(probe.period_s)
        if _fresh(backoff, probe):
            failures = 0
            continue
        failures = 0 if await passes(workload.ip, LIVEZ, probe.timeout_s) else failures + 1
        if failures >= probe.failure_threshold:
            _log.warning("%s failed its liveness probe %d times: stopping it", workload.container, failures)
            backoff.stopping = True
            await asyncio.to_thread(podman, "stop", "-t", str(workload.grace_s), workload.container, check=False)
            failures = 0


async def probe_readiness(workload: Workload, probe: Probe, backoff: Backoff, readiness: Readiness) -> None:
    """The probe every period: success_threshold passes in a row make the pod ready, failure_threshold failures
    in a row unready (a container that is down fails it without being asked)."""
    await asyncio.sleep(probe.initial_delay_s)
    successes = failures = 0
    while True:
        await asyncio.sleep(probe.period_s)
        healthy = not backoff.down and await passes(workload.ip, READYZ, probe.timeout_s)
        successes, failures = (successes + 1, 0) if healthy else (0, failures + 1)
        if successes >= probe.success_threshold or failures >= probe.failure_threshold:
            readiness.mark(workload.pod, healthy)


async def delete(workload: Workload, backoff: Backoff, readiness: Readiness) -> dict[str, float]:
    """Delete the pod as Kubernetes does and make its replacement: out of its callers' endpoints, SIGTERM to the
    app with the grace period to drain, then its sidecar; the replacement is ready once its probe passes.
    Seconds the app took to stop, and the whole deletion."""
    start = time.monotonic()
    backoff.deleting = backoff.down = True
    readiness.terminating.add(workload.pod)
    readiness.publish()
    _log.warning("deleting %s: out of its callers' endpoints, then SIGTERM to its app", workload.pod)
    await asyncio.to_thread(podman, "stop", "-t", str(workload.grace_s), workload.container, check=False)
    drained = time.monotonic() - start
    await asyncio.to_thread(podman, "stop", "-t", str(workload.grace_s), workload.sidecar, check=False)
    readiness.mark(workload.pod, False)  # the replacement starts unready
    readiness.terminating.discard(workload.pod)
    await asyncio.to_thread(podman, "start", workload.sidecar, check=False)
    await asyncio.to_thread(podman, "start", workload.container, check=False)
    backoff.crashes, backoff.started_at, backoff.down, backoff.deleting = 0, time.monotonic(), False, False
    return {"app_stopped_s": round(drained, 3), "deleted_s": round(time.monotonic() - start, 3)}


async def _serve_deletes(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, by_pod: dict[str, Workload],
    backoffs: dict[str, Backoff], readiness: Readiness,
) -> None:  # fmt: skip
    """One request on the stand-in's socket: a pod's name to delete; the answer is a JSON line."""
    pod = (await reader.readline()).decode().strip()
    if pod not in by_pod:
        answer: dict[str, object] = {"error": f"no pod {pod!r}; the lab's pods: {', '.join(sorted(by_pod))}"}
    else:
        workload = by_pod[pod]
        answer = {"pod": pod, **await delete(workload, backoffs[workload.container], readiness)}
    writer.write(json.dumps(answer).encode() + b"\n")
    await writer.drain()
    writer.close()


def delete_pod(state_dir: Path, pod: str, timeout_s: float = 120) -> dict[str, object]:
    """Ask the running stand-in to delete a pod (and make its replacement); what it answered once done."""
    with socket.socket(socket.AF_UNIX) as client:
        client.settimeout(timeout_s)
        client.connect(str(state_dir / SOCKET))
        client.sendall(pod.encode() + b"\n")
        answer = json.loads(client.makefile().readline())
    if "error" in answer:
        raise LookupError(answer["error"])
    return dict(answer)


async def run(state_dir: Path, pods: Pods) -> None:
    """Watch every workload until the mesh is going; delete a pod when asked on the socket."""
    workloads = {w.container: w for w in pods.workloads}
    backoffs = {name: Backoff() for name in workloads}
    readiness = Readiness(state_dir / ENDPOINTS_DIR, pods.endpoints, {w.pod for w in pods.workloads})
    readiness.publish()
    probes = [
        asyncio.create_task(probe_liveness(w, w.liveness, backoffs[w.container]))
        for w in pods.workloads
        if w.liveness is not None
    ] + [
        asyncio.create_task(probe_readiness(w, w.readiness, backoffs[w.container], readiness))
        for w in pods.workloads
        if w.readiness is not None
    ]
    by_pod = {w.pod: w for w in pods.workloads}
    (state_dir / SOCKET).unlink(missing_ok=True)
    server = await asyncio.start_unix_server(
        lambda r, w: _serve_deletes(r, w, by_pod, backoffs, readiness), path=state_dir / SOCKET
    )
    async with server:
        await restart_on_exit(state_dir, workloads, backoffs, readiness)
    for task in probes:
        task.cancel()


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m lab.mesh.kubelet", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("pods", type=Path, help="the workloads to watch (lab.mesh.up writes .cache/mesh/kubelet.json)")
    parser.add_argument("--delete", metavar="POD", help="ask the running stand-in to delete this pod, and wait")
    args = parser.parse_args()
    if args.delete:
        print(json.dumps(delete_pod(args.pods.parent, args.delete)))
        return 0
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    asyncio.run(run(args.pods.parent, Pods.model_validate(json.loads(args.pods.read_text()))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
