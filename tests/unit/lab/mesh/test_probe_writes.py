"""Operators' writes into a pod (put_all): one curl process, its configuration on stdin, each write as its tenant's.
Here curl runs on this machine against a loopback server in place of `podman exec` into the sidecar."""

import http.server
import json
import subprocess
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from lab.mesh import probe
from miniapp_services.kit import tenancy

A, B = "wx00000000000000a1", "wx00000000000000b2"


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: list[tuple[str, str, str | None, Any]] = []  # noqa: RUF012  # one server per test, written by its thread
    refuse: str | None = None

    def do_PUT(self) -> None:  # http.server's name
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        _Recorder.seen.append((self.command, self.path, self.headers.get(tenancy.HEADER), body))
        self.send_response(404 if self.path == _Recorder.refuse else 204)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, str, str | None, Any]]]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    _Recorder.seen, _Recorder.refuse = [], None
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setattr(probe, "APP_PORT", httpd.server_address[1])
    monkeypatch.setattr(probe, "pod", lambda name: type("Pod", (), {"sidecar_container": f"{name}-sidecar"}))

    def podman(*args: str, stdin: str | None = None, **_: object) -> str:
        assert args[:3] == ("exec", "-i", "product-v1-0-sidecar")
        done = subprocess.run(list(args[3:]), input=stdin, capture_output=True, text=True, check=False)
        if done.returncode:
            raise probe.PodmanError(f"curl exited {done.returncode}")
        return done.stdout

    monkeypatch.setattr(probe, "podman", podman)
    yield _Recorder.seen
    httpd.shutdown()


def test_every_write_arrives_as_its_tenants_with_its_body_intact(server: list) -> None:
    tricky = {"title": 'Tea "gold" \\ leaf', "price_cents": 300, "category": "tea"}
    writes = [probe.Write("/products/T-1", tricky, A), probe.Write("/products/T-1", {"n": 1}, B)]
    probe.put_all("product-v1-0", writes)
    assert server == [("PUT", "/products/T-1", A, tricky), ("PUT", "/products/T-1", B, {"n": 1})]


def test_the_first_refused_write_stops_the_rest_and_raises(server: list) -> None:
    _Recorder.refuse = "/stock/2"
    writes = [probe.Write(f"/stock/{n}", {"available": n}, A) for n in range(1, 5)]
    with pytest.raises(probe.PodmanError):
        probe.put_all("product-v1-0", writes)
    assert [path for _, path, _, _ in server] == ["/stock/1", "/stock/2"]
