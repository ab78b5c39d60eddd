# -*- coding: utf-8 -*-
# Copyright: miniapp-mesh contributors
# Apache-2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
name: bundle_table
short_description: The collection's artifact table or its compatibility table
description:
  - Returns one of the two tables every version and checksum lives in, from the collection itself, so a role never
    reads another role's files by path.
  - C(artifacts) is the offline bundle's artifact table (name -> entries with version, arch, file, source, sha256,
    license), kept in C(roles/offline_bundle/vars/main.yml); C(compatibility) is the release compatibility table
    (Kubernetes, Istio and etcd lines), kept in C(roles/offline_bundle/vars/compatibility.yml).
version_added: 0.2.0
options:
  _terms:
    description: Which table, C(artifacts) or C(compatibility).
    required: true
    type: list
    elements: str
author:
  - miniapp-mesh contributors
"""

EXAMPLES = r"""
- name: The services image's version
  ansible.builtin.debug:
    msg: "{{ lookup('miniapp.mesh.bundle_table', 'artifacts')['miniapp-services'][0]['version'] }}"
"""

RETURN = r"""
_raw:
  description: The table, one element per term.
  type: list
  elements: dict
"""

import os

import yaml
from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

_VARS = os.path.join(os.path.dirname(__file__), "..", "..", "roles", "offline_bundle", "vars")
TABLES = {
    "artifacts": ("main.yml", "_offline_bundle_table"),
    "compatibility": ("compatibility.yml", "_offline_bundle_compatibility"),
}


def read_table(which: str) -> dict:
    """One of the collection's tables, by name."""
    if which not in TABLES:
        raise AnsibleLookupError("bundle_table: unknown table %r; use one of %s" % (which, ", ".join(sorted(TABLES))))
    file_name, key = TABLES[which]
    with open(os.path.join(_VARS, file_name)) as handle:
        return yaml.safe_load(handle)[key]


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        return [read_table(term) for term in terms]
