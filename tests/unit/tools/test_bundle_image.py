"""The services image's table entry: built here, checksum from the signed manifest, version from its package."""

import tomllib
from pathlib import Path

import bundle_image
import yaml

ROOT = Path(__file__).resolve().parents[3]
TABLE = yaml.safe_load((ROOT / "roles/offline_bundle/vars/main.yml").read_text())["_offline_bundle_table"]


def test_services_image_entry_is_built_with_the_package_version() -> None:
    (entry,) = TABLE["miniapp-services"]
    version = tomllib.loads((ROOT / "services/pyproject.toml").read_text())["project"]["version"]
    assert bundle_image.is_built(entry)
    assert entry["sha256"] == bundle_image.BUILT
    assert entry["version"] == version
    assert entry["file"] == f"miniapp-services-{version}-amd64.oci.tar"
    assert (ROOT / entry["source"].removeprefix(bundle_image.PREFIX)).is_file()


def test_only_own_images_may_skip_the_table_checksum() -> None:
    for name, entries in TABLE.items():
        for entry in entries:
            assert (entry["sha256"] == bundle_image.BUILT) == bundle_image.is_built(entry), name
