# -*- coding: utf-8 -*-
# Copyright: miniapp-mesh contributors
# Apache-2.0 (see LICENSE)
"""Put one artifact of the verified offline bundle on a host, checked against the table on both ends, in one task."""

from __future__ import annotations

import json
import os

from ansible.plugins.action import ActionBase

from ansible_collections.miniapp.mesh.plugins.module_utils import bundle

ARGS = {
    "bundle_dir": {"type": "path", "required": True},
    "table": {"type": "dict", "required": True},
    "name": {"type": "str", "required": True},
    "version": {"type": "str", "required": True},
    "arch": {"type": "str"},
    "dest": {"type": "path"},
}


class ActionModule(ActionBase):
    TRANSFERS_FILES = True
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _, args = self.validate_argument_spec(argument_spec=ARGS)
        try:
            entry, expected = self._expected(args, task_vars)
        except ValueError as err:
            result.update(failed=True, msg=str(err))
            return result
        local = os.path.join(args["bundle_dir"], entry["file"])
        result.update(artifact=entry, sha256=expected, local_path=local, path=local, present=True, changed=False)
        if args["dest"]:
            try:
                result.update(self._place(local, os.path.join(args["dest"], entry["file"]), expected, task_vars))
            except RuntimeError as err:
                result.update(failed=True, msg=str(err))
            finally:
                self._remove_tmp_path(self._connection._shell.tmpdir)
        return result

    def _expected(self, args, task_vars):
        """The table entry and the sha256 the file must have; the bundle was verified whole earlier in the run."""
        if args["bundle_dir"] not in (task_vars.get("__offline_bundle_verified_dirs") or []):
            raise ValueError(
                "%s has not been verified in this run: verify it first (miniapp.mesh.bundle_verify, which the "
                "offline_bundle role's install.yml runs)" % args["bundle_dir"]
            )
        machine = (task_vars.get("ansible_facts") or {}).get("architecture")
        arch = args["arch"] or bundle.ARCH.get(machine, machine)
        if not arch:
            raise ValueError("arch: give the host's architecture (amd64, arm64), or gather facts before this task")
        entry = bundle.find_artifact(args["table"], args["name"], args["version"], arch)
        with open(os.path.join(args["bundle_dir"], bundle.MANIFEST)) as handle:
            manifest = json.load(handle)
        expected = bundle.expected_sha256(args["name"], entry, manifest, args["bundle_dir"])
        # The verified manifest says what each file is: it must be what the table locks.
        signed = {item["file"]: item["sha256"] for item in manifest["artifacts"]}
        if entry["file"] not in signed:
            raise ValueError(
                "%s is missing from the bundle (%s); fetch it with: python tools/bundle.py build %s %s@%s"
                % (entry["file"], args["bundle_dir"], args["bundle_dir"], args["name"], entry["version"])
            )
        if signed[entry["file"]] != expected:
            raise ValueError(
                "%s has sha256 %s but the table locks %s: the file is damaged or tampered with; fetch it again."
                % (os.path.join(args["bundle_dir"], entry["file"]), signed[entry["file"]], expected)
            )
        return entry, expected

    def _place(self, local, path, expected, task_vars):
        """Copy when the host's copy is missing or differs, then check what arrived."""
        found = self._sha256(path, task_vars)
        if found == expected:
            return {"path": path}
        if self._task.check_mode:
            return {"path": path, "changed": True, "present": False}
        self._module("ansible.legacy.file", {"path": os.path.dirname(path), "state": "directory",
                                             "owner": "root", "group": "root", "mode": "0755"}, task_vars)  # fmt: skip
        task = self._task.copy()
        task.args.clear()
        task.args.update(src=local, dest=path, owner="root", group="root", mode="0644")
        copy = self._shared_loader_obj.action_loader.get(
            "ansible.legacy.copy", task=task, connection=self._connection, play_context=self._play_context,
            loader=self._loader, templar=self._templar, shared_loader_obj=self._shared_loader_obj,
        )  # fmt: skip
        copied = copy.run(task_vars=task_vars)
        if copied.get("failed"):
            raise RuntimeError("copying %s to %s failed: %s" % (local, path, copied.get("msg", copied)))
        arrived = self._sha256(path, task_vars)
        if arrived != expected:
            raise RuntimeError("%s on %s has sha256 %s, not %s: the copy was damaged on the host; delete it and rerun."
                               % (path, task_vars.get("inventory_hostname"), arrived, expected))  # fmt: skip
        return {"path": path, "changed": True}

    def _sha256(self, path, task_vars):
        found = self._module("ansible.legacy.stat", {"path": path, "checksum_algorithm": "sha256",
                                                     "get_mime": False, "get_attributes": False}, task_vars)  # fmt: skip
        return found["stat"].get("checksum") if found["stat"]["exists"] else None

    def _module(self, name, module_args, task_vars):
        done = self._execute_module(module_name=name, module_args=module_args, task_vars=task_vars)
        if done.get("failed"):
            raise RuntimeError("%s on the host failed: %s" % (name, done.get("msg", done)))
        return done
