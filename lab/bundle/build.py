"""Build the lab's artifacts from Debian packages, packaged like the upstream release tarballs.

Reads the artifact table (roles/offline_bundle/vars/main.yml). For every entry whose source is
``lab:debian PKG=VERSION ...`` it downloads those exact package versions with apt (which checks
Debian's signatures), repacks their binaries reproducibly (sorted, mtime 0, root owner, gzip -n)
and checks the result against the table's sha256. ``--lock`` records missing checksums instead
(trust on first use, printed). Usage: python lab/bundle/build.py OUT_DIR [--lock]
"""

import gzip
import hashlib
import io
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
TABLE = ROOT / "roles" / "offline_bundle" / "vars" / "main.yml"
BINARIES = {"etcd": ["usr/bin/etcd", "usr/bin/etcdctl"]}


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def unpack_debs(packages: list[str], workdir: Path) -> Path:
    """Download the pinned packages and unpack them into workdir/root."""
    subprocess.run(["apt-get", "download", "-q", *packages], cwd=workdir, check=True, capture_output=True)
    root = workdir / "root"
    for deb in sorted(workdir.glob("*.deb")):
        subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    return root


def repack(root: Path, members: list[str], top: str, out: Path) -> None:
    """Write a tarball of members under top/, byte-identical for identical inputs."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for member in sorted(members):
            info = tar.gettarinfo(str(root / member), arcname=f"{top}/{Path(member).name}")
            info.mtime, info.uid, info.gid, info.uname, info.gname, info.mode = 0, 0, 0, "root", "root", 0o755
            with (root / member).open("rb") as handle:
                tar.addfile(info, handle)
    with out.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
        gz.write(buffer.getvalue())


def build(name: str, entry: dict, out_dir: Path) -> str:
    out = out_dir / entry["file"]
    if not out.exists():
        packages = entry["source"].split()[1:]
        with tempfile.TemporaryDirectory() as tmp:
            root = unpack_debs(packages, Path(tmp))
            repack(root, BINARIES[name], entry["file"].removesuffix(".tar.gz"), out)
    return sha256(out)


def main() -> int:
    out_dir, lock = Path(sys.argv[1]), "--lock" in sys.argv[2:]
    out_dir.mkdir(parents=True, exist_ok=True)
    table = yaml.safe_load(TABLE.read_text())["_offline_bundle_table"]
    status = 0
    for name, entries in table.items():
        for entry in (e for e in entries if str(e["source"]).startswith("lab:debian ")):
            actual = build(name, entry, out_dir)
            if entry["sha256"] is None:
                print(f"{entry['file']}: sha256 {actual} (not locked in {TABLE.relative_to(ROOT)})")
                status = 0 if lock else 1
            elif entry["sha256"] != actual:
                print(
                    f"{entry['file']}: sha256 {actual} does not match the table's {entry['sha256']};"
                    f" delete {out_dir / entry['file']} and rebuild, or review the Debian package pin"
                )
                status = 1
            else:
                print(f"{entry['file']}: verified")
    return status


if __name__ == "__main__":
    sys.exit(main())
