"""The objects the istio, ingress and services roles render: every Kubernetes object valid against the
Kubernetes JSON schemas of the target releases (kubernetes-validate, strict: unknown fields refused), every
Istio object accepted by the strict Istio models, and broken objects refused with their field."""

import copy
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from ansible_collections.miniapp.mesh.plugins.module_utils import cluster_render, istio_models, mesh_catalog
from ansible_collections.miniapp.mesh.plugins.module_utils.mesh_render import RenderOptions, render

ROOT = Path(__file__).parents[4]
BUNDLE = yaml.safe_load((ROOT / "roles/offline_bundle/vars/main.yml").read_text())["_offline_bundle_table"]
# Every Kubernetes line the bundle ships a K3s for: the default and the design's.
TARGETS = sorted({a["version"].lstrip("v").split("+")[0] for a in BUNDLE["k3s"]})
CATALOG = yaml.safe_load((ROOT / "inventories/production-sample/group_vars/all/services_catalog.yml").read_text())[
    "services_catalog"
]
ISTIO = {"version": "1.29.0", "revision": "1-29-0", "hub": "registry.local:5000/istio", "namespace": "istio-system",
         "cni_namespace": "kube-system", "cni_bin_dir": "/var/lib/rancher/k3s/data/cni",
         "cni_conf_dir": "/var/lib/rancher/k3s/agent/etc/cni/net.d", "injection_namespaces": ["miniapp", "trade"]}  # fmt: skip
INGRESS = {"image": "registry.local:5000/nginx/nginx-ingress:5.3.4", "revision": "1-29-0", "replicas": 2, "memory": "256Mi",
           "http_node_port": 30080, "https_node_port": 30443, "domain": "api.miniapp.example.com",
           "tls_secret": "miniapp-api-tls", "backend_service": "gateway", "backend_namespace": "miniapp", "backend_port": 8080}  # fmt: skip


def objects() -> list[dict]:
    services = render(mesh_catalog.load(CATALOG), RenderOptions(image="registry.local:5000/miniapp-services:0.1.0", store_image="registry.local:5000/miniapp-redis:7.0",
                                                                injection_labels=(("istio.io/rev", "1-29-0"),)))  # fmt: skip
    return cluster_render.istio_objects(ISTIO) + cluster_render.ingress_objects(INGRESS) + services


def kubernetes_problems(objs: list[dict], version: str) -> list[str]:
    problems = []
    for obj in objs:
        if istio_models.is_istio(obj):
            continue
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as err:
            problems.append(f"{obj['kind']}/{obj['metadata']['name']}: {err.message} at {list(err.path)}")
    return problems


def test_the_bundle_ships_the_default_and_the_design_line() -> None:
    assert [t.split(".")[1] for t in TARGETS] == ["27", "35"]


@pytest.mark.parametrize("version", TARGETS)
def test_every_kubernetes_object_is_valid_for_the_target_release(version: str) -> None:
    objs = objects()
    assert len([o for o in objs if not istio_models.is_istio(o)]) > 40
    assert kubernetes_problems(objs, version) == []


def test_every_istio_object_passes_the_strict_models() -> None:
    istio = [o for o in objects() if istio_models.is_istio(o)]
    assert {o["kind"] for o in istio} >= {"IstioOperator", "PeerAuthentication", "VirtualService", "DestinationRule",
                                           "AuthorizationPolicy", "Sidecar"}  # fmt: skip
    assert istio_models.validate(istio) == []


def _find(kind: str, name: str) -> dict:
    return copy.deepcopy(next(o for o in objects() if o["kind"] == kind and o["metadata"]["name"] == name))


@pytest.mark.parametrize(
    ("kind", "name", "path", "value", "words"),
    [
        ("IstioOperator", "miniapp-1-29-0", ["spec", "meshConfig", "outboundTrafficPolicy", "mode"], "ALLOW_ALL", "spec.meshConfig.outboundTrafficPolicy.mode"),
        ("IstioOperator", "miniapp-1-29-0", ["spec", "profile"], "demo", "spec.profile"),
        ("IstioOperator", "miniapp-1-29-0", ["spec", "values", "cni", "cniBinDirs"], "/opt/cni/bin", "spec.values.cni.cniBinDirs: Extra inputs"),
        ("PeerAuthentication", "default", ["spec", "mtls", "mode"], "strict", "spec.mtls.mode"),
        ("DestinationRule", "pay", ["spec", "trafficPolicy", "outlierDetection", "interval"], "1 second", "is not a duration"),
        ("VirtualService", "product", ["spec", "http", 1, "route", 0, "weight"], 190, "less than or equal to 100"),
        ("VirtualService", "product", ["spec", "http", 1, "timeout"], "3 seconds", "is not a duration"),
        ("VirtualService", "product", ["spec", "http", 1, "retries", "perTryTimeout"], "1sec", "is not a duration"),
    ],
)  # fmt: skip
def test_a_broken_istio_object_is_refused_naming_the_field(
    kind: str, name: str, path: list, value: object, words: str
) -> None:
    broken = _find(kind, name)
    node = broken
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    problems = istio_models.validate([broken])
    assert any(words in p for p in problems), problems


@pytest.mark.parametrize(
    ("kind", "name", "path", "value", "words"),
    [
        ("Deployment", "nginx-ingress", ["spec", "replicas"], "two", "is not of type 'integer'"),
        ("Service", "nginx-ingress", ["spec", "ports", 0, "nodePort"], "30080", "is not of type 'integer'"),
        (
            "Ingress",
            "miniapp-api",
            ["spec", "rules", 0, "http", "paths", 0, "pathtype"],
            "Prefix",
            "Additional properties",
        ),
    ],
)
def test_a_broken_kubernetes_object_is_refused(kind: str, name: str, path: list, value: object, words: str) -> None:
    broken = _find(kind, name)
    node = broken
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    problems = kubernetes_problems([broken], TARGETS[-1])
    assert any(words in p for p in problems), problems


def test_the_ingress_is_the_gateways_only_caller_from_outside_and_in_the_mesh() -> None:
    objs = objects()
    policy = next(o for o in objs if o["kind"] == "AuthorizationPolicy" and o["metadata"]["name"] == "gateway")
    assert policy["spec"]["rules"][0]["from"][0]["source"]["principals"] == [
        "cluster.local/ns/nginx-ingress/sa/nginx-ingress"
    ]
    namespace = next(o for o in objs if o["kind"] == "Namespace" and o["metadata"]["name"] == "nginx-ingress")
    assert namespace["metadata"]["labels"] == {"istio.io/rev": "1-29-0"}
    ingress = next(o for o in objs if o["kind"] == "Ingress")
    assert (
        ingress["metadata"]["annotations"]["nginx.org/location-snippets"]
        == "proxy_set_header Host gateway.miniapp.svc.cluster.local;"
    )


def test_without_a_revision_namespaces_select_the_default_control_plane() -> None:
    assert cluster_render.istio_objects(ISTIO | {"revision": ""})[-1]["metadata"]["labels"] == {
        "istio-injection": "enabled"
    }
