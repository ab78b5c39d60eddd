# -*- coding: utf-8 -*-
# Copyright: miniapp-mesh contributors
# Apache-2.0 (see LICENSE)
"""Pure checks for the cluster roles: the version gate over the compatibility table
(roles/offline_bundle/vars/compatibility.yml), K3s's CNI directories by release, and the cluster and
service CIDRs against each other and the hosts' networks. Each check returns findings, never raises on
bad input: the roles fail with every message at once."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import re
from typing import Any

import netaddr

K3S_CNI_CONF_DIR = "/var/lib/rancher/k3s/agent/etc/cni/net.d"
K3S_CNI_BIN_STABLE = "/var/lib/rancher/k3s/data/cni"
K3S_CNI_BIN_LEGACY = "/var/lib/rancher/k3s/data/current/bin"
TABLE = "roles/offline_bundle/vars/compatibility.yml"
_VERSION = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?(?:[-+](?:k3s(\d+)|.*))?$")


def parse(version: object) -> tuple[int, int, int, int] | None:
    """(major, minor, patch, k3s build) of 'v1.35.0+k3s1', '1.29.0' or '3.5'; None when it is not a version."""
    found = _VERSION.match(str(version).strip())
    if not found:
        return None
    major, minor_, patch, build = (int(part or 0) for part in found.groups())
    return major, minor_, patch, build


def minor(version: object) -> str | None:
    parsed = parse(version)
    return "%d.%d" % parsed[:2] if parsed else None


def _key(line: str) -> tuple[int, ...]:
    return tuple(int(p) for p in line.split("."))


def _within(line: str, bounds: list[str]) -> bool:
    return _key(bounds[0]) <= _key(line) <= _key(bounds[1])


def version_findings(
    table: dict[str, Any], k3s: str | None, etcd: str | None, istio: str | None, envoy: str | None, today: datetime.date
) -> dict[str, list[str]]:
    """{'errors': [...], 'warnings': [...]} for this combination of releases on this date. A release given
    as None is not checked (each role gates what it installs against what is already installed)."""
    errors, warnings = [], []
    lines = {"K3s": (k3s, "kubernetes"), "Istio": (istio, "istio"), "etcd": (etcd, "etcd")}
    known = {}
    for name, (version, column) in lines.items():
        if version is None:
            continue
        line = minor(version)
        if line is None:
            errors.append(
                "%s version %r is not a version: set it to a release such as those in %s" % (name, version, TABLE)
            )
        elif line not in table[column]:
            choices = ", ".join(sorted(table[column], key=_key))
            errors.append(
                "%s %s (line %s) is not in the compatibility table (%s): choose a line of %s, or add it with its end of life"
                % (name, version, line, TABLE, choices)
            )
        else:
            known[column] = line
    errors.extend(_pairings(table, known, k3s, etcd, istio, envoy))
    warnings.extend(_end_of_life(table, known, today))
    return {"errors": errors, "warnings": warnings}


def _pairings(
    table: dict[str, Any],
    known: dict[str, str],
    k3s: str | None,
    etcd: str | None,
    istio: str | None,
    envoy: str | None,
) -> list[str]:
    kube = known.get("kubernetes")
    if kube is None:
        return []
    errors = []
    if "istio" in known:
        istio_line = table["istio"][known["istio"]]
        if not _within(kube, istio_line["kubernetes"]):
            errors.append(
                "Istio %s supports Kubernetes %s to %s, not %s (K3s %s): choose a pairing the table lists"
                % (istio, istio_line["kubernetes"][0], istio_line["kubernetes"][1], kube, k3s)
            )
        envoy_line = minor(envoy) if envoy is not None else istio_line["envoy"]
        if envoy_line is None or _key(envoy_line) < _key(istio_line["envoy"]):
            errors.append(
                "Envoy %s is older than Istio %s's Envoy %s: the lab's sidecars need at least that line"
                % (envoy, istio, istio_line["envoy"])
            )
    if "etcd" in known and not _within(kube, table["etcd"][known["etcd"]]["kubernetes"]):
        bounds = table["etcd"][known["etcd"]]["kubernetes"]
        errors.append(
            "etcd %s is supported here with Kubernetes %s to %s, not %s (K3s %s): use etcd 3.5 or later"
            % (etcd, bounds[0], bounds[1], kube, k3s)
        )
    return errors


def _end_of_life(table: dict[str, Any], known: dict[str, str], today: datetime.date) -> list[str]:
    warnings = []
    for column, label in (("kubernetes", "Kubernetes"), ("istio", "Istio")):
        line = known.get(column)
        entry = table[column].get(line) if line else None
        if entry and entry.get("eol") and datetime.date.fromisoformat(str(entry["eol"])) <= today:
            estimate = " (approximate)" if entry.get("approximate") else ""
            warnings.append(
                "%s %s reached its end of life on %s%s: no more security fixes; plan an upgrade to a supported line"
                % (label, line, entry["eol"], estimate)
            )
    return warnings


def cni_dirs(table: dict[str, Any], k3s: str) -> tuple[str, str]:
    """(bin dir, conf dir) of this K3s release: the stable bin dir from the October 2024 releases on."""
    parsed, line = parse(k3s), minor(k3s)
    if parsed is None or line is None:
        raise ValueError("K3s version %r is not a version: set k3s_version to a release such as v1.31.4+k3s1" % k3s)
    first = table["k3s_stable_cni_since"].get(line)
    if first is not None:
        stable = parsed >= (parse(first) or parsed)
    else:
        stable = _key(line) > max(_key(k) for k in table["k3s_stable_cni_since"])
    return (K3S_CNI_BIN_STABLE if stable else K3S_CNI_BIN_LEGACY), K3S_CNI_CONF_DIR


def network_findings(cluster_cidr: str, service_cidr: str, cluster_dns: str, host_networks: list[str]) -> list[str]:
    """Problems with the pod and service CIDRs: unparsable, overlapping each other or a host network,
    too small, or the DNS address outside the service CIDR."""
    errors, parsed = [], {}
    for field, value in (("k3s_cluster_cidr", cluster_cidr), ("k3s_service_cidr", service_cidr)):
        try:
            parsed[field] = netaddr.IPNetwork(value, expand_partial=False)
        except (netaddr.AddrFormatError, ValueError, TypeError):
            errors.append("%s %r is not a CIDR such as 10.42.0.0/16: fix it" % (field, value))
    if len(parsed) < 2:
        return errors
    pods, services = parsed["k3s_cluster_cidr"], parsed["k3s_service_cidr"]
    if pods.ip != pods.network or services.ip != services.network:
        errors.append(
            "k3s_cluster_cidr %s and k3s_service_cidr %s must be network addresses (host bits zero)"
            % (cluster_cidr, service_cidr)
        )
    if pods.version == 4 and pods.prefixlen > 24:
        errors.append("k3s_cluster_cidr %s is smaller than one node's /24: use /16 or larger" % cluster_cidr)
    if services.version == 4 and services.prefixlen > 24:
        errors.append("k3s_service_cidr %s leaves under 256 service addresses: use /16 to /24" % service_cidr)
    if _overlap(pods, services):
        errors.append(
            "k3s_cluster_cidr %s overlaps k3s_service_cidr %s: pick disjoint ranges" % (cluster_cidr, service_cidr)
        )
    for network in host_networks:
        host = netaddr.IPNetwork(network).cidr
        for field, cidr in (("k3s_cluster_cidr", pods), ("k3s_service_cidr", services)):
            if host.version == cidr.version and _overlap(host, cidr):
                errors.append(
                    "%s %s overlaps the host network %s: pods could not reach it; pick a range unused on site"
                    % (field, cidr, host)
                )
    try:
        if netaddr.IPAddress(cluster_dns) not in services:
            errors.append(
                "k3s_cluster_dns %s is outside k3s_service_cidr %s: take an address inside it"
                % (cluster_dns, service_cidr)
            )
    except (netaddr.AddrFormatError, ValueError, TypeError):
        errors.append(
            "k3s_cluster_dns %r is not an IP address: use one inside k3s_service_cidr, such as its tenth"
            % (cluster_dns,)
        )
    return errors


def _overlap(a: netaddr.IPNetwork, b: netaddr.IPNetwork) -> bool:
    return bool(a.first <= b.last and b.first <= a.last)


def k3s_config(
    kind: str, server_url: str, token_file: str, datastore: dict[str, Any], options: dict[str, Any]
) -> dict[str, Any]:
    """config.yaml of a K3s server or agent. datastore: {endpoints, ca, cert, key} (servers only); options:
    the role's node labels, taints, kubelet args, TLS SANs, CIDRs, DNS and disabled components."""
    config = {
        "token-file": token_file,
        "node-label": sorted(options.get("node_labels", [])),
        "node-taint": sorted(options.get("node_taints", [])),
        "kubelet-arg": list(options.get("kubelet_args", [])),
    }
    if kind == "agent":
        config["server"] = server_url
        return config
    config.update(
        {
            "datastore-endpoint": ",".join(datastore["endpoints"]),
            "datastore-cafile": datastore["ca"],
            "datastore-certfile": datastore["cert"],
            "datastore-keyfile": datastore["key"],
            "disable": sorted(options.get("disable", [])),
            "tls-san": sorted(options.get("tls_sans", [])),
            "cluster-cidr": options["cluster_cidr"],
            "service-cidr": options["service_cidr"],
            "cluster-dns": options["cluster_dns"],
            "write-kubeconfig-mode": "0600",
        }
    )
    if server_url:
        config["server"] = server_url
    return config
