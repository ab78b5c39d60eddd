"""`lab:apt PKG=VERSION ...`: a flat apt repository of exactly these package versions, for hosts with no route out.

The table pins the whole closure (what a fresh node lacks for the packages it needs), so the repository is
reproducible and its sha256 can be locked: apt downloads each exact version (checking Debian's signatures), the
Packages index is written from the packages' own control fields, and the tarball is packed like every other lab
artifact (sorted, mtime 0, root owner). A host adds it as `deb [trusted=yes] file:DIR ./`: the tarball's sha256 is
verified against the signed manifest before it is unpacked, so trust rests on the bundle's signature.

    python -m lab.bundle.apt closure IMAGE PKG ...   # the pinned closure a node made from IMAGE lacks, for the table
"""

from __future__ import annotations

import argparse
import hashlib
import re
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from lab.bundle.debian import repack
from lab.podman import podman

# `apt-get install -s` prints one line per package it would unpack: "Inst NAME (VERSION SOURCE [ARCH])".
_INST = re.compile(r"^Inst (\S+) \((\S+) ")


def packages_index(debs: list[Path]) -> str:
    """The Packages file of a flat repository holding these .deb files side by side."""
    stanzas = []
    for deb in sorted(debs):
        control = subprocess.run(["dpkg-deb", "-f", str(deb)], check=True, capture_output=True, text=True).stdout
        digest = hashlib.sha256(deb.read_bytes()).hexdigest()
        stanzas.append(f"{control.rstrip()}\nFilename: ./{deb.name}\nSize: {deb.stat().st_size}\nSHA256: {digest}\n")
    return "\n".join(stanzas)


def closure(simulated: str) -> list[str]:
    """PKG=VERSION for every package `apt-get install -s` would unpack, in its order."""
    return [f"{m[1]}={m[2]}" for m in (_INST.match(line) for line in simulated.splitlines()) if m]


def build(_name: str, entry: dict[str, Any], out_dir: Path) -> Path:
    """Write the repository's tarball into out_dir unless it is there already; return its path."""
    out = out_dir / str(entry["file"])
    if not out.exists():
        pins = str(entry["source"]).split()[1:]
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            subprocess.run(["apt-get", "download", "-q", *pins], cwd=work, check=True, capture_output=True)
            debs = sorted(work.glob("*.deb"))
            if len(debs) != len(pins):
                raise SystemExit(f"{entry['file']}: {len(pins)} packages pinned, {len(debs)} downloaded")
            (work / "Packages").write_text(packages_index(debs))
            members = [d.name for d in debs] + ["Packages"]
            repack(work, members, str(entry["file"]).removesuffix(".tar.gz"), out, mode=0o644)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab.bundle.apt", description=(__doc__ or "").splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    find = sub.add_parser("closure", help="print the table's source line: the packages a node made from IMAGE lacks")
    find.add_argument("image")
    find.add_argument("packages", nargs="+")
    args = parser.parse_args(argv)
    script = "apt-get update -qq >/dev/null && apt-get install -s --no-install-recommends " + shlex.join(args.packages)
    pins = closure(podman("run", "--rm", args.image, "bash", "-c", script))
    print("lab:apt " + " ".join(pins))
    return 0


if __name__ == "__main__":
    sys.exit(main())
