# -*- coding: utf-8 -*-
# Copyright: miniapp-mesh contributors
# Apache-2.0 (see LICENSE)
"""Verify the controller's offline bundle (signature, manifest, SBOM, every file) before anything uses it."""

from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.miniapp.mesh.plugins.module_utils import bundle

ARGS = {
    "bundle_dir": {"type": "path", "required": True},
    "signer": {"type": "str", "default": ""},
}
UNPINNED = (
    "offline_bundle_signer is empty, so the bundle was checked against the key it carries (integrity, not origin). "
    "Pin the fingerprint printed by tools/bundle.py build."
)


class ActionModule(ActionBase):
    """Runs on the controller only; read-only, so it runs in check mode too."""

    _requires_connection = False
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _, args = self.validate_argument_spec(argument_spec=ARGS)
        problems = bundle.verify_dir(args["bundle_dir"], args["signer"] or None)
        if problems:
            result.update(failed=True, problems=problems, msg="the bundle in %s cannot be trusted:\n%s"
                          % (args["bundle_dir"], "\n".join(problems)))  # fmt: skip
            return result
        verified = list(task_vars.get("__offline_bundle_verified_dirs") or [])
        result["ansible_facts"] = {"__offline_bundle_verified_dirs": [*verified, args["bundle_dir"]]}
        result["msg"] = "%s: signature, manifest, SBOM and every file verified" % args["bundle_dir"]
        if not args["signer"]:
            result["warnings"] = [UNPINNED]
        return result
