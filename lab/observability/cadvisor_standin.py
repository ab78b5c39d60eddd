"""cAdvisor stand-in: the lab has no kubelet, so this serves the three cAdvisor series the capacity dashboard
and the memory rules read (container_memory_working_set_bytes, container_spec_memory_limit_bytes,
container_cpu_usage_seconds_total), computed as cAdvisor does from each container's cgroup, labelled
namespace, pod and container as the kubelet labels them. Nothing built on it proves the kubelet.

    python3 -m lab.observability.cadvisor_standin CONTAINERS_JSON PORT [CGROUP_ROOT]

CONTAINERS_JSON lists {"namespace", "pod", "container", "cgroup"}; it is re-read on every scrape.
"""

from __future__ import annotations

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from lab import cgroups

SERIES = (
    ("container_memory_working_set_bytes", "gauge", "Current working set in bytes.", "working_set_bytes"),
    ("container_spec_memory_limit_bytes", "gauge", "Memory limit for the container.", "limit_bytes"),
    ("container_cpu_usage_seconds_total", "counter", "Cumulative cpu time consumed in seconds.", "cpu_seconds"),
)


def _labels(entry: dict[str, Any]) -> str:
    return ",".join(f'{key}="{entry[key]}"' for key in ("namespace", "pod", "container"))


def exposition(containers: list[dict[str, Any]], root: Path) -> str:
    """Prometheus text format for the containers whose cgroup still exists (stopped ones are skipped)."""
    usages = []
    for entry in containers:
        try:
            usages.append((entry, cgroups.read(entry["cgroup"], root)))
        except FileNotFoundError:
            continue
    lines = []
    for name, kind, help_text, attribute in SERIES:
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
        lines += [f"{name}{{{_labels(entry)}}} {getattr(usage, attribute)}" for entry, usage in usages]
    return "\n".join(lines) + "\n"


def serve(containers_file: Path, port: int, root: Path) -> None:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != "/metrics":
                self.send_error(404)
                return
            body = exposition(json.loads(containers_file.read_text()), root).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            return

    ThreadingHTTPServer(("0.0.0.0", port), Handler).serve_forever()  # noqa: S104  # inside its own pod


if __name__ == "__main__":
    serve(Path(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3]) if len(sys.argv) > 3 else cgroups.ROOT)
