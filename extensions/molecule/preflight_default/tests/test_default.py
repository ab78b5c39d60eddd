"""Preflight on a real systemd host: what it reports matches what the host really is."""

import json

import pytest

PORT = 2379


def run_check(host, **params):
    """Run the preflight_check module on the host and return its result, failed or not.

    testinfra's ad-hoc result carries no ``failed`` key, so callers judge by findings and ``msg``.
    """
    args = {"host": "node1", "supported_os": {"debian": ["12"]}, "time_sync": False, **params}
    try:
        return host.ansible("miniapp.mesh.preflight_check", json.dumps(args), check=False)
    except host.ansible.AnsibleException as exc:
        return exc.result


def failures(result):
    return [item["check"] for item in result["findings"] if item["status"] == "fail"]


def by_check(result):
    return {item["check"]: item for item in result["findings"]}


@pytest.fixture
def squatter(host):
    """A real process holding the etcd client port."""
    host.run_expect([0], f"systemd-run --unit=squatter python3 -m http.server {PORT} --bind 127.0.0.1")
    try:
        for _ in range(50):
            if host.socket(f"tcp://127.0.0.1:{PORT}").is_listening:
                break
            host.run("sleep 0.1")
        yield
    finally:
        host.run("systemctl stop squatter")


def test_host_is_the_supported_os(host):
    result = run_check(host)
    assert failures(result) == [], result
    assert by_check(result)["os"]["message"].startswith("debian 12")


def test_unsupported_os_names_the_fix(host):
    result = run_check(host, supported_os={"ubuntu": ["24"]})
    assert failures(result) == ["os"]
    assert "node1: os: debian 12" in result["msg"]
    assert "Fix: install one of the supported systems (ubuntu 24)" in result["msg"]


@pytest.mark.usefixtures("squatter")
def test_occupied_port_names_its_process(host):
    result = run_check(host, ports=[{"port": PORT, "owner": "etcd"}])
    assert failures(result) == [f"port {PORT}"]
    assert f"node1: port {PORT}: in use by python3. Fix: stop the process listening on {PORT}" in result["msg"]


@pytest.mark.usefixtures("squatter")
def test_port_held_by_its_owner_passes(host):
    result = run_check(host, ports=[{"port": PORT, "owner": "python3"}])
    assert failures(result) == [], result
    assert by_check(result)[f"port {PORT}"]["message"] == "in use by python3"


def test_unsynchronised_clock_fails_on_a_machine_but_is_reported_in_a_container(host):
    result = run_check(host, time_sync=True, in_container=False)
    assert failures(result) == ["time_sync"]
    assert "node1: time_sync: not synchronised. Fix: enable chrony" in result["msg"]
    result = run_check(host, time_sync=True, in_container=True)
    assert failures(result) == [], result
    assert "msg" not in result
    assert by_check(result)["time_sync"]["status"] == "container"
    assert by_check(result)["time_sync"]["fix"].startswith("enable chrony or systemd-timesyncd")


def test_memory_minimum_is_enforced(host):
    total_mb = int(host.file("/proc/meminfo").content_string.split()[1]) // 1024
    result = run_check(host, memory_min_mb=total_mb + 1)
    assert failures(result) == ["memory"]
    assert f"node1: memory: {total_mb} MiB available, needs {total_mb + 1} MiB" in result["msg"]
