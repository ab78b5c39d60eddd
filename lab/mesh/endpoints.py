"""The lab's stand-in for EndpointSlices and istiod's EDS push: each outbound cluster's endpoints are a file
every sidecar watches (Envoy reloads a path config source when a file is moved onto it), holding the cluster's
members whose pods are ready. lab.mesh.up writes them all ready once every pod passed its readiness probe; the
kubelet stand-in (lab/mesh/kubelet.py) writes them again whenever a pod's readiness changes, so an unready or
terminating pod leaves its callers' load balancing as Kubernetes and Istio take it out, without a restart.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

ASSIGNMENT = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment"


class Member(BaseModel):
    """One pod's address for one cluster."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    pod: str
    ip: str
    port: int


class EndpointSet(BaseModel):
    """An outbound cluster and every pod it selects, ready or not (Istio's subset of the Service's slice)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    cluster: str
    members: tuple[Member, ...]


def file_name(cluster: str) -> str:
    """A cluster's file: its name with Istio's separators made safe for a path."""
    return cluster.replace("|", "_") + ".json"


@dataclass(frozen=True)
class EndpointFiles:
    """Where a sidecar reads its outbound clusters' endpoints (the same directory for every sidecar)."""

    directory: str

    def eds(self, cluster: str) -> dict[str, Any]:
        """The cluster's eds_cluster_config: its endpoints from its file, reloaded when the file is replaced."""
        source = {
            "path_config_source": {"path": f"{self.directory}/{file_name(cluster)}"},
            "resource_api_version": "V3",
        }
        return {"eds_config": source, "service_name": cluster}


def load_assignment(cluster: str, addresses: list[tuple[str, int]]) -> dict[str, Any]:
    """A ClusterLoadAssignment: a STATIC cluster's inline endpoints, or the resource of an EDS file."""
    lb = [{"endpoint": {"address": {"socket_address": {"address": ip, "port_value": port}}}} for ip, port in addresses]
    return {"cluster_name": cluster, "endpoints": [{"lb_endpoints": lb}]}


def assignment(endpoints: EndpointSet, ready: frozenset[str]) -> dict[str, Any]:
    """The discovery response Envoy reads from the cluster's file: its members whose pods are ready."""
    members = [m for m in endpoints.members if m.pod in ready]
    resource = {"@type": ASSIGNMENT, **load_assignment(endpoints.cluster, [(m.ip, m.port) for m in members])}
    return {"version_info": ",".join(sorted(m.pod for m in members)), "resources": [resource]}


def write(directory: Path, sets: tuple[EndpointSet, ...], ready: frozenset[str]) -> list[str]:
    """Write each cluster's file whose ready members changed, by rename (Envoy watches for a file moved onto
    its path; a file written in place could be read half written). The clusters written, by name."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for endpoints in sets:
        path, content = directory / file_name(endpoints.cluster), json.dumps(assignment(endpoints, ready))
        if path.exists() and path.read_text() == content:
            continue
        staged = path.with_suffix(".tmp")
        staged.write_text(content)
        staged.chmod(0o644)
        os.replace(staged, path)
        written.append(endpoints.cluster)
    return written
