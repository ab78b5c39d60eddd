"""The pods' ConfigMap and Secret volumes as the kubelet keeps them: projected into a directory per volume
mounted read-only, and rewritten in place when their object changes, without restarting the pod (a Secret's
files readable by the container's user alone, 0400). Each file is replaced whole (written aside, then renamed),
so an app reading it never sees half a file. What a container takes from a Secret as an environment variable,
the kubelet does not update: a change there recreates the lab's mesh (lab/mesh/up.py's fingerprint)."""

from __future__ import annotations

import os
from pathlib import Path

from lab.mesh import plan
from lab.mesh.objects import Objects
from lab.mesh.state import LabPod


def _directory(root: Path, pod: str, mount_path: str) -> Path:
    return root / "pods" / pod / "volumes" / mount_path.strip("/").replace("/", "_")


def _write(path: Path, content: str, secret: bool, user: int) -> bool:
    """Replace the file when its content differs; whether it did."""
    if path.exists() and path.read_text() == content:
        return False
    aside = path.with_name(f".{path.name}.new")
    aside.unlink(missing_ok=True)
    aside.touch(mode=0o600)
    aside.write_text(content)
    if secret:
        os.chown(aside, user, -1)
    aside.chmod(0o400 if secret else 0o644)
    aside.replace(path)
    return True


def project(root: Path, pod: str, files: dict[str, plan.Projection], user: int) -> tuple[list[str], bool]:
    """Write the pod's volume files; the podman arguments that mount them read-only, and whether any changed."""
    args, changed = [], False
    for mount_path, projection in files.items():
        directory = _directory(root, pod, mount_path)
        directory.mkdir(parents=True, exist_ok=True)
        for name, content in projection.files.items():
            changed |= _write(directory / name, content, projection.secret, user)
        args += ["-v", f"{directory}:{mount_path}:ro"]
    return args, changed


def refresh(root: Path, objects: Objects, pods: tuple[LabPod, ...], lookup: plan.SecretLookup) -> list[str]:
    """Rewrite every running pod's volumes from the objects and Secrets as they are now; the pods whose
    files changed."""
    updated = []
    for pod in pods:
        workload = objects.workload(pod.namespace, pod.app, pod.version)
        user = workload.container.get("securityContext", {}).get("runAsUser", 0)
        _, changed = project(root, pod.name, plan.volume_files(objects, workload, lookup), user)
        if changed:
            updated.append(pod.name)
    return updated
