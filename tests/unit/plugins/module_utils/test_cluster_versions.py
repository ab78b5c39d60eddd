"""The cluster roles' pure checks, table-driven: the version gate over the real compatibility table, K3s's
CNI directories by release, the CIDR rules and the rendered config.yaml."""

import datetime
from pathlib import Path

import pytest
import yaml

from ansible_collections.miniapp.mesh.plugins.module_utils import cluster_versions as cv

ROOT = Path(__file__).parents[4]
TABLE = yaml.safe_load((ROOT / "roles/offline_bundle/vars/compatibility.yml").read_text())[
    "_offline_bundle_compatibility"
]
BUNDLE = yaml.safe_load((ROOT / "roles/offline_bundle/vars/main.yml").read_text())["_offline_bundle_table"]
DEFAULTS = {
    **yaml.safe_load((ROOT / "roles/k3s/defaults/main.yml").read_text()),
    **yaml.safe_load((ROOT / "roles/istio/defaults/main.yml").read_text()),
}
TODAY = datetime.date(2026, 11, 27)


def gate(k3s: str = "v1.35.0+k3s1", etcd: str = "3.5.21", istio: str = "1.29.0", envoy: str = "1.40.0") -> dict:
    return cv.version_findings(TABLE, k3s, etcd, istio, envoy, TODAY)


@pytest.mark.parametrize(
    ("versions", "error"),
    [
        ({"k3s": "v1.38.0+k3s1"}, "K3s v1.38.0+k3s1 (line 1.38) is not in the compatibility table"),
        ({"istio": "1.31.0"}, "Istio 1.31.0 (line 1.31) is not in the compatibility table"),
        ({"etcd": "3.3.27"}, "etcd 3.3.27 (line 3.3) is not in the compatibility table"),
        ({"k3s": "latest"}, "K3s version 'latest' is not a version"),
        ({"k3s": "v1.27.16+k3s1"}, "Istio 1.29.0 supports Kubernetes 1.31 to 1.35, not 1.27"),
        ({"istio": "1.20.8"}, "Istio 1.20.8 supports Kubernetes 1.25 to 1.29, not 1.35"),
        ({"envoy": "1.36.2"}, "Envoy 1.36.2 is older than Istio 1.29.0's Envoy 1.37"),
        ({"etcd": "3.4.23"}, "etcd 3.4.23 is supported here with Kubernetes 1.25 to 1.27, not 1.35"),
    ],
)
def test_unknown_or_incompatible_combinations_are_refused_with_the_fix(versions: dict, error: str) -> None:
    errors = gate(**versions)["errors"]
    assert any(error in e for e in errors), errors


def test_the_defaults_pass_the_gate_and_name_their_end_of_life_state() -> None:
    found = gate(DEFAULTS["k3s_version"], "3.5.21", DEFAULTS["istio_version"], "1.40.0")
    assert found["errors"] == []
    assert all("Kubernetes" not in w for w in found["warnings"]), "the default Kubernetes line is supported today"


def test_the_design_line_stays_selectable_with_end_of_life_warnings() -> None:
    found = gate(k3s="v1.27.16+k3s1", etcd="3.4.23", istio="1.20.8")
    assert found["errors"] == []
    assert found["warnings"] == [
        "Kubernetes 1.27 reached its end of life on 2024-06-28: no more security fixes; plan an upgrade to a supported line",
        "Istio 1.20 reached its end of life on 2024-06-25: no more security fixes; plan an upgrade to a supported line",
    ]


def test_an_approximate_end_of_life_says_so() -> None:
    found = cv.version_findings(TABLE, "v1.35.0+k3s1", "3.5.21", "1.29.0", "1.40.0", datetime.date(2027, 3, 1))
    assert any("Kubernetes 1.35 reached its end of life on 2027-02-28 (approximate)" in w for w in found["warnings"])


def test_every_release_the_bundle_ships_is_in_the_table() -> None:
    for name, column in (("k3s", "kubernetes"), ("istio", "istio")):
        for artifact in BUNDLE[name]:
            assert cv.minor(artifact["version"]) in TABLE[column], artifact["version"]


@pytest.mark.parametrize(
    ("k3s", "bin_dir"),
    [
        ("v1.27.16+k3s1", cv.K3S_CNI_BIN_LEGACY),
        ("v1.31.1+k3s1", cv.K3S_CNI_BIN_LEGACY),
        ("v1.31.2+k3s1", cv.K3S_CNI_BIN_STABLE),
        ("v1.30.6+k3s1", cv.K3S_CNI_BIN_STABLE),
        ("v1.28.14+k3s1", cv.K3S_CNI_BIN_LEGACY),
        ("v1.35.0+k3s1", cv.K3S_CNI_BIN_STABLE),
    ],
)
def test_cni_directories_follow_the_k3s_release(k3s: str, bin_dir: str) -> None:
    assert cv.cni_dirs(TABLE, k3s) == (bin_dir, cv.K3S_CNI_CONF_DIR)


GOOD = ("10.42.0.0/16", "10.43.0.0/16", "10.43.0.10", ["192.168.10.0/24"])


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({}, None),
        ({0: "10.42.0.0/33"}, "k3s_cluster_cidr '10.42.0.0/33' is not a CIDR"),
        ({1: "banana"}, "k3s_service_cidr 'banana' is not a CIDR"),
        (
            {1: "10.42.128.0/20", 2: "10.42.128.10"},
            "k3s_cluster_cidr 10.42.0.0/16 overlaps k3s_service_cidr 10.42.128.0/20",
        ),
        ({3: ["10.42.7.0/24"]}, "k3s_cluster_cidr 10.42.0.0/16 overlaps the host network 10.42.7.0/24"),
        ({3: ["10.0.0.0/8"]}, "k3s_service_cidr 10.43.0.0/16 overlaps the host network 10.0.0.0/8"),
        ({0: "10.42.0.0/25"}, "smaller than one node's /24"),
        ({1: "10.43.0.0/28", 2: "10.43.0.10"}, "leaves under 256 service addresses"),
        ({2: "10.44.0.10"}, "k3s_cluster_dns 10.44.0.10 is outside k3s_service_cidr"),
        ({0: "10.42.1.0/16"}, "must be network addresses"),
    ],
)
def test_network_findings(change: dict, error: str | None) -> None:
    args = list(GOOD)
    for index, value in change.items():
        args[index] = value
    errors = cv.network_findings(*args)
    if error is None:
        assert errors == []
    else:
        assert any(error in e for e in errors), errors


def test_server_and_agent_config() -> None:
    datastore = {
        "endpoints": ["https://10.0.0.1:2379", "https://10.0.0.2:2379"],
        "ca": "/ca",
        "cert": "/c",
        "key": "/k",
    }
    options = {"disable": ["traefik", "servicelb"], "tls_sans": ["api.example"], "node_labels": ["b=2", "a=1"],
               "node_taints": [], "kubelet_args": ["max-pods=110"], "cluster_cidr": "10.42.0.0/16",
               "service_cidr": "10.43.0.0/16", "cluster_dns": "10.43.0.10"}  # fmt: skip
    server = cv.k3s_config("server", "", "/etc/rancher/k3s/token", datastore, options)
    assert server["datastore-endpoint"] == "https://10.0.0.1:2379,https://10.0.0.2:2379"
    assert (server["disable"], server["node-label"], server["write-kubeconfig-mode"]) == (
        ["servicelb", "traefik"],
        ["a=1", "b=2"],
        "0600",
    )
    assert "server" not in server
    assert "token" not in server
    agent = cv.k3s_config("agent", "https://10.0.0.9:6443", "/etc/rancher/k3s/token", {}, options)
    assert agent["server"] == "https://10.0.0.9:6443"
    assert "datastore-endpoint" not in agent
