"""The kubelet stand-in: the crash back-off, the probes read from the Deployments, Istio's probe rewrite in
the sidecar (run by a real Envoy), and a liveness probe that fails its threshold stopping the container."""

import asyncio
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
import yaml
from envoy_run import run_envoy

from ansible_collections.miniapp.mesh.plugins.module_utils import mesh_catalog, mesh_render
from lab.mesh import compile as mesh
from lab.mesh import kubelet, listeners, state
from lab.mesh.clusters import TlsFiles
from lab.mesh.kubelet import Backoff, Probe, Workload

ROOT = Path(__file__).parents[4]
RAW = yaml.safe_load((ROOT / "inventories/lab/group_vars/all/services_catalog.yml").read_text())["services_catalog"]
CATALOG = mesh_catalog.load(RAW)
RENDERED = mesh_render.render(CATALOG, mesh_render.RenderOptions(image="x/s:1", store_image="x/r:7"))
OBJECTS = mesh.checked(RENDERED)
PODS = mesh.pods_from(OBJECTS, "10.89.0.", 10)
LAB = state.build(OBJECTS, PODS, CATALOG.trust_domain, "http://127.0.0.1:1", state.Database(name="m", hosts=("pg",)))


def test_crashes_in_a_row_wait_0_then_10_s_doubling_to_5_min_and_a_long_run_resets_the_count() -> None:
    backoff = Backoff(started_at=0.0)
    delays = []
    for _ in range(8):
        delays.append(backoff.delay(backoff.started_at + 5))
        backoff.started_at += 5 + delays[-1]
    assert delays == [0, 10, 20, 40, 80, 160, 300, 300]
    assert backoff.delay(backoff.started_at + 600) == 0  # ran 10 minutes: a first crash again
    backoff.started_at += 600
    assert backoff.delay(backoff.started_at + 5) == 10


def _ended(at: float, restart_in_s: float) -> kubelet.Termination:
    return kubelet.Termination(container="pay-v1-1-app", at=at, exit_code=137, oom_killed=False, liveness=False,
                               restart_in_s=restart_in_s)  # fmt: skip


def test_the_back_off_owed_replays_the_containers_terminations() -> None:
    """The handover's crash drill, then make mesh-test's kill 5 minutes later: a second crash, owed 10 s."""
    assert kubelet.backoff_owed([], 1000.0) == 0.0
    assert kubelet.backoff_owed([_ended(1000.0, 0.0)], 1300.0) == 10.0
    assert kubelet.backoff_owed([_ended(1000.0, 0.0), _ended(1300.0, 10.0)], 1320.0) == 20.0
    assert kubelet.backoff_owed([_ended(1000.0, 0.0)], 1000.0 + kubelet.BACKOFF_RESET_S) == 0.0


def test_every_app_container_is_watched_with_its_deployments_liveness_probe_and_grace() -> None:
    watched = kubelet.watched(OBJECTS, LAB.pods)
    assert {w.container for w in watched.workloads} == {p.app_container for p in LAB.pods}
    gateway = next(w for w in watched.workloads if w.pod == "gateway-v1-0")
    assert gateway.liveness == Probe(period_s=10, timeout_s=1)  # failureThreshold 3, the kubelet's default
    assert (gateway.grace_s, kubelet.APP_HEALTH_PORT, kubelet.LIVEZ) == (30, 15020, "/app-health/app/livez")
    stores = [w for w in watched.workloads if w.pod.startswith("nonces")]
    assert stores
    assert all(w.liveness is None for w in stores)  # a tcpSocket probe: not rewritten, not run


class _App(BaseHTTPRequestHandler):
    """An app whose liveness path answers `healthy` and readiness path 503."""

    healthy = 200

    def do_GET(self) -> None:
        code = {"/healthz": self.healthy, "/readyz": 503}.get(self.path, 404)
        self.send_response(code)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def app() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _App)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    _App.healthy = 200


def test_the_sidecar_answers_the_rewritten_probes_from_the_app_and_nothing_else(
    tmp_path: Path, app: ThreadingHTTPServer
) -> None:
    """A real Envoy with the sidecar's 15020 listener: /app-health/app/livez and readyz reach the app's own
    /healthz and /readyz on loopback; any other path or method is 404 and never reaches the app."""
    port = app.server_address[1]
    to_app = mesh.cluster(f"{mesh.APP_HEALTH}|{port}", {}, [("127.0.0.1", port)], http2=False)
    paths = {"livez": (to_app["name"], "/healthz"), "readyz": (to_app["name"], "/readyz")}
    config = mesh._bootstrap("t", "t", [listeners.app_health(0, paths)], [to_app], mesh.stats_config({}))

    def ask(ports: dict[str, int]) -> dict[str, int]:
        base = f"http://127.0.0.1:{ports['app_health']}/app-health/app"
        with httpx.Client(timeout=5) as client:
            return {
                "livez": client.get(f"{base}/livez").status_code,
                "readyz": client.get(f"{base}/readyz").status_code,
                "POST livez": client.post(f"{base}/livez").status_code,
                "other": client.get(f"{base}/../../healthz").status_code,
            }

    assert run_envoy(tmp_path, config, ask) == {"livez": 200, "readyz": 503, "POST livez": 404, "other": 404}


def _listeners(pod: mesh.Pod) -> set[str]:
    config = mesh.sidecar(OBJECTS, PODS, pod, TlsFiles("/etc/mesh"), "cluster.local")
    return {x["name"] for x in config["static_resources"]["listeners"]}


def test_the_compiled_sidecar_rewrites_the_apps_http_probes_only() -> None:
    assert "app_health" in _listeners(next(p for p in PODS if p.app == "gateway"))
    assert "app_health" not in _listeners(next(p for p in PODS if p.app == "nonces"))  # tcpSocket probes


@pytest.mark.anyio
async def test_failure_threshold_failed_probes_in_a_row_stop_the_container_with_its_grace(
    app: ThreadingHTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two failures (an error, a timeout), a success, then three failures: one stop (podman stop -t grace), after the
    third."""
    stops: list[tuple[str, ...]] = []
    answers = iter([500, 0, 200, 500, 0, 500] + [200] * 1000)  # 0: no answer within the probe's timeout

    class Replies(_App):
        """The sidecar's 15020: each probe gets the next answer."""

        def do_GET(self) -> None:
            assert (self.path, self.headers["connection"]) == ("/app-health/app/livez", "close")
            answer = next(answers)
            if not answer:
                time.sleep(0.3)
                return
            self.send_response(answer)
            self.send_header("content-length", "0")
            self.end_headers()

    app.RequestHandlerClass = Replies
    monkeypatch.setattr(kubelet, "APP_HEALTH_PORT", app.server_address[1])
    monkeypatch.setattr(kubelet, "podman", lambda *args, **_: stops.append(args) or "")
    workload = Workload(pod="p", container="p-app", ip="127.0.0.1", grace_s=7, liveness=None)
    probe = Probe(period_s=0.02, timeout_s=0.1, failure_threshold=3)
    backoff = Backoff(started_at=0.0)
    task = asyncio.create_task(kubelet.probe_liveness(workload, probe, backoff))
    for _ in range(200):
        await asyncio.sleep(0.02)
        if stops:
            break
    await asyncio.sleep(0.2)
    task.cancel()
    assert stops == [("stop", "-t", "7", "p-app")]


@pytest.mark.anyio
async def test_a_dead_container_is_recorded_as_its_pod_status_would_then_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An OOM kill (podman forgets it once the container runs again) is kept with its exit code and back-off; the
    first crash is started at once; a stop for a failed liveness probe is told apart from a crash; a container
    found running is left alone and not recorded."""
    calls: list[tuple[str, ...]] = []
    states = iter(["exited true 137", "exited false 137", "running false 0"])

    def podman(*args: str, **_: object) -> str:
        calls.append(args)
        return next(states) if args[0] == "inspect" else ""

    monkeypatch.setattr(kubelet, "podman", podman)
    monkeypatch.setattr(kubelet, "BACKOFF_S", 0.05)  # the kubelet's 10 s, shortened
    workload = Workload(pod="p", container="p-app", ip="127.0.0.1")
    backoff = Backoff(started_at=0.0)
    await kubelet._restart(tmp_path, workload, backoff)
    backoff.stopping = True
    await kubelet._restart(tmp_path, workload, backoff)  # within 10 minutes of the first: BACKOFF_S
    await kubelet._restart(tmp_path, workload, backoff)
    found = kubelet.terminations(tmp_path, since=0)
    assert [(t.container, t.exit_code, t.oom_killed, t.liveness, t.restart_in_s) for t in found] == [
        ("p-app", 137, True, False, 0),
        ("p-app", 137, False, True, 0.05),
    ]
    assert kubelet.terminations(tmp_path, since=found[-1].at + 1) == []
    assert [c[0] for c in calls] == ["inspect", "start", "inspect", "start", "inspect"]
    assert (backoff.down, backoff.stopping, backoff.crashes) == (False, False, 2)


def test_only_a_died_or_removed_event_of_a_watched_container_id_counts() -> None:
    """podman may deliver late the death of an earlier container of the same name: its id is not watched."""
    ids = {"a" * 64: "pay-v1-1-app"}
    died = b'{"ID": "%s", "Name": "pay-v1-1-app", "Status": "died", "Type": "container"}'
    assert kubelet.watched_event(died % (b"a" * 64), ids) == ("pay-v1-1-app", "died")
    assert kubelet.watched_event(died.replace(b"died", b"remove") % (b"a" * 64), ids) == ("pay-v1-1-app", "remove")
    assert kubelet.watched_event(died % (b"b" * 64), ids) is None
    assert kubelet.watched_event(died.replace(b"died", b"start") % (b"a" * 64), ids) is None


def test_new_pods_start_with_no_terminations_of_the_last_ones(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A pod's status is its own: a recreated mesh does not inherit the last mesh's terminations or log."""
    (tmp_path / kubelet.TERMINATIONS_FILE).write_text('{"container": "old"}\n')
    (tmp_path / kubelet.LOG_FILE).write_text("old\n")
    monkeypatch.setattr(kubelet, "_pid", lambda _: 1)  # as if it ran: nothing is started here
    kubelet.start(tmp_path, kubelet.Pods(workloads=(Workload(pod="p", container="p-app", ip="127.0.0.1"),)))
    assert kubelet.terminations(tmp_path, since=0) == []
    assert not (tmp_path / kubelet.LOG_FILE).exists()
    assert kubelet.Pods.model_validate_json((tmp_path / kubelet.PODS_FILE).read_text()).workloads[0].pod == "p"


class _Events:
    """podman events as the stand-in reads it: these lines, then nothing more until killed."""

    def __init__(self, lines: list[bytes]) -> None:
        self.stdout = asyncio.StreamReader()
        for line in lines:
            self.stdout.feed_data(line + b"\n")
        self.killed = False

    def kill(self) -> None:
        self.killed = True


@pytest.mark.anyio
async def test_a_death_starts_the_container_again_and_a_removal_ends_the_watch(monkeypatch: pytest.MonkeyPatch) -> None:
    """The stand-in follows one podman event stream: a watched container's death is restarted, and once one is
    removed (the mesh going: the kubelet never removes a container) it stops, and stops the stream."""
    event = b'{"ID": "%s", "Status": "%s", "Type": "container"}'
    events = _Events([event % (b"a" * 64, b"died"), event % (b"b" * 64, b"died"), event % (b"a" * 64, b"remove")])
    restarted: list[str] = []

    async def subprocess_exec(*command: str, **_: object) -> _Events:
        assert command[:2] == ("podman", "events")
        return events

    async def restart(_state: Path, workload: Workload, _backoff: Backoff) -> None:
        restarted.append(workload.container)

    monkeypatch.setattr(asyncio, "create_subprocess_exec", subprocess_exec)
    monkeypatch.setattr(kubelet, "podman", lambda *_args, **_kw: f"{'a' * 64} p-app\n")
    monkeypatch.setattr(kubelet, "_restart", restart)
    workloads = {"p-app": Workload(pod="p", container="p-app", ip="127.0.0.1")}
    await asyncio.wait_for(kubelet.restart_on_exit(Path("."), workloads, {"p-app": Backoff()}), timeout=5)
    await asyncio.sleep(0)
    assert restarted == ["p-app"]
    assert events.killed
