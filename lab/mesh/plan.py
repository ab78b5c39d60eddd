"""Pure planning for the lab's pods: environment, host entries and volumes from the rendered objects."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import AnyUrl, PostgresDsn

from ansible_collections.miniapp.mesh.plugins.module_utils.mesh_render import CONFIG_CENTRE_OBJECT
from lab.mesh.compile import OUTBOUND_IP, port_number
from lab.mesh.objects import Objects, Workload

SecretLookup = Callable[[str, str, str], str]


def secret_lookup(secrets: list[dict[str, Any]]) -> SecretLookup:
    """(namespace, name, key) -> value, from the Secret objects the services role made for this install."""
    table = {(s["metadata"]["namespace"], s["metadata"]["name"]): s["stringData"] for s in secrets}

    def lookup(namespace: str, name: str, key: str) -> str:
        if (namespace, name) not in table:
            raise KeyError(f"Secret {namespace}/{name} not found: run site.yml (roles/services) first")
        return str(table[(namespace, name)][key])

    return lookup


def app_env(container: dict[str, Any], namespace: str, lookup: SecretLookup) -> dict[str, str]:
    """The container's env with secretKeyRefs resolved; the app listens on loopback only, behind its sidecar,
    and accepts fault injection (its /admin/faults is reachable only from inside its own pod)."""
    env = {}
    for item in container.get("env", []):
        if "value" in item:
            env[item["name"]] = item["value"]
        else:
            ref = item["valueFrom"]["secretKeyRef"]
            env[item["name"]] = lookup(namespace, ref["name"], ref["key"])
    env["MINIAPP_HTTP_HOST"] = "127.0.0.1"
    env["MINIAPP_FAULTS_ENABLED"] = "true"
    return env


def env_secrets(objects: Objects, lookup: SecretLookup) -> dict[str, str]:
    """namespace/name/key -> value, of every Secret key a container (init containers too) takes as an environment
    variable: what a running pod cannot take up without being recreated, unlike its Secret volumes."""
    found = {}
    for workload in objects.workloads.values():
        spec = workload.pod_spec
        for container in [*spec.get("initContainers", []), *spec.get("containers", [])]:
            for item in container.get("env", []):
                ref = item.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    found[f"{workload.namespace}/{ref['name']}/{ref['key']}"] = lookup(
                        workload.namespace, ref["name"], ref["key"]
                    )
    return found


def host_entries(objects: Objects, outside_hosts: dict[str, str]) -> list[str]:
    """--add-host values: every HTTP service's names resolve to the sidecar's outbound address, a TCP
    service's to its own (the sidecar listens there for it), each host outside the cluster (the database's, the
    config centre's) to its address."""
    entries = []
    for s in objects.services.values():
        names = (s.fqdn, f"{s.name}.{s.namespace}", f"{s.name}.{s.namespace}.svc")
        entries += [f"{name}:{objects.tcp.get(s.fqdn, OUTBOUND_IP)}" for name in names]
    return [*entries, *(f"{host}:{ip}" for host, ip in outside_hosts.items())]


def database_of(secrets: list[dict[str, Any]]) -> tuple[str, tuple[str, ...]]:
    """The services' database and its hosts, as the Secrets' URLs (the services role's) name them; the lab
    runs one database cluster, so every URL must name the same."""
    found = set()
    for secret in secrets:
        url = secret.get("stringData", {}).get("url", "")
        if url.startswith("postgresql+asyncpg://"):
            dsn = PostgresDsn(url)
            found.add(((dsn.path or "").lstrip("/"), tuple(str(h["host"]) for h in dsn.hosts())))
    if len(found) != 1:
        raise ValueError(f"the Secrets' URLs name {len(found)} databases (hosts and name); the lab runs one")
    (database,) = found
    return database


def config_centre_hosts(secrets: list[dict[str, Any]]) -> tuple[str, ...]:
    """The config centre's hosts, as the gateway's Secret (the services role's) names its etcd members; none when
    the site has no config centre."""
    for secret in secrets:
        if secret.get("metadata", {}).get("name") == CONFIG_CENTRE_OBJECT:
            return tuple(str(AnyUrl(url).host) for url in json.loads(secret["stringData"]["endpoints"]))
    return ()


def metrics_port(workload: Workload) -> int | None:
    """The port the pod's Deployment asks Prometheus to scrape (prometheus.io/port), as discovery reads it."""
    port = workload.annotations.get("prometheus.io/port")
    return int(port) if port else None


@dataclass(frozen=True)
class Projection:
    """A volume's files as the kubelet projects them; a Secret's are readable by the container's user only."""

    files: dict[str, str]
    secret: bool = False


def volume_files(objects: Objects, workload: Workload, lookup: SecretLookup) -> dict[str, Projection]:
    """mountPath -> its projection, for the app container's ConfigMap and Secret volumes (a Secret's listed
    items only)."""
    volumes = {v["name"]: v for v in workload.pod_spec.get("volumes", [])}
    namespace = workload.namespace
    files = {}
    for mount in workload.container.get("volumeMounts", []):
        volume = volumes[mount["name"]]
        if "configMap" in volume:
            files[mount["mountPath"]] = Projection(dict(objects.config_maps[(namespace, volume["configMap"]["name"])]))
        elif "secret" in volume:
            name, items = volume["secret"]["secretName"], volume["secret"]["items"]
            found = {i["path"]: lookup(namespace, name, i["key"]) for i in items}
            files[mount["mountPath"]] = Projection(found, secret=True)
    return files


def scratch_dirs(container: dict[str, Any], pod_spec: dict[str, Any]) -> list[str]:
    """Mount paths of the container's emptyDir volumes (the lab gives each a tmpfs)."""
    empty = {v["name"] for v in pod_spec.get("volumes", []) if "emptyDir" in v}
    return [m["mountPath"] for m in container.get("volumeMounts", []) if m["name"] in empty]


def loopback_args(container: dict[str, Any]) -> list[str]:
    """What makes a container that is not one of our services listen on loopback only, behind its sidecar
    (the services get MINIAPP_HTTP_HOST): the lab's stand-in for Istio's traffic interception."""
    return ["--bind", "127.0.0.1"] if image_name(container["image"]) == "miniapp-redis" else []


def image_name(reference: str) -> str:
    """registry/path/name:tag -> name (how the lab maps a Deployment's image to the image it built)."""
    return reference.rsplit("/", 1)[-1].split(":", 1)[0]


def readiness(container: dict[str, Any]) -> list[str]:
    """The container's readinessProbe as a command run in its pod (httpGet by curl, tcpSocket by bash)."""
    probe = container["readinessProbe"]
    if "httpGet" in probe:
        port = port_number(container, probe["httpGet"]["port"])
        return ["curl", "-fsS", "-o", "/dev/null", f"http://127.0.0.1:{port}{probe['httpGet']['path']}"]
    port = port_number(container, probe["tcpSocket"]["port"])
    return ["bash", "-c", f"exec 3<>/dev/tcp/127.0.0.1/{port}"]
