# -*- coding: utf-8 -*-
# Copyright: miniapp-mesh contributors
# Apache-2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: preflight_inventory_findings
short_description: Inventory-wide preflight rules, as failure lines
version_added: 0.1.0
description:
  - Checks that every host has its own node name and that the etcd group has an odd number of members.
  - Returns one line per failed rule, naming the rule, what was seen and the fix; an empty list when all pass.
positional: group, members
options:
  _input:
    description: Map of inventory host to its node name (C(ansible_facts.nodename)).
    type: dict
    required: true
  group:
    description: Name of the etcd inventory group.
    type: str
    required: true
  members:
    description: Hosts in that group.
    type: list
    elements: str
    required: true
"""

EXAMPLES = r"""
failures: "{{ nodenames | miniapp.mesh.preflight_inventory_findings('etcd', groups['etcd'] | default([])) }}"
"""

RETURN = r"""
_value:
  description: One line per failed rule.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.collections import is_sequence

from ansible_collections.miniapp.mesh.plugins.module_utils import preflight as pf


def preflight_inventory_findings(nodenames, group, members):
    if not isinstance(nodenames, dict):
        raise AnsibleFilterError("preflight_inventory_findings: input must be a dict of host to node name")
    if not is_sequence(members):
        raise AnsibleFilterError("preflight_inventory_findings: members must be a list of hosts")
    findings = [pf.unique_nodenames(nodenames), pf.odd_members(group, list(members))]
    return [pf.describe("inventory", item) for item in findings if item["status"] == pf.FAIL]


class FilterModule(object):
    def filters(self):
        return {"preflight_inventory_findings": preflight_inventory_findings}
