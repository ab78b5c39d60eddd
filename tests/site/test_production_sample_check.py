"""`ansible-playbook --check site.yml` with inventories/production-sample, against systemd lab hosts.

A copy of the sample inventory (its secrets and rendered files stay under .cache) meets one systemd container per
sample host, made by the lab's own hosts playbook on a network of their own, and reads make bundle's full bundle.
Overridden, each for its reason (SUBSTITUTES): the connection (SSH through podman, as make lab's hosts), the
preflight's hardware minimums (a site's machines meet them, containers here do not), and the releases whose
artifacts cannot be had on this machine (their table entries are unlocked: no internet) by the ones the lab
bundles or stands in for. K3s is the molecule scenario's named stand-in, which runs nothing; Istio's release
(istioctl) cannot be had at all, so Istio's apply is the one apply left out here. Judged from the run's JSON: no
host fails, the database role converges both its hosts, and services, ingress and observability report in check
mode what they would apply (their *_apply defaults, untouched).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "inventories" / "production-sample"
WORK = ROOT / ".cache" / "site-check"
BUNDLE = Path(os.environ.get("MINIAPP_FULL_BUNDLE", ROOT / "bundle"))
NETWORK, SUBNET = "miniapp-site-check", "10.89.7.0/24"
STANDIN = ROOT / "extensions/molecule/k3s_default/files/k3s-standin.py"
SUBSTITUTES = {
    # The sample's etcd 3.5.21 is a GitHub release; Debian's 3.4.23 is what the lab bundles.
    "etcd_version": "3.4.23",
    # etcd 3.4 pairs with Kubernetes up to 1.27 (the compatibility table), and the stand-in reports this release.
    "k3s_version": "v1.27.16+k3s1",
    "k3s_binary_from": "host",
    # K3s's own images are a GitHub release too: they come from a registry, the role's other way (nothing pulls).
    "k3s_images_from": "registry",
    "k3s_registry": "registry.example.internal:5000",
    # The Istio line for Kubernetes 1.27 (its rendering and version gate run; its apply needs istioctl).
    "istio_version": "1.20.8",
    "istio_revision": "1-20-8",
    "istio_apply": False,
    # The images this machine builds; the sample's public ones are unlocked.
    "bundle_images": [{"name": "miniapp-services", "version": "0.1.0"}, {"name": "miniapp-redis", "version": "7.0"}],
    "preflight_minimums": {group: {"memory_mb": 512, "disk_gb": 1}
                           for group in ("etcd", "postgres", "k3s_servers", "k3s_agents")},
}  # fmt: skip
# The roles that apply objects to the cluster, by the play that runs each (playbooks/*.yml).
APPLYING = {
    "services": "Render the services' Kubernetes and Istio objects from the catalog",
    "ingress": "NGINX Ingress Controller in front of the gateway",
    "observability": "Observability for the mesh, the services and etcd",
}
REPORT = "miniapp.mesh.kube_apply : Report what check mode would apply to a cluster not made yet"


def sample_hosts() -> list[str]:
    groups = yaml.safe_load((SAMPLE / "hosts.yml").read_text())["all"]["children"]
    return [host for group in groups.values() for host in group["hosts"]]


def _k3s_hosts() -> list[str]:
    groups = yaml.safe_load((SAMPLE / "hosts.yml").read_text())["all"]["children"]
    return [host for name in ("k3s_servers", "k3s_agents") for host in groups[name]["hosts"]]


def overlay() -> dict[str, Any]:
    """The sample's hosts as lab containers (group `lab`, which lab/playbooks/hosts.yml creates), reached as the
    lab's hosts are; group_vars/lab.yml of the lab inventory is where that connection is written once."""
    lab_vars = yaml.safe_load((ROOT / "inventories/lab/group_vars/lab.yml").read_text())
    connection = {k: v for k, v in lab_vars.items() if k.startswith("ansible_")}
    key = str(ROOT / ".cache/lab-ssh/id_ed25519")
    host_vars = connection | {"ansible_ssh_private_key_file": key, "ansible_become": False}
    return {
        "all": {
            "children": {"lab": {"hosts": {host: host_vars | {"ansible_host": host} for host in sample_hosts()}}},
            "vars": {"lab_network": NETWORK, "lab_subnet": SUBNET},
        }
    }


def ansible(*argv: str, json_out: bool = False) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"MINIAPP_BUNDLE_DIR": str(BUNDLE), "ANSIBLE_FORCE_COLOR": "0"}
    if json_out:
        env |= {"ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json", "ANSIBLE_CALLBACK_RESULT_FORMAT": "json"}
    return subprocess.run(["ansible-playbook", *argv], cwd=ROOT, env=env, text=True, capture_output=True, check=False)


@pytest.fixture(scope="module")
def run() -> Iterator[dict[str, Any]]:
    if not (BUNDLE / "manifest.json").exists():
        pytest.fail(f"no full bundle at {BUNDLE}: run make bundle first (a site's run reads every artifact)")
    shutil.rmtree(WORK, ignore_errors=True)
    shutil.copytree(SAMPLE, WORK / "production-sample")
    hosts_file = WORK / "lab-hosts.yml"
    hosts_file.write_text(yaml.safe_dump(overlay()))
    hosts = ["-i", str(hosts_file), "lab/playbooks/hosts.yml"]
    try:
        made = ansible(*hosts)
        assert made.returncode == 0, made.stdout[-3000:] + made.stderr[-3000:]
        for host in _k3s_hosts():
            subprocess.run(["podman", "cp", str(STANDIN), f"{host}:/usr/local/bin/k3s"], check=True)
            subprocess.run(["podman", "exec", host, "chmod", "0755", "/usr/local/bin/k3s"], check=True)
        (WORK / "substitutes.json").write_text(json.dumps(SUBSTITUTES))
        checked = ansible("-i", str(WORK / "production-sample"), "-i", str(hosts_file), "site.yml", "--check",
                          "-e", f"@{WORK / 'substitutes.json'}", json_out=True)  # fmt: skip
        (WORK / "check.json").write_text(checked.stdout)
        assert checked.stdout.lstrip().startswith("{"), checked.stderr[-3000:]
        yield json.loads(checked.stdout)
    finally:
        ansible(*hosts, "-e", "lab_hosts_state=absent")


def tasks(result: dict[str, Any], play: str) -> list[dict[str, Any]]:
    return [t for p in result["plays"] if p["play"]["name"] == play for t in p["tasks"]]


def test_no_host_fails_or_is_unreachable(run: dict[str, Any]) -> None:
    stats = run["stats"]
    assert set(sample_hosts()) <= set(stats), sorted(stats)
    bad = {host: s for host, s in stats.items() if s["failures"] or s["unreachable"]}
    assert not bad, bad


def test_the_database_role_converges_both_hosts(run: dict[str, Any]) -> None:
    """Each member gets the bundle's apt repository (the changes check mode can make) and says what the rest of
    the role would do on it (what it cannot simulate before the packages exist)."""
    played = tasks(run, "The site's PostgreSQL, with Patroni on the external etcd")
    members = {"pg-1.example.internal", "pg-2.example.internal"}
    for name in (
        "Put from the bundle on the host postgresql-apt 15",
        "miniapp.mesh.postgresql : Add the repository to apt's sources",
    ):
        changed = {
            host
            for t in played
            if t["task"]["name"].endswith(name)
            for host, r in t["hosts"].items()
            if r.get("changed")
        }
        assert changed == members, (name, changed)
    said = {host: r["msg"] for t in played if t["task"]["name"].endswith("Report what check mode cannot simulate on a new host")
            for host, r in t["hosts"].items()}  # fmt: skip
    assert set(said) == members, said
    assert all("a Patroni member of miniapp on etcd, 12 service logins" in m for m in said.values()), said


@pytest.mark.parametrize("role", APPLYING)
def test_every_applying_role_reports_what_it_would_apply(run: dict[str, Any], role: str) -> None:
    said = [r["msg"] for t in tasks(run, APPLYING[role]) if t["task"]["name"] == REPORT for r in t["hosts"].values()]
    assert said, f"the {role} play applied nothing in check mode: is {role}_apply still on by default?"
    assert all("would apply" in m and not m.split("would apply ")[1].startswith("0 objects") for m in said), said
