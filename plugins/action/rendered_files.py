# -*- coding: utf-8 -*-
# Copyright: miniapp-mesh contributors
# Apache-2.0 (see LICENSE)
"""Write what a role rendered on the controller: many files in one task, each only when its content changed."""

from __future__ import annotations

import fnmatch
import os
import shlex
import subprocess
import tempfile

from ansible.plugins.action import ActionBase

ARGS = {
    "dest": {"type": "path", "required": True},
    "files": {"type": "dict", "required": True},
    "mode": {"type": "str", "default": "0644"},
    "directory_mode": {"type": "str", "default": "0755"},
    "validate": {"type": "dict", "default": {}},
}
DIFF_LIMIT = 256 * 1024  # bytes of a file shown in --diff


def _current(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def _validate(command: str, directory: str, content: str) -> None:
    """Run the check on the new content in a file beside its target; raise with its output when it refuses."""
    with tempfile.NamedTemporaryFile("w", dir=directory, suffix=".check", delete=False, encoding="utf-8") as handle:
        handle.write(content)
    try:
        argv = [part.replace("%s", handle.name) for part in shlex.split(command)]
        done = subprocess.run(argv, capture_output=True, text=True, check=False)  # noqa: S603  # the role's own check
        if done.returncode != 0:
            raise ValueError("%s refused it:\n%s%s" % (command, done.stdout, done.stderr))
    finally:
        os.unlink(handle.name)


def _write(path: str, content: str, mode: int) -> None:
    """Atomically: a reader sees the old file or the new one, never half of it."""
    with tempfile.NamedTemporaryFile("w", dir=os.path.dirname(path), delete=False, encoding="utf-8") as handle:
        handle.write(content)
    os.chmod(handle.name, mode)
    os.replace(handle.name, path)


class ActionModule(ActionBase):
    """Runs on the controller only: the files are the role's review copy, not a host's state."""

    _requires_connection = False
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _, args = self.validate_argument_spec(argument_spec=ARGS)
        mode, directory_mode = int(args["mode"], 8), int(args["directory_mode"], 8)
        changed, diffs = [], []
        for name, content in sorted(args["files"].items()):
            path = os.path.normpath(os.path.join(args["dest"], name))
            if not path.startswith(os.path.normpath(args["dest"]) + os.sep):
                result.update(failed=True, msg="files: %s leaves dest %s; give paths inside it" % (name, args["dest"]))
                return result
            before, content = _current(path), str(content)
            if before == content:
                if not self._task.check_mode and os.stat(path).st_mode & 0o7777 != mode:
                    os.chmod(path, mode)
                    changed.append(name)
                continue
            changed.append(name)
            if self._task.diff and len(content) + len(before or "") <= DIFF_LIMIT:
                diffs.append({"before_header": path, "after_header": path, "before": before or "", "after": content})
            if self._task.check_mode:
                continue
            os.makedirs(os.path.dirname(path), mode=directory_mode, exist_ok=True)
            try:
                for pattern, command in args["validate"].items():
                    if fnmatch.fnmatch(name, pattern):
                        _validate(command, os.path.dirname(path), content)
            except ValueError as err:
                result.update(failed=True, msg="%s: %s" % (path, err), changed=bool(changed[:-1]))
                return result
            _write(path, content, mode)
        result.update(changed=bool(changed), files=changed)
        if diffs:
            result["diff"] = diffs
        return result
