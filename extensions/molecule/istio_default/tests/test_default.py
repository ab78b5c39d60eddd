"""The istio role up to applying: the release asked of the server, the legacy CNI directories of K3s 1.27,
the design's Istio line rendered for the private registry, every object valid. The K3s binary is a stand-in;
nothing here proves a control plane runs."""

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(os.environ["MOLECULE_PROJECT_DIRECTORY"])
RENDERED = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "inventory" / "rendered" / "istio" / "istio.yml"


@pytest.fixture(scope="module")
def objects() -> list[dict]:
    return [o for o in yaml.safe_load_all(RENDERED.read_text()) if o]


def _one(objects: list[dict], kind: str) -> dict:
    (found,) = [o for o in objects if o["kind"] == kind]
    return found


def test_objects_are_valid_against_the_published_schemas(objects: list[dict]) -> None:
    done = subprocess.run(
        ["node", ROOT / "tools/schemas/validate.mjs"], input=json.dumps(objects), capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert [o["kind"] for o in objects] == [
        "Namespace",
        "IstioOperator",
        "PeerAuthentication",
        "Namespace",
        "Namespace",
    ]


def test_cni_directories_are_those_of_the_release_the_server_reported(objects: list[dict]) -> None:
    cni = _one(objects, "IstioOperator")["spec"]["values"]["cni"]
    assert (cni["cniBinDir"], cni["cniConfDir"]) == (
        "/var/lib/rancher/k3s/data/current/bin",
        "/var/lib/rancher/k3s/agent/etc/cni/net.d",
    )


def test_the_design_line_pulls_only_from_the_private_registry(objects: list[dict]) -> None:
    spec = _one(objects, "IstioOperator")["spec"]
    assert (spec["revision"], spec["tag"], spec["values"]["global"]["tag"]) == ("1-20-8", "1.20.8", "1.20.8")
    assert spec["hub"] == spec["values"]["global"]["hub"] == "registry.local:5000/istio"
    assert spec["meshConfig"]["outboundTrafficPolicy"] == {"mode": "REGISTRY_ONLY"}


def test_mtls_is_strict_mesh_wide_and_the_meshed_namespaces_select_the_revision(objects: list[dict]) -> None:
    strict = _one(objects, "PeerAuthentication")
    assert (strict["metadata"]["namespace"], strict["spec"]) == ("istio-system", {"mtls": {"mode": "STRICT"}})
    meshed = {o["metadata"]["name"]: o["metadata"]["labels"] for o in objects[3:]}
    assert meshed == {"miniapp": {"istio.io/rev": "1-20-8"}, "trade": {"istio.io/rev": "1-20-8"}}


def test_the_role_only_asked_the_server_for_its_release(host) -> None:
    assert not host.file("/var/lib/k3s-standin/calls.jsonl").exists
