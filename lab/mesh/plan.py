"""Pure planning for the lab's pods: environment, host entries and database roles from the rendered objects."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from lab.mesh.compile import OUTBOUND_IP
from lab.mesh.objects import Objects, Workload

SecretLookup = Callable[[str, str, str], str]
_PLAIN = re.compile(r"[A-Za-z0-9_]+")


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


def host_entries(objects: Objects, database_host: str, database_ip: str) -> list[str]:
    """--add-host values: every HTTP service's names resolve to the sidecar's outbound address, a TCP
    service's to its own (the sidecar listens there for it), the database to its pod."""
    entries = []
    for s in objects.services.values():
        names = (s.fqdn, f"{s.name}.{s.namespace}", f"{s.name}.{s.namespace}.svc")
        entries += [f"{name}:{objects.tcp.get(s.fqdn, OUTBOUND_IP)}" for name in names]
    return [*entries, f"{database_host}:{database_ip}"]


@dataclass(frozen=True)
class Login:
    """A service's database login, as its Secret's URL gives it."""

    user: str
    password: str
    host: str
    port: int
    database: str


def database_logins(secrets: list[dict[str, Any]]) -> list[Login]:
    """The logins in the Secrets the services role made (their `url` key), parsed, not split by hand."""
    logins = []
    for secret in secrets:
        url = urlsplit(secret.get("stringData", {}).get("url", ""))
        if url.scheme != "postgresql+asyncpg":
            continue
        parts = (url.username or "", url.password or "", url.path.lstrip("/"))
        if not all(_PLAIN.fullmatch(p) for p in parts):
            raise ValueError(
                f"Secret {secret['metadata']['name']}: user, password and database must be letters and digits"
            )
        logins.append(Login(parts[0], parts[1], url.hostname or "", url.port or 5432, parts[2]))
    if len({(login.host, login.database) for login in logins}) > 1:
        raise ValueError("the Secrets' URLs name more than one database host or database; the lab runs one")
    return logins


def database_roles(logins: list[Login]) -> str:
    """SQL that creates the database and (or re-passwords) one login role per service, each owning only what
    it creates. The names and passwords are plain identifiers (database_logins checked) before they are put in
    SQL text, since psql takes no parameters for DDL."""
    database = logins[0].database
    create = (
        f"SELECT 'CREATE DATABASE {database}' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '{database}')"  # noqa: S608
    )
    statements = [create + "\\gexec"]
    for login in logins:
        user = login.user
        statements.append(
            f"DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{user}') THEN CREATE ROLE \"{user}\" LOGIN; END IF; END$$;"
        )
        statements.append(f"ALTER ROLE \"{user}\" PASSWORD '{login.password}';")
        statements.append(f'GRANT CREATE, CONNECT ON DATABASE {database} TO "{user}";')
    return "\n".join(statements) + "\n"


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
    ports = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
    if "httpGet" in probe:
        port = ports.get(probe["httpGet"]["port"], probe["httpGet"]["port"])
        return ["curl", "-fsS", "-o", "/dev/null", f"http://127.0.0.1:{port}{probe['httpGet']['path']}"]
    port = ports.get(probe["tcpSocket"]["port"], probe["tcpSocket"]["port"])
    return ["bash", "-c", f"exec 3<>/dev/tcp/127.0.0.1/{port}"]
