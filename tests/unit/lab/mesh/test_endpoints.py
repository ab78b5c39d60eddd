"""The lab's endpoint files: what they hold for a set of ready pods, written by rename and only when changed, and
a real Envoy 1.40 following them without a restart (the lab's stand-in for istiod's EDS push)."""

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from envoy_run import run_envoy
from test_compile import OBJECTS, PODS

from lab.mesh import compile as mesh
from lab.mesh import endpoints, listeners
from lab.mesh.endpoints import EndpointFiles, EndpointSet, Member

CLUSTER = "outbound|8080|v1|product.miniapp.svc.cluster.local"


def _set(*members: tuple[str, str, int]) -> EndpointSet:
    return EndpointSet(cluster=CLUSTER, members=tuple(Member(pod=p, ip=ip, port=port) for p, ip, port in members))


def _addresses(directory: Path) -> list[str]:
    found = json.loads((directory / endpoints.file_name(CLUSTER)).read_text())
    (resource,) = found["resources"]
    assert resource["cluster_name"] == CLUSTER
    lb = resource["endpoints"][0]["lb_endpoints"]
    return [f"{e['endpoint']['address']['socket_address']['address']}" for e in lb]


def test_a_file_holds_the_ready_members_only_and_is_rewritten_only_when_they_change(tmp_path: Path) -> None:
    sets = (_set(("a", "10.0.0.1", 8080), ("b", "10.0.0.2", 8080)),)
    assert endpoints.write(tmp_path, sets, frozenset({"a", "b"})) == [CLUSTER]
    assert _addresses(tmp_path) == ["10.0.0.1", "10.0.0.2"]
    assert endpoints.write(tmp_path, sets, frozenset({"a", "b", "elsewhere"})) == []  # same members: untouched
    assert endpoints.write(tmp_path, sets, frozenset({"b"})) == [CLUSTER]
    assert _addresses(tmp_path) == ["10.0.0.2"]
    assert endpoints.write(tmp_path, sets, frozenset()) == [CLUSTER]
    assert _addresses(tmp_path) == []
    assert [p.name for p in tmp_path.iterdir()] == [endpoints.file_name(CLUSTER)]  # nothing staged left behind


def test_a_clusters_file_name_keeps_it_apart_from_every_other() -> None:
    names = {s.cluster for s in mesh.endpoint_sets(OBJECTS, PODS)}
    assert len({endpoints.file_name(n) for n in names}) == len(names)
    assert all("|" not in endpoints.file_name(n) and "/" not in endpoints.file_name(n) for n in names)


class _Named(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = self.server.name.encode()  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def backends() -> Iterator[dict[str, int]]:
    """Two apps on loopback, answering their own names: a and b, by port."""
    servers = {}
    for name in ("a", "b"):
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Named)
        server.name = name  # type: ignore[attr-defined]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers[name] = server
    yield {name: s.server_address[1] for name, s in servers.items()}
    for server in servers.values():
        server.shutdown()


def _answers(client: httpx.Client, url: str, n: int) -> list[str | int]:
    return [r.text if r.status_code == 200 else r.status_code for r in (client.get(url) for _ in range(n))]


def _until_only(client: httpx.Client, url: str, expected: str | int) -> list[str | int]:
    """Ask until the answers are all `expected` (Envoy reloads on the file's rename; bounded at 5 s)."""
    deadline = time.monotonic() + 5
    while (answers := _answers(client, url, 10)) != [expected] * 10 and time.monotonic() < deadline:
        time.sleep(0.05)
    return answers


def test_envoy_follows_the_file_as_pods_leave_and_return_without_a_restart(
    tmp_path: Path, backends: dict[str, int]
) -> None:
    """b unready: only a answers; a leaves and b returns: only b; none ready: 503 (no healthy upstream)."""
    directory = tmp_path / "endpoints"
    sets = (_set(("a", "127.0.0.1", backends["a"]), ("b", "127.0.0.1", backends["b"])),)
    endpoints.write(directory, sets, frozenset({"a"}))
    built = mesh.cluster(CLUSTER, {}, EndpointFiles(str(directory)), http2=False)
    vhost = {"name": "all", "domains": ["*"], "routes": [{"match": {"prefix": "/"}, "route": {"cluster": CLUSTER}}]}
    config = mesh._bootstrap("t", "t", [listeners.outbound("127.0.0.1", 0, [vhost])], [built], mesh.stats_config({}))

    def follow(ports: dict[str, int]) -> list[list[str | int]]:
        url = f"http://127.0.0.1:{ports['outbound_127.0.0.1_0']}/"
        with httpx.Client(timeout=5) as client:
            seen = [_until_only(client, url, "a")]
            endpoints.write(directory, sets, frozenset({"b"}))
            seen.append(_until_only(client, url, "b"))
            endpoints.write(directory, sets, frozenset())
            seen.append(_until_only(client, url, 503))
            return seen

    assert run_envoy(tmp_path, config, follow) == [["a"] * 10, ["b"] * 10, [503] * 10]
