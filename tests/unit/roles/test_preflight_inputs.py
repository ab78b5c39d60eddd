"""Bad inventory values stop the preflight role with a message naming the field and the fix."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  roles:
    - miniapp.mesh.preflight
"""


def run_role(tmp_path, extra_vars):
    playbook = tmp_path / "play.yml"
    playbook.write_text(PLAYBOOK)
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_FORCE_COLOR="0")
    cmd = [Path(sys.executable).parent / "ansible-playbook", "-i", "localhost,", "-c", "local"]
    cmd += ["-e", json.dumps({"ansible_python_interpreter": sys.executable, **extra_vars}), str(playbook)]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize(
    ("extra_vars", "expected"),
    [
        (
            {"preflight_swap_off": "sometimes"},
            ["preflight_swap_off", "bool"],
        ),
        (
            {"preflight_kernel_modules": {"overlay": True}},
            ["preflight_kernel_modules", "list"],
        ),
        (
            {"preflight_minimums": {"etcd": {"memory_mb": "lots", "disk_gb": 10}}},
            [
                "preflight_minimums.etcd is",
                "{memory_mb: <MiB>, disk_gb: <GiB>}",
                "Fix it in the inventory's group_vars",
            ],
        ),
        (
            {"preflight_ports": {"etcd": [{"port": 70000, "owner": "etcd"}]}},
            ["preflight_ports.etcd has", "{port: <1-65535>, owner: <process name>}"],
        ),
    ],
    ids=["bool-typo", "mapping-for-list", "minimum-not-a-number", "port-out-of-range"],
)
def test_bad_value_is_named_with_its_fix(tmp_path, extra_vars, expected):
    result = run_role(tmp_path, extra_vars)
    assert result.returncode != 0
    for text in expected:
        assert text in result.stdout, result.stdout[-3000:]


def test_empty_etcd_group_is_refused(tmp_path):
    result = run_role(tmp_path, {})
    assert result.returncode != 0
    assert "inventory: etcd_members: group 'etcd' has 0 members (none)" in result.stdout, result.stdout[-3000:]
