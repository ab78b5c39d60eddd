"""The kubelet stand-in: the crash back-off, the probes read from the Deployments, Istio's probe rewrite in
the sidecar (run by a real Envoy), and a liveness probe that fails its threshold stopping the container."""

import asyncio
import json
import socket
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
from lab.mesh import kubelet, listeners, prober, state
from lab.mesh.clusters import TlsFiles
from lab.mesh.endpoints import EndpointSet, Member
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


SETS = mesh.endpoint_sets(OBJECTS, PODS)


def test_every_app_container_is_watched_with_its_deployments_probes_and_grace() -> None:
    watched = kubelet.watched(OBJECTS, LAB.pods, SETS)
    assert {(w.container, w.sidecar) for w in watched.workloads} == {
        (p.app_container, p.sidecar_container) for p in LAB.pods
    }
    gateway = next(w for w in watched.workloads if w.pod == "gateway-v1-0")
    assert gateway.liveness == Probe(period_s=10, timeout_s=1)  # failureThreshold 3, the kubelet's default
    assert gateway.readiness == Probe(period_s=5, timeout_s=1)  # a P0 service
    assert next(w for w in watched.workloads if w.pod == "search-v1-0").readiness == Probe(period_s=10, timeout_s=1)
    assert (gateway.grace_s, prober.APP_HEALTH_PORT, prober.LIVEZ, prober.READYZ) == (
        30, 15020, "/app-health/app/livez", "/app-health/app/readyz",
    )  # fmt: skip
    stores = [w for w in watched.workloads if w.pod.startswith("nonces")]
    assert stores
    assert all((w.liveness, w.readiness) == (Probe(period_s=10), Probe(period_s=5)) for w in stores)  # tcpSocket
    assert watched.endpoints == SETS


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


def test_the_compiled_sidecar_rewrites_http_probes_to_the_apps_paths_and_tcp_probes_to_a_connect_check() -> None:
    """The gateway's probes reach its own /healthz and /readyz; the nonce store's tcpSocket probes are answered by
    Envoy's check of a connection to its port every second."""
    gateway = mesh.sidecar(OBJECTS, PODS, next(p for p in PODS if p.app == "gateway"), TlsFiles("/m"), "cluster.local")
    (health,) = [x for x in gateway["static_resources"]["listeners"] if x["name"] == "app_health"]
    manager = health["filter_chains"][0]["filters"][0]["typed_config"]
    routes = manager["route_config"]["virtual_hosts"][0]["routes"]
    assert [(r["match"]["path"], r["route"]["prefix_rewrite"]) for r in routes] == [
        ("/app-health/app/livez", "/healthz"), ("/app-health/app/readyz", "/readyz"),
    ]  # fmt: skip
    store = mesh.sidecar(OBJECTS, PODS, next(p for p in PODS if p.app == "nonces"), TlsFiles("/m"), "cluster.local")
    (health,) = [x for x in store["static_resources"]["listeners"] if x["name"] == "app_health"]
    manager = health["filter_chains"][0]["filters"][0]["typed_config"]
    checks = [f["typed_config"] for f in manager["http_filters"] if f["name"] == "envoy.filters.http.health_check"]
    assert [(c["headers"][0]["string_match"]["exact"], c["cluster_min_healthy_percentages"]) for c in checks] == [
        ("/app-health/app/livez", {"app_health_tcp|6379": {"value": 100}}),
        ("/app-health/app/readyz", {"app_health_tcp|6379": {"value": 100}}),
    ]
    (checked,) = [c for c in store["static_resources"]["clusters"] if c["name"] == "app_health_tcp|6379"]
    assert checked["health_checks"][0]["tcp_health_check"] == {}


def test_envoy_answers_a_rewritten_tcp_probe_by_whether_the_port_takes_a_connection(tmp_path: Path) -> None:
    """A real Envoy: 200 while something listens on the port, 503 within its check's seconds once it stops."""
    listening = socket.create_server(("127.0.0.1", 0))
    port = listening.getsockname()[1]
    container = {"name": "redis", "livenessProbe": {"tcpSocket": {"port": port}}}
    found_listeners, found_clusters = mesh._app_health(container)
    config = mesh._bootstrap("t", "t", found_listeners, found_clusters, mesh.stats_config({}))

    def ask(ports: dict[str, int]) -> list[int]:
        url = f"http://127.0.0.1:{ports['app_health']}/app-health/app/livez"
        with httpx.Client(timeout=5) as client:
            seen = [_until(client, url, 200)]
            listening.close()
            return [*seen, _until(client, url, 503), client.post(url).status_code]

    assert run_envoy(tmp_path, config, ask) == [200, 503, 404]


def _until(client: httpx.Client, url: str, status: int) -> int:
    """GET until it answers status (bounded at 5 s: the check runs every second); the last status."""
    deadline = time.monotonic() + 5
    while (found := client.get(url).status_code) != status and time.monotonic() < deadline:
        time.sleep(0.1)
    return found


def _answer(app: ThreadingHTTPServer, monkeypatch: pytest.MonkeyPatch, path: str, first: list[int]) -> None:
    """The sidecar's 15020: each probe (a GET of path on a new connection) gets the next answer of first, then
    200s; 0 is no answer within the probe's timeout."""
    answers = iter(first + [200] * 1000)

    class Replies(_App):
        def do_GET(self) -> None:
            assert (self.path, self.headers["connection"]) == (path, "close")
            answer = next(answers)
            if not answer:
                time.sleep(0.3)
                return
            self.send_response(answer)
            self.send_header("content-length", "0")
            self.end_headers()

    app.RequestHandlerClass = Replies
    monkeypatch.setattr(prober, "APP_HEALTH_PORT", app.server_address[1])


@pytest.mark.anyio
async def test_failure_threshold_failed_probes_in_a_row_stop_the_container_with_its_grace(
    app: ThreadingHTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two failures (an error, a timeout), a success, then three failures: one stop (podman stop -t grace), after the
    third."""
    stops: list[tuple[str, ...]] = []
    _answer(app, monkeypatch, "/app-health/app/livez", [500, 0, 200, 500, 0, 500])
    monkeypatch.setattr(kubelet, "podman", lambda *args, **_: stops.append(args) or "")
    workload = Workload(pod="p", container="p-app", sidecar="p-envoy", ip="127.0.0.1", grace_s=7, liveness=None)
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
    workload = Workload(pod="p", container="p-app", sidecar="p-envoy", ip="127.0.0.1")
    backoff, ready = Backoff(started_at=0.0), kubelet.Readiness(tmp_path / "endpoints", (), {"p", "q"})
    await kubelet._restart(tmp_path, workload, backoff, ready)
    assert ready.ready == {"q"}  # a container that is not running is not ready
    backoff.stopping = True
    await kubelet._restart(tmp_path, workload, backoff, ready)  # within 10 minutes of the first: BACKOFF_S
    await kubelet._restart(tmp_path, workload, backoff, ready)
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
    kubelet.start(
        tmp_path, kubelet.Pods(workloads=(Workload(pod="p", container="p-app", sidecar="p-envoy", ip="127.0.0.1"),))
    )
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


EVENT = b'{"ID": "%s", "Status": "%s", "Type": "container"}'


async def _watch(monkeypatch: pytest.MonkeyPatch, events: _Events, backoff: Backoff) -> list[str]:
    """restart_on_exit over these events for one watched container (id a...), its restarts recorded: the
    containers restarted, in order."""
    restarted: list[str] = []

    async def subprocess_exec(*command: str, **_: object) -> _Events:
        assert command[:2] == ("podman", "events")
        return events

    async def restart(_state: Path, workload: Workload, *_: object) -> None:
        restarted.append(workload.container)

    monkeypatch.setattr(asyncio, "create_subprocess_exec", subprocess_exec)
    monkeypatch.setattr(kubelet, "podman", lambda *_args, **_kw: f"{'a' * 64} p-app\n")
    monkeypatch.setattr(kubelet, "_restart", restart)
    workloads = {"p-app": Workload(pod="p", container="p-app", sidecar="p-envoy", ip="127.0.0.1")}
    ready = kubelet.Readiness(Path("."), (), {"p"})
    await asyncio.wait_for(kubelet.restart_on_exit(Path("."), workloads, {"p-app": backoff}, ready), timeout=5)
    await asyncio.sleep(0)
    return restarted


@pytest.mark.anyio
async def test_a_death_starts_the_container_again_and_a_removal_ends_the_watch(monkeypatch: pytest.MonkeyPatch) -> None:
    """The stand-in follows one podman event stream: a watched container's death is restarted, and once one is
    removed (the mesh going: the kubelet never removes a container) it stops, and stops the stream."""
    events = _Events([EVENT % (b"a" * 64, b"died"), EVENT % (b"b" * 64, b"died"), EVENT % (b"a" * 64, b"remove")])
    assert await _watch(monkeypatch, events, Backoff()) == ["p-app"]
    assert events.killed


def _members(directory: Path) -> list[str]:
    """The addresses in the one endpoints file the tests below write."""
    (path,) = directory.glob("*.json")
    (resource,) = json.loads(path.read_text())["resources"]
    return [e["endpoint"]["address"]["socket_address"]["address"] for e in resource["endpoints"][0]["lb_endpoints"]]


ONE_SET = (EndpointSet(cluster="outbound|8080||s", members=(Member(pod="p", ip="127.0.0.1", port=8080),)),)


@pytest.mark.anyio
async def test_readiness_failing_its_threshold_leaves_the_endpoints_and_a_pass_brings_it_back(
    tmp_path: Path, app: ThreadingHTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ready at first; an error, a timeout, a 503: unready after the third, out of its callers' endpoint file;
    one pass (successThreshold 1): back in."""
    _answer(app, monkeypatch, "/app-health/app/readyz", [500, 0, 503])
    ready = kubelet.Readiness(tmp_path, ONE_SET, {"p"})
    ready.publish()
    workload = Workload(pod="p", container="p-app", sidecar="p-envoy", ip="127.0.0.1")
    probe = Probe(period_s=0.02, timeout_s=0.1, failure_threshold=3)
    task = asyncio.create_task(kubelet.probe_readiness(workload, probe, Backoff(), ready))
    seen = [("p" in ready.ready, _members(tmp_path))]
    for _ in range(300):
        await asyncio.sleep(0.01)
        if seen[-1] != (now := ("p" in ready.ready, _members(tmp_path))):
            seen.append(now)
    task.cancel()
    assert seen == [(True, ["127.0.0.1"]), (False, []), (True, ["127.0.0.1"])]


@pytest.mark.anyio
async def test_a_deleted_pod_leaves_the_endpoints_before_its_app_is_stopped_and_its_sidecar_goes_last(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Kubernetes' order: out of the endpoints, SIGTERM to the app with its grace, then the sidecar; the
    replacement starts sidecar first, unready until its probe passes, with no crash counted."""
    calls: list[tuple[tuple[str, ...], list[str]]] = []
    monkeypatch.setattr(kubelet, "podman", lambda *args, **_: calls.append((args, _members(tmp_path))) or "")
    ready = kubelet.Readiness(tmp_path, ONE_SET, {"p"})
    ready.publish()
    backoff = Backoff(crashes=2)
    workload = Workload(pod="p", container="p-app", sidecar="p-envoy", ip="127.0.0.1", grace_s=30)
    took = await kubelet.delete(workload, backoff, ready)
    assert calls == [
        (("stop", "-t", "30", "p-app"), []),
        (("stop", "-t", "30", "p-envoy"), []),
        (("start", "p-envoy"), []),
        (("start", "p-app"), []),
    ]
    assert (ready.ready, ready.terminating, _members(tmp_path)) == (set(), set(), [])
    assert (backoff.crashes, backoff.down, backoff.deleting) == (0, False, False)
    assert 0 <= took["app_stopped_s"] <= took["deleted_s"]


@pytest.mark.anyio
async def test_a_death_while_its_pod_is_deleted_is_no_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    events = _Events([EVENT % (b"a" * 64, b"died"), EVENT % (b"a" * 64, b"remove")])
    assert await _watch(monkeypatch, events, Backoff(deleting=True)) == []


@pytest.mark.anyio
async def test_a_deletion_is_asked_on_the_socket_and_an_unknown_pod_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def delete(workload: Workload, *_: object) -> dict[str, float]:
        return {"app_stopped_s": 1.5, "deleted_s": 2.0, "workload": float(workload.grace_s)}

    monkeypatch.setattr(kubelet, "delete", delete)
    by_pod = {"p": Workload(pod="p", container="p-app", sidecar="p-envoy", ip="127.0.0.1", grace_s=7)}
    ready = kubelet.Readiness(tmp_path, (), {"p"})
    backoffs = {"p-app": Backoff()}
    server = await asyncio.start_unix_server(
        lambda r, w: kubelet._serve_deletes(r, w, by_pod, backoffs, ready), path=tmp_path / kubelet.SOCKET
    )
    async with server:
        answer = await asyncio.to_thread(kubelet.delete_pod, tmp_path, "p")
        with pytest.raises(LookupError, match="no pod 'q'; the lab's pods: p"):
            await asyncio.to_thread(kubelet.delete_pod, tmp_path, "q")
    assert answer == {"pod": "p", "app_stopped_s": 1.5, "deleted_s": 2.0, "workload": 7.0}
