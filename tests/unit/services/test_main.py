"""The image's entrypoint as a real process: migrate, serve, answer, and stop cleanly on SIGTERM."""

import json
import signal
import subprocess
import sys

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
