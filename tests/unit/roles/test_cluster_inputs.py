"""Bad inputs to the k3s, istio and ingress roles stop them with a message naming the field and the fix,
before anything is installed."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def run_role(tmp_path: Path, role: str, extra_vars: dict) -> subprocess.CompletedProcess[str]:
    playbook = tmp_path / "play.yml"
    playbook.write_text(f"- hosts: localhost\n  gather_facts: true\n  roles:\n    - miniapp.mesh.{role}\n")
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_FORCE_COLOR="0")
    cmd = [Path(sys.executable).parent / "ansible-playbook", "-i", "localhost,", "-c", "local"]
    cmd += ["-e", json.dumps({"ansible_python_interpreter": sys.executable, **extra_vars}), str(playbook)]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)


ISTIO = {"istio_apply": False, "istio_k3s_version": "v1.35.0+k3s1"}


@pytest.mark.parametrize(
    ("role", "extra_vars", "expected"),
    [
        ("k3s", {"k3s_binary_from": "usb"}, "value of k3s_binary_from must be one of: bundle, host, got: usb"),
        ("k3s", {"k3s_images_from": "internet"}, "value of k3s_images_from must be one of: airgap, registry"),
        ("istio", {**ISTIO, "istio_version": "1.99.0"}, "Istio 1.99.0 (line 1.99) is not in the compatibility table"),
        (
            "istio",
            {**ISTIO, "istio_k3s_version": "v1.27.16+k3s1"},
            "Istio 1.29.0 supports Kubernetes 1.31 to 1.35, not 1.27",
        ),
        ("istio", {**ISTIO, "istio_revision": "Canary_1"}, "spec.revision: String should match pattern"),
        ("ingress", {"ingress_replicas": "two"}, "ingress_replicas"),
        (
            "ingress",
            {"ingress_apply": False, "ingress_tls_cert_file": "/nonexistent/site.crt"},
            "ingress_tls_cert_file and ingress_tls_key_file go together",
        ),
        (
            "ingress",
            {
                "ingress_apply": False,
                "ingress_tls_cert_file": "/none/site.crt",
                "ingress_tls_key_file": "/none/site.key",
            },
            "/none/site.crt, /none/site.key not found on the controller",
        ),
    ],
)
def test_bad_input_is_refused_naming_the_field(tmp_path: Path, role: str, extra_vars: dict, expected: str) -> None:
    extra_vars = {f"{role}_output_dir": str(tmp_path / "out"), **extra_vars}
    done = run_role(tmp_path, role, extra_vars)
    assert done.returncode != 0
    assert expected in done.stdout + done.stderr, done.stdout[-3000:]
    assert not (tmp_path / "out").exists()
