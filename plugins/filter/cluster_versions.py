# -*- coding: utf-8 -*-
# Copyright: miniapp-mesh contributors
# Apache-2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: cluster_version_findings
short_description: The version gate of the cluster roles, over the compatibility table
version_added: 0.1.0
description:
  - Checks a K3s, etcd, Istio and Envoy combination against roles/offline_bundle/vars/compatibility.yml.
  - Returns errors (unknown line, unsupported pairing) and warnings (end of life passed on C(today)).
  - The same file provides C(cluster_network_findings), C(k3s_cni_dirs) and C(k3s_config); see plugins/module_utils/cluster_versions.py.
positional: k3s, etcd, istio, envoy, today
options:
  _input:
    description: The compatibility table.
    type: dict
    required: true
  k3s:
    description: K3s release, such as v1.35.0+k3s1.
    type: str
    required: true
  etcd:
    description: etcd release.
    type: str
    required: true
  istio:
    description: Istio release.
    type: str
    required: true
  envoy:
    description: Envoy release the lab compiles sidecars for.
    type: str
    required: true
  today:
    description: ISO date the end-of-life dates are compared with.
    type: str
    required: true
"""

EXAMPLES = r"""
findings: "{{ table | miniapp.mesh.cluster_version_findings(k3s_version, etcd_version, istio_version, '1.40.0', '2026-11-27') }}"
"""

RETURN = r"""
_value:
  description: C(errors) and C(warnings), lists of lines naming the field and the fix.
  type: dict
"""

import datetime

from ansible.errors import AnsibleFilterError

from ansible_collections.miniapp.mesh.plugins.module_utils import cluster_versions as cv


def cluster_version_findings(table, k3s, etcd, istio, envoy, today):
    try:
        day = datetime.date.fromisoformat(str(today))
    except ValueError as err:
        raise AnsibleFilterError("cluster_version_findings: today must be an ISO date: %s" % err) from err
    return cv.version_findings(table, k3s, etcd, istio, envoy, day)


def cluster_network_findings(cluster_cidr, service_cidr, cluster_dns, host_networks):
    return cv.network_findings(cluster_cidr, service_cidr, cluster_dns, list(host_networks))


def k3s_cni_dirs(table, k3s):
    bin_dir, conf_dir = cv.cni_dirs(table, k3s)
    return {"bin_dir": bin_dir, "conf_dir": conf_dir}


def k3s_config(kind, server_url, token_file, datastore, options):
    if kind not in ("server", "agent"):
        raise AnsibleFilterError("k3s_config: kind must be server or agent, not %r" % (kind,))
    return cv.k3s_config(kind, server_url, token_file, datastore, options)


class FilterModule(object):
    def filters(self):
        return {
            "cluster_version_findings": cluster_version_findings,
            "cluster_network_findings": cluster_network_findings,
            "k3s_cni_dirs": k3s_cni_dirs,
            "k3s_config": k3s_config,
        }
