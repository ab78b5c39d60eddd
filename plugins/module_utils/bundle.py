# -*- coding: utf-8 -*-
# Copyright: miniapp-mesh contributors
# Apache-2.0 (see LICENSE)
"""The offline bundle's rules, as functions: manifest, CycloneDX SBOM, verification, an artifact's expected
checksum, and locking. tools/bundle.py (build, lock, verify) and the bundle_verify and bundle_artifact actions
use them, so the controller checks a bundle the same way wherever it is checked."""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping
from typing import Any

MANIFEST_FORMAT = "miniapp-bundle/1"
MANIFEST, SBOM, SIGNATURE, PUBLIC_KEY = "manifest.json", "sbom.cdx.json", "manifest.json.sig", "signing.pub"
# The builder's own notes beside an artifact it fetched or saved (which digest or image it holds); tools/bundle.py
# leaves them out of the tarball, so only a builder's directory has them.
BUILDER_MARKERS = (".digest", ".ref")
# The architecture names the table uses, by what hosts report (ansible_facts.architecture, uname -m).
ARCH = {"x86_64": "amd64", "aarch64": "arm64"}


def manifest_entry(name: str, entry: Mapping[str, Any], size: int, sha256: str) -> dict[str, Any]:
    """One artifact of the manifest: file, size, sha256, version and source from the table."""
    return {
        "name": name,
        "file": entry["file"],
        "version": str(entry["version"]),
        "arch": entry.get("arch", ""),
        "size": int(size),
        "sha256": sha256,
        "source": entry["source"],
        "license": entry.get("license", ""),
    }


def build_manifest(artifacts: list[dict[str, Any]], created: str) -> dict[str, Any]:
    """The manifest: artifacts sorted by file, so identical bundles give identical manifests."""
    return {"format": MANIFEST_FORMAT, "created": created, "artifacts": sorted(artifacts, key=lambda a: a["file"])}


def verify_files(manifest: Mapping[str, Any], present: Mapping[str, tuple[int, str]]) -> list[str]:
    """Compare the manifest with the files present.

    Args:
        manifest: A manifest from build_manifest.
        present: ``{file: (size, sha256)}`` of the files found beside it.

    Returns:
        One line per problem, naming the file; empty when everything matches.
    """
    problems: list[str] = []
    for item in manifest["artifacts"]:
        found = present.get(item["file"])
        if found is None:
            problems.append(
                "%s: missing from the bundle; fetch it on a connected machine with: "
                "python tools/bundle.py build BUNDLE_DIR %s@%s (source: %s)"
                % (item["file"], item["name"], item["version"], item["source"])
            )
        elif found[1] != item["sha256"]:
            problems.append(
                "%s: sha256 %s does not match the manifest's %s (damaged or tampered with)"
                % (item["file"], found[1], item["sha256"])
            )
        elif int(found[0]) != item["size"]:
            problems.append("%s: %d bytes, the manifest says %d" % (item["file"], found[0], item["size"]))
    return problems


def cyclonedx(manifest: Mapping[str, Any], serial_uuid: str) -> dict[str, Any]:
    """A CycloneDX 1.5 SBOM with one component per artifact of the manifest."""
    components: list[dict[str, Any]] = []
    for item in manifest["artifacts"]:
        component = {
            "type": "file",
            "bom-ref": item["file"],
            "name": item["name"],
            "version": item["version"],
            "hashes": [{"alg": "SHA-256", "content": item["sha256"]}],
            "properties": [
                {"name": "miniapp:file", "value": item["file"]},
                {"name": "miniapp:arch", "value": item["arch"]},
            ],
        }
        if item["license"]:
            component["licenses"] = [{"license": {"id": item["license"]}}]
        if item["source"].startswith("https://"):
            component["externalReferences"] = [{"type": "distribution", "url": item["source"]}]
        components.append(component)
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": "urn:uuid:%s" % serial_uuid,
        "version": 1,
        "metadata": {
            "timestamp": manifest["created"],
            "component": {"type": "application", "name": "miniapp-mesh-bundle"},
        },
        "components": components,
    }


def sbom_disagreements(sbom: Mapping[str, Any], manifest: Mapping[str, Any]) -> list[str]:
    """Files whose SBOM hash differs from the manifest's, or that only one of them lists."""
    in_sbom: dict[str, str] = {}
    for component in sbom.get("components", []):
        props = {p["name"]: p["value"] for p in component.get("properties", [])}
        in_sbom[props.get("miniapp:file", "")] = component["hashes"][0]["content"]
    in_manifest = {item["file"]: item["sha256"] for item in manifest["artifacts"]}
    return sorted(f for f in set(in_sbom) | set(in_manifest) if in_sbom.get(f) != in_manifest.get(f))


def lock_checksum(table_text: str, file_name: str, sha256: str) -> str:
    """Record ``sha256`` for ``file_name`` in the table's text where it is still ``null``.

    Edits the text in place of a YAML round trip so comments and layout stay as they are.

    Raises:
        ValueError: When the file is not in the table or its checksum is already locked.
    """
    pattern = re.compile(r"(file: %s\n(?:[ \t]+(?!file:)\S.*\n)*?[ \t]+sha256: )null\b" % re.escape(file_name))
    text, count = pattern.subn(lambda m: m.group(1) + sha256, table_text, count=1)
    if count != 1:
        raise ValueError("%s: not in the table, or its sha256 is already locked" % file_name)
    return text


def sha256_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def signer_fingerprint(public_pem: bytes) -> str:
    """sha256 of the signer's public key (PEM), the value a site pins to trust a signer."""
    return hashlib.sha256(public_pem).hexdigest()


def signature_valid(public_pem: bytes, data: bytes, signature: bytes) -> bool:
    """Whether ``signature`` is the Ed25519 signature of ``data`` by the key in ``public_pem``."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    key = serialization.load_pem_public_key(public_pem)
    if not isinstance(key, Ed25519PublicKey):
        return False
    try:
        key.verify(signature, data)
    except InvalidSignature:
        return False
    return True


def unlisted(manifest: Mapping[str, Any], names: list[str]) -> list[str]:
    """The names in a bundle directory that are neither its own files, nor an artifact the manifest lists, nor
    the builder's marker of one: nothing unlisted may ride along with a verified bundle."""
    listed = {item["file"] for item in manifest["artifacts"]}
    own = {MANIFEST, SIGNATURE, PUBLIC_KEY, SBOM}
    markers = {".%s%s" % (f, suffix) for f in listed for suffix in BUILDER_MARKERS}
    return sorted(n for n in names if n not in listed | own | markers)


def verify_dir(directory: str, signer: str | None) -> list[str]:
    """Every problem of a bundle directory, each naming its file; empty when it can be trusted.

    Args:
        directory: The bundle: its files beside manifest.json, its signature, the signer's key and the SBOM.
        signer: The sha256 of the signer's public key the site trusts; None or empty trusts the key shipped
            inside the bundle (integrity only, not origin).
    """
    names = [MANIFEST, SIGNATURE, PUBLIC_KEY, SBOM]
    missing = [n for n in names if not os.path.exists(os.path.join(directory, n))]
    if missing:
        return ["%s: missing from %s; rebuild the bundle with tools/bundle.py build" % (n, directory) for n in missing]

    def read(name: str) -> bytes:
        with open(os.path.join(directory, name), "rb") as handle:
            return handle.read()

    pem, data = read(PUBLIC_KEY), read(MANIFEST)
    if signer and signer_fingerprint(pem) != signer:
        return ["%s: signer %s is not the trusted signer %s" % (PUBLIC_KEY, signer_fingerprint(pem), signer)]
    if not signature_valid(pem, data, read(SIGNATURE)):
        return ["%s: signature does not match; the manifest was changed after signing" % MANIFEST]
    manifest = json.loads(data)
    present = {}
    for name in os.listdir(directory):
        path = os.path.join(directory, name)
        if name not in names and os.path.isfile(path):
            present[name] = (os.path.getsize(path), sha256_file(path))
    problems = verify_files(manifest, present)
    problems += [
        "%s: not listed in the manifest; remove it from %s or rebuild the bundle" % (name, directory)
        for name in unlisted(manifest, os.listdir(directory))
    ]
    sbom = json.loads(read(SBOM))
    return problems + ["%s: disagrees with the manifest on %s" % (SBOM, f) for f in sbom_disagreements(sbom, manifest)]


def find_artifact(table: dict[str, Any], name: str, version: str, arch: str) -> dict[str, Any]:
    """The table's entry for one artifact.

    Raises:
        ValueError: naming the versions the table knows, when it has no such entry.
    """
    entries: list[dict[str, Any]] = table.get(name, [])
    for entry in entries:
        if str(entry["version"]) == str(version) and entry.get("arch", arch) == arch:
            return entry
    known = ", ".join(sorted({str(e["version"]) for e in entries})) or "none"
    raise ValueError(
        "%s %s for %s is not in the artifact table (roles/offline_bundle/vars/main.yml); known versions: %s. "
        "Choose one of them or add the release to the table." % (name, version, arch, known)
    )


def from_manifest(entry: dict[str, Any]) -> bool:
    """Whether the signed manifest, not the table, holds the file's checksum: this repository's own builds
    (``built``) and public images (the table locks their registry digest, not the archive's)."""
    return entry["sha256"] == "built" or str(entry["source"]).startswith("image:")


def expected_sha256(name: str, entry: dict[str, Any], manifest: dict[str, Any], bundle_dir: str) -> str:
    """The sha256 the bundle's file must have: the table's lock, or the signed manifest's for images and own builds.

    Raises:
        ValueError: the table does not lock it, or the manifest does not list it; the message names the fix.
    """
    if entry["sha256"] is None:
        raise ValueError(
            "%s has no locked sha256 (a digest, for an image) in roles/offline_bundle/vars/main.yml. On a connected "
            "machine run `python tools/bundle.py lock`, which prints what it records from %s: check it against the "
            "publisher's signed checksums before shipping." % (entry["file"], entry["source"])
        )
    if not from_manifest(entry):
        return str(entry["sha256"])
    for item in manifest["artifacts"]:
        if item["file"] == entry["file"]:
            return str(item["sha256"])
    raise ValueError(
        "%s is not in the bundle's manifest (%s); build it into the bundle with: python tools/bundle.py build %s "
        "%s@%s (and the other artifacts)" % (entry["file"], bundle_dir, bundle_dir, name, entry["version"])
    )
