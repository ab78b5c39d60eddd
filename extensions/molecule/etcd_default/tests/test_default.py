"""The etcd cluster after converge and the side effect's outage, restore, defrag, rotation and member changes."""

import secrets
import time
from pathlib import Path

import pytest
from conftest import etcdctl

MEMBERS = ("mol-etcd1", "mol-etcd2", "mol-etcd3")
CA = "/etc/etcd/pki/ca.crt"


def test_three_members_are_healthy(members):
    result = etcdctl(members["mol-etcd1"], "endpoint health --cluster")
    assert result.rc == 0, result.stderr
    assert result.stderr.count("is healthy") + result.stdout.count("is healthy") == 3


def test_membership_is_back_to_the_three_voters(members):
    listed = etcdctl(members["mol-etcd1"], "member list")
    assert sorted(line.split(", ")[2] for line in listed.stdout.splitlines()) == list(MEMBERS)
    assert "true" not in [line.split(", ")[-1] for line in listed.stdout.splitlines()]


def test_removed_member_is_stopped_and_wiped(members):
    spare = members["mol-etcd4"]
    assert not spare.service("etcd").is_running
    assert not spare.file("/var/lib/etcd/member").exists


@pytest.mark.parametrize("name", MEMBERS)
def test_plaintext_is_refused(members, name):
    result = members[name].run(
        "/usr/local/bin/etcdctl --endpoints=http://127.0.0.1:2379 --command-timeout=3s endpoint health"
    )
    assert result.rc != 0


@pytest.mark.parametrize("name", MEMBERS)
def test_client_certificate_is_required(members, name):
    host = members[name]
    without = host.run(f"curl -sS --cacert {CA} https://127.0.0.1:2379/version")
    with_cert = host.run(
        f"curl -sS --cacert {CA} --cert /etc/etcd/pki/client.crt --key /etc/etcd/pki/client.key https://127.0.0.1:2379/version"
    )
    assert without.rc != 0, without.stdout
    assert '"etcdserver"' in with_cert.stdout, with_cert.stderr


@pytest.mark.parametrize("name", MEMBERS)
def test_compaction_settings_are_in_effect(members, name):
    journal = members[name].run("journalctl -u etcd --no-pager -o cat").stdout
    assert '"auto-compaction-mode":"periodic"' in journal
    assert '"auto-compaction-retention":"2h0m0s"' in journal


def test_write_on_member1_is_read_on_member3(members):
    value = secrets.token_hex(8)
    assert etcdctl(members["mol-etcd1"], f"put /verify/replication {value}").rc == 0
    for _ in range(30):
        if (
            etcdctl(members["mol-etcd3"], "get /verify/replication --print-value-only --consistency=s").stdout.strip()
            == value
        ):
            return
        time.sleep(0.5)
    pytest.fail("mol-etcd3 never served the value written through mol-etcd1")


@pytest.mark.parametrize("name", MEMBERS)
def test_restore_brought_back_the_snapshot_and_nothing_after_it(members, name):
    host = members[name]
    assert etcdctl(host, "get /drill/k1 --print-value-only --consistency=s").stdout.strip() == "v1"
    assert (
        etcdctl(host, "get /outage/k2 --print-value-only --consistency=s").stdout.strip() == "written-while-etcd2-down"
    )
    assert etcdctl(host, "get /after/k3 --print-value-only --consistency=s").stdout.strip() == ""


def test_quorum_held_during_defrag_and_rotation(members):
    """Every write of the side effect's writer was committed through some member."""
    ok, bad = (int(n) for n in members["mol-etcd3"].file("/root/quorum-writer.count").content_string.split())
    assert bad == 0
    assert ok >= 20


def test_fetched_snapshot_is_on_the_controller():
    fetched = list((Path(__file__).resolve().parents[4] / "backups" / "etcd").glob("etcd-mol-etcd1-*.db"))
    assert fetched
    assert all(path.stat().st_size > 0 for path in fetched)


def test_snapshot_timer_keeps_the_newest_twelve(members):
    host = members["mol-etcd2"]
    assert host.service("etcd-snapshot.timer").is_enabled
    assert host.service("etcd-snapshot.timer").is_running
    for _ in range(14):
        host.run_expect([0], "/usr/local/sbin/etcd-snapshot")
    assert int(host.run("ls -1 /var/backups/etcd/etcd-*.db | wc -l").stdout) == 12


def test_metrics_listener_serves_prometheus(members):
    metrics = members["mol-etcd1"].run("curl -sS http://127.0.0.1:2381/metrics").stdout
    assert "etcd_server_has_leader 1" in metrics


def test_ca_key_stays_on_the_first_member(members):
    assert members["mol-etcd1"].file("/etc/etcd/pki/ca.key").mode == 0o600
    assert not members["mol-etcd2"].file("/etc/etcd/pki/ca.key").exists
    assert not members["mol-etcd3"].file("/etc/etcd/pki/ca.key").exists
    assert members["mol-etcd1"].file("/etc/etcd/pki/clients/k3s-client.key").exists


@pytest.mark.parametrize("name", MEMBERS)
def test_member_keys_are_private_to_etcd(members, name):
    for leaf in ("server", "peer", "client"):
        key = members[name].file(f"/etc/etcd/pki/{leaf}.key")
        assert (key.user, key.mode) == ("etcd", 0o600)
