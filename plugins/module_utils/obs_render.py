# -*- coding: utf-8 -*-
# Copyright: miniapp-mesh contributors
# Apache-2.0 (see LICENSE)
"""The observability stack as Kubernetes objects, all images from the site's registry (loaded from the
bundle): Prometheus, Loki, Grafana Alloy on every node, Tempo (the services' traces over OTLP), and Grafana with
provisioned datasources and dashboards. Configuration files ride in ConfigMaps whose checksum is on the pod template, so a change rolls
the workload."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import yaml

from .kube_objects import manifest, metadata
from .obs_tracing import HTTP_PORT, OTLP_GRPC_PORT, OTLP_HTTP_PORT

NOBODY = 65534
GRAFANA_USER = 472  # the grafana image's own user


@dataclass(frozen=True)
class ObsOptions:
    namespace: str
    images: dict[str, str]  # prometheus, loki, alloy, tempo, grafana -> registry/repository:tag
    prometheus_config: dict[str, Any]
    rules: dict[str, str]  # file name -> rules YAML
    dashboards: dict[str, str]  # file name -> dashboard JSON
    loki_config: dict[str, Any]
    tempo_config: dict[str, Any]
    alloy_config: str
    datasources: dict[str, Any]
    providers: dict[str, Any]
    prometheus_retention: str = "15d"
    storage: dict[str, str] = field(
        default_factory=lambda: {"prometheus": "20Gi", "loki": "20Gi", "tempo": "20Gi", "grafana": "1Gi"}
    )
    storage_class: str = ""


def _checksum(*data: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def _config_map(name: str, namespace: str, data: dict[str, str]) -> dict[str, Any]:
    return manifest("v1", "ConfigMap", metadata(name, namespace, {"app": name.split("-")[0]}), data=data)


def _claim(size: str, storage_class: str) -> dict[str, Any]:
    spec: dict[str, Any] = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}}
    if storage_class:
        spec["storageClassName"] = storage_class
    return spec


def _pvc(name: str, namespace: str, size: str, storage_class: str) -> dict[str, Any]:
    return manifest("v1", "PersistentVolumeClaim", metadata(name, namespace), spec=_claim(size, storage_class))


def _service(name: str, namespace: str, port: int, more: dict[str, int] | None = None) -> dict[str, Any]:
    """The workload's http port, and any more named ports it listens on."""
    ports = [{"name": n, "port": p, "targetPort": n} for n, p in {"http": port, **(more or {})}.items()]
    return manifest(
        "v1", "Service", metadata(name, namespace, {"app": name}), spec={"selector": {"app": name}, "ports": ports}
    )


def _rbac(name: str, namespace: str, rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    subject = {"kind": "ServiceAccount", "name": name, "namespace": namespace}
    role_ref = {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": f"{namespace}-{name}"}
    return [
        manifest("v1", "ServiceAccount", metadata(name, namespace)),
        manifest("rbac.authorization.k8s.io/v1", "ClusterRole", metadata(f"{namespace}-{name}"), rules=rules),
        manifest(
            "rbac.authorization.k8s.io/v1",
            "ClusterRoleBinding",
            metadata(f"{namespace}-{name}"),
            roleRef=role_ref,
            subjects=[subject],
        ),
    ]


# Each image's readiness endpoint.
READY = {"prometheus": "/-/ready", "loki": "/ready", "alloy": "/-/ready", "tempo": "/ready", "grafana": "/api/health"}


def _container(
    name: str, image: str, args: list[str], port: int, mounts: dict[str, str], memory: str
) -> dict[str, Any]:
    """One non-root, read-only container with its readiness probe on the http port."""
    probe = {"httpGet": {"path": READY[name], "port": "http"}, "periodSeconds": 10}
    return {
        "name": name,
        "image": image,
        "args": args,
        "ports": [{"name": "http", "containerPort": port}],
        "volumeMounts": [{"name": volume, "mountPath": path} for volume, path in mounts.items()],
        "readinessProbe": probe,
        "resources": {"requests": {"cpu": "100m", "memory": memory}, "limits": {"memory": memory}},
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
    }


def _pod(
    account: str | None, user: int, containers: list[dict[str, Any]], volumes: dict[str, dict[str, Any]], checksum: str
) -> dict[str, Any]:
    spec = {
        "securityContext": {"runAsNonRoot": True, "runAsUser": user, "runAsGroup": user, "fsGroup": user},
        "containers": containers,
        "volumes": [{"name": name, **source} for name, source in volumes.items()],
    }
    if account:
        spec["serviceAccountName"] = account
    return {"annotations": {"miniapp.mesh/config-sha256": checksum}, "spec": spec}


def _workload(kind: str, name: str, namespace: str, pod: dict[str, Any], **spec: object) -> dict[str, Any]:
    labels = {"app": name}
    template = {"metadata": {"labels": labels, "annotations": pod["annotations"]}, "spec": pod["spec"]}
    body = {"selector": {"matchLabels": labels}, "template": template, **spec}
    return manifest("apps/v1", kind, metadata(name, namespace, labels), spec=body)


def prometheus(o: ObsOptions) -> list[dict[str, Any]]:
    ns = o.namespace
    config = {"prometheus.yml": yaml.safe_dump(o.prometheus_config, sort_keys=False)}
    rules = [
        {"apiGroups": [""], "resources": ["nodes", "nodes/proxy", "nodes/metrics", "pods", "services", "endpoints"], "verbs": ["get", "list", "watch"]},
        {"nonResourceURLs": ["/metrics", "/metrics/cadvisor"], "verbs": ["get"]},
    ]  # fmt: skip
    args = [
        "--config.file=/etc/prometheus/prometheus.yml",
        "--storage.tsdb.path=/prometheus",
        f"--storage.tsdb.retention.time={o.prometheus_retention}",
        "--web.enable-lifecycle",
        "--enable-feature=exemplar-storage",
    ]
    mounts = {"config": "/etc/prometheus", "rules": "/etc/prometheus/rules", "data": "/prometheus"}
    volumes = {
        "config": {"configMap": {"name": "prometheus-config"}},
        "rules": {"configMap": {"name": "prometheus-rules"}},
        "data": {"persistentVolumeClaim": {"claimName": "prometheus-data"}},
    }
    container = _container("prometheus", o.images["prometheus"], args, 9090, mounts, "2Gi")
    pod = _pod("prometheus", NOBODY, [container], volumes, _checksum(config, o.rules))
    return [
        *_rbac("prometheus", ns, rules),
        _config_map("prometheus-config", ns, config),
        _config_map("prometheus-rules", ns, o.rules),
        _pvc("prometheus-data", ns, o.storage["prometheus"], o.storage_class),
        _workload("Deployment", "prometheus", ns, pod, replicas=1, strategy={"type": "Recreate"}),
        _service("prometheus", ns, 9090),
    ]


def loki(o: ObsOptions) -> list[dict[str, Any]]:
    ns = o.namespace
    config = {"config.yaml": yaml.safe_dump(o.loki_config, sort_keys=False)}
    args = ["-config.file=/etc/loki/config.yaml", "-target=all"]
    container = _container("loki", o.images["loki"], args, 3100, {"config": "/etc/loki", "data": "/var/loki"}, "1Gi")
    pod = _pod(None, 10001, [container], {"config": {"configMap": {"name": "loki-config"}}}, _checksum(config))
    claim = {"metadata": {"name": "data"}, "spec": _claim(o.storage["loki"], o.storage_class)}
    return [
        _config_map("loki-config", ns, config),
        _workload("StatefulSet", "loki", ns, pod, replicas=1, serviceName="loki", volumeClaimTemplates=[claim]),
        _service("loki", ns, 3100),
    ]


def tempo(o: ObsOptions) -> list[dict[str, Any]]:
    """The services send their sampled spans over OTLP/HTTP (4318; gRPC on 4317); Grafana reads them on 3200."""
    ns = o.namespace
    config = {"config.yaml": yaml.safe_dump(o.tempo_config, sort_keys=False)}
    mounts = {"config": "/etc/tempo", "data": "/var/tempo"}
    container = _container(
        "tempo", o.images["tempo"], ["-config.file=/etc/tempo/config.yaml"], HTTP_PORT, mounts, "1Gi"
    )
    otlp = {"otlp-http": OTLP_HTTP_PORT, "otlp-grpc": OTLP_GRPC_PORT}
    container["ports"] += [{"name": n, "containerPort": p} for n, p in otlp.items()]
    pod = _pod(None, 10001, [container], {"config": {"configMap": {"name": "tempo-config"}}}, _checksum(config))
    claim = {"metadata": {"name": "data"}, "spec": _claim(o.storage["tempo"], o.storage_class)}
    return [
        _config_map("tempo-config", ns, config),
        _workload("StatefulSet", "tempo", ns, pod, replicas=1, serviceName="tempo", volumeClaimTemplates=[claim]),
        _service("tempo", ns, HTTP_PORT, otlp),
    ]


def alloy(o: ObsOptions) -> list[dict[str, Any]]:
    ns = o.namespace
    config = {"config.alloy": o.alloy_config}
    rules = [
        {"apiGroups": [""], "resources": ["pods", "pods/log", "namespaces", "nodes"], "verbs": ["get", "list", "watch"]}
    ]
    args = [
        "run",
        "/etc/alloy/config.alloy",
        "--storage.path=/var/lib/alloy",
        "--server.http.listen-addr=0.0.0.0:12345",
    ]
    container = _container(
        "alloy", o.images["alloy"], args, 12345, {"config": "/etc/alloy", "data": "/var/lib/alloy"}, "256Mi"
    )
    container["env"] = [{"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}]
    volumes: dict[str, dict[str, Any]] = {"config": {"configMap": {"name": "alloy-config"}}, "data": {"emptyDir": {}}}
    pod = _pod("alloy", NOBODY, [container], volumes, _checksum(config))
    return [
        *_rbac("alloy", ns, rules),
        _config_map("alloy-config", ns, config),
        _workload("DaemonSet", "alloy", ns, pod),
    ]


def grafana(o: ObsOptions) -> list[dict[str, Any]]:
    """Grafana offline: no update checks, no usage reports; the admin login comes from the grafana-admin
    Secret the role makes per install."""
    ns = o.namespace
    datasources = {"datasources.yml": yaml.safe_dump(o.datasources, sort_keys=False)}
    providers = {"providers.yml": yaml.safe_dump(o.providers, sort_keys=False)}
    mounts = {
        "data": "/var/lib/grafana",
        "datasources": "/etc/grafana/provisioning/datasources",
        "providers": "/etc/grafana/provisioning/dashboards",
        "dashboards": "/var/lib/grafana/dashboards",
    }
    container = _container("grafana", o.images["grafana"], [], 3000, mounts, "512Mi")
    secret = {"secretKeyRef": {"name": "grafana-admin", "key": "password"}}
    container["env"] = [
        {"name": "GF_SECURITY_ADMIN_USER", "valueFrom": {"secretKeyRef": {"name": "grafana-admin", "key": "user"}}},
        {"name": "GF_SECURITY_ADMIN_PASSWORD", "valueFrom": secret},
        {"name": "GF_ANALYTICS_REPORTING_ENABLED", "value": "false"},
        {"name": "GF_ANALYTICS_CHECK_FOR_UPDATES", "value": "false"},
        {"name": "GF_ANALYTICS_CHECK_FOR_PLUGIN_UPDATES", "value": "false"},
        {"name": "GF_PLUGINS_PREINSTALL_DISABLED", "value": "true"},
    ]
    volumes = {
        "data": {"persistentVolumeClaim": {"claimName": "grafana-data"}},
        "datasources": {"configMap": {"name": "grafana-datasources"}},
        "providers": {"configMap": {"name": "grafana-providers"}},
        "dashboards": {"configMap": {"name": "grafana-dashboards"}},
    }
    pod = _pod(None, GRAFANA_USER, [container], volumes, _checksum(datasources, providers, o.dashboards))
    return [
        _config_map("grafana-datasources", ns, datasources),
        _config_map("grafana-providers", ns, providers),
        _config_map("grafana-dashboards", ns, o.dashboards),
        _pvc("grafana-data", ns, o.storage["grafana"], o.storage_class),
        _workload("Deployment", "grafana", ns, pod, replicas=1, strategy={"type": "Recreate"}),
        _service("grafana", ns, 3000),
    ]


def render(o: ObsOptions) -> list[dict[str, Any]]:
    """Every object in apply order. The namespace stays outside the mesh: Prometheus scrapes the sidecars'
    and services' plain metrics ports, and nothing here needs a mesh identity."""
    namespace = manifest("v1", "Namespace", metadata(o.namespace, labels={"istio-injection": "disabled"}))
    return [namespace, *prometheus(o), *loki(o), *tempo(o), *alloy(o), *grafana(o)]
