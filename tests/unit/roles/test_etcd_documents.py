"""miniapp.mesh.etcd_documents against a real etcd 3.4 (the bundle's, on loopback) with its etcdctl: check mode
writes nothing, a converge writes what differs, a rerun changes nothing, pruning deletes what no one wants under
the prefix and nothing outside it, and no document's value reaches the output."""

import base64
import json
import subprocess
import sys
from pathlib import Path

import pytest
from test_kube_apply import playbook

from tools import etcdtmp

PREFIX = "/config/"
A, B = "/config/wx00000000000000a1/app.yaml", "/config/wx00000000000000b2/app.yaml"


@pytest.fixture
def etcdctl(tmp_path: Path):
    """etcdctl against a fresh etcd, as the etcd role's etcdctl-local wraps it (endpoints and API set)."""
    binary = etcdtmp.binary(tmp_path / "bin").with_name("etcdctl")
    with etcdtmp.etcd() as url:
        wrapper = tmp_path / "etcdctl-test"
        wrapper.write_text(f'#!/bin/sh\nexport ETCDCTL_API=3 ETCDCTL_ENDPOINTS={url}\nexec {binary} "$@"\n')
        wrapper.chmod(0o755)
        yield wrapper


def _run(tmp_path: Path, etcdctl: Path, documents: dict[str, str], check: bool = False) -> dict:
    task = {"miniapp.mesh.etcd_documents": {"etcdctl": str(etcdctl), "prefix": PREFIX, "documents": documents},
            "register": "result"}  # fmt: skip
    show = {"ansible.builtin.copy": {"content": "{{ result | to_json }}", "dest": str(tmp_path / "result.json")},
            "check_mode": False}  # fmt: skip
    (tmp_path / "play.yml").write_text(
        json.dumps([{"hosts": "localhost", "gather_facts": False, "tasks": [task, show]}])
    )
    interpreter = json.dumps({"ansible_python_interpreter": sys.executable})
    args = [
        "-i",
        "localhost,",
        "-c",
        "local",
        "-e",
        interpreter,
        *(["--check"] if check else []),
        tmp_path / "play.yml",
    ]
    done = playbook(tmp_path, args)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "secret-value" not in done.stdout
    return json.loads((tmp_path / "result.json").read_text())


def _held(etcdctl: Path) -> dict[str, str]:
    out = subprocess.run([etcdctl, "get", "--prefix", "/", "-w", "json"], capture_output=True, text=True, check=True)
    kvs = json.loads(out.stdout).get("kvs", [])
    return {base64.b64decode(k["key"]).decode(): base64.b64decode(k["value"]).decode() for k in kvs}


def test_check_converge_rerun_and_prune(tmp_path: Path, etcdctl: Path) -> None:
    subprocess.run([etcdctl, "put", "/other/kept", "x"], check=True, capture_output=True)
    documents = {A: '{"rate_limit_rps": 20, "secret": "secret-value"}', B: "{}"}
    checked = _run(tmp_path, etcdctl, documents, check=True)
    assert (checked["changed"], checked["written"]) == (True, [A, B])
    assert _held(etcdctl) == {"/other/kept": "x"}
    assert _run(tmp_path, etcdctl, documents)["written"] == [A, B]
    assert _held(etcdctl) == {"/other/kept": "x", **documents}
    rerun = _run(tmp_path, etcdctl, documents)
    assert (rerun["changed"], rerun["written"], rerun["deleted"]) == (False, [], [])
    pruned = _run(tmp_path, etcdctl, {A: "{}"})
    assert (pruned["changed"], pruned["written"], pruned["deleted"]) == (True, [A], [B])
    assert _held(etcdctl) == {"/other/kept": "x", A: "{}"}


def test_a_document_outside_the_prefix_is_refused_naming_it(tmp_path: Path, etcdctl: Path) -> None:
    task = {"miniapp.mesh.etcd_documents": {"etcdctl": str(etcdctl), "prefix": PREFIX, "documents": {"/x": "{}"}}}
    (tmp_path / "play.yml").write_text(json.dumps([{"hosts": "localhost", "gather_facts": False, "tasks": [task]}]))
    interpreter = json.dumps({"ansible_python_interpreter": sys.executable})
    done = playbook(tmp_path, ["-i", "localhost,", "-c", "local", "-e", interpreter, tmp_path / "play.yml"])
    assert done.returncode != 0
    assert "documents ['/x'] are not under prefix /config/" in done.stdout
