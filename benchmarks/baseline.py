"""The benchmarks' in-run baseline: an Envoy 1.40 on loopback answering every request itself (a direct response,
one worker), the cheapest request this machine serves through the mesh's proxy. A benchmark measures it in the
same run as what it judges and reports ratios against it, so its figures compare across machines and days."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import envoy

ENVOY = Path(envoy.__file__).parent / "_bin" / "envoy"
PORT, ADMIN_PORT = 18999, 18998
URL = f"http://127.0.0.1:{PORT}"
DIRECT = {
    "admin": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": ADMIN_PORT}}},
    "static_resources": {"listeners": [{
        "address": {"socket_address": {"address": "127.0.0.1", "port_value": PORT}},
        "filter_chains": [{"filters": [{"name": "envoy.filters.network.http_connection_manager", "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
            "stat_prefix": "bench", "http_filters": [{"name": "envoy.filters.http.router", "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}}],
            "route_config": {"virtual_hosts": [{"name": "direct", "domains": ["*"], "routes": [
                {"match": {"prefix": "/"}, "direct_response": {"status": 200, "body": {"inline_string": "ok"}}}]}]},
        }}]}],
    }]},
}  # fmt: skip


@contextlib.contextmanager
def direct_envoy(tmp: Path) -> Iterator[subprocess.Popen[bytes]]:
    """The baseline Envoy, listening on URL until the block ends."""
    config = tmp / "direct.json"
    config.write_text(json.dumps(DIRECT))
    with subprocess.Popen([str(ENVOY), "-c", str(config), "--concurrency", "1", "-l", "error"]) as proxy:
        try:
            time.sleep(2)
            yield proxy
        finally:
            proxy.terminate()


def cpu_seconds(pid: int) -> float:
    """A process's CPU time so far, user and system (/proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
