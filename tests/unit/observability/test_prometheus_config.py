"""prometheus.yml for a cluster and for the lab: accepted by promtool, same target labels, bad settings named."""

from pathlib import Path

import pytest
import yaml

from ansible_collections.miniapp.mesh.plugins.module_utils import obs_prometheus as prom

from .test_rules import RULES, promtool


def _config(mode: str, **overrides: object) -> dict:
    options = {"mode": mode, "cluster": "lab", "etcd_targets": ("etcd1:2381", "etcd2:2381")} | overrides
    return prom.prometheus_config(prom.PrometheusOptions(**options))


def _without_kubernetes_sd(config: dict, tmp_path: Path) -> dict:
    """Debian's promtool has no Kubernetes discovery: swap those sections for file discovery (checked apart)."""
    for job in config["scrape_configs"]:
        if job.pop("kubernetes_sd_configs", None) is not None:
            job["file_sd_configs"] = [{"files": [str(tmp_path / "none.json")]}]
    return config


@pytest.mark.parametrize("mode", prom.MODES)
def test_promtool_accepts_the_config(mode: str, tmp_path: Path) -> None:
    path = tmp_path / "prometheus.yml"
    path.write_text(yaml.safe_dump(_without_kubernetes_sd(_config(mode), tmp_path)))
    done = promtool("check", "config", "--syntax-only", path)
    assert done.returncode == 0, done.stdout + done.stderr


def test_kubernetes_discovery_is_checked_against_the_reference() -> None:
    config = _config("kubernetes")
    assert prom.check_kubernetes_sd(config) == []
    jobs = {j["job_name"]: j for j in config["scrape_configs"]}
    jobs["envoy-stats"]["kubernetes_sd_configs"][0]["namespace"] = ["miniapp"]
    jobs["miniapp-services"]["relabel_configs"][0]["source_labels"] = ["__meta_kubernetes_pod_annotations_x"]
    jobs["kubernetes-kubelet"]["kubernetes_sd_configs"][0]["role"] = "nodes"
    assert prom.check_kubernetes_sd(config) == [
        "envoy-stats: unknown kubernetes_sd_configs fields ['namespace']",
        "miniapp-services: role pod has no meta label __meta_kubernetes_pod_annotations_x",
        "kubernetes-kubelet: role 'nodes'; this config uses ['node', 'pod']",
    ]


def test_lab_config_with_its_files_passes_the_full_check(tmp_path: Path) -> None:
    config = _config("files", rule_files=(str(tmp_path / "rules/*.yml"),))
    for job in config["scrape_configs"]:
        for sd in job.get("file_sd_configs", []):
            sd["files"] = [str(tmp_path / Path(f).name) for f in sd["files"]]
            for f in sd["files"]:
                Path(f).write_text('[{"targets": ["10.89.7.10:15090"], "labels": {"app": "user"}}]')
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / RULES.name).write_text(RULES.read_text())
    path = tmp_path / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    done = promtool("check", "config", path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "18 rules found" in done.stdout  # the journeys' rules are checked in test_rules.py


def test_cluster_jobs_give_the_labels_the_lab_files_give() -> None:
    jobs = {j["job_name"]: j for j in _config("kubernetes")["scrape_configs"]}
    for name in ("envoy-stats", "miniapp-services"):
        targets = {r.get("target_label") for r in jobs[name]["relabel_configs"]}
        assert {"namespace", "pod", "app", "version"} <= targets
    assert jobs["kubernetes-cadvisor"]["metric_relabel_configs"][0]["regex"] == prom.CADVISOR_KEEP
    assert "kubernetes-kubelet" in jobs
    assert "kubernetes-kubelet" not in {j["job_name"] for j in _config("files")["scrape_configs"]}


def test_no_etcd_job_without_targets() -> None:
    assert "etcd" not in {j["job_name"] for j in _config("files", etcd_targets=())["scrape_configs"]}


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"mode": "consul"}, "mode: 'consul'"),
        ({"etcd_targets": ("etcd1",)}, "etcd_targets: ['etcd1'] lack a port"),
        ({"cluster": ""}, "observability_cluster_name"),
    ],
)
def test_bad_settings_are_named(overrides: dict, words: str) -> None:
    with pytest.raises(prom.PrometheusConfigError, match=words.replace("[", r"\[").replace("]", r"\]")):
        _config(overrides.pop("mode", "files"), **overrides)


def test_promtool_refuses_a_broken_config(tmp_path: Path) -> None:
    config = _config("files")
    config["scrape_configs"][0]["scrape_interval"] = "fifteen seconds"
    path = tmp_path / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    done = promtool("check", "config", "--syntax-only", path)
    assert done.returncode == 1
    assert "fifteen seconds" in done.stdout + done.stderr
