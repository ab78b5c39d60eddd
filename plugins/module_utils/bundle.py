# -*- coding: utf-8 -*-
# Copyright: miniapp-mesh contributors
# Apache-2.0 (see LICENSE)
"""Pure functions of the offline bundle: manifest, CycloneDX SBOM, verification and locking."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

MANIFEST_FORMAT = "miniapp-bundle/1"


def manifest_entry(name, entry, size, sha256):
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


def build_manifest(artifacts, created):
    """The manifest: artifacts sorted by file, so identical bundles give identical manifests."""
    return {"format": MANIFEST_FORMAT, "created": created, "artifacts": sorted(artifacts, key=lambda a: a["file"])}


def verify_files(manifest, present):
    """Compare the manifest with the files present.

    Args:
        manifest: A manifest from build_manifest.
        present: ``{file: (size, sha256)}`` of the files found beside it.

    Returns:
        One line per problem, naming the file; empty when everything matches.
    """
    problems = []
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


def cyclonedx(manifest, serial_uuid):
    """A CycloneDX 1.5 SBOM with one component per artifact of the manifest."""
    components = []
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


def sbom_disagreements(sbom, manifest):
    """Files whose SBOM hash differs from the manifest's, or that only one of them lists."""
    in_sbom = {}
    for component in sbom.get("components", []):
        props = {p["name"]: p["value"] for p in component.get("properties", [])}
        in_sbom[props.get("miniapp:file")] = component["hashes"][0]["content"]
    in_manifest = {item["file"]: item["sha256"] for item in manifest["artifacts"]}
    return sorted(f for f in set(in_sbom) | set(in_manifest) if in_sbom.get(f) != in_manifest.get(f))


def lock_checksum(table_text, file_name, sha256):
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
