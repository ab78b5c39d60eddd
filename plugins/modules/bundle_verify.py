#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: miniapp-mesh contributors
# Apache-2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: bundle_verify
short_description: Verify the controller's offline bundle before any of its artifacts is used
description:
  - Checks the Ed25519 signature over the bundle's manifest against the pinned signer, then every file against
    the manifest (size and sha256), refuses any file the manifest does not list, and checks the CycloneDX SBOM
    against the manifest.
  - Runs on the controller only (an action plugin) and changes nothing, so it runs in check mode too.
  - On success sets the fact C(__offline_bundle_verified_dirs), which M(miniapp.mesh.bundle_artifact) requires.
version_added: 0.2.0
options:
  bundle_dir:
    description: The bundle directory on the controller (the files beside C(manifest.json)).
    type: path
    required: true
  signer:
    description:
      - sha256 of the signer's public key the site trusts, printed by C(tools/bundle.py build).
      - Empty is refused unless O(trust_on_first_use) is set.
    type: str
    default: ""
  trust_on_first_use:
    description:
      - With no O(signer), check the signature against the key shipped inside the bundle (integrity, not origin),
        return its fingerprint as RV(signer) and warn to pin it.
    type: bool
    default: false
author:
  - miniapp-mesh contributors
"""

EXAMPLES = r"""
- name: Verify the bundle once per run
  miniapp.mesh.bundle_verify:
    bundle_dir: /srv/bundle
    signer: 8a24f3c19f33c297476d68c4be5a2807f5005b9d292fd1f4f1a83c2ad35953da
  run_once: true
"""

RETURN = r"""
signer:
  description: The fingerprint of the key the bundle carries, to pin as the signer (trust on first use only).
  returned: success, with trust_on_first_use and no signer
  type: str
  sample: 8a24f3c19f33c297476d68c4be5a2807f5005b9d292fd1f4f1a83c2ad35953da
problems:
  description: Every problem found, each naming its file (on failure).
  returned: failure
  type: list
  elements: str
  sample: ["etcd-v3.4.23-linux-amd64.tar.gz: sha256 ab12... does not match the manifest's cd34... (damaged or tampered with)"]
"""
