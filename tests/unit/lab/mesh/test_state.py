"""The lab's typed state built from the lab catalog's rendered objects: services, weights, callers from the
AuthorizationPolicies, pods by version with their containers and identities, and a round trip through JSON."""

from pathlib import Path

import pytest
import yaml

from ansible_collections.miniapp.mesh.plugins.module_utils import mesh_catalog, mesh_render
from lab.mesh import compile as mesh
from lab.mesh import state

ROOT = Path(__file__).parents[4]
RAW = yaml.safe_load((ROOT / "inventories/lab/group_vars/all/services_catalog.yml").read_text())["services_catalog"]
CATALOG = mesh_catalog.load(RAW)
OBJECTS = mesh.checked(
    mesh_render.render(
        CATALOG, mesh_render.RenderOptions(image="x/miniapp-services:0.1.0", store_image="x/miniapp-redis:7.0")
    )
)
DATABASE = state.Database(name="miniapp", hosts=("pg1", "pg2"))
PODS = mesh.pods_from(OBJECTS, "10.89.0.", 10)
LAB = state.build(OBJECTS, PODS, CATALOG.trust_domain, "http://127.0.0.1:1", DATABASE)


def test_services_are_found_by_name_or_fqdn_with_their_split() -> None:
    product = LAB.service("product")
    assert LAB.service("product.miniapp.svc.cluster.local") == product
    assert product.weights == {"v1": 90, "v2": 10}
    assert LAB.service("pay").weights == {"v1": 100}
    with pytest.raises(LookupError, match="no-such names 0 services"):
        LAB.service("no-such")


def test_pods_by_version_carry_their_service_containers_and_identity() -> None:
    v2 = LAB.pods_of("product", "v2")
    assert [p.version for p in v2] == ["v2"]
    assert len(LAB.pods_of("product")) == len(LAB.pods_of("product", "v1")) + 1
    pod = LAB.pod(v2[0].name)
    assert pod.service == "product.miniapp.svc.cluster.local"
    assert (pod.app_container, pod.sidecar_container) == (f"{pod.name}-app", f"{pod.name}-envoy")
    assert pod.spiffe_id("example.org") == "spiffe://example.org/ns/miniapp/sa/product"
    with pytest.raises(LookupError, match="no pod nope"):
        LAB.pod("nope")


@pytest.mark.parametrize("name", [s.name for s in CATALOG.services])
def test_callers_are_the_pods_the_policies_admit_as_the_catalog_calls_them(name: str) -> None:
    """The same edges as the catalog's `calls`, now read back from the AuthorizationPolicies: an edge written
    once, enforced once, and what the handover watches."""
    expected = {s.name for s in CATALOG.services if name in s.calls}
    assert {p.app for p in LAB.callers_of(name)} == expected


def test_the_state_survives_its_file(tmp_path: Path) -> None:
    LAB.save(tmp_path / "state.json")
    assert state.load(tmp_path / "state.json") == LAB
    with pytest.raises(state.MeshNotUp, match="make lab"):
        state.load(tmp_path / "missing.json")
