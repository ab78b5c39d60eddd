# -*- coding: utf-8 -*-
# Copyright: miniapp-mesh contributors
# Apache-2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: observability_stack
short_description: Configuration files and Kubernetes objects of Prometheus, Loki, Alloy and Grafana
version_added: 0.1.0
description:
  - Builds prometheus.yml (plugins/module_utils/obs_prometheus.py), Loki's configuration, Grafana Alloy's pipeline,
    Grafana's datasources and dashboard provider, each checked by a strict model of the fields used, and the
    Kubernetes objects that run them from the site's registry.
  - A bad setting fails with a message naming it and the fix.
options:
  _input:
    description:
      - Settings with keys C(mode), C(cluster), C(namespace), C(etcd_targets), C(scrape_interval),
        C(prometheus_retention), C(loki_retention), C(images) (prometheus, loki, alloy, grafana), C(rules) and
        C(dashboards) (file name to content), C(storage) (prometheus, loki, grafana sizes) and C(storage_class).
    type: dict
    required: true
"""

EXAMPLES = r"""
stack: "{{ settings | miniapp.mesh.observability_stack }}"
"""

RETURN = r"""
_value:
  description: Keys prometheus_config, loki_config, alloy_config, datasources, providers and objects.
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.miniapp.mesh.plugins.module_utils import obs_stack


def _plain(value):
    """Ansible's templated containers and tagged strings as the builtin types the models expect."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value


def observability_stack(settings):
    try:
        return obs_stack.build(_plain(settings))
    except (ValueError, KeyError, TypeError) as err:
        raise AnsibleFilterError("observability_stack: %s" % err) from err


class FilterModule(object):
    def filters(self):
        return {"observability_stack": observability_stack}
