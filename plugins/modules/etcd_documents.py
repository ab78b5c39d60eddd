#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: miniapp-mesh contributors
# Apache-2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: etcd_documents
short_description: Make the keys under an etcd prefix hold exactly the given documents
description:
  - Reads every key under O(prefix) with etcdctl, writes the documents that are new or differ and, with
    O(prune), deletes the keys under the prefix that are not given. Unchanged keys are not written, so a rerun
    reports no change.
  - Runs on a host with etcdctl and a client certificate, such as an etcd member with the etcd role's
    C(etcdctl-local). Document values never appear in the output, only their keys.
version_added: 0.3.0
options:
  etcdctl:
    description: The etcdctl to run (etcd API 3), with its endpoints and certificates set.
    type: path
    default: /usr/local/sbin/etcdctl-local
  prefix:
    description: The prefix the documents live under; every key in O(documents) must start with it.
    type: str
    required: true
  documents:
    description: Key -> the document's text.
    type: dict
    required: true
  prune:
    description: Delete the keys under O(prefix) that O(documents) does not name.
    type: bool
    default: true
author:
  - miniapp-mesh contributors
"""

EXAMPLES = r"""
- name: Write the tenants' configuration into the config centre
  miniapp.mesh.etcd_documents:
    prefix: /config/
    documents:
      /config/wx1f9d9f1d49d0f12b/app.yaml: '{"rate_limit_rps": 50}'
  delegate_to: etcd1
"""

RETURN = r"""
written:
  description: Keys written (new or changed), or that would be in check mode.
  returned: always
  type: list
  elements: str
deleted:
  description: Keys deleted, or that would be in check mode.
  returned: always
  type: list
  elements: str
"""

import base64
import json

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.miniapp.mesh.plugins.module_utils import kv_sync


def current(module, etcdctl, prefix):
    """Every key under prefix and its value, as etcd holds them now."""
    rc, out, err = module.run_command([etcdctl, "get", "--prefix", prefix, "-w", "json"])
    if rc != 0:
        module.fail_json(msg="etcdctl get --prefix %s failed: %s" % (prefix, err.strip()))
    found = json.loads(out).get("kvs", [])
    return {base64.b64decode(kv["key"]).decode(): base64.b64decode(kv.get("value", "")).decode() for kv in found}


def main():
    module = AnsibleModule(
        argument_spec={
            "etcdctl": {"type": "path", "default": "/usr/local/sbin/etcdctl-local"},
            "prefix": {"type": "str", "required": True},
            "documents": {"type": "dict", "required": True},
            "prune": {"type": "bool", "default": True},
        },
        supports_check_mode=True,
    )
    params = module.params
    wanted = {str(k): str(v) for k, v in params["documents"].items()}
    try:
        changes = kv_sync.plan(
            params["prefix"], current(module, params["etcdctl"], params["prefix"]), wanted, params["prune"]
        )
    except kv_sync.KvSyncError as err:
        module.fail_json(msg=str(err))
    if not module.check_mode:
        for key, value in changes.puts.items():
            rc, _, err = module.run_command([params["etcdctl"], "put", key], data=value, binary_data=True)
            if rc != 0:
                module.fail_json(msg="etcdctl put %s failed: %s" % (key, err.strip()))
        for key in changes.deletes:
            rc, _, err = module.run_command([params["etcdctl"], "del", key])
            if rc != 0:
                module.fail_json(msg="etcdctl del %s failed: %s" % (key, err.strip()))
    diff = {"before": "\n".join(sorted(changes.deletes)) + "\n", "after": "\n".join(sorted(changes.puts)) + "\n"}
    module.exit_json(changed=bool(changes), written=sorted(changes.puts), deleted=list(changes.deletes), diff=diff)


if __name__ == "__main__":
    main()
