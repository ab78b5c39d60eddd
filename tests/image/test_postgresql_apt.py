"""The bundle's PostgreSQL apt repository is complete: a fresh lab node with no network at all installs
PostgreSQL 15, Patroni, pgBackRest and python3-etcd from it alone, and each runs. Run by `make image-test`.
"""

import subprocess
from pathlib import Path

import pytest
import yaml

from lab.bundle import recipes
from lab.podman import podman

ROOT = Path(__file__).resolve().parents[2]
NODE = subprocess.run(
    [ROOT / "lab/images/build.sh", "node", "--tag-only"], check=True, capture_output=True, text=True
).stdout.strip()
TABLE = yaml.safe_load((ROOT / "roles/offline_bundle/vars/main.yml").read_text())["_offline_bundle_table"]
(ENTRY,) = TABLE["postgresql-apt"]
# Only this repository: the node's own Debian sources are switched off, so a missing package cannot hide.
APT = "-o Dir::Etc::sourcelist=/etc/apt/sources.list.d/miniapp.list -o Dir::Etc::sourceparts=-"
INSTALL = f"""set -e
mkdir -p /opt/miniapp/apt && tar -xzf /bundle/{ENTRY["file"]} -C /opt/miniapp/apt
echo 'deb [trusted=yes] file:/opt/miniapp/apt/{ENTRY["file"].removesuffix(".tar.gz")} ./' \\
  > /etc/apt/sources.list.d/miniapp.list
apt-get {APT} update -qq
DEBIAN_FRONTEND=noninteractive apt-get {APT} install -y -qq --no-install-recommends \\
  postgresql-15 patroni pgbackrest python3-etcd >/dev/null
/usr/lib/postgresql/15/bin/postgres --version
patroni --version
pgbackrest version
python3 -c 'import etcd, psycopg2; print("patroni imports etcd and psycopg2")'
"""


@pytest.fixture(scope="module")
def bundle_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bundle")
    recipes.build("postgresql-apt", ENTRY, out)
    return out


def test_the_repository_is_the_locked_one(bundle_dir: Path) -> None:
    built = subprocess.run(
        ["sha256sum", bundle_dir / ENTRY["file"]], check=True, capture_output=True, text=True
    ).stdout.split()[0]
    assert built == ENTRY["sha256"]


def test_a_node_without_network_installs_and_runs_everything_from_it(bundle_dir: Path) -> None:
    found = podman("run", "--rm", "--network", "none", "-v", f"{bundle_dir}:/bundle:ro", NODE, "bash", "-c", INSTALL)
    assert "postgres (PostgreSQL) 15." in found
    assert "patroni 3.0.2" in found
    assert "pgBackRest 2.45" in found
    assert "patroni imports etcd and psycopg2" in found
