"""The lab install ran air-gapped: the lab hosts and the mesh's pods sit on internal podman networks with no
route out, and what the roles installed came from the bundle, verified (the copy on each etcd host is the
table's). Checked by reading routes and networks, never by sending traffic anywhere."""

from __future__ import annotations

import json
import subprocess

import pytest
import yaml
from conftest import ROOT, pods

LAB_HOSTS = ("etcd1", "etcd2", "etcd3", "server1", "agent1")
TABLE = yaml.safe_load((ROOT / "roles/offline_bundle/vars/main.yml").read_text())["_offline_bundle_table"]


def _podman(*args: str) -> str:
    return subprocess.run(["podman", *args], check=True, capture_output=True, text=True).stdout


def _has_default_route(container: str) -> bool:
    """/proc/net/route lists a default route as destination 00000000 (no iproute2 needed in the container)."""
    lines = _podman("exec", container, "cat", "/proc/net/route").splitlines()[1:]
    return any(line.split()[1] == "00000000" for line in lines)


@pytest.mark.parametrize("network", ["miniapp-lab", "miniapp-mesh"])
def test_lab_networks_are_internal(network: str) -> None:
    (info,) = json.loads(_podman("network", "inspect", network))
    assert info["internal"] is True


@pytest.mark.parametrize("container", [*LAB_HOSTS, "user-v1-0-envoy", "pay-v1-0-envoy"])
def test_no_route_out_of_the_lab(container: str) -> None:
    assert pods()  # the mesh is up
    assert not _has_default_route(container)


@pytest.mark.parametrize("host", ["etcd1", "etcd2", "etcd3"])
def test_etcd_came_from_the_bundle_verified_and_runs(host: str) -> None:
    (entry,) = [e for e in TABLE["etcd"] if e["version"] == "3.4.23"]
    cached = _podman("exec", host, "sha256sum", f"/var/cache/miniapp/artifacts/{entry['file']}").split()[0]
    assert cached == entry["sha256"]
    health = subprocess.run(
        ["podman", "exec", host, "/usr/local/sbin/etcdctl-local", "endpoint", "health"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert "is healthy" in health.stdout + health.stderr


def test_the_check_can_fail_on_a_container_with_a_route_out() -> None:
    """The edge's pod is also on the podman network (to publish it on loopback): it has a route."""
    assert _has_default_route("miniapp-mesh-ingress-envoy")
