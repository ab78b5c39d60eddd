"""The one apply path of the services, observability, istio and ingress roles (roles/kube_apply), run against a
stand-in API server (kube_apiserver_standin.py): what is sent, in which order, by whom, and that Secrets stay out
of the log. No cluster accepts anything here."""

import base64
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from kube_apiserver_standin import StandIn

ROOT = Path(__file__).resolve().parents[3]


def _object(api: str, kind: str, name: str, namespace: str | None = None, **extra: object) -> dict:
    meta = {"name": name, **({"namespace": namespace} if namespace else {})}
    return {"apiVersion": api, "kind": kind, "metadata": meta, **extra}


def playbook(tmp_path: Path, args: list, timeout: int = 180) -> subprocess.CompletedProcess[str]:
    """ansible-playbook -v with the project's config, HOME in tmp_path (kubernetes.core's discovery cache)."""
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_FORCE_COLOR="0", HOME=str(tmp_path))
    cmd = [Path(sys.executable).parent / "ansible-playbook", "-v", *args]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def apply(
    tmp_path: Path, standin: StandIn, role_vars: dict, parent: str | None = "ingress"
) -> subprocess.CompletedProcess[str]:
    """The role on localhost with role_vars and the stand-in's kubeconfig, included as the parent role would
    include it (a stand-in role of that name under tmp_path), or straight from the play when parent is None."""
    task = {"name": "Apply", "ansible.builtin.include_role": {"name": "miniapp.mesh.kube_apply"},
            "vars": {"_kube_apply_kubeconfig": str(standin.kubeconfig), "_kube_apply_wait_timeout": 20, **role_vars}}  # fmt: skip
    play: dict = {"hosts": "localhost", "gather_facts": False}
    if parent:
        (tmp_path / "roles" / parent / "tasks").mkdir(parents=True)
        (tmp_path / "roles" / parent / "tasks" / "main.yml").write_text(json.dumps([task]))
        play["roles"] = [parent]
    else:
        play["tasks"] = [task]
    (tmp_path / "play.yml").write_text(json.dumps([play]))
    interpreter = json.dumps({"ansible_python_interpreter": sys.executable})
    return playbook(tmp_path, ["-i", "localhost,", "-c", "local", "-e", interpreter, tmp_path / "play.yml"])


@pytest.fixture
def standin(tmp_path: Path):
    with StandIn(tmp_path) as server:
        yield server


def test_namespaces_then_crds_then_secrets_then_the_rest_in_order(tmp_path: Path, standin: StandIn) -> None:
    password = secrets.token_hex(16)
    objects = [
        _object("v1", "ConfigMap", "settings", "shop", data={"a": "1"}),
        _object("v1", "Namespace", "shop"),
        _object("apps/v1", "Deployment", "web", "shop", spec={"replicas": 2}),
        _object("apiextensions.k8s.io/v1", "CustomResourceDefinition", "widgets.example.com"),
        _object("v1", "Namespace", "back"),
    ]
    secret = _object("v1", "Secret", "db", "shop", stringData={"password": password})
    done = apply(tmp_path, standin, {"_kube_apply_objects": objects, "_kube_apply_secrets": [secret]})
    assert done.returncode == 0, done.stdout[-3000:]
    assert [(a.kind, a.name) for a in standin.applied] == [
        ("Namespace", "shop"), ("Namespace", "back"), ("CustomResourceDefinition", "widgets.example.com"),
        ("Secret", "db"), ("ConfigMap", "settings"), ("Deployment", "web"),
    ]  # fmt: skip
    assert {a.field_manager for a in standin.applied} == {"miniapp-mesh"}
    assert password not in done.stdout + done.stderr
    assert "Wait for the workloads to roll out" in done.stdout


def test_an_object_of_a_kind_the_cluster_does_not_know_fails_the_apply(tmp_path: Path, standin: StandIn) -> None:
    objects = [_object("example.com/v1", "Widget", "w1", "shop")]
    done = apply(tmp_path, standin, {"_kube_apply_objects": objects})
    assert done.returncode != 0
    assert "Widget" in done.stdout
    assert standin.applied == []


def test_a_play_that_includes_it_directly_is_refused_naming_the_roles_it_serves(
    tmp_path: Path, standin: StandIn
) -> None:
    done = apply(tmp_path, standin, {"_kube_apply_objects": [_object("v1", "Namespace", "shop")]}, parent=None)
    assert done.returncode != 0
    assert "internal to the services, observability, istio, ingress roles" in done.stdout
    assert standin.applied == []


def _site(tmp_path: Path) -> Path:
    """A site inventory of one server reached locally, with the production sample's group_vars."""
    inventory = tmp_path / "site"
    (inventory / "group_vars").mkdir(parents=True)
    (inventory / "group_vars" / "all").symlink_to(ROOT / "inventories/production-sample/group_vars/all")
    server = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    hosts = {"all": {"children": {"k3s_servers": {"hosts": {"server1": server}}}}}
    (inventory / "hosts.yml").write_text(json.dumps(hosts))
    return inventory


def test_services_observability_and_ingress_apply_what_they_rendered(tmp_path: Path, standin: StandIn) -> None:
    inventory = _site(tmp_path)
    ca = tmp_path / "database-ca.crt"
    ca.write_text("-----BEGIN CERTIFICATE-----\nU1RBTkQtSU4=\n-----END CERTIFICATE-----\n")  # never parsed here
    extra = {"ansible_become": False, "services_database_hosts": ["pg-1.example.internal"]}
    extra["services_database_ca_file"] = str(ca)
    for role in ("services", "observability", "ingress"):
        extra |= {f"{role}_apply": True, f"{role}_kubeconfig": str(standin.kubeconfig), f"{role}_wait_timeout": 20}
    playbooks = [ROOT / "playbooks" / f"{role}.yml" for role in ("services", "observability", "ingress")]
    done = playbook(tmp_path, ["-i", inventory / "hosts.yml", "-e", json.dumps(extra), *playbooks], timeout=600)
    assert done.returncode == 0, done.stdout[-3000:]

    rendered = [
        (o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"])
        for path in sorted((inventory / "rendered").glob("*/*.yml"))
        for o in yaml.safe_load_all(path.read_text())
        if isinstance(o, dict) and "apiVersion" in o
    ]
    applied = [(a.kind, a.namespace, a.name) for a in standin.applied]
    assert sorted(a for a in applied if a[0] != "Secret") == sorted(rendered)
    secrets_applied = [a for a in standin.applied if a.kind == "Secret"]
    assert (
        len(secrets_applied) == 12 + 1 + 1 + 1 + 1
    )  # 12 services' database URLs, the gateway's session, the nonces store's password, Grafana, the API's TLS
    for kept in (inventory / ".secrets").iterdir():
        if kept.is_file():
            assert base64.b64encode(kept.read_bytes()).decode() not in done.stdout, f"{kept.name} reached the log"
            for line in kept.read_text().splitlines():
                if len(line) >= 16 and "-----" not in line:
                    assert line.split()[0] not in done.stdout, f"{kept.name} reached the log"
