"""The services image's table entry: built here, checksum from the signed manifest, version from its package."""

import tomllib
from pathlib import Path

import yaml

from tools import bundle_image

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


def test_only_this_repositorys_own_builds_may_skip_the_table_checksum() -> None:
    for name, entries in TABLE.items():
        for entry in entries:
            own = bundle_image.is_built(entry) or entry["source"] == "lab:wheelhouse"
            assert (entry["sha256"] == bundle_image.BUILT) == own, name


def test_the_table_lists_every_artifact_a_site_needs() -> None:
    assert set(TABLE) >= {
        "k3s", "k3s-airgap-images", "etcd", "istio", "istio-pilot-image", "istio-proxyv2-image", "istio-cni-image",
        "envoy", "prometheus", "prometheus-image", "loki-image", "alloy-image", "tempo-image", "grafana-image", "miniapp-postgres",
        "miniapp-redis", "miniapp-services", "miniapp-wheelhouse",
    }  # fmt: skip
    for name, entries in TABLE.items():
        for entry in entries:
            assert set(entry) == {"version", "arch", "file", "source", "sha256", "license"}, name
            assert entry["source"].startswith(("https://", "image:", "lab:", "build:")), name
            assert entry["sha256"] in (None, bundle_image.BUILT) or len(entry["sha256"]) == 64, name
            assert entry["license"], name
