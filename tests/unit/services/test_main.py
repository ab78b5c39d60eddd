"""The image's entrypoint as a real process: migrate, serve, answer, and stop cleanly on SIGTERM."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time

import httpx


def _free_port() -> int:
    with contextlib.closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINIAPP_")}
    return env | {f"MINIAPP_{k.upper()}": v for k, v in values.items()}


def _entrypoint(*args: str) -> list[str]:
    return [sys.executable, "-m", "miniapp_services", *args]


def test_bad_settings_exit_2_naming_the_variable() -> None:
    done = subprocess.run(_entrypoint("serve"), env=_env(service="billing"), capture_output=True, text=True)
    assert done.returncode == 2
    assert "MINIAPP_SERVICE" in done.stderr
    assert "database_url" in done.stderr


def test_migrate_serve_and_graceful_stop(database: str) -> None:
    http, grpc_port = _free_port(), _free_port()
    env = _env(
        service="product", database_url=database, http_host="127.0.0.1", http_port=str(http), grpc_port=str(grpc_port)
    )
    assert subprocess.run(_entrypoint("migrate"), env=env, check=False).returncode == 0
    server = subprocess.Popen(_entrypoint("serve"), env=env, stdout=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                reply = httpx.get(f"http://127.0.0.1:{http}/readyz", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "service did not start listening within 20 s"
                time.sleep(0.2)
        assert reply.status_code == 200
        assert reply.headers["x-service-version"] == "v1"
    finally:
        server.send_signal(signal.SIGTERM)
        out, _ = server.communicate(timeout=20)
    # uvicorn re-raises the signal it caught once shutdown is complete, as a process killed by it would.
    assert server.returncode == -signal.SIGTERM
    assert '"msg": "Application shutdown complete."' in out
    assert '"service": "product"' in out
