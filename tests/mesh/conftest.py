"""Helpers for the end-to-end mesh tests: the running lab mesh (python -m lab.mesh.up), its pods and
their sidecars' admin stats. Every address is one of the project's own containers on miniapp-mesh."""

from __future__ import annotations

import json
import re
import ssl
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STATE = ROOT / ".cache" / "mesh"
INGRESS = "http://127.0.0.1:18080"  # the edge, published on loopback by lab/mesh/up.py


def pods() -> list[dict]:
    path = STATE / "pods.json"
    if not path.exists():
        pytest.fail("the lab mesh is not up: run `make mesh`")
    return json.loads(path.read_text())


def pod(name: str) -> dict:
    return next(p for p in pods() if p["name"] == name)


def in_pod(name: str, script: str) -> str:
    """Run a shell script in the pod's network namespace (its sidecar container), as kubectl exec would."""
    done = subprocess.run(
        ["podman", "exec", f"{name}-envoy", "sh", "-c", script], capture_output=True, text=True, check=True
    )
    return done.stdout


def stats(name: str, pattern: str) -> dict[str, int]:
    """Counters and gauges of a pod's sidecar whose names match the regex."""
    text = in_pod(name, "curl -s http://127.0.0.1:15000/stats")
    found = {}
    for line in text.splitlines():
        key, _, value = line.partition(": ")
        if re.search(pattern, key) and value.strip().lstrip("-").isdigit():
            found[key] = int(value)
    return found


def mesh_tls(identity: str) -> ssl.SSLContext:
    """A client TLS context holding a workload's mesh certificate (SPIFFE URI SAN only, so no hostname check)."""
    directory = STATE / "pods" / identity
    context = ssl.create_default_context(cafile=directory / "ca.pem")
    context.check_hostname = False
    context.load_cert_chain(directory / "cert.pem", directory / "key.pem")
    return context
