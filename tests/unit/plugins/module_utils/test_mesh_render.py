"""What the catalog renders to, rule by rule (Istio objects as a customer cluster receives them)."""

import json
from pathlib import Path

import pytest
import yaml

from ansible_collections.miniapp.mesh.plugins.module_utils import mesh_catalog, mesh_render
from ansible_collections.miniapp.mesh.plugins.module_utils.mesh_render import RenderOptions, render

RAW = yaml.safe_load((Path(__file__).parents[4] / "inventories/lab/group_vars/all/services_catalog.yml").read_text())[
    "services_catalog"
]
CATALOG = mesh_catalog.load(RAW)
OBJECTS = render(
    CATALOG,
    RenderOptions(image="registry.local/miniapp-services:0.1.0", store_image="registry.local/miniapp-redis:7.0"),
)


# As at a site: a database and an etcd outside the cluster.
SITE = RenderOptions(
    image="registry.local/s:1",
    store_image="registry.local/r:1",
    database=mesh_render.Outside(("pg-1.example.internal", "pg-2.example.internal"), 5432),
    config_centre=mesh_render.Outside(("etcd-1.example.internal",), 2379),
)
SITE_OBJECTS = render(CATALOG, SITE)


def one(kind: str, name: str) -> dict:
    (found,) = [o for o in OBJECTS if o["kind"] == kind and o["metadata"]["name"] == name]
    return found


def test_namespaces_come_first_and_every_name_is_unique_per_kind_and_namespace() -> None:
    assert [o["kind"] for o in OBJECTS[:4]] == ["Namespace", "ResourceQuota", "LimitRange", "PeerAuthentication"]
    keys = [(o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]) for o in OBJECTS]
    assert len(keys) == len(set(keys))


def test_quota_is_the_sum_of_budgets_with_one_surge_pod_per_deployment() -> None:
    trade = [s for s in CATALOG.services if s.namespace == "trade"]
    pods = sum(n + 1 for s in trade for n in mesh_render.pods_of(s).values())
    hard = next(o for o in OBJECTS if o["kind"] == "ResourceQuota" and o["metadata"]["namespace"] == "trade")["spec"][
        "hard"
    ]
    assert hard["pods"] == str(pods)
    # Each pod is its app (96 Mi) and its sidecar (the catalog's 64 Mi).
    assert hard["limits.memory"] == f"{(96 + 64) * pods}Mi"


def test_stable_version_gets_the_replicas_and_the_canary_one_pod() -> None:
    assert (
        one("Deployment", "product-v1")["spec"]["replicas"],
        one("Deployment", "product-v2")["spec"]["replicas"],
    ) == (2, 1)
    labels = one("Deployment", "product-v2")["spec"]["template"]["metadata"]["labels"]
    assert labels == {"app": "product", "version": "v2"}


def test_pod_runs_within_its_budget_as_non_root_with_probes() -> None:
    pod = one("Deployment", "pay-v1")["spec"]["template"]["spec"]
    app = pod["containers"][0]
    # Pay takes the catalog's default request (what it uses at the peak, with headroom), limited at a core:
    # bursts are not throttled (catalog comment).
    assert app["resources"] == {
        "requests": {"memory": "96Mi", "cpu": "50m"},
        "limits": {"memory": "96Mi", "cpu": "1000m"},
    }
    assert app["securityContext"]["runAsNonRoot"]
    assert app["securityContext"]["runAsUser"] == 10001
    assert (app["livenessProbe"]["httpGet"]["path"], app["readinessProbe"]["httpGet"]["path"]) == (
        "/healthz",
        "/readyz",
    )
    assert pod["initContainers"][0]["args"] == ["migrate"]
    env = {e["name"]: e.get("value") for e in app["env"]}
    assert env["MINIAPP_DEPENDENCIES__ORDER"] == "order.trade.svc.cluster.local:9090"


def _env(deployment: str) -> dict:
    return {
        e["name"]: e.get("value")
        for e in one("Deployment", deployment)["spec"]["template"]["spec"]["containers"][0]["env"]
    }


@pytest.mark.parametrize(("deployment", "wait"), [("gateway-v1", "5"), ("cart-v1", "3"), ("user-v1", None)])
def test_an_app_waits_for_its_callees_as_long_as_their_routes_do(deployment: str, wait: str | None) -> None:
    assert _env(deployment).get("MINIAPP_HTTP_TIMEOUT_S") == wait


@pytest.mark.parametrize(("deployment", "deadline"), [("order-v1", "900"), ("cart-v1", None)])
def test_the_order_service_gets_the_catalogs_payment_deadline(deployment: str, deadline: str | None) -> None:
    assert _env(deployment).get("MINIAPP_PAYMENT_DEADLINE_S") == deadline


def test_database_url_tenant_keys_and_store_url_come_from_secrets_never_values() -> None:
    pod = one("Deployment", "gateway-v1")["spec"]["template"]["spec"]
    env = pod["containers"][0]["env"]
    secret_refs = {e["name"]: e["valueFrom"]["secretKeyRef"]["name"] for e in env if "valueFrom" in e}
    assert secret_refs == {"MINIAPP_DATABASE_URL": "gateway-db", "MINIAPP_STORES__NONCES": "nonces"}
    assert _env("gateway-v1")["MINIAPP_TENANTS_FILE"] == "/etc/miniapp-tenants/tenants.json"
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["tenants"]["secret"] == {
        "secretName": "gateway-tenants",
        "items": [{"key": "tenants.json", "path": "tenants.json"}],
    }
    mounts = {m["name"]: m for m in pod["containers"][0]["volumeMounts"]}
    assert mounts["tenants"] == {"name": "tenants", "mountPath": "/etc/miniapp-tenants", "readOnly": True}
    assert "tenants" not in {v["name"] for v in one("Deployment", "order-v1")["spec"]["template"]["spec"]["volumes"]}


def test_a_store_admits_only_its_clients_over_tcp_and_never_evicts() -> None:
    """The nonces store: a TCP port (Istio neither parses nor routes it), the gateway's identity alone
    admitted, a memory cap below its limit with noeviction, and its password from its Secret as a file."""
    (port,) = one("Service", "nonces")["spec"]["ports"]
    assert (port["port"], port["appProtocol"]) == (6379, "tcp")
    rules = one("AuthorizationPolicy", "nonces")["spec"]["rules"]
    assert rules == [{"from": [{"source": {"principals": ["cluster.local/ns/miniapp/sa/gateway"]}}]}]
    conf = one("ConfigMap", "nonces-redis")["data"]["redis.conf"].splitlines()
    assert {"maxmemory 32mb", "maxmemory-policy noeviction", 'save ""', "include /etc/redis/auth/auth.conf"} <= set(
        conf
    )
    pod = one("Deployment", "nonces")["spec"]["template"]["spec"]
    (auth,) = [v for v in pod["volumes"] if "secret" in v]
    assert auth["secret"] == {"secretName": "nonces", "items": [{"key": "auth.conf", "path": "auth.conf"}]}
    assert "requirepass" not in json.dumps(pod)
    gateway = one("Sidecar", "gateway")["spec"]["egress"][0]["hosts"]
    assert "miniapp/nonces.miniapp.svc.cluster.local" in gateway


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "pay",
            {
                "connectionPool": {
                    "tcp": {"maxConnections": 4},
                    "http": {"http1MaxPendingRequests": 2, "http2MaxRequests": 8},
                },
                "outlierDetection": {
                    "consecutive5xxErrors": 3,
                    "interval": "1s",
                    "baseEjectionTime": "15s",
                    "maxEjectionPercent": 50,
                },
            },
        ),
        (
            "user",
            {
                "connectionPool": {
                    "tcp": {"maxConnections": 64},
                    "http": {"http1MaxPendingRequests": 32, "http2MaxRequests": 128},
                },
                "outlierDetection": {
                    "consecutive5xxErrors": 5,
                    "interval": "5s",
                    "baseEjectionTime": "30s",
                    "maxEjectionPercent": 50,
                },
            },
        ),
    ],
)
def test_destination_rule_traffic_policy(name: str, expected: dict) -> None:
    assert one("DestinationRule", name)["spec"]["trafficPolicy"] == expected


def test_virtual_service_sends_tagged_traffic_to_the_canary_then_splits() -> None:
    http = one("VirtualService", "product")["spec"]["http"]
    assert [r["name"] for r in http] == ["release-tag", "weighted"]
    assert http[0]["match"] == [{"headers": {"x-release-tag": {"exact": "v2"}}}]
    assert [(d["destination"]["subset"], d["weight"]) for d in http[1]["route"]] == [("v1", 90), ("v2", 10)]
    assert (http[1]["timeout"], http[1]["retries"]) == ("3s", {"attempts": 2, "perTryTimeout": "1s"})


def test_single_version_has_no_tag_route() -> None:
    assert [r["name"] for r in one("VirtualService", "user")["spec"]["http"]] == ["weighted"]


@pytest.mark.parametrize(
    ("name", "principals"),
    [
        ("gateway", ["cluster.local/ns/nginx-ingress/sa/nginx-ingress"]),
        ("order", ["cluster.local/ns/miniapp/sa/gateway", "cluster.local/ns/trade/sa/pay"]),
    ],
)
def test_authorization_allows_only_the_callers(name: str, principals: list[str]) -> None:
    spec = one("AuthorizationPolicy", name)["spec"]
    assert spec["action"] == "ALLOW"
    assert spec["rules"] == [{"from": [{"source": {"principals": principals}}]}]


def test_no_callers_means_an_empty_allow_that_denies_all() -> None:
    raw = json.loads(json.dumps(RAW))
    raw["services"]["gateway"]["calls"].remove("notify")
    objects = render(mesh_catalog.load(raw), RenderOptions(image="x/s:1", store_image="x/r:7"))
    (policy,) = [o for o in objects if o["kind"] == "AuthorizationPolicy" and o["metadata"]["name"] == "notify"]
    assert policy["spec"]["rules"] == []


def test_sidecar_egress_is_only_what_the_service_calls() -> None:
    spec = one("Sidecar", "order")["spec"]
    assert spec["egress"] == [
        {
            "hosts": [
                "miniapp/product.miniapp.svc.cluster.local",
                "trade/inventory.trade.svc.cluster.local",
                "trade/pay.trade.svc.cluster.local",
                "istio-system/*",
            ]
        }
    ]
    assert spec["outboundTrafficPolicy"] == {"mode": "REGISTRY_ONLY"}


def test_namespaces_get_strict_mtls_and_injection() -> None:
    strict = [o for o in OBJECTS if o["kind"] == "PeerAuthentication"]
    assert {o["metadata"]["namespace"] for o in strict} == {"miniapp", "trade"}
    assert all(o["spec"] == {"mtls": {"mode": "STRICT"}} for o in strict)
    assert one("Namespace", "trade")["metadata"]["labels"] == {"istio-injection": "enabled"}


def test_every_service_mounts_the_database_ca_where_its_url_names_it() -> None:
    role_vars = yaml.safe_load((Path(__file__).parents[4] / "roles/services/vars/main.yml").read_text())
    assert role_vars["_services_database_ca_path"] == mesh_render.DATABASE_CA
    pod = one("Deployment", "pay-v1")["spec"]["template"]["spec"]
    (volume,) = [v for v in pod["volumes"] if v["name"] == "database-ca"]
    assert volume["secret"] == {"secretName": "pay-db", "items": [{"key": "ca.crt", "path": "ca.crt"}]}
    for container in (pod["containers"][0], pod["initContainers"][0]):
        (mount,) = [m for m in container["volumeMounts"] if m["name"] == "database-ca"]
        assert mount["mountPath"] + "/ca.crt" == mesh_render.DATABASE_CA


def test_with_a_config_centre_the_gateway_reads_its_members_and_certificate_from_its_secret() -> None:
    (gateway,) = [o for o in SITE_OBJECTS if o["kind"] == "Deployment" and o["metadata"]["name"] == "gateway-v1"]
    pod = gateway["spec"]["template"]["spec"]
    app = pod["containers"][0]
    env = {e["name"]: e.get("value", e.get("valueFrom")) for e in app["env"]}
    assert env["MINIAPP_CONFIG_ENDPOINTS"] == {"secretKeyRef": {"name": "gateway-config-centre", "key": "endpoints"}}
    assert env["MINIAPP_CONFIG_TLS_DIR"] == "/etc/miniapp-config-centre"
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert [i["key"] for i in volumes["config-centre"]["secret"]["items"]] == ["ca.crt", "tls.crt", "tls.key"]
    assert {"name": "config-centre", "mountPath": "/etc/miniapp-config-centre", "readOnly": True} in app["volumeMounts"]
    assert "MINIAPP_CONFIG_ENDPOINTS" not in {e["name"] for e in pod["initContainers"][0]["env"]}
    assert "MINIAPP_CONFIG_ENDPOINTS" not in _env("gateway-v1")  # without one, every tenant on the defaults


def test_hosts_outside_the_cluster_get_a_service_entry_per_namespace_and_a_place_in_their_users_egress() -> None:
    entries = {
        (o["metadata"]["namespace"], o["metadata"]["name"]): o["spec"]
        for o in SITE_OBJECTS
        if o["kind"] == "ServiceEntry"
    }
    namespaces = {s.namespace for s in CATALOG.services}
    gateway_ns = CATALOG.service("gateway").namespace
    assert set(entries) == {(n, "database") for n in namespaces} | {(gateway_ns, "config-centre")}
    assert entries[(gateway_ns, "database")] == {
        "hosts": ["pg-1.example.internal", "pg-2.example.internal"],
        "location": "MESH_EXTERNAL",
        "resolution": "NONE",
        "ports": [{"number": 5432, "name": "tcp-database", "protocol": "TCP"}],
        "exportTo": ["."],
    }
    egress = {o["metadata"]["name"]: o["spec"]["egress"][0]["hosts"] for o in SITE_OBJECTS if o["kind"] == "Sidecar"}
    assert "./etcd-1.example.internal" in egress["gateway"]
    assert "./pg-1.example.internal" in egress["order"]
    assert "./etcd-1.example.internal" not in egress["order"]
    assert not any(h.startswith("./") for h in egress["nonces"])  # a store reaches nothing outside
    assert not [o for o in OBJECTS if o["kind"] == "ServiceEntry"]  # nothing outside, nothing rendered
