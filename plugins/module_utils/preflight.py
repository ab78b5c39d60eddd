# -*- coding: utf-8 -*-
# Copyright: miniapp-mesh contributors
# Apache-2.0 (see LICENSE)
"""Pure checks behind the preflight role: probe data in, findings out.

Each check returns findings ``{"check", "status", "message", "fix"}``; ``status`` is ``ok``,
``fail``, or ``container`` when the check failed on a container host where it cannot be
satisfied (a kernel module cannot be loaded from inside a container).
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

# One check's result: check, status, message, fix.
Finding = dict[str, str]

OK = "ok"
FAIL = "fail"
CONTAINER = "container"

# Checks that depend on the host kernel or init system rather than on the container itself.
CONTAINER_LIMITED = ("kernel_module", "sysctl", "swap", "time_sync")

TCP_LISTEN = "0A"


def finding(check: str, ok: bool, message: str, fix: str = "") -> Finding:
    """Build one finding.

    Args:
        check: Name of the check, e.g. ``kernel_module br_netfilter``.
        ok: Whether the check passed.
        message: What was observed.
        fix: What the operator should do when it failed.

    Returns:
        The finding as a dict.
    """
    return {"check": check, "status": OK if ok else FAIL, "message": message, "fix": "" if ok else fix}


def check_os(os_id: str | None, version_id: str | None, supported: Mapping[str, Sequence[object]]) -> Finding:
    """Check the distribution and its major version against ``{id: [major, ...]}``."""
    major = (version_id or "").split(".")[0]
    allowed = supported.get(os_id or "", [])
    ok = major in [str(v) for v in allowed]
    wanted = ", ".join("%s %s" % (k, "/".join(str(x) for x in v)) for k, v in sorted(supported.items()))
    return finding(
        "os",
        ok,
        "%s %s" % (os_id or "unknown", version_id or "unknown"),
        "install one of the supported systems (%s) or extend preflight_supported_os" % wanted,
    )


def check_kernel_modules(present: Collection[str], required: Iterable[str]) -> list[Finding]:
    """Check that every required module is loaded or built in (``/sys/module/<name>`` exists)."""
    return [
        finding(
            "kernel_module %s" % name,
            name in present,
            "loaded" if name in present else "not loaded",
            "modprobe %s and list it in /etc/modules-load.d/ so it loads at boot" % name,
        )
        for name in required
    ]


def check_sysctls(values: Mapping[str, str | None], required: Mapping[str, object]) -> list[Finding]:
    """Check sysctls read from ``/proc/sys`` (``None`` when the key does not exist)."""
    found = []
    for key, wanted in sorted(required.items()):
        actual = values.get(key)
        found.append(
            finding(
                "sysctl %s" % key,
                actual is not None and str(actual).strip() == str(wanted),
                "is %s, needs %s" % ("absent" if actual is None else actual.strip(), wanted),
                "sysctl -w %s=%s and persist it in /etc/sysctl.d/" % (key, wanted),
            )
        )
    return found


def check_swap(swap_total_kb: int) -> Finding:
    """Check that no swap is active (kubelet refuses to start with swap by default)."""
    return finding(
        "swap",
        swap_total_kb == 0,
        "%d KiB of swap active" % swap_total_kb,
        "swapoff -a and remove swap entries from /etc/fstab",
    )


def check_time_sync(synchronized: bool | None) -> Finding:
    """Check that the clock is synchronised (``None`` when no time service can say)."""
    state = {True: "synchronised", False: "not synchronised", None: "no time service answered"}[synchronized]
    return finding(
        "time_sync",
        synchronized is True,
        state,
        "enable chrony or systemd-timesyncd and point it at the site's NTP servers",
    )


def check_minimum(check: str, actual: float, minimum: float, unit: str, fix: str) -> Finding:
    """Check a measured quantity against a minimum."""
    return finding(check, actual >= minimum, "%d %s available, needs %d %s" % (actual, unit, minimum, unit), fix)


def check_ports(
    listeners: Mapping[int, str], required: Iterable[Mapping[str, Any]], running: Collection[str] = ()
) -> list[Finding]:
    """Check that required ports are free, or held by the process that is meant to own them.

    Args:
        listeners: ``{port: process_name}`` of TCP listeners; the name is empty when the holder
            cannot be inspected (another user's process, without CAP_SYS_PTRACE, as in containers).
        required: ``[{"port": int, "owner": str}]``.
        running: Names of the processes running on the host; an uninspectable holder passes
            when the port's owner is among them.

    Returns:
        One finding per required port.
    """
    found = []
    for item in required:
        port, owner = int(item["port"]), item.get("owner", "")
        holder = listeners.get(port)
        if port not in listeners:
            ok, message = True, "free"
        elif holder:
            ok, message = bool(owner) and holder == owner, "in use by %s" % holder
        else:
            ok = bool(owner) and owner in running
            message = "in use by a process that cannot be inspected" + ("; %s is running" % owner if ok else "")
        fix = "stop the process listening on %d or move it; %s needs this port" % (port, owner or "the platform")
        found.append(finding("port %d" % port, ok, message, fix))
    return found


def downgrade_for_container(findings: list[Finding], in_container: bool) -> list[Finding]:
    """Mark failed host-kernel checks on a container host as ``container`` instead of ``fail``."""
    if not in_container:
        return findings
    return [
        dict(item, status=CONTAINER)
        if item["status"] == FAIL and item["check"].split(" ")[0] in CONTAINER_LIMITED
        else item
        for item in findings
    ]


def describe(host: str, item: Finding) -> str:
    """One line naming the host, the check, what was seen and the fix."""
    line = "%s: %s: %s" % (host, item["check"], item["message"])
    if item["status"] == CONTAINER:
        return line + " (cannot be satisfied inside a container; on a real host: %s)" % item["fix"]
    if item["status"] == FAIL:
        return line + ". Fix: " + item["fix"]
    return line


def parse_proc_net_tcp(text: str) -> dict[str, int]:
    """Map socket inode to local port for LISTEN sockets in ``/proc/net/tcp{,6}``."""
    sockets: dict[str, int] = {}
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 10 or fields[3] != TCP_LISTEN:
            continue
        sockets[fields[9]] = int(fields[1].rsplit(":", 1)[1], 16)
    return sockets


def parse_swaps(text: str) -> int:
    """Total KiB of active swap from ``/proc/swaps``."""
    return sum(int(line.split()[2]) for line in text.splitlines()[1:] if len(line.split()) >= 3)


def parse_os_release(text: str) -> tuple[str, str]:
    """``ID`` and ``VERSION_ID`` from ``/etc/os-release``."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip()] = value.strip().strip('"')
    return values.get("ID", ""), values.get("VERSION_ID", "")


def unique_nodenames(nodenames: Mapping[str, str]) -> Finding:
    """Inventory check: every host has its own node name (K3s and etcd key members by it)."""
    seen: dict[str, list[str]] = {}
    for host, name in sorted(nodenames.items()):
        seen.setdefault(name, []).append(host)
    clashes = {name: hosts for name, hosts in seen.items() if len(hosts) > 1}
    return finding(
        "unique_hostnames",
        not clashes,
        "; ".join("%s shared by %s" % (n, ", ".join(h)) for n, h in sorted(clashes.items())) or "all unique",
        "give each host its own hostname (hostnamectl set-hostname) before installing",
    )


def odd_members(group: str, members: Sequence[str]) -> Finding:
    """Inventory check: an etcd group of 1, 3, 5 ... members keeps a quorum majority."""
    count = len(members)
    return finding(
        "etcd_members",
        count % 2 == 1,
        "group '%s' has %d members (%s)" % (group, count, ", ".join(members) or "none"),
        "list an odd number of hosts (1, 3 or 5) in the inventory group '%s'" % group,
    )


def host_address(facts: Mapping[str, Any]) -> str:
    """The address a host is reached at by its peers: its default route's, else its first IPv4 address (an
    air-gapped host may have no default route). Every role that names a host's address picks it this way."""
    default = facts.get("default_ipv4") or {}
    if default.get("address"):
        return str(default["address"])
    addresses = facts.get("all_ipv4_addresses") or []
    if not addresses:
        raise ValueError(
            "host %s has no IPv4 address in its facts: gather its network facts (setup, gather_subset network) "
            "or set the role's *_address" % facts.get("nodename", "?")
        )
    return str(addresses[0])
