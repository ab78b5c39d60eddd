"""Kubernetes admission arithmetic on the rendered objects, with Istio's injection played on every pod: each
container (the app, the migrate init container, istio-proxy and istio-validation, which Istio's injector sizes
from the pod's sidecar.istio.io/proxy* annotations) within its namespace's LimitRange, and every namespace's pods
at full replicas plus one rolling-update surge within its ResourceQuota. A pod's effective request is the larger
of its containers' sum and its largest init container, as the scheduler and quota count it."""

from __future__ import annotations

import copy
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

from ansible_collections.miniapp.mesh.plugins.module_utils import mesh_catalog
from ansible_collections.miniapp.mesh.plugins.module_utils.mesh_render import (
    PROXY_CPU,
    PROXY_CPU_LIMIT,
    PROXY_MEMORY,
    PROXY_MEMORY_LIMIT,
    RenderOptions,
    render,
)

CATALOG = yaml.safe_load(
    (Path(__file__).parents[4] / "inventories/production-sample/group_vars/all/services_catalog.yml").read_text()
)["services_catalog"]
OPTIONS = RenderOptions(image="registry.local/miniapp-services:0.1.0", store_image="registry.local/miniapp-redis:7.0")
# What Istio's injector gives a proxy when the pod says nothing (values.global.proxy.resources).
ISTIO_DEFAULT = {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "2000m", "memory": "1024Mi"}}
RESOURCES = ("requests.cpu", "requests.memory", "limits.cpu", "limits.memory")


def quantity(value: str) -> float:
    """CPU in millicores or memory in MiB, from the Kubernetes quantities the objects use."""
    for suffix, factor in (("Mi", 1.0), ("Gi", 1024.0), ("m", 1.0)):
        if value.endswith(suffix):
            return float(value.removesuffix(suffix)) * factor
    return float(value) * 1000  # whole cores


def injected(template: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The pod's containers and init containers after Istio's injection (istio-cni: istio-validation)."""
    annotations = template["metadata"].get("annotations", {})
    proxy = copy.deepcopy(ISTIO_DEFAULT)
    for key, (kind, resource) in {
        PROXY_CPU: ("requests", "cpu"),
        PROXY_MEMORY: ("requests", "memory"),
        PROXY_CPU_LIMIT: ("limits", "cpu"),
        PROXY_MEMORY_LIMIT: ("limits", "memory"),
    }.items():
        if key in annotations:
            proxy[kind][resource] = annotations[key]
    spec = template["spec"]
    containers = [*spec["containers"], {"name": "istio-proxy", "resources": proxy}]
    return containers, [*spec.get("initContainers", []), {"name": "istio-validation", "resources": proxy}]


def effective(containers: list[dict[str, Any]], inits: list[dict[str, Any]]) -> dict[str, float]:
    """requests.cpu ... limits.memory of one pod, as quota counts them."""
    totals = {}
    for key in RESOURCES:
        kind, resource = key.split(".")
        running = sum(quantity(c["resources"][kind][resource]) for c in containers)
        totals[key] = max([running, *(quantity(c["resources"][kind][resource]) for c in inits)])
    return totals


def refusals(objects: list[dict[str, Any]]) -> list[str]:
    """What admission would refuse, one line each; empty when everything fits."""
    limits = {o["metadata"]["namespace"]: o["spec"]["limits"][0]["max"] for o in objects if o["kind"] == "LimitRange"}
    quotas = {o["metadata"]["namespace"]: o["spec"]["hard"] for o in objects if o["kind"] == "ResourceQuota"}
    used: dict[str, dict[str, float]] = defaultdict(lambda: dict.fromkeys((*RESOURCES, "pods"), 0.0))
    found = []
    for deployment in (o for o in objects if o["kind"] == "Deployment"):
        namespace, name = deployment["metadata"]["namespace"], deployment["metadata"]["name"]
        containers, inits = injected(deployment["spec"]["template"])
        for container in containers + inits:
            for resource in ("cpu", "memory"):
                limit = quantity(container["resources"]["limits"][resource])
                if quantity(container["resources"]["requests"][resource]) > limit:
                    found.append(f"{name}/{container['name']}: {resource} request above its limit")
                if limit > quantity(limits[namespace][resource]):
                    found.append(f"{name}/{container['name']}: {resource} limit above the LimitRange's max")
        surge = deployment["spec"]["strategy"].get("rollingUpdate", {}).get("maxSurge", 0)
        pods = deployment["spec"]["replicas"] + surge
        for key, value in effective(containers, inits).items():
            used[namespace][key] += value * pods
        used[namespace]["pods"] += pods
    for namespace, totals in used.items():
        for key, value in totals.items():
            hard = quotas[namespace][key]
            if value > (float(hard) if key == "pods" else quantity(hard)):
                found.append(f"namespace {namespace}: {key} {value:g} over the quota's {hard}")
    return found


def test_every_pod_with_its_sidecar_is_admitted_at_full_replicas_and_a_surge() -> None:
    assert refusals(render(mesh_catalog.load(CATALOG), OPTIONS)) == []


def test_the_check_refuses_sidecars_with_istio_defaults() -> None:
    objects = render(mesh_catalog.load(CATALOG), OPTIONS)
    for deployment in (o for o in objects if o["kind"] == "Deployment"):
        for key in (PROXY_CPU, PROXY_MEMORY, PROXY_CPU_LIMIT, PROXY_MEMORY_LIMIT):
            del deployment["spec"]["template"]["metadata"]["annotations"][key]
    found = refusals(objects)
    assert "gateway-v1/istio-proxy: memory limit above the LimitRange's max" in found
    assert any(line.startswith("namespace trade: requests.memory") for line in found)


def test_a_sidecar_asking_more_than_its_limit_is_refused_with_its_init_container() -> None:
    objects = render(mesh_catalog.load(CATALOG), OPTIONS)
    gateway = next(o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"] == "gateway-v1")
    gateway["spec"]["template"]["metadata"]["annotations"][PROXY_MEMORY] = "65Mi"
    assert refusals(objects) == [
        "gateway-v1/istio-proxy: memory request above its limit",
        "gateway-v1/istio-validation: memory request above its limit",
    ]


def test_pods_past_what_the_quota_counted_are_refused() -> None:
    objects = render(mesh_catalog.load(CATALOG), OPTIONS)
    gateway = next(o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"] == "gateway-v1")
    # Two more: the quota's only slack is the second pod it counts for the Recreate store, which never surges.
    gateway["spec"]["replicas"] += 2
    found = refusals(objects)
    assert [line.split(":")[0] for line in found] == ["namespace miniapp"] * 5
    assert sorted(line.split()[2] for line in found) == sorted((*RESOURCES, "pods"))
