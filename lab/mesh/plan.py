"""Pure planning for the lab's pods: environment, host entries and database roles from the rendered objects."""

from __future__ import annotations

import re
from collections.abc import Callable

from lab.mesh.compile import OUTBOUND_IP, fqdn

SecretLookup = Callable[[str, str, str], str]
_PLAIN = re.compile(r"[A-Za-z0-9_]+")


def secret_lookup(secrets: list[dict]) -> SecretLookup:
    """(namespace, name, key) -> value, from the Secret objects the services role made for this install."""
    table = {(s["metadata"]["namespace"], s["metadata"]["name"]): s["stringData"] for s in secrets}

    def lookup(namespace: str, name: str, key: str) -> str:
        if (namespace, name) not in table:
            raise KeyError(f"Secret {namespace}/{name} not found: run site.yml (roles/services) first")
        return table[(namespace, name)][key]

    return lookup


def app_env(container: dict, namespace: str, lookup: SecretLookup) -> dict[str, str]:
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


def host_entries(objects: list[dict], database_host: str, database_ip: str) -> list[str]:
    """--add-host values: every service name resolves to the sidecar's outbound address, the database to its pod."""
    names = []
    for service in (o for o in objects if o["kind"] == "Service"):
        host = fqdn(service)
        parts = host.split(".")
        names += [host, ".".join(parts[:2]), ".".join(parts[:3])]
    return [f"{name}:{OUTBOUND_IP}" for name in names] + [f"{database_host}:{database_ip}"]


def database_roles(secrets: list[dict], database: str) -> str:
    """SQL that creates (or re-passwords) one login role per service, each owning only what it creates.

    Names and passwords are checked to be plain identifiers (the services role makes them so) before they
    are put in SQL text, since psql takes no parameters for DDL.
    """
    create = (
        f"SELECT 'CREATE DATABASE {database}' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '{database}')"  # noqa: S608
    )
    statements = [create + "\\gexec"]
    for secret in secrets:
        url = secret.get("stringData", {}).get("url", "")
        if not url.startswith("postgresql+asyncpg://"):
            continue
        user, password = url.removeprefix("postgresql+asyncpg://").split("@", 1)[0].split(":", 1)
        if not (_PLAIN.fullmatch(user) and _PLAIN.fullmatch(password) and _PLAIN.fullmatch(database)):
            raise ValueError(
                f"Secret {secret['metadata']['name']}: user, password and database must be letters and digits"
            )
        statements.append(
            f"DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{user}') THEN CREATE ROLE \"{user}\" LOGIN; END IF; END$$;"
        )
        statements.append(f"ALTER ROLE \"{user}\" PASSWORD '{password}';")
        statements.append(f'GRANT CREATE, CONNECT ON DATABASE {database} TO "{user}";')
    return "\n".join(statements) + "\n"


def metrics_port(objects: list[dict], namespace: str, app: str, version: str) -> int | None:
    """The port the pod's Deployment asks Prometheus to scrape (prometheus.io/port), as discovery reads it."""
    for obj in objects:
        template = obj["spec"]["template"]["metadata"] if obj["kind"] == "Deployment" else None
        if (
            template
            and obj["metadata"]["namespace"] == namespace
            and template["labels"] == {"app": app, "version": version}
        ):
            port = template.get("annotations", {}).get("prometheus.io/port")
            return int(port) if port else None
    return None


def config_files(objects: list[dict], container: dict, pod_spec: dict, namespace: str) -> dict[str, dict[str, str]]:
    """mountPath -> {file: content} for the container's ConfigMap volumes, as the kubelet would project them."""
    volumes = {v["name"]: v for v in pod_spec.get("volumes", [])}
    maps = {
        o["metadata"]["name"]: o
        for o in objects
        if o["kind"] == "ConfigMap" and o["metadata"]["namespace"] == namespace
    }
    files = {}
    for mount in container.get("volumeMounts", []):
        source = volumes[mount["name"]].get("configMap")
        if source:
            files[mount["mountPath"]] = dict(maps[source["name"]]["data"])
    return files
