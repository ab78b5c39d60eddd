"""Build lab artifacts from Debian packages, packaged like the upstream release tarballs.

For a table entry whose source is ``lab:debian PKG=VERSION ...``, download those exact package
versions with apt (which checks Debian's signatures) and repack their binaries reproducibly
(sorted, mtime 0, root owner, gzip without name or time), so the table can lock the result's
sha256. tools/bundle.py calls build() and verifies the result.
"""

import gzip
import io
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Any

BINARIES = {"etcd": ["usr/bin/etcd", "usr/bin/etcdctl"], "prometheus": ["usr/bin/prometheus", "usr/bin/promtool"]}


def unpack_debs(packages: list[str], workdir: Path) -> Path:
    """Download the pinned packages and unpack them into workdir/root."""
    subprocess.run(["apt-get", "download", "-q", *packages], cwd=workdir, check=True, capture_output=True)
    root = workdir / "root"
    for deb in sorted(workdir.glob("*.deb")):
        subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    return root


def repack(root: Path, members: list[str], top: str, out: Path, mode: int = 0o755) -> None:
    """Write a tarball of members under top/, byte-identical for identical inputs."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for member in sorted(members):
            info = tar.gettarinfo(str(root / member), arcname=f"{top}/{Path(member).name}")
            info.mtime, info.uid, info.gid, info.uname, info.gname, info.mode = 0, 0, 0, "root", "root", mode
            with (root / member).open("rb") as handle:
                tar.addfile(info, handle)
    with out.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
        gz.write(buffer.getvalue())


def build(name: str, entry: dict[str, Any], out_dir: Path) -> Path:
    """Write the artifact into out_dir unless it is there already; return its path."""
    out = out_dir / str(entry["file"])
    if not out.exists():
        packages = entry["source"].split()[1:]
        with tempfile.TemporaryDirectory() as tmp:
            root = unpack_debs(packages, Path(tmp))
            repack(root, BINARIES[name], entry["file"].removesuffix(".tar.gz"), out)
    return out
