"""Manifest, SBOM and lock: round trips and the messages a delivery engineer sees."""

import json

import pytest

from ansible_collections.miniapp.mesh.plugins.module_utils import bundle

ENTRY = {
    "version": "3.4.23",
    "arch": "amd64",
    "file": "etcd.tar.gz",
    "source": "https://example.invalid/etcd.tar.gz",
    "license": "Apache-2.0",
}
LAB = {"version": "1.0", "arch": "amd64", "file": "lab.tar.gz", "source": "lab:debian x=1", "license": ""}


@pytest.fixture
def manifest():
    return bundle.build_manifest(
        [bundle.manifest_entry("lab", LAB, 10, "b" * 64), bundle.manifest_entry("etcd", ENTRY, 20, "a" * 64)],
        "2026-11-26T00:00:00Z",
    )


def test_manifest_is_sorted_and_survives_json(manifest):
    assert [a["file"] for a in manifest["artifacts"]] == ["etcd.tar.gz", "lab.tar.gz"]
    assert json.loads(json.dumps(manifest)) == manifest


def test_verify_files_accepts_a_complete_bundle(manifest):
    assert bundle.verify_files(manifest, {"etcd.tar.gz": (20, "a" * 64), "lab.tar.gz": (10, "b" * 64)}) == []


@pytest.mark.parametrize(
    ("present", "expected"),
    [
        (
            {"lab.tar.gz": (10, "b" * 64)},
            "etcd.tar.gz: missing from the bundle; fetch it on a connected machine with: "
            "python tools/bundle.py build BUNDLE_DIR etcd@3.4.23 (source: https://example.invalid/etcd.tar.gz)",
        ),
        (
            {"etcd.tar.gz": (20, "c" * 64), "lab.tar.gz": (10, "b" * 64)},
            "etcd.tar.gz: sha256 " + "c" * 64 + " does not match",
        ),
        ({"etcd.tar.gz": (21, "a" * 64), "lab.tar.gz": (10, "b" * 64)}, "etcd.tar.gz: 21 bytes, the manifest says 20"),
    ],
    ids=["missing", "tampered", "truncated-size"],
)
def test_verify_files_names_the_file(manifest, present, expected):
    (problem,) = bundle.verify_files(manifest, present)
    assert problem.startswith(expected)


def test_sbom_round_trip(manifest):
    sbom = json.loads(json.dumps(bundle.cyclonedx(manifest, "00000000-0000-4000-8000-000000000000")))
    assert sbom["bomFormat"] == "CycloneDX"
    assert sbom["specVersion"] == "1.5"
    assert bundle.sbom_disagreements(sbom, manifest) == []
    etcd = next(c for c in sbom["components"] if c["name"] == "etcd")
    assert etcd["licenses"] == [{"license": {"id": "Apache-2.0"}}]
    assert etcd["externalReferences"] == [{"type": "distribution", "url": ENTRY["source"]}]


def test_sbom_disagreement_is_named(manifest):
    sbom = bundle.cyclonedx(manifest, "00000000-0000-4000-8000-000000000000")
    sbom["components"][0]["hashes"][0]["content"] = "f" * 64
    assert bundle.sbom_disagreements(sbom, manifest) == ["etcd.tar.gz"]


TABLE = """_offline_bundle_table:
  etcd:
    - version: "3.5.21"
      file: etcd-v3.5.21.tar.gz
      source: https://example.invalid/a
      sha256: null  # not locked
      license: Apache-2.0
    - version: "3.4.23"
      file: etcd-v3.4.23.tar.gz
      sha256: null
"""


def test_lock_records_only_that_file():
    locked = bundle.lock_checksum(TABLE, "etcd-v3.4.23.tar.gz", "d" * 64)
    assert "sha256: " + "d" * 64 in locked
    assert "sha256: null  # not locked" in locked
    assert locked.count("sha256: null") == 1


@pytest.mark.parametrize("file_name", ["unknown.tar.gz", "etcd-v3.4.23.tar.gz"], ids=["unknown", "already-locked"])
def test_lock_refuses(file_name):
    text = bundle.lock_checksum(TABLE, "etcd-v3.4.23.tar.gz", "d" * 64)
    with pytest.raises(ValueError, match=file_name):
        bundle.lock_checksum(text, file_name, "e" * 64)
