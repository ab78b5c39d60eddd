"""The lab's one way to run podman (with the project's containers.conf from the environment): its output as
text, and an error naming the command and podman's own message when it fails."""

from __future__ import annotations

import json
import subprocess
from typing import Any


class PodmanError(RuntimeError):
    pass


def podman(*args: str, check: bool = True, stdin: str | None = None) -> str:
    """podman's stdout, stripped; with check, a failure raises with the command and the tail of stderr."""
    done = subprocess.run(["podman", *args], input=stdin, capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise PodmanError(f"podman {' '.join(args[:3])}: {done.stderr.strip()[-1500:]}")
    return done.stdout.strip()


def succeeds(*args: str) -> bool:
    """Whether the podman command exits 0 (a probe run with exec, a container that may not exist)."""
    return subprocess.run(["podman", *args], capture_output=True, check=False).returncode == 0


def inspect(*names: str) -> list[dict[str, Any]]:
    """`podman inspect` of these containers in one call (a call each costs a fraction of a second)."""
    found: list[dict[str, Any]] = json.loads(podman("inspect", *names))
    return found
