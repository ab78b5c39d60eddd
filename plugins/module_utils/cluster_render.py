# -*- coding: utf-8 -*-
# Copyright: miniapp-mesh contributors
# Apache-2.0 (see LICENSE)
"""The objects the istio and ingress roles own, as pure functions of their settings:

- Istio: the IstioOperator that istioctl turns into the minimal control plane (istiod only, istio-cni in
  K3s's CNI directories, telemetry stripped, images from the site's registry, a revision), the mesh-wide
  STRICT PeerAuthentication, and the revision label of every meshed namespace;
- ingress: the NGINX Ingress Controller (F5, open-source NGINX) in the mesh, terminating TLS for the
  mini-program's API domain in front of the gateway service.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from typing import Any

from ansible_collections.miniapp.mesh.plugins.module_utils.kube_objects import metadata
from ansible_collections.miniapp.mesh.plugins.module_utils.mesh_render import (
    EDGE_ACCOUNT,
    EDGE_APP,
    EDGE_NAMESPACE,
    STATS_INCLUSION,
)

REVISION_LABEL = "istio.io/rev"


def mesh_label(revision: str) -> dict[str, str]:
    """The namespace label that selects the control plane: its revision, or the default one without."""
    return {REVISION_LABEL: revision} if revision else {"istio-injection": "enabled"}


def istio_operator(p: dict[str, Any]) -> dict[str, Any]:
    """p: version, revision, hub, namespace, cni_namespace, cni_bin_dir, cni_conf_dir."""
    spec = {
        "profile": "minimal",
        "revision": p["revision"],
        "hub": p["hub"],
        "tag": p["version"],
        "meshConfig": {
            "outboundTrafficPolicy": {"mode": "REGISTRY_ONLY"},
            # TLS 1.3 only between sidecars, as the design asks (the lab's sidecars are compiled the same way).
            "meshMTLS": {"minProtocolVersion": "TLSV1_3"},
            "enablePrometheusMerge": True,
            "defaultConfig": {
                "holdApplicationUntilProxyStarts": True,
                "proxyStatsMatcher": {"inclusionPrefixes": STATS_INCLUSION.split(",")},
            },
        },
        "components": {
            "base": {"enabled": True},
            "pilot": {"enabled": True},
            "cni": {"enabled": True, "namespace": p["cni_namespace"]},
            "ingressGateways": [{"name": "istio-ingressgateway", "enabled": False}],
            "egressGateways": [{"name": "istio-egressgateway", "enabled": False}],
        },
        "values": {
            "global": {
                "hub": p["hub"],
                "tag": p["version"],
                "istioNamespace": p["namespace"],
                "imagePullPolicy": "IfNotPresent",
            },
            "cni": {
                "cniBinDir": p["cni_bin_dir"],
                "cniConfDir": p["cni_conf_dir"],
                "chained": True,
                "excludeNamespaces": [p["namespace"], "kube-system"],
            },
            "telemetry": {"enabled": False},
            "revision": p["revision"],
        },
    }
    return {
        "apiVersion": "install.istio.io/v1alpha1",
        "kind": "IstioOperator",
        "metadata": metadata("miniapp-" + p["revision"], p["namespace"]),
        "spec": spec,
    }


def istio_objects(p: dict[str, Any]) -> list[dict[str, Any]]:
    """The control plane's namespace, the IstioOperator, mesh-wide STRICT mTLS and the meshed namespaces."""
    namespaces = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": metadata(name, labels=mesh_label(p["revision"]))}
        for name in sorted(p["injection_namespaces"])
    ]
    strict = {
        "apiVersion": "security.istio.io/v1",
        "kind": "PeerAuthentication",
        "metadata": metadata("default", p["namespace"]),
        "spec": {"mtls": {"mode": "STRICT"}},
    }
    control = {"apiVersion": "v1", "kind": "Namespace", "metadata": metadata(p["namespace"])}
    return [control, istio_operator(p), strict, *namespaces]


def _rbac() -> list[dict[str, Any]]:
    rules = [
        {"apiGroups": [""], "resources": ["services", "endpoints", "secrets", "configmaps", "pods", "namespaces"], "verbs": ["get", "list", "watch"]},
        {"apiGroups": [""], "resources": ["events"], "verbs": ["create", "patch", "list"]},
        {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["get", "list", "watch"]},
        {"apiGroups": ["networking.k8s.io"], "resources": ["ingresses", "ingressclasses"], "verbs": ["get", "list", "watch"]},
        {"apiGroups": ["networking.k8s.io"], "resources": ["ingresses/status"], "verbs": ["update"]},
        {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["get", "list", "watch", "create", "update"]},
    ]  # fmt: skip
    role = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": metadata(EDGE_APP),
        "rules": rules,
    }
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": metadata(EDGE_APP),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": EDGE_APP},
        "subjects": [{"kind": "ServiceAccount", "name": EDGE_ACCOUNT, "namespace": EDGE_NAMESPACE}],
    }  # fmt: skip
    return [role, binding]


def _controller(p: dict[str, Any]) -> dict[str, Any]:
    labels = {"app": EDGE_APP}
    # In the mesh for its outbound calls (mTLS with its own identity), not for the clients' TLS it terminates.
    annotations = {"sidecar.istio.io/inject": "true", "traffic.sidecar.istio.io/includeInboundPorts": "",
                   "traffic.sidecar.istio.io/excludeInboundPorts": "80,443,8081"}  # fmt: skip
    args = ["-nginx-configmaps=$(POD_NAMESPACE)/nginx-config", "-ingress-class=nginx", "-enable-custom-resources=false",
            "-enable-snippets=true", "-health-status=true", "-ready-status=true", "-report-ingress-status=false"]  # fmt: skip
    container = {
        "name": "controller", "image": p["image"], "args": args,
        "ports": [{"name": "http", "containerPort": 80}, {"name": "https", "containerPort": 443}, {"name": "readiness", "containerPort": 8081}],
        "env": [{"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
                {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
        "readinessProbe": {"httpGet": {"path": "/nginx-ready", "port": "readiness"}, "periodSeconds": 1},
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": p["memory"]}},
        "securityContext": {"allowPrivilegeEscalation": False, "runAsUser": 101, "runAsNonRoot": True,
                            "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}},
    }  # fmt: skip
    template = {"metadata": metadata(EDGE_APP, labels=labels, annotations=annotations),
                "spec": {"serviceAccountName": EDGE_ACCOUNT, "containers": [container]}}  # fmt: skip
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata(EDGE_APP, EDGE_NAMESPACE, labels),
            "spec": {"replicas": p["replicas"], "selector": {"matchLabels": labels}, "template": template}}  # fmt: skip


def _ingress(p: dict[str, Any]) -> dict[str, Any]:
    """The API domain in front of the gateway; the Host is rewritten to the gateway's service name so the
    controller's sidecar routes by it (Istio's documented way for an ingress controller in the mesh)."""
    gateway = "%s.%s.svc.cluster.local" % (p["backend_service"], p["backend_namespace"])
    annotations = {"nginx.org/use-cluster-ip": "true",
                   "nginx.org/location-snippets": "proxy_set_header Host %s;" % gateway}  # fmt: skip
    rule = {"host": p["domain"], "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": {
        "service": {"name": p["backend_service"], "port": {"number": p["backend_port"]}}}}]}}  # fmt: skip
    spec = {
        "ingressClassName": "nginx",
        "tls": [{"hosts": [p["domain"]], "secretName": p["tls_secret"]}],
        "rules": [rule],
    }
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": metadata("miniapp-api", p["backend_namespace"], annotations=annotations), "spec": spec}  # fmt: skip


def ingress_objects(p: dict[str, Any]) -> list[dict[str, Any]]:
    """p: image, revision, replicas, memory, http_node_port, https_node_port, domain, tls_secret,
    backend_service, backend_namespace, backend_port."""
    namespace = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": metadata(EDGE_NAMESPACE, labels=mesh_label(p["revision"])),
    }
    account = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": metadata(EDGE_ACCOUNT, EDGE_NAMESPACE)}
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata("nginx-config", EDGE_NAMESPACE),
              "data": {"ssl-protocols": "TLSv1.2 TLSv1.3", "server-tokens": "False", "proxy-connect-timeout": "5s"}}  # fmt: skip
    ingress_class = {"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass", "metadata": metadata("nginx"),
                     "spec": {"controller": "nginx.org/ingress-controller"}}  # fmt: skip
    ports = [{"name": "http", "port": 80, "targetPort": 80, "nodePort": p["http_node_port"]},
             {"name": "https", "port": 443, "targetPort": 443, "nodePort": p["https_node_port"]}]  # fmt: skip
    service = {"apiVersion": "v1", "kind": "Service", "metadata": metadata(EDGE_APP, EDGE_NAMESPACE),
               "spec": {"type": "NodePort", "externalTrafficPolicy": "Local", "selector": {"app": EDGE_APP}, "ports": ports}}  # fmt: skip
    return [namespace, account, config, ingress_class, *_rbac(), _controller(p), service, _ingress(p)]
