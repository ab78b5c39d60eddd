#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: miniapp-mesh contributors
# Apache-2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: x509_leaves_current
short_description: Tell which of a host's leaf certificates must be issued again
description:
  - Reads each leaf's certificate and private key and the CA certificate on the host, and reports the
    leaves whose certificate is missing, unreadable, not signed by the CA, not for the key beside it,
    different from the spec (common name, subject alternative names, extended key usage) or expiring.
  - One task judges every leaf of a host, so the issuing tasks run only for leaves that need them.
  - Never changes the host. Private keys are read to compare public keys and are never returned.
version_added: 0.2.0
options:
  ca_path:
    description: The CA certificate the leaves must be signed by.
    type: path
    required: true
  leaves:
    description:
      - One entry per leaf, with C(name), C(dir) (the certificate is C(dir/name.crt), its key C(dir/name.key)),
        C(common_name), C(sans) (C(DNS:) and C(IP:) names) and C(usage) (C(serverAuth), C(clientAuth)).
    type: list
    elements: dict
    required: true
  renew_before_days:
    description: A certificate that expires within this many days counts as expiring and is issued again.
    type: int
    default: 30
requirements:
  - python3-cryptography on the host
author:
  - miniapp-mesh contributors
"""

EXAMPLES = r"""
- name: Check this member's certificates
  miniapp.mesh.x509_leaves_current:
    ca_path: /etc/etcd/pki/ca.crt
    leaves:
      - {name: server, dir: /etc/etcd/pki, common_name: etcd1-server, sans: ["DNS:etcd1", "IP:10.0.0.1"], usage: [serverAuth, clientAuth]}
  register: pki
"""

RETURN = r"""
stale:
  description: The leaves to issue again, each with the reason.
  returned: always
  type: list
  elements: dict
  sample: [{name: server, reason: "subject alternative names are not DNS:etcd1, IP:10.0.0.2"}]
expiring:
  description: Names of the stale leaves that are only expiring, so their signing must be forced.
  returned: always
  type: list
  elements: str
  sample: [peer]
"""

import datetime
import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.miniapp.mesh.plugins.module_utils import x509_leaves

LEAF_OPTIONS = {
    "name": {"type": "str", "required": True},
    "dir": {"type": "path", "required": True},
    "common_name": {"type": "str", "required": True},
    "sans": {"type": "list", "elements": "str", "default": []},
    "usage": {"type": "list", "elements": "str", "required": True, "choices": sorted(x509_leaves.USAGES)},
}


def read(path):
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except (IOError, OSError):
        return None


def main():
    module = AnsibleModule(
        argument_spec={
            "ca_path": {"type": "path", "required": True},
            "leaves": {"type": "list", "elements": "dict", "required": True, "options": LEAF_OPTIONS},
            "renew_before_days": {"type": "int", "default": 30},
        },
        supports_check_mode=True,
    )
    ca_pem = read(module.params["ca_path"])
    if ca_pem is None:
        module.fail_json(msg="ca_path %s cannot be read: issue the CA first" % module.params["ca_path"])
    now = datetime.datetime.now(datetime.timezone.utc)
    renew_before = datetime.timedelta(days=module.params["renew_before_days"])
    stale = []
    for leaf in module.params["leaves"]:
        base = os.path.join(leaf["dir"], leaf["name"])
        reason = x509_leaves.judge(ca_pem, leaf, read(base + ".crt"), read(base + ".key"), now, renew_before)
        if reason is not None:
            stale.append({"name": leaf["name"], "reason": reason})
    expiring = [leaf["name"] for leaf in stale if leaf["reason"] == x509_leaves.EXPIRING]
    module.exit_json(changed=False, stale=stale, expiring=expiring)


if __name__ == "__main__":
    main()
