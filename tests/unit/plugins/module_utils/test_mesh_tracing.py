"""The services' tracing from the catalog (module_utils/mesh_tracing.py): head sampling and the OTLP endpoint as
every Deployment's environment (the endpoint the site's), which the services' settings read back; the trace
backend in each Sidecar's egress; bad values refused naming the field."""

import json
from pathlib import Path

import pytest
import yaml

from ansible_collections.miniapp.mesh.plugins.module_utils import mesh_catalog, mesh_render, mesh_tracing
from miniapp_services.kit.settings import Settings, get_settings

ROOT = Path(__file__).parents[4]
SITE = yaml.safe_load((ROOT / "inventories/production-sample/group_vars/all/services_catalog.yml").read_text())
CATALOG = mesh_catalog.load(SITE["services_catalog"])
TEMPO = "http://tempo.monitoring.svc.cluster.local:4318/v1/traces"
OBJECTS = mesh_render.render(CATALOG, mesh_render.RenderOptions(image="r/miniapp-services:0.1.0",
                             store_image="r/miniapp-redis:7.0", traces_endpoint=TEMPO))  # fmt: skip


def _of(kind: str) -> list[dict]:
    return [o for o in OBJECTS if o["kind"] == kind and o["metadata"]["name"] != "nonces"]


def test_every_service_samples_and_exports_as_the_catalog_says(monkeypatch: pytest.MonkeyPatch) -> None:
    apps = [d["spec"]["template"]["spec"]["containers"][0] for d in _of("Deployment")]
    apps = [a for a in apps if any(e["name"] == "MINIAPP_SERVICE" for e in a["env"])]
    assert len(apps) >= 12
    for app in apps:
        env = {e["name"]: e["value"] for e in app["env"] if "value" in e}
        assert env["MINIAPP_TRACE_SAMPLE_RATIO"] == "0.001"
        assert json.loads(env["MINIAPP_TRACE_HOT_PATHS"]) == {"/api/payments": 0.1, "/payments": 0.1}
        assert env["MINIAPP_OTLP_TRACES_ENDPOINT"] == TEMPO
    # What a service makes of it: the same values, checked again by its settings at start.
    for name, value in env.items():
        if "TRACE" in name:
            monkeypatch.setenv(name, value)
    settings = get_settings(service="pay", database_url="postgresql+asyncpg://pay@db/miniapp")
    assert (settings.trace_sample_ratio, settings.trace_hot_paths) == (0.001, {"/api/payments": 0.1, "/payments": 0.1})
    assert str(settings.otlp_traces_endpoint) == TEMPO


def test_each_service_may_reach_the_trace_backend_and_a_store_may_not() -> None:
    for sidecar in _of("Sidecar"):
        assert "monitoring/tempo.monitoring.svc.cluster.local" in sidecar["spec"]["egress"][0]["hosts"]
    (store,) = [o for o in OBJECTS if o["kind"] == "Sidecar" and o["metadata"]["name"] == "nonces"]
    assert not [h for h in store["spec"]["egress"][0]["hosts"] if "tempo" in h]


def test_without_a_block_or_an_endpoint_one_in_a_thousand_and_nothing_exported() -> None:
    assert mesh_tracing.load(None).env() == [{"name": "MINIAPP_TRACE_SAMPLE_RATIO", "value": "0.001"}]
    assert mesh_tracing.egress("") == []
    # A service started without the rendered environment samples as the catalog's default does.
    assert Settings.model_fields["trace_sample_ratio"].default == mesh_tracing.Tracing().sample_ratio


def test_an_endpoint_outside_the_cluster_needs_no_egress_host_of_the_mesh() -> None:
    assert mesh_tracing.egress("https://tempo.example.com/v1/traces") == []


def test_an_endpoint_that_is_not_a_url_is_refused_naming_the_variable() -> None:
    with pytest.raises(mesh_tracing.TracingError, match=r"^services_traces_endpoint: 'tempo:4318'; give"):
        mesh_tracing.endpoint_checked("tempo:4318")


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"sample_ratio": 2}, "services_catalog.tracing.sample_ratio"),
        ({"sample_ratio": True}, "services_catalog.tracing.sample_ratio"),
        ({"hot_paths": {"api/payments": 0.1}}, "services_catalog.tracing.hot_paths"),
        ({"hot_paths": {"/api": -1}}, "services_catalog.tracing.hot_paths./api"),
        ({"exporter": "otlp"}, "services_catalog.tracing"),
    ],
)
def test_bad_values_are_refused_naming_the_field(raw: dict, field: str) -> None:
    with pytest.raises(mesh_catalog.CatalogError, match=f"^{field.replace('.', '[.]')}: "):
        mesh_catalog.load(SITE["services_catalog"] | {"tracing": raw})
