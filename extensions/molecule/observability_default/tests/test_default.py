"""The observability role on the controller: every file written and valid, the Grafana password per install
and never in a rendered file."""

import json
import os
import subprocess
from pathlib import Path

import yaml

ROOT = Path(os.environ["MOLECULE_PROJECT_DIRECTORY"])
INVENTORY = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "inventory"
RENDERED = INVENTORY / "rendered" / "observability"
PASSWORD = INVENTORY / ".secrets" / "grafana-admin"


def _objects() -> list[dict]:
    return [o for o in yaml.safe_load_all((RENDERED / "observability.yml").read_text()) if o]


def test_objects_are_valid_against_the_published_schemas() -> None:
    objects = _objects()
    done = subprocess.run(
        ["node", ROOT / "tools/schemas/validate.mjs"], input=json.dumps(objects), capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert {o["kind"] for o in objects} >= {"Deployment", "StatefulSet", "DaemonSet", "ConfigMap", "ClusterRole"}


def test_rules_and_config_pass_promtool() -> None:
    rules = subprocess.run(
        ["promtool", "check", "rules", *sorted((RENDERED / "prometheus/rules").glob("*.yml"))],
        capture_output=True,
        text=True,
    )
    assert rules.returncode == 0, rules.stdout + rules.stderr
    config = yaml.safe_load((RENDERED / "prometheus/prometheus.yml").read_text())
    assert {j["job_name"] for j in config["scrape_configs"]} == {
        "envoy-stats", "miniapp-services", "kubernetes-cadvisor", "kubernetes-kubelet", "etcd"
    }  # fmt: skip
    assert config["scrape_configs"][-1]["static_configs"][0]["targets"] == ["observability_default-node1:2381"]


def test_every_dashboard_and_configuration_file_is_written() -> None:
    written = {str(p.relative_to(RENDERED)) for p in RENDERED.rglob("*") if p.is_file()}
    assert {
        "loki/config.yaml", "tempo/config.yaml", "alloy/config.alloy", "grafana/datasources.yml", "grafana/providers.yml",
        "grafana/dashboards/miniapp-mesh.json", "grafana/dashboards/miniapp-business.json",
        "grafana/dashboards/miniapp-capacity.json", "grafana/dashboards/miniapp-etcd.json",
        "grafana/dashboards/miniapp-tenants.json",
    } <= written  # fmt: skip


def test_grafana_password_is_private_and_not_rendered() -> None:
    assert oct(PASSWORD.parent.stat().st_mode & 0o777) == "0o700"
    password = PASSWORD.read_text().split()[0]
    assert len(password) == 32
    for path in RENDERED.rglob("*"):
        if path.is_file():
            assert password not in path.read_text(), path
