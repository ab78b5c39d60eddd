#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: miniapp-mesh contributors
# Apache-2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: preflight_check
short_description: Check a host before K3s, etcd and Istio are installed
description:
  - Reads the host's OS release, kernel modules, sysctls, swap, clock synchronisation, free disk,
    memory and TCP listeners, and compares them with the given requirements.
  - Never changes the host. Fails with one line per failed check naming the host, the check and the fix.
  - On a container host, checks that depend on the host kernel or init system (kernel modules, sysctls,
    swap, time sync) are reported as warnings that they cannot be satisfied there, instead of failing.
version_added: 0.1.0
options:
  host:
    description: Name of the host in messages, normally C(inventory_hostname).
    type: str
    required: true
  supported_os:
    description: Map of os-release C(ID) to the supported major versions.
    type: dict
    required: true
  kernel_modules:
    description: Modules that must be loaded or built in.
    type: list
    elements: str
    default: []
  sysctls:
    description: Sysctl keys and the values they must have.
    type: dict
    default: {}
  swap_off:
    description: Require that no swap is active.
    type: bool
    default: true
  time_sync:
    description: Require a synchronised clock.
    type: bool
    default: true
  disk_path:
    description: Path whose file system must have I(disk_min_gb) free.
    type: path
    default: /var/lib
  disk_min_gb:
    description: Free space needed under I(disk_path), in GiB.
    type: int
    default: 0
  memory_min_mb:
    description: Memory needed, in MiB.
    type: int
    default: 0
  ports:
    description: TCP ports that must be free, or held by the named process.
    type: list
    elements: dict
    default: []
  in_container:
    description: The host is a container, so host-kernel checks are reported, not failed.
    type: bool
    default: false
author:
  - miniapp-mesh contributors
"""

EXAMPLES = r"""
- name: Check the host
  miniapp.mesh.preflight_check:
    host: "{{ inventory_hostname }}"
    supported_os: {debian: ["12"]}
    kernel_modules: [overlay, br_netfilter]
    sysctls: {net.ipv4.ip_forward: "1"}
    disk_min_gb: 20
    memory_min_mb: 2048
    ports: [{port: 2379, owner: etcd}]
"""

RETURN = r"""
findings:
  description: Every check with its status (ok, fail or container), what was seen and the fix.
  returned: always
  type: list
  elements: dict
  sample: [{check: "kernel_module overlay", status: ok, message: loaded, fix: ""}]
"""

import os
import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.miniapp.mesh.plugins.module_utils import preflight as pf

SOCKET_LINK = re.compile(r"^socket:\[(\d+)\]$")


def argspec():
    return {
        "host": {"type": "str", "required": True},
        "supported_os": {"type": "dict", "required": True},
        "kernel_modules": {"type": "list", "elements": "str", "default": []},
        "sysctls": {"type": "dict", "default": {}},
        "swap_off": {"type": "bool", "default": True},
        "time_sync": {"type": "bool", "default": True},
        "disk_path": {"type": "path", "default": "/var/lib"},
        "disk_min_gb": {"type": "int", "default": 0},
        "memory_min_mb": {"type": "int", "default": 0},
        "ports": {"type": "list", "elements": "dict", "default": []},
        "in_container": {"type": "bool", "default": False},
    }


def read(path, default=""):
    try:
        with open(path) as handle:
            return handle.read()
    except (IOError, OSError):
        return default


def read_sysctl(key):
    value = read("/proc/sys/" + key.replace(".", "/"), None)
    return None if value is None else value.strip()


def time_synchronized(module):
    """Ask timedatectl; fall back to timesyncd's flag file. None when nothing answers."""
    timedatectl = module.get_bin_path("timedatectl")
    if timedatectl:
        rc, out, _err = module.run_command([timedatectl, "show", "-p", "NTPSynchronized", "--value"])
        if rc == 0 and out.strip() in ("yes", "no"):
            return out.strip() == "yes"
    return True if os.path.exists("/run/systemd/timesync/synchronized") else None


def socket_inodes(pid):
    """Socket inodes a process holds; fds that close while we look are skipped."""
    try:
        fds = os.listdir("/proc/%s/fd" % pid)
    except OSError:
        return []
    inodes = []
    for fd in fds:
        try:
            match = SOCKET_LINK.match(os.readlink("/proc/%s/fd/%s" % (pid, fd)))
        except OSError:
            continue
        if match:
            inodes.append(match.group(1))
    return inodes


def listeners():
    """TCP listening ports mapped to the name of the process holding them (empty if unknown)."""
    sockets = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        sockets.update(pf.parse_proc_net_tcp(read(table)))
    ports = dict.fromkeys(sockets.values(), "")
    for pid in filter(str.isdigit, os.listdir("/proc")):
        for inode in socket_inodes(pid):
            if inode in sockets:
                ports[sockets[inode]] = read("/proc/%s/comm" % pid).strip()
    return ports


def running_processes():
    return {read("/proc/%s/comm" % pid).strip() for pid in filter(str.isdigit, os.listdir("/proc"))}


def free_gb(path):
    while not os.path.exists(path):
        path = os.path.dirname(path)
    stats = os.statvfs(path)
    return stats.f_bavail * stats.f_frsize // (1024**3)


def memory_mb():
    match = re.search(r"^MemTotal:\s+(\d+) kB", read("/proc/meminfo"), re.M)
    return int(match.group(1)) // 1024 if match else 0


def run_checks(module):
    p = module.params
    os_id, version_id = pf.parse_os_release(read("/etc/os-release"))
    present = [m for m in p["kernel_modules"] if os.path.isdir("/sys/module/" + m)]
    findings = [pf.check_os(os_id, version_id, p["supported_os"])]
    findings += pf.check_kernel_modules(present, p["kernel_modules"])
    findings += pf.check_sysctls({k: read_sysctl(k) for k in p["sysctls"]}, p["sysctls"])
    if p["swap_off"]:
        findings.append(pf.check_swap(pf.parse_swaps(read("/proc/swaps"))))
    if p["time_sync"]:
        findings.append(pf.check_time_sync(time_synchronized(module)))
    findings.append(
        pf.check_minimum(
            "disk %s" % p["disk_path"],
            free_gb(p["disk_path"]),
            p["disk_min_gb"],
            "GiB",
            "free space under %s or raise the disk (preflight_minimums sets the need)" % p["disk_path"],
        )
    )
    findings.append(
        pf.check_minimum(
            "memory",
            memory_mb(),
            p["memory_min_mb"],
            "MiB",
            "give the host more memory (preflight_minimums sets the need)",
        )
    )
    findings += pf.check_ports(listeners(), p["ports"], running_processes())
    return pf.downgrade_for_container(findings, p["in_container"])


def main():
    module = AnsibleModule(argument_spec=argspec(), supports_check_mode=True)
    findings = run_checks(module)
    for item in findings:
        if item["status"] == pf.CONTAINER:
            module.warn(pf.describe(module.params["host"], item))
    failed = [pf.describe(module.params["host"], i) for i in findings if i["status"] == pf.FAIL]
    if failed:
        module.fail_json(msg="preflight failed:\n" + "\n".join(failed), findings=findings)
    module.exit_json(changed=False, findings=findings)


if __name__ == "__main__":
    main()
