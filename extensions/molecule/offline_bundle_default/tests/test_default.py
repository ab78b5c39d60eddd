"""The artifact on the host is the one the table locks, and nothing else was left there."""

import json
import os
import subprocess
from pathlib import Path

import yaml

ARTIFACT_DIR = "/var/cache/miniapp/artifacts"
SERVICES_IMAGE = "miniapp-services-0.1.0-amd64.oci.tar"
TABLE = Path(__file__).resolve().parents[4] / "roles" / "offline_bundle" / "vars" / "main.yml"


def locked_sha256():
    entries = yaml.safe_load(TABLE.read_text())["_offline_bundle_table"]["etcd"]
    return next(e["sha256"] for e in entries if e["version"] == "3.4.23")


def test_artifact_matches_the_table(host):
    artifact = host.file(f"{ARTIFACT_DIR}/etcd-v3.4.23-linux-amd64.tar.gz")
    assert (artifact.user, artifact.mode) == ("root", 0o644)
    assert artifact.sha256sum == locked_sha256()


def test_tampered_copy_never_reached_the_host(host):
    # Images go straight into K3s's import directory: no second copy of them is kept here.
    assert host.file(ARTIFACT_DIR).listdir() == ["etcd-v3.4.23-linux-amd64.tar.gz"]
    assert host.file(f"{ARTIFACT_DIR}/etcd-v3.4.23-linux-amd64.tar.gz").sha256sum == locked_sha256()


def _manifest_sha256(file: str) -> str:
    manifest = json.loads((Path(os.environ["MINIAPP_BUNDLE_DIR"]) / "manifest.json").read_text())
    return next(a["sha256"] for a in manifest["artifacts"] if a["file"] == file)


def test_image_is_where_k3s_imports_it_as_signed(host):
    archive = host.file(f"/var/lib/rancher/k3s/agent/images/{SERVICES_IMAGE}")
    assert (archive.user, archive.mode) == ("root", 0o644)
    assert archive.sha256sum == _manifest_sha256(SERVICES_IMAGE)


def test_image_is_in_the_registry_with_the_archives_digest():
    def digest(ref: str) -> str:
        args = ["skopeo", "inspect", "--tls-verify=false", "--format", "{{.Digest}}", ref]
        return subprocess.run(args, check=True, capture_output=True, text=True).stdout.strip()

    archive = Path(os.environ["MINIAPP_BUNDLE_DIR"]) / SERVICES_IMAGE
    assert digest("docker://127.0.0.1:5599/miniapp-services:0.1.0") == digest(f"oci-archive:{archive}")
