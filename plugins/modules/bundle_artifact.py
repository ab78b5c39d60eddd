#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: miniapp-mesh contributors
# Apache-2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: bundle_artifact
short_description: Put one artifact of the verified offline bundle on a host, checked on both ends
description:
  - Looks the artifact up in the artifact table and takes the sha256 it must have (the table's lock, or for public
    images and this repository's own builds the bundle's signed manifest).
  - Requires the bundle to have been verified in this run by M(miniapp.mesh.bundle_verify), and the verified
    manifest to list the file with that sha256; a file the table does not lock, the bundle lacks or the manifest
    disagrees on is refused with the command that fixes it.
  - With O(dest), hashes the host's copy (sha256) and copies the file only when it is missing or differs, then
    checks what arrived. Without it, only the controller side runs (for images copied into a registry).
  - One task per artifact: a rerun with nothing to do costs one stat on the host.
version_added: 0.2.0
options:
  bundle_dir:
    description: The verified bundle directory on the controller.
    type: path
    required: true
  table:
    description: The artifact table (name -> entries with C(version), C(arch), C(file), C(source), C(sha256)).
    type: dict
    required: true
  name:
    description: The artifact's name in the table.
    type: str
    required: true
  version:
    description: The artifact's version.
    type: str
    required: true
  arch:
    description:
      - The table's architecture name for the host (C(amd64), C(arm64)).
      - Defaults to the host's gathered C(ansible_facts.architecture), mapped to those names.
    type: str
  dest:
    description: The directory on the host the file goes into (root-owned, mode 0644 in a 0755 directory).
    type: path
author:
  - miniapp-mesh contributors
"""

EXAMPLES = r"""
- name: Put the etcd release on the host
  miniapp.mesh.bundle_artifact:
    bundle_dir: /srv/bundle
    table: "{{ lookup('miniapp.mesh.bundle_table', 'artifacts') }}"
    name: etcd
    version: "3.5.21"
    dest: /var/cache/miniapp/artifacts
  register: etcd_release
"""

RETURN = r"""
path:
  description: The file on the host (the controller's verified file when O(dest) is not given).
  returned: success
  type: str
local_path:
  description: The verified file in the controller's bundle.
  returned: success
  type: str
sha256:
  description: The sha256 both copies have.
  returned: success
  type: str
present:
  description: Whether the file is on the host after the task (false only in check mode before the first copy).
  returned: success
  type: bool
artifact:
  description: The artifact's table entry.
  returned: success
  type: dict
"""
