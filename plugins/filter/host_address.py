# -*- coding: utf-8 -*-
# Copyright: miniapp-mesh contributors
# Apache-2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: host_address
short_description: The address a host's peers reach it at, from its facts
version_added: 0.1.0
description:
  - The address of the default route's interface, else the first IPv4 address (an air-gapped host may have no
    default route). etcd, K3s and PostgreSQL all pick their members' addresses with it.
options:
  _input:
    description: A host's C(ansible_facts), with the network subset gathered.
    type: dict
    required: true
"""

EXAMPLES = r"""
etcd_address: "{{ ansible_facts | miniapp.mesh.host_address }}"
endpoints: "{{ groups['etcd'] | map('extract', hostvars, 'ansible_facts') | map('miniapp.mesh.host_address') | list }}"
"""

RETURN = r"""
_value:
  description: An IPv4 address.
  type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.miniapp.mesh.plugins.module_utils import preflight as pf


def host_address(facts):
    if not isinstance(facts, dict):
        raise AnsibleFilterError("host_address: input must be a host's ansible_facts (a dict)")
    try:
        return pf.host_address(facts)
    except ValueError as err:
        raise AnsibleFilterError("host_address: %s" % err) from err


class FilterModule(object):
    def filters(self):
        return {"host_address": host_address}
