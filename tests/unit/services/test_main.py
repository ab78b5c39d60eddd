"""The image's entrypoint as a real process: migrate, serve, answer, and stop cleanly on SIGTERM."""

import http.client
import json
import signal
import subprocess
import sys
import time

import httpx
from conftest import service_env, start_service


def test_bad_settings_exit_2_naming_the_variable() -> None:
    entry = [sys.executable, "-m", "miniapp_services", "serve"]
    done = subprocess.run(entry, env=service_env(service="billing"), capture_output=True, text=True)
    assert done.returncode == 2
    assert "MINIAPP_SERVICE" in done.stderr
    assert "database_url" in done.stderr


def test_migrate_serve_and_graceful_stop(database: str) -> None:
    running = start_service("product", database)
    try:
        reply = httpx.get(f"{running.url}/readyz", timeout=2)
    finally:
        out = running.stop()
    assert reply.status_code == 200
    assert reply.headers["x-service-version"] == "v1"
    # uvicorn re-raises the signal it caught once shutdown is complete, as a process killed by it would.
    assert running.process.returncode == -signal.SIGTERM
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert "Application shutdown complete." in [line["msg"] for line in lines]
    assert {line["service"] for line in lines} == {"product"}


def test_an_idle_keep_alive_connection_is_left_to_the_client_to_close(database: str) -> None:
    """The pod's sidecar keeps idle connections to the app for up to an hour: the app must not close one after
    uvicorn's default 5 s, or a request the sidecar sends on it as it closes comes back 503 UC."""
    running = start_service("user", database)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", running.http_port, timeout=5)
        conn.request("GET", "/healthz")
        assert conn.getresponse().read() == b'{"status":"ok"}'
        opened = conn.sock
        time.sleep(6.5)
        conn.request("GET", "/healthz")  # on the same connection: one the app closed is RemoteDisconnected here
        assert conn.getresponse().read() == b'{"status":"ok"}'
        assert conn.sock is opened
        conn.close()
    finally:
        running.stop()
