"""The k3s role's host side, on a server and an agent with the k3s stand-in (which only records its
arguments): files, modes, unit, config content, the datastore certificates and the join token's secrecy."""

import json
import os
from pathlib import Path

import pytest
import testinfra
import yaml

INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
SERVER = testinfra.get_host("ansible://mol-k3s-server1", ansible_inventory=INVENTORY)
AGENT = testinfra.get_host("ansible://mol-k3s-agent1", ansible_inventory=INVENTORY)
ETCD = testinfra.get_host("ansible://mol-k3s-etcd1", ansible_inventory=INVENTORY)
SECRETS = Path(INVENTORY).parent / ".secrets" / "k3s-token"


def config(host) -> dict:
    return yaml.safe_load(host.file("/etc/rancher/k3s/config.yaml").content_string)


@pytest.mark.parametrize(("host", "service"), [(SERVER, "k3s"), (AGENT, "k3s-agent")])
def test_the_service_runs_the_binary_with_its_config(host, service) -> None:
    assert host.service(service).is_running
    assert host.service(service).is_enabled
    calls = [json.loads(line) for line in host.file("/var/lib/k3s-standin/calls.jsonl").content_string.splitlines()]
    kind = "server" if service == "k3s" else "agent"
    assert [kind, "--config", "/etc/rancher/k3s/config.yaml"] in calls


@pytest.mark.parametrize(
    ("host", "path", "mode"),
    [
        (SERVER, "/etc/rancher/k3s/config.yaml", 0o600),
        (SERVER, "/etc/rancher/k3s/token", 0o600),
        (SERVER, "/etc/rancher/k3s/registries.yaml", 0o600),
        (SERVER, "/etc/rancher/k3s/etcd/client.key", 0o600),
        (SERVER, "/etc/rancher/k3s/etcd/client.crt", 0o600),
        (AGENT, "/etc/rancher/k3s/token", 0o600),
        (AGENT, "/etc/systemd/system/k3s-agent.service", 0o644),
    ],
)
def test_files_and_modes(host, path, mode) -> None:
    f = host.file(path)
    assert f.exists
    assert (f.user, f.mode) == ("root", mode)


def test_the_server_uses_the_external_etcd_with_its_client_certificate() -> None:
    c = config(SERVER)
    address = ETCD.interface("eth0").addresses[0]
    assert c["datastore-endpoint"] == f"https://{address}:2379"
    assert (c["datastore-cafile"], c["datastore-certfile"], c["datastore-keyfile"]) == (
        "/etc/rancher/k3s/etcd/ca.crt", "/etc/rancher/k3s/etcd/client.crt", "/etc/rancher/k3s/etcd/client.key")  # fmt: skip
    assert (
        SERVER.file("/etc/rancher/k3s/etcd/client.crt").content_string
        == ETCD.file("/etc/etcd/pki/clients/k3s-client.crt").content_string
    )
    assert c["disable"] == ["servicelb", "traefik"]
    assert (c["cluster-cidr"], c["service-cidr"], c["cluster-dns"]) == ("10.42.0.0/16", "10.43.0.0/16", "10.43.0.10")
    assert c["node-label"] == ["miniapp.io/pool=general"]
    assert c["kubelet-arg"] == ["max-pods=110"]
    assert SERVER.interface("eth0").addresses[0] in c["tls-san"]


def test_the_agent_joins_the_first_server() -> None:
    c = config(AGENT)
    assert c["server"] == f"https://{SERVER.interface('eth0').addresses[0]}:6443"
    assert "datastore-endpoint" not in c
    assert not AGENT.file("/etc/rancher/k3s/etcd").exists


def test_the_join_token_is_per_install_and_only_in_its_files() -> None:
    token = SECRETS.read_text().strip()
    assert len(token) == 64
    assert oct(SECRETS.stat().st_mode & 0o777) == "0o600"
    for host in (SERVER, AGENT):
        assert host.file("/etc/rancher/k3s/token").content_string.strip() == token
        assert token not in host.file("/etc/rancher/k3s/config.yaml").content_string
        assert config(host)["token-file"] == "/etc/rancher/k3s/token"
        assert token not in host.run("journalctl --no-pager -o cat").stdout


def test_every_registry_is_mirrored_to_the_sites() -> None:
    registries = yaml.safe_load(SERVER.file("/etc/rancher/k3s/registries.yaml").content_string)
    assert registries["mirrors"]["docker.io"]["endpoint"] == ["https://registry.example.internal:5000"]
    assert set(registries["mirrors"]) == {"docker.io", "registry.k8s.io", "quay.io", "ghcr.io"}


def test_kubectl_is_the_k3s_binary() -> None:
    assert SERVER.file("/usr/local/bin/kubectl").linked_to == "/usr/local/bin/k3s"


def test_the_controller_has_the_admin_kubeconfig_pointed_at_the_first_server() -> None:
    path = SECRETS.parent / "kubeconfig"
    assert path.stat().st_mode & 0o777 == 0o600
    (cluster,) = yaml.safe_load(path.read_text())["clusters"]
    address = SERVER.check_output("hostname -I").split()[0]
    assert cluster["cluster"]["server"] == f"https://{address}:6443"
