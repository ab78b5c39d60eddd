"""The artifact on the host is the one the table locks, and nothing else was left there."""

from pathlib import Path

import yaml

ARTIFACT_DIR = "/var/cache/miniapp/artifacts"
TABLE = Path(__file__).resolve().parents[4] / "roles" / "offline_bundle" / "vars" / "main.yml"


def locked_sha256():
    entries = yaml.safe_load(TABLE.read_text())["_offline_bundle_table"]["etcd"]
    return next(e["sha256"] for e in entries if e["version"] == "3.4.23")


def test_artifact_matches_the_table(host):
    artifact = host.file(f"{ARTIFACT_DIR}/etcd-v3.4.23-linux-amd64.tar.gz")
    assert (artifact.user, artifact.mode) == ("root", 0o644)
    assert artifact.sha256sum == locked_sha256()


def test_tampered_copy_never_reached_the_host(host):
    assert host.file(ARTIFACT_DIR).listdir() == ["etcd-v3.4.23-linux-amd64.tar.gz"]
    assert host.file(f"{ARTIFACT_DIR}/etcd-v3.4.23-linux-amd64.tar.gz").sha256sum == locked_sha256()
