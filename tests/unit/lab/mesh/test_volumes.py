"""The lab's pods' Secret volumes kept as the kubelet keeps them (lab/mesh/volumes.py), and what only recreating a
pod takes up (plan.env_secrets), on the lab catalog's rendered objects."""

from pathlib import Path

import yaml

from ansible_collections.miniapp.mesh.plugins.module_utils import mesh_catalog, mesh_render
from lab.mesh import compile as mesh
from lab.mesh import plan, state, volumes

ROOT = Path(__file__).parents[4]
RAW = yaml.safe_load((ROOT / "inventories/lab/group_vars/all/services_catalog.yml").read_text())["services_catalog"]
OBJECTS = mesh.checked(
    mesh_render.render(
        mesh_catalog.load(RAW),
        mesh_render.RenderOptions(image="x/miniapp-services:0.1.0", store_image="x/miniapp-redis:7.0"),
    )
)
PODS = mesh.pods_from(OBJECTS, "10.89.0.", 10)
LAB = state.build(OBJECTS, PODS, "cluster.local", "http://127.0.0.1:18080", state.Database(name="m", hosts=("pg1",)))
TENANTS_FILE = "pods/{pod}/volumes/etc_miniapp-tenants/tenants.json"


def _lookup(tenants: str) -> plan.SecretLookup:
    """Every Secret key's value named after it; the gateway's tenants file as given."""
    return lambda namespace, name, key: tenants if name == "gateway-tenants" else f"{namespace}/{name}/{key}"


def test_what_containers_take_as_environment_excludes_what_they_mount() -> None:
    found = plan.env_secrets(OBJECTS, _lookup("{}"))
    assert found["miniapp/gateway-db/url"] == "miniapp/gateway-db/url"
    assert found["trade/order-db/url"] == "trade/order-db/url"
    assert not [k for k in found if "gateway-tenants" in k or k.endswith("/ca.crt")]


def test_a_changed_secret_rewrites_the_files_of_the_pods_that_mount_it_and_no_other(tmp_path: Path) -> None:
    first = volumes.refresh(tmp_path, OBJECTS, LAB.pods, _lookup('{"a": 1}'))
    assert "gateway-v1-0" in first  # the first projection writes every pod's files
    assert volumes.refresh(tmp_path, OBJECTS, LAB.pods, _lookup('{"a": 1}')) == []
    path = tmp_path / TENANTS_FILE.format(pod="gateway-v1-0")
    before = path.stat()
    assert volumes.refresh(tmp_path, OBJECTS, LAB.pods, _lookup('{"a": 1, "b": 2}')) == ["gateway-v1-0", "gateway-v1-1"]
    after = path.stat()
    assert path.read_text() == '{"a": 1, "b": 2}'
    # Replaced whole (a new file renamed over the old), private to the container's user as before.
    assert after.st_ino != before.st_ino
    assert (after.st_mode & 0o777, after.st_uid) == (0o400, before.st_uid)
    assert not list(path.parent.glob(".*"))
