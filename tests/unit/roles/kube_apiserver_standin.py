"""STAND-IN for a Kubernetes API server, for the tests of the roles' apply paths only. No kube-apiserver can
be had here. It answers discovery for the kinds our roles render, takes server-side applies (PATCH with
application/apply-patch+yaml) and GETs on loopback, records every apply in order, and reports every
workload rolled out and every CRD Established at once. It schedules nothing, validates nothing and merges
nothing: a test built on it proves what our roles send and in what order, never that a cluster accepts it."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import yaml

CLUSTER_SCOPED = {"Namespace", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding", "IngressClass"}
KINDS = {
    "v1": ["Namespace", "Secret", "ConfigMap", "Service", "ServiceAccount", "ResourceQuota", "LimitRange",
           "PersistentVolumeClaim"],
    "apps/v1": ["Deployment", "DaemonSet", "StatefulSet"],
    "apiextensions.k8s.io/v1": ["CustomResourceDefinition"],
    "networking.k8s.io/v1": ["Ingress", "IngressClass"],
    "policy/v1": ["PodDisruptionBudget"],
    "rbac.authorization.k8s.io/v1": ["ClusterRole", "ClusterRoleBinding"],
    "networking.istio.io/v1": ["DestinationRule", "VirtualService", "Sidecar", "ServiceEntry"],
    "security.istio.io/v1": ["PeerAuthentication", "AuthorizationPolicy"],
}  # fmt: skip


def plural(kind: str) -> str:
    lower = kind.lower()
    if lower.endswith("y"):
        return lower[:-1] + "ies"
    return lower + ("es" if lower.endswith("s") else "s")


def _resources(group_version: str) -> dict:
    resources = [
        {"name": plural(kind), "singularName": kind.lower(), "kind": kind, "namespaced": kind not in CLUSTER_SCOPED,
         "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]}
        for kind in KINDS[group_version]
    ]  # fmt: skip
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": resources}


def _groups() -> dict:
    groups = []
    for group_version in KINDS:
        if "/" in group_version:
            group, version = group_version.split("/")
            entry = {"groupVersion": group_version, "version": version}
            groups.append({"name": group, "versions": [entry], "preferredVersion": entry})
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def _rolled_out(obj: dict) -> dict:
    """What a healthy cluster would report a moment later."""
    kind, replicas = obj["kind"], obj.get("spec", {}).get("replicas", 1)
    obj["metadata"]["generation"] = 1
    if kind == "StatefulSet":  # the API server's default
        obj["spec"].setdefault("updateStrategy", {"type": "RollingUpdate"})
    if kind in ("Deployment", "StatefulSet"):
        obj["status"] = {"replicas": replicas, "availableReplicas": replicas, "readyReplicas": replicas,
                         "updatedReplicas": replicas, "currentReplicas": replicas, "observedGeneration": 1,
                         "currentRevision": "r1", "updateRevision": "r1"}  # fmt: skip
    elif kind == "DaemonSet":
        obj["status"] = {"desiredNumberScheduled": 1, "numberReady": 1, "updatedNumberScheduled": 1,
                         "numberAvailable": 1, "currentNumberScheduled": 1, "observedGeneration": 1}  # fmt: skip
    elif kind == "CustomResourceDefinition":
        obj["status"] = {"conditions": [{"type": "Established", "status": "True"}]}
    return obj


@dataclass
class Applied:
    kind: str
    namespace: str | None
    name: str
    field_manager: str
    body: dict = field(repr=False)


class StandIn:
    """The server on a loopback port, its kubeconfig, and what was applied, in order."""

    def __init__(self, workdir: Path) -> None:
        self.applied: list[Applied] = []
        self.objects: dict[str, dict] = {}
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.kubeconfig = workdir / "kubeconfig"
        url = f"http://127.0.0.1:{self._server.server_port}"
        config = {"apiVersion": "v1", "kind": "Config", "current-context": "standin",
                  "clusters": [{"name": "standin", "cluster": {"server": url}}],
                  "users": [{"name": "standin", "user": {"token": "standin"}}],
                  "contexts": [{"name": "standin", "context": {"cluster": "standin", "user": "standin"}}]}  # fmt: skip
        self.kubeconfig.write_text(yaml.safe_dump(config))

    def __enter__(self) -> StandIn:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def _handler(state: StandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            return

        def _send(self, code: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _not_found(self) -> None:
            self._send(404, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound",
                             "code": 404, "message": f"{self.path} not found"})  # fmt: skip

        def do_GET(self) -> None:
            path = urlsplit(self.path).path.rstrip("/")
            if path == "/version":
                self._send(200, {"major": "1", "minor": "35", "gitVersion": "v1.35.0"})
            elif path == "/api":
                self._send(200, {"kind": "APIVersions", "versions": ["v1"]})
            elif path == "/api/v1":
                self._send(200, _resources("v1"))
            elif path == "/apis":
                self._send(200, _groups())
            elif path.startswith("/apis/") and path.count("/") == 3 and path[6:] in KINDS:
                self._send(200, _resources(path[6:]))
            elif path in state.objects:
                self._send(200, state.objects[path])
            else:
                self._not_found()

        def do_PATCH(self) -> None:
            url = urlsplit(self.path)
            body = json.loads(self.rfile.read(int(self.headers["content-length"])) or b"{}")
            if self.headers.get("content-type") != "application/apply-patch+yaml":
                self._send(415, {"kind": "Status", "code": 415, "message": "only server-side apply is stood in"})
                return
            meta = body["metadata"]
            manager = parse_qs(url.query).get("fieldManager", [""])[0]
            state.applied.append(Applied(body["kind"], meta.get("namespace"), meta["name"], manager, body))
            state.objects[url.path] = _rolled_out(json.loads(json.dumps(body)))
            self._send(200, state.objects[url.path])

    return Handler
