"""miniapp.mesh.bundle_verify and bundle_artifact: a verified bundle's artifact on a host, checked on both ends, in one
task; every refusal names the file and the fix. The host is localhost (connection local)."""

import hashlib
from pathlib import Path

import pytest

from ansible_collections.miniapp.mesh.plugins.module_utils import bundle
from tools import bundle as bundle_tool

TOOL = {"version": "1.0", "arch": "amd64", "file": "tool-1.0.tar.gz", "source": "https://example.invalid/tool.tar.gz",
        "license": "MIT"}  # fmt: skip
IMAGE = {
    "version": "2.0",
    "arch": "amd64",
    "file": "app-2.0.oci.tar",
    "source": "build:app/build.sh",
    "sha256": "built",
}


@pytest.fixture
def signed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A signed bundle of two artifacts: a release the table locks, an own image the manifest records."""
    monkeypatch.setattr(bundle_tool, "SIGNING_KEY", tmp_path / "key" / "signing.key")
    out = tmp_path / "bundle"
    out.mkdir()
    items = []
    for name, entry, data in (("tool", TOOL, b"tool"), ("app", IMAGE, b"image")):
        (out / entry["file"]).write_bytes(data)
        items.append(bundle.manifest_entry(name, entry, len(data), hashlib.sha256(data).hexdigest()))
    bundle_tool.write_signed(out, bundle.build_manifest(items, "2026-12-04T00:00:00Z"))
    return out


def _table(tool_sha: str | None = hashlib.sha256(b"tool").hexdigest()) -> dict:
    return {"tool": [TOOL | {"sha256": tool_sha}], "app": [IMAGE]}


def _signer(bundle_dir: Path) -> str:
    return bundle.signer_fingerprint((bundle_dir / bundle.PUBLIC_KEY).read_bytes())


def _tasks(bundle_dir: Path, dest: Path | None, *, name="tool", version="1.0", table=None, verify=True) -> list:
    place = {"bundle_dir": str(bundle_dir), "table": table or _table(), "name": name, "version": version}
    check = {"bundle_dir": str(bundle_dir), "signer": _signer(bundle_dir)}
    tasks = [{"name": "Verify", "miniapp.mesh.bundle_verify": check}] if verify else []
    return [*tasks, {"name": "Place", "miniapp.mesh.bundle_artifact": place | ({"dest": str(dest)} if dest else {}),
                     "register": "placed"}, {"ansible.builtin.debug": {"msg": "path={{ placed.path }}"}}]  # fmt: skip


def test_the_artifact_reaches_the_host_once_and_verified(signed, tmp_path, play) -> None:
    dest = tmp_path / "host" / "artifacts"
    first = play(_tasks(signed, dest), facts=True)
    assert first.returncode == 0, first.stdout[-3000:]
    assert (dest / "tool-1.0.tar.gz").read_bytes() == b"tool"
    assert oct((dest / "tool-1.0.tar.gz").stat().st_mode & 0o777) == "0o644"
    assert f"path={dest}/tool-1.0.tar.gz" in first.stdout
    assert "changed=1" in first.stdout
    assert "changed=0" in play(_tasks(signed, dest), facts=True).stdout


def test_a_damaged_host_copy_is_replaced(signed, tmp_path, play) -> None:
    dest = tmp_path / "artifacts"
    assert play(_tasks(signed, dest), facts=True).returncode == 0
    (dest / "tool-1.0.tar.gz").write_bytes(b"rot")
    again = play(_tasks(signed, dest), facts=True)
    assert again.returncode == 0
    assert "changed=1" in again.stdout
    assert (dest / "tool-1.0.tar.gz").read_bytes() == b"tool"


def test_an_own_image_is_checked_against_the_signed_manifest(signed, tmp_path, play) -> None:
    done = play(_tasks(signed, tmp_path / "images", name="app", version="2.0"), facts=True)
    assert done.returncode == 0, done.stdout[-3000:]
    assert (tmp_path / "images" / "app-2.0.oci.tar").read_bytes() == b"image"


def test_without_dest_only_the_controller_side_runs(signed, play) -> None:
    done = play(_tasks(signed, None), facts=True)
    assert done.returncode == 0
    assert f"path={signed}/tool-1.0.tar.gz" in done.stdout


def test_check_mode_on_a_first_install_copies_nothing(signed, tmp_path, play) -> None:
    done = play(_tasks(signed, tmp_path / "artifacts"), check=True, facts=True)
    assert done.returncode == 0
    assert "changed=1" in done.stdout
    assert not (tmp_path / "artifacts").exists()


@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        ({"table": _table(hashlib.sha256(b"other").hexdigest())}, "but the table locks"),
        ({"table": _table(None)}, "tool-1.0.tar.gz has no locked sha256"),
        ({"version": "9.9"}, "tool 9.9 for amd64 is not in the artifact table"),
        ({"verify": False}, "has not been verified in this run"),
    ],
    ids=["table-disagrees", "unlocked", "unknown-version", "unverified"],
)
def test_refusals_name_the_file_and_the_fix(signed, tmp_path, play, change, refusal) -> None:
    done = play(_tasks(signed, tmp_path / "artifacts", **change), facts=True)
    assert done.returncode != 0
    assert refusal in done.stdout, done.stdout[-3000:]
    assert not (tmp_path / "artifacts").exists()


def test_an_artifact_missing_from_the_manifest_is_named_with_the_fetch_command(signed, tmp_path, play) -> None:
    table = _table() | {"extra": [TOOL | {"file": "extra.tar.gz", "sha256": "0" * 64}]}
    done = play(_tasks(signed, tmp_path / "artifacts", name="extra", table=table), facts=True)
    assert done.returncode != 0
    assert f"extra.tar.gz is missing from the bundle ({signed}); fetch it with" in done.stdout


def test_a_tampered_bundle_is_not_trusted(signed, tmp_path, play) -> None:
    (signed / "tool-1.0.tar.gz").write_bytes(b"evil")
    done = play(_tasks(signed, tmp_path / "artifacts"), facts=True)
    assert done.returncode != 0
    assert "cannot be trusted" in done.stdout
    assert "tool-1.0.tar.gz: sha256" in done.stdout
    assert not (tmp_path / "artifacts").exists()


def test_no_signer_is_refused_unless_trusted_on_first_use_which_names_the_key(signed, play) -> None:
    refused = play([{"miniapp.mesh.bundle_verify": {"bundle_dir": str(signed)}}])
    assert refused.returncode != 0
    assert "offline_bundle_signer is empty: pin the signer" in refused.stdout
    first_use = play([{"miniapp.mesh.bundle_verify": {"bundle_dir": str(signed), "trust_on_first_use": True}}])
    assert first_use.returncode == 0, first_use.stdout[-2000:]
    assert f"pin offline_bundle_signer: {_signer(signed)}" in first_use.stderr


def test_another_signer_is_refused(signed, play) -> None:
    done = play([{"miniapp.mesh.bundle_verify": {"bundle_dir": str(signed), "signer": "0" * 64}}])
    assert done.returncode != 0
    assert "is not the trusted signer" in done.stdout


def test_the_lookup_reads_the_collections_tables(play) -> None:
    done = play([{"ansible.builtin.debug": {"msg": "{{ lookup('miniapp.mesh.bundle_table', 'artifacts').keys() | sort "
                                                   "| join(',') }} {{ lookup('miniapp.mesh.bundle_table', 'compatibility')"
                                                   ".keys() | sort | join(',') }}"}}])  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:]
    assert "envoy,etcd," in done.stdout
    assert "istio" in done.stdout
    unknown = play([{"ansible.builtin.debug": {"msg": "{{ lookup('miniapp.mesh.bundle_table', 'prices') }}"}}])
    assert unknown.returncode != 0
    assert "unknown table 'prices'; use one of artifacts, compatibility" in unknown.stdout
