# -*- coding: utf-8 -*-
# Copyright: miniapp-mesh contributors
# Apache-2.0 (see LICENSE)
"""Verify the controller's offline bundle (signature, manifest, SBOM, every file) before anything uses it."""

from __future__ import annotations

import os

from ansible.plugins.action import ActionBase

from ansible_collections.miniapp.mesh.plugins.module_utils import bundle

ARGS = {
    "bundle_dir": {"type": "path", "required": True},
    "signer": {"type": "str", "default": ""},
    "trust_on_first_use": {"type": "bool", "default": False},
}
UNPINNED = (
    "offline_bundle_signer is empty: pin the signer's fingerprint printed by tools/bundle.py build, or set "
    "offline_bundle_trust_on_first_use: true once to accept the key the bundle carries and print its fingerprint"
)
FIRST_USE = (
    "trusted on first use: the bundle was checked against the key it carries (integrity, not origin); "
    "pin offline_bundle_signer: %s"
)


class ActionModule(ActionBase):
    """Runs on the controller only; read-only, so it runs in check mode too."""

    _requires_connection = False
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _, args = self.validate_argument_spec(argument_spec=ARGS)
        if not args["signer"] and not args["trust_on_first_use"]:
            result.update(failed=True, msg=UNPINNED)
            return result
        problems = bundle.verify_dir(args["bundle_dir"], args["signer"] or None)
        if problems:
            result.update(failed=True, problems=problems, msg="the bundle in %s cannot be trusted:\n%s"
                          % (args["bundle_dir"], "\n".join(problems)))  # fmt: skip
            return result
        verified = list(task_vars.get("__offline_bundle_verified_dirs") or [])
        result["ansible_facts"] = {"__offline_bundle_verified_dirs": [*verified, args["bundle_dir"]]}
        result["msg"] = "%s: signature, manifest, SBOM and every file verified" % args["bundle_dir"]
        if not args["signer"]:
            with open(os.path.join(args["bundle_dir"], bundle.PUBLIC_KEY), "rb") as handle:
                result["signer"] = bundle.signer_fingerprint(handle.read())
            result["warnings"] = [FIRST_USE % result["signer"]]
        return result
