"""Images in the bundle, against a real registry (Debian's docker-registry on loopback): the lock records
the digest the tag points at, the build copies exactly that digest, and a wrong digest is named."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import socket
import subprocess
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tools import bundle as bundle_tool
from tools import bundle_registry


def _blob(directory: Path, data: bytes, media_type: str) -> dict:
    digest = hashlib.sha256(data).hexdigest()
    (directory / "blobs/sha256").mkdir(parents=True, exist_ok=True)
    (directory / "blobs/sha256" / digest).write_bytes(data)
    return {"mediaType": media_type, "digest": f"sha256:{digest}", "size": len(data)}


def oci_layout(directory: Path, content: bytes) -> Path:
    """A one-layer OCI image layout holding /hello (no container engine needed)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        info = tarfile.TarInfo("hello")
        info.size = len(content)
        tar.addfile(info, io.BytesIO(content))
    layer_tar = raw.getvalue()
    layer = _blob(directory, gzip.compress(layer_tar, mtime=0), "application/vnd.oci.image.layer.v1.tar+gzip")
    config = {
        "architecture": "amd64",
        "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{hashlib.sha256(layer_tar).hexdigest()}"]},
    }
    config_ref = _blob(directory, json.dumps(config).encode(), "application/vnd.oci.image.config.v1+json")
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json"}
    manifest |= {"config": config_ref, "layers": [layer]}
    manifest_ref = _blob(directory, json.dumps(manifest).encode(), manifest["mediaType"])
    manifest_ref["annotations"] = {"org.opencontainers.image.ref.name": "1"}
    (directory / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [manifest_ref]}))
    (directory / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    return directory


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A throwaway registry on 127.0.0.1 holding test/tiny:1; stopped with the module."""
    base = tmp_path_factory.mktemp("registry")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = base / "config.yml"
    config.write_text(
        f"version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {base}/data\nhttp:\n  addr: 127.0.0.1:{port}\n"
    )
    with subprocess.Popen(["docker-registry", "serve", config], stderr=subprocess.DEVNULL) as server:
        try:
            for _ in range(100):
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/v2/", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            layout = oci_layout(base / "layout", b"hello from the bundle test\n")
            subprocess.run(
                ["skopeo", "copy", "--quiet", "--dest-tls-verify=false", f"oci:{layout}:1",
                 f"docker://127.0.0.1:{port}/test/tiny:1"],
                check=True,
            )  # fmt: skip
            yield f"127.0.0.1:{port}"
        finally:
            server.terminate()


def _entry(registry: str, sha256: str | None) -> dict:
    source = f"image:{registry}/test/tiny:1"
    return {"version": "1", "arch": "amd64", "file": "tiny-1.oci.tar", "source": source, "sha256": sha256}


def test_lock_records_the_digest_the_tag_points_at(registry: str, tmp_path: Path, capsys) -> None:
    table = tmp_path / "table.yml"
    table.write_text(
        '_offline_bundle_table:\n  tiny:\n    - version: "1"\n      arch: amd64\n      file: tiny-1.oci.tar\n'
        f'      source: "image:{registry}/test/tiny:1"\n      sha256: null\n      license: MIT\n'
    )
    assert bundle_tool.main(["lock", "--table", str(table)]) == 0
    digest = bundle_registry.resolve_digest(_entry(registry, None))
    assert f"sha256: {digest}" in table.read_text()
    assert f"TRUST ON FIRST USE tiny 1: tiny-1.oci.tar image digest {digest}" in capsys.readouterr().out


def test_fetch_copies_exactly_the_pinned_digest_once(registry: str, tmp_path: Path) -> None:
    entry = _entry(registry, bundle_registry.resolve_digest(_entry(registry, None)))
    archive = bundle_registry.fetch(entry, tmp_path)
    inspected = subprocess.run(
        ["skopeo", "inspect", "--format", "{{.Digest}}", f"oci-archive:{archive}"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    assert inspected == f"sha256:{entry['sha256']}"
    before = archive.stat().st_mtime_ns
    assert bundle_registry.fetch(entry, tmp_path).stat().st_mtime_ns == before


def test_a_wrong_digest_is_named_and_nothing_kept(registry: str, tmp_path: Path) -> None:
    with pytest.raises(bundle_registry.ImageError, match=r"tiny-1\.oci\.tar .*check the digest in the table"):
        bundle_registry.fetch(_entry(registry, "0" * 64), tmp_path)
    assert not (tmp_path / "tiny-1.oci.tar").exists()
