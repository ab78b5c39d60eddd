"""Table-driven tests of the pure preflight checks."""

import pytest

from ansible_collections.miniapp.mesh.plugins.module_utils import preflight as pf

SUPPORTED = {"debian": ["12", "13"], "ubuntu": ["24"]}


@pytest.mark.parametrize(
    ("os_id", "version", "status"),
    [
        ("debian", "12", "ok"),
        ("debian", "12.7", "ok"),
        ("debian", "11", "fail"),
        ("centos", "7", "fail"),
        ("", "", "fail"),
    ],
    ids=["debian12", "point-release", "old-debian", "unknown-distro", "no-os-release"],
)
def test_check_os(os_id, version, status):
    assert pf.check_os(os_id, version, SUPPORTED)["status"] == status


def test_check_os_fix_lists_supported_systems():
    assert pf.check_os("centos", "7", SUPPORTED)["fix"].startswith(
        "install one of the supported systems (debian 12/13, ubuntu 24)"
    )


@pytest.mark.parametrize(
    ("present", "expected"),
    [(["overlay", "br_netfilter"], ["ok", "ok"]), (["overlay"], ["ok", "fail"]), ([], ["fail", "fail"])],
    ids=["both", "missing-br-netfilter", "none"],
)
def test_check_kernel_modules(present, expected):
    found = pf.check_kernel_modules(present, ["overlay", "br_netfilter"])
    assert [f["status"] for f in found] == expected
    assert all("modprobe" in f["fix"] for f in found if f["status"] == "fail")


@pytest.mark.parametrize(
    ("value", "status", "message"),
    [("1\n", "ok", "is 1, needs 1"), ("0", "fail", "is 0, needs 1"), (None, "fail", "is absent, needs 1")],
    ids=["set", "unset", "absent-key"],
)
def test_check_sysctls(value, status, message):
    (found,) = pf.check_sysctls({"net.ipv4.ip_forward": value}, {"net.ipv4.ip_forward": "1"})
    assert (found["status"], found["message"]) == (status, message)


@pytest.mark.parametrize(
    ("text", "total"),
    [
        ("Filename Type Size Used Priority\n", 0),
        ("Filename Type Size Used Priority\n/swap.img file 2097148 0 -2\n/dev/sdb2 partition 1024 0 -3\n", 2098172),
    ],
    ids=["none", "two-swaps"],
)
def test_parse_swaps_and_check(text, total):
    assert pf.parse_swaps(text) == total
    assert pf.check_swap(total)["status"] == ("ok" if total == 0 else "fail")


@pytest.mark.parametrize(
    ("synced", "status"), [(True, "ok"), (False, "fail"), (None, "fail")], ids=["yes", "no", "unknown"]
)
def test_check_time_sync(synced, status):
    assert pf.check_time_sync(synced)["status"] == status


@pytest.mark.parametrize(
    ("actual", "minimum", "status"),
    [(10, 10, "ok"), (9, 10, "fail"), (0, 0, "ok")],
    ids=["equal", "short", "none-needed"],
)
def test_check_minimum(actual, minimum, status):
    assert pf.check_minimum("memory", actual, minimum, "MiB", "add memory")["status"] == status


@pytest.mark.parametrize(
    ("listeners", "owner", "running", "status", "message"),
    [
        ({}, "etcd", set(), "ok", "free"),
        ({2379: "etcd"}, "etcd", {"etcd"}, "ok", "in use by etcd"),
        ({2379: "nginx"}, "etcd", {"nginx"}, "fail", "in use by nginx"),
        ({2379: "etcd"}, "", {"etcd"}, "fail", "in use by etcd"),
        ({2379: ""}, "etcd", {"etcd"}, "ok", "in use by a process that cannot be inspected; etcd is running"),
        ({2379: ""}, "etcd", {"nginx"}, "fail", "in use by a process that cannot be inspected"),
    ],
    ids=[
        "free",
        "held-by-owner",
        "held-by-other",
        "no-owner-declared",
        "hidden-holder-owner-runs",
        "hidden-holder-owner-absent",
    ],
)
def test_check_ports(listeners, owner, running, status, message):
    (found,) = pf.check_ports(listeners, [{"port": 2379, "owner": owner}], running)
    assert (found["status"], found["message"]) == (status, message)


PROC_NET_TCP = """  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:094B 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 41234 1 0
   1: 0100007F:1F90 0100007F:D2F0 01 00000000:00000000 00:00000000 00000000     0        0 41299 1 0
"""


def test_parse_proc_net_tcp_keeps_only_listeners():
    assert pf.parse_proc_net_tcp(PROC_NET_TCP) == {"41234": 2379}


def test_parse_os_release():
    assert pf.parse_os_release('PRETTY_NAME="Debian GNU/Linux 12"\nID=debian\nVERSION_ID="12"\n') == ("debian", "12")


@pytest.mark.parametrize(
    ("check", "in_container", "status"),
    [
        ("kernel_module br_netfilter", True, "container"),
        ("sysctl net.ipv4.ip_forward", True, "container"),
        ("swap", True, "container"),
        ("time_sync", True, "container"),
        ("memory", True, "fail"),
        ("port 2379", True, "fail"),
        ("kernel_module br_netfilter", False, "fail"),
    ],
    ids=["module", "sysctl", "swap", "clock", "memory-stays-fatal", "port-stays-fatal", "machine-stays-fatal"],
)
def test_downgrade_for_container(check, in_container, status):
    (found,) = pf.downgrade_for_container([pf.finding(check, False, "x", "fix it")], in_container)
    assert found["status"] == status


def test_describe_names_host_check_and_fix():
    item = pf.finding("swap", False, "2048 KiB of swap active", "swapoff -a")
    assert pf.describe("etcd1", item) == "etcd1: swap: 2048 KiB of swap active. Fix: swapoff -a"
    assert "cannot be satisfied inside a container" in pf.describe("etcd1", dict(item, status="container"))


@pytest.mark.parametrize(
    ("nodenames", "status"),
    [({"a": "n1", "b": "n2"}, "ok"), ({"a": "n1", "b": "n1", "c": "n2"}, "fail")],
    ids=["unique", "clash"],
)
def test_unique_nodenames(nodenames, status):
    assert pf.unique_nodenames(nodenames)["status"] == status


@pytest.mark.parametrize(("count", "status"), [(0, "fail"), (1, "ok"), (2, "fail"), (3, "ok"), (4, "fail"), (5, "ok")])
def test_odd_members(count, status):
    assert pf.odd_members("etcd", [f"m{i}" for i in range(count)])["status"] == status
