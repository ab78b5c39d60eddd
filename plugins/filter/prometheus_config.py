# -*- coding: utf-8 -*-
# Copyright: miniapp-mesh contributors
# Apache-2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: prometheus_config
short_description: Prometheus configuration for the mesh, its services, cAdvisor and etcd
version_added: 0.1.0
description:
  - Builds prometheus.yml with the jobs envoy-stats (every sidecar's 15090 stats listener), miniapp-services (the
    services' own /metrics port), kubernetes-cadvisor, kubernetes-kubelet (clusters only) and etcd.
  - C(mode=kubernetes) discovers targets in the cluster; C(mode=files) reads them from files under
    /etc/prometheus/targets (the lab writes them). Both give the target labels namespace, pod, app and version.
  - A bad setting fails with a message naming it and the fix.
positional: mode, cluster
options:
  _input:
    description: The etcd members' metrics endpoints (host:port); empty to scrape no etcd.
    type: list
    elements: str
    required: true
  mode:
    description: Where targets come from.
    type: str
    choices: [kubernetes, files]
    required: true
  cluster:
    description: External label C(cluster) on every series and alert.
    type: str
    required: true
  scrape_interval:
    description: Scrape and rule evaluation interval.
    type: str
    default: 15s
"""

EXAMPLES = r"""
config: "{{ ['etcd1:2381'] | miniapp.mesh.prometheus_config('kubernetes', 'miniapp-prod') }}"
"""

RETURN = r"""
_value:
  description: The prometheus.yml document.
  type: dict
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.miniapp.mesh.plugins.module_utils import obs_prometheus


def prometheus_config(etcd_targets, mode, cluster, scrape_interval="15s"):
    options = obs_prometheus.PrometheusOptions(
        mode=str(mode),
        cluster=str(cluster),
        scrape_interval=str(scrape_interval),
        evaluation_interval=str(scrape_interval),
        etcd_targets=tuple(str(t) for t in etcd_targets or ()),
    )
    try:
        return obs_prometheus.prometheus_config(options)
    except obs_prometheus.PrometheusConfigError as err:
        raise AnsibleFilterError(f"prometheus_config: {err}") from err


class FilterModule(object):
    def filters(self):
        return {"prometheus_config": prometheus_config}
