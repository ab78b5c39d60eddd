"""Every rendered object validates against the published Kubernetes and Istio JSON schemas
(kubernetes-models and @kubernetes-models/istio, pinned in tools/schemas), and a broken one does not."""

import copy
import json
import subprocess
from pathlib import Path

import pytest
import yaml

from ansible_collections.miniapp.mesh.plugins.module_utils import mesh_catalog, mesh_render
from ansible_collections.miniapp.mesh.plugins.module_utils.mesh_render import RenderOptions, render

ROOT = Path(__file__).parents[4]
RAW = yaml.safe_load((ROOT / "inventories/lab/group_vars/all/services_catalog.yml").read_text())["services_catalog"]
OBJECTS = render(
    mesh_catalog.load(RAW),
    RenderOptions(
        image="registry.local/miniapp-services:0.1.0",
        store_image="registry.local/miniapp-redis:7.0",
        database=mesh_render.Outside(("pg-1.example.internal",), 5432),
        config_centre=mesh_render.Outside(("etcd-1.example.internal",), 2379),
    ),
)


def validate(objects: list[dict]) -> subprocess.CompletedProcess[str]:
    if not (ROOT / "tools/schemas/node_modules").is_dir():
        pytest.fail("schemas not installed: run `make bootstrap` (npm ci --prefix tools/schemas)")
    return subprocess.run(
        ["node", ROOT / "tools/schemas/validate.mjs"], input=json.dumps(objects), capture_output=True, text=True
    )


def test_every_rendered_object_is_valid() -> None:
    done = validate(OBJECTS)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == f"{len(OBJECTS)} objects valid"


@pytest.mark.parametrize(
    ("kind", "name", "path", "value", "words"),
    [
        ("VirtualService", "product", ["spec", "http", 1, "route", 0, "weight"], "ninety", "weight must be integer"),
        ("Deployment", "user-v1", ["spec", "replicas"], "one", "replicas must be integer"),
        (
            "DestinationRule",
            "pay",
            ["spec", "trafficPolicy", "outlierDetection", "consecutive5xxErrors"],
            "three",
            "consecutive5xxErrors",
        ),
    ],
)
def test_a_broken_object_is_named(kind: str, name: str, path: list, value: object, words: str) -> None:
    broken = copy.deepcopy(next(o for o in OBJECTS if o["kind"] == kind and o["metadata"]["name"] == name))
    node = broken
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    done = validate([broken])
    assert done.returncode == 1
    assert f"{kind}/" in done.stdout
    assert words in done.stdout
