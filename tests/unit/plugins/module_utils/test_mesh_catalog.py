"""The catalog is checked with errors that name the field and the fix, and completed from its defaults."""

import copy
import json
import re
from pathlib import Path

import pytest
import yaml

from ansible_collections.miniapp.mesh.plugins.module_utils.mesh_catalog import CatalogError, Version, load
from ansible_collections.miniapp.mesh.plugins.module_utils.mesh_render import RULES_FILE, RenderOptions, render
from lab.mesh import compile as mesh
from lab.mesh import plan

CATALOG = yaml.safe_load(
    (Path(__file__).parents[4] / "inventories/lab/group_vars/all/services_catalog.yml").read_text()
)
RAW = CATALOG["services_catalog"]


def _with(path: list[str], value: object) -> dict:
    raw = copy.deepcopy(RAW)
    node = raw
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return raw


def test_the_lab_catalog_loads_with_defaults_filled_in() -> None:
    catalog = load(RAW)
    user, product = catalog.service("user"), catalog.service("product")
    assert (user.memory_mib, user.versions, user.replicas) == (96, (Version("v1", 100),), 1)
    assert product.canary == Version("v2", 10)
    assert catalog.spiffe(catalog.service("pay")) == "spiffe://cluster.local/ns/trade/sa/pay"


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (
            ["services", "product", "versions"],
            [{"name": "v1", "weight": 90}, {"name": "v2", "weight": 20}],
            "versions: weights [90, 20] must be 0 or more and add up to 100",
        ),
        (
            ["services", "product", "versions"],
            [{"name": "v1", "weight": 50}, {"name": "v1", "weight": 50}],
            "version names must differ",
        ),
        (["services", "user", "namespace"], "shop", "services.user.namespace: 'shop' is not a namespace; use one of"),
        (["services", "user", "tier"], "P2", "services.user.tier: 'P2'; use P0"),
        (["services", "user", "replicas"], 0, "services.user.replicas: 0; use a whole number of 1 or more"),
        (["services", "user", "memory_mb"], 64, "services.user.memory_mb: unknown key"),
        (["services", "user", "callers"], ["gateway"], "services.user.callers: callers are derived, not written"),
        (["services", "user", "exposed"], "yes", "services.user.exposed: 'yes'; use true or false"),
        (["services", "cart", "calls"], ["billing"], "services.cart.calls: 'billing' is not a service"),
        (["namespaces"], {}, "services_catalog.namespaces: list at least one namespace"),
        (["tenants"], {"miniapp": {}}, "services_catalog.tenants: renamed namespaces (a group of services; a tenant"),
        (["services", "user", "tenant"], "miniapp", "services.user.tenant: renamed namespace"),
        (["stores", "nonces", "tenant"], "miniapp", "services_catalog.stores.nonces.tenant: renamed namespace"),
        (["defaults", "tenant"], "miniapp", "services_catalog.defaults.tenant: renamed namespace"),
        (["sidecar_concurrency"], 0, "services_catalog.sidecar_concurrency: 0 is not a count of worker threads"),
        (["sidecar_concurrency"], "2", "services_catalog.sidecar_concurrency: '2' is not a count of worker threads"),
        (["services", "user", "degradation"], {"login": {"qps": 5}}, "only the gateway has degradation rules"),
        (["services", "gateway", "degradation"], {"search": {"qps": 5}}, "degradation.search: unknown endpoint"),
        (["services", "cart", "payment_deadline_s"], 900, "services.cart.payment_deadline_s: only order places orders"),
        (["services", "order", "payment_deadline_s"], 30, "services.order.payment_deadline_s: 30; give whole seconds"),
        (["services", "order", "payment_deadline_s"], "15m", "payment_deadline_s: '15m'; give whole seconds from 60"),
        (["services", "gateway", "degradation"], {"login": {"qps": 0}}, "degradation.login.qps: set requests"),
        (
            ["services", "gateway", "degradation"],
            {"login": {"qps": 5, "burst": 5, "breaker": {"failures": 5}}},
            "degradation.login.breaker: unknown ['failures']",
        ),
        (
            ["services", "gateway", "degradation"],
            {"login": {"qps": 5, "burst": 5, "breaker": {"strategy": "slow_ratio", "threshold": 0.5}}},
            "degradation.login.breaker.max_rt_ms: set it for slow_ratio",
        ),
        (
            ["services", "gateway", "degradation"],
            {"product": {"qps": 5, "burst": 5, "breaker": {"threshold": 2}}},
            "degradation.product.breaker.threshold: error_ratio takes a ratio",
        ),
        (
            ["services", "gateway", "retries"],
            {"attempts": 2, "per_try_timeout_s": 1},
            "services.gateway.retries.per_try_timeout_s: 1 s is shorter than services_catalog.services.user.timeout_s (3 s)",
        ),
        (
            ["services", "order", "timeout_s"],
            4,
            "services.order.timeout_s: 4 s is shorter than services_catalog.services.pay.timeout_s (5 s)",
        ),
        (
            ["services", "pay", "timeout_s"],
            0,
            "services.gateway.timeout_s: 8 s is shorter than services_catalog.services.pay.timeout_s (no limit)",
        ),
    ],
)
def test_bad_catalog_names_the_field_and_the_fix(path: list[str], value: object, message: str) -> None:
    with pytest.raises(CatalogError, match=re.escape(message)):
        load(_with(path, value))


def test_a_caller_waits_for_one_try_only_when_it_retries() -> None:
    raw = _with(["services", "gateway", "retries"], {"attempts": 0, "per_try_timeout_s": 1})
    assert load(raw).service("gateway").timeout_s == 8


def test_gateway_rules_are_a_configmap_mounted_where_the_gateway_reads_them() -> None:
    objects = render(load(RAW), RenderOptions(image="x/miniapp-services:0.1.0", store_image="x/miniapp-redis:7.0"))
    (rules,) = [o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"].startswith("gateway")]
    indexed = mesh.checked(objects)
    workload = next(w for w in indexed.workloads.values() if w.name == "gateway-v1")
    env = {e["name"]: e.get("value") for e in workload.container["env"]}
    secret = {"metadata": {"namespace": "miniapp", "name": "gateway-db"}, "stringData": {"ca.crt": "CA"}}
    keys = {"metadata": {"namespace": "miniapp", "name": "gateway-tenants"}, "stringData": {"tenants.json": "{}"}}
    files = plan.volume_files(indexed, workload, plan.secret_lookup([secret, keys]))
    assert files["/etc/miniapp-database"].files == {"ca.crt": "CA"}
    assert files["/etc/miniapp-database"].secret
    assert files["/etc/miniapp-tenants"].files == {"tenants.json": "{}"}
    assert files["/etc/miniapp-tenants"].secret
    assert env["MINIAPP_RULES_FILE"] == RULES_FILE
    # The design's degradation table: per service QPS and breaker window; open above 50 % errors of 20 calls.
    endpoints = json.loads(files["/etc/miniapp"].files["rules.json"])["endpoints"]
    windows = {name: (rule["qps"], rule["breaker"]["window_s"]) for name, rule in endpoints.items()}
    assert windows == {"login": (500, 60), "product": (2000, 30), "order_create": (300, 120)}
    for rule in endpoints.values():
        assert {k: rule["breaker"][k] for k in ("strategy", "threshold", "min_requests")} == {
            "strategy": "error_ratio", "threshold": 0.5, "min_requests": 20,
        }  # fmt: skip
    assert rules["metadata"]["name"] == "gateway-degradation"


def test_a_cpu_limit_below_its_request_is_refused_naming_both() -> None:
    raw = _with(["services", "pay", "cpu_limit_millicores"], 50)
    raw["services"]["pay"]["cpu_millicores"] = 75
    with pytest.raises(CatalogError, match=r"services\.pay\.cpu_limit_millicores: 50 is below cpu_millicores \(75\)"):
        load(raw)


def test_every_pod_tells_its_sidecar_the_catalogs_worker_threads() -> None:
    objects = render(load(_with(["sidecar_concurrency"], 3)), RenderOptions(image="x/s:1", store_image="x/r:7"))
    deployments = [o for o in objects if o["kind"] == "Deployment"]
    assert {d["metadata"]["name"] for d in deployments} >= {"gateway-v1", "nonces"}
    for deployment in deployments:
        annotations = deployment["spec"]["template"]["metadata"]["annotations"]
        assert json.loads(annotations["proxy.istio.io/config"]) == {"concurrency": 3}, deployment["metadata"]["name"]


def test_callers_follow_from_the_calls_with_the_ingress_first_where_exposed() -> None:
    catalog = load(RAW)
    assert catalog.service("gateway").callers == ("ingress",)
    assert catalog.service("product").callers == ("gateway", "cart", "order")
    assert catalog.service("pay").callers == ("gateway", "order")
    assert catalog.service("notify").callers == ("gateway",)  # the notices of orders queued under overload


def test_a_removed_call_leaves_no_caller_behind() -> None:
    calls = [c for c in RAW["services"]["cart"]["calls"] if c != "product"]
    assert "cart" not in load(_with(["services", "cart", "calls"], calls)).service("product").callers
