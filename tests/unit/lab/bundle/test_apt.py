"""The flat apt repository recipe: the pinned closure read from apt's simulation, and a Packages index apt
can resolve from (control fields, file name, size and sha256 of each package)."""

import hashlib
import subprocess
from pathlib import Path

from lab.bundle import apt

SIMULATED = """NOTE: This is only a simulation!
Inst netbase (6.4 Debian:12.15/oldstable [all])
Inst libpq5 (15.18-0+deb12u1 Debian:12.15/oldstable [amd64])
Conf netbase (6.4 Debian:12.15/oldstable [all])
Inst libllvm14 (1:14.0.6-12 Debian:12.15/oldstable [amd64])
"""


def test_the_closure_pins_every_package_apt_would_unpack_in_its_order() -> None:
    assert apt.closure(SIMULATED) == ["netbase=6.4", "libpq5=15.18-0+deb12u1", "libllvm14=1:14.0.6-12"]
    assert apt.closure("Reading package lists...\n") == []


def _deb(tmp: Path, name: str, version: str) -> Path:
    root = tmp / name
    (root / "DEBIAN").mkdir(parents=True)
    (root / "DEBIAN" / "control").write_text(
        f"Package: {name}\nVersion: {version}\nArchitecture: all\nMaintainer: lab <lab@localhost>\n"
        f"Description: {name} for the test\n"
    )
    deb = tmp / f"{name}_{version}_all.deb"
    subprocess.run(["dpkg-deb", "--build", "--root-owner-group", str(root), str(deb)], check=True, capture_output=True)
    return deb


def test_the_index_names_each_package_with_its_size_and_digest(tmp_path: Path) -> None:
    debs = [_deb(tmp_path, "zeta", "2.0"), _deb(tmp_path, "alpha", "1.0")]
    stanzas = apt.packages_index(debs).split("\n\n")
    assert [s.splitlines()[0] for s in stanzas] == ["Package: alpha", "Package: zeta"]
    first = dict(line.split(": ", 1) for line in stanzas[0].splitlines())
    assert first["Filename"] == "./alpha_1.0_all.deb"
    assert first["Size"] == str(debs[1].stat().st_size)
    assert first["SHA256"] == hashlib.sha256(debs[1].read_bytes()).hexdigest()
