"""The wheelhouse: pinned wheels only (a changed hash is refused), packed reproducibly, and installable on a
machine without an index; the binary recipe repacks byte-identically."""

import hashlib
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from lab.bundle import wheels
from lab.bundle.debian import repack

SIX = (
    "six==1.17.0 \\\n"
    "    --hash=sha256:4721f391ed90541fddacab5acf947aa0d3dc7d27b2e1e8eda2be8970586c3274 \\\n"
    "    --hash=sha256:ff70335d468e7eb6ec65b95b99d3a2836546063f63acc5171de367e834932a81\n"
)


def test_wheelhouse_is_reproducible_and_installs_offline(tmp_path: Path) -> None:
    first = wheels.pack_wheelhouse(SIX, tmp_path / "a" / "wh.tar.gz")
    second = wheels.pack_wheelhouse(SIX, tmp_path / "b" / "wh.tar.gz")
    assert hashlib.sha256(first.read_bytes()).digest() == hashlib.sha256(second.read_bytes()).digest()
    with tarfile.open(first) as tar:
        tar.extractall(tmp_path / "x", filter="data")
    wheelhouse = tmp_path / "x" / "wh"
    assert sorted(p.name for p in wheelhouse.iterdir()) == ["requirements.txt", "six-1.17.0-py2.py3-none-any.whl"]
    subprocess.run([sys.executable, "-m", "venv", tmp_path / "venv"], check=True)
    install = [tmp_path / "venv/bin/pip", "install", "--quiet", "--no-index", "--find-links", wheelhouse]
    subprocess.run([*install, "--require-hashes", "-r", wheelhouse / "requirements.txt"], check=True)
    assert subprocess.run([tmp_path / "venv/bin/python", "-c", "import six"], check=False).returncode == 0


def test_a_wheel_whose_hash_changed_is_refused(tmp_path: Path) -> None:
    with pytest.raises(subprocess.CalledProcessError):
        wheels.pack_wheelhouse(SIX.replace("4721f391", "00000000"), tmp_path / "wh.tar.gz")
    assert not (tmp_path / "wh.tar.gz").exists()


def test_repack_is_byte_identical(tmp_path: Path) -> None:
    (tmp_path / "root/bin").mkdir(parents=True)
    (tmp_path / "root/bin/tool").write_bytes(b"#!/bin/sh\n")
    repack(tmp_path / "root", ["bin/tool"], "tool-1", tmp_path / "one.tar.gz")
    repack(tmp_path / "root", ["bin/tool"], "tool-1", tmp_path / "two.tar.gz")
    assert (tmp_path / "one.tar.gz").read_bytes() == (tmp_path / "two.tar.gz").read_bytes()
