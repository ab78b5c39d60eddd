"""Helpers for the end-to-end mesh tests: the running lab mesh (python -m lab.mesh.up), its pods and
their sidecars' admin stats. Every address is one of the project's own containers on miniapp-mesh."""

from __future__ import annotations

import ssl
from pathlib import Path

from lab.mesh import EDGE_URL
from lab.mesh.probe import in_pod, pod, pods, stats

ROOT = Path(__file__).resolve().parents[2]
STATE = ROOT / ".cache" / "mesh"
__all__ = ["in_pod", "mesh_tls", "pod", "pods", "stats"]
INGRESS = EDGE_URL


def mesh_tls(identity: str) -> ssl.SSLContext:
    """A client TLS context holding a workload's mesh certificate (SPIFFE URI SAN only, so no hostname check)."""
    directory = STATE / "pods" / identity
    context = ssl.create_default_context(cafile=directory / "ca.pem")
    context.check_hostname = False
    context.load_cert_chain(directory / "cert.pem", directory / "key.pem")
    return context
