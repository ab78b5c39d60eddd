# -*- coding: utf-8 -*-
# Copyright: miniapp-mesh contributors
# Apache-2.0 (see LICENSE)
"""Prometheus's configuration: one set of jobs whose targets come from Kubernetes service discovery on a
real cluster, or from files the lab writes. Both give every series the same target labels (namespace,
pod, app, version), so the rules and dashboards are the same everywhere."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

CONFIG_DIR = "/etc/prometheus"
SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
# cAdvisor series the capacity dashboard and memory rules read; the rest is dropped at scrape.
CADVISOR_KEEP = "container_memory_working_set_bytes|container_spec_memory_limit_bytes|container_cpu_usage_seconds_total"
MODES = ("kubernetes", "files")


class PrometheusConfigError(ValueError):
    """A setting Prometheus cannot use; the message names it and the fix."""


@dataclass(frozen=True)
class PrometheusOptions:
    mode: str  # kubernetes | files
    cluster: str
    scrape_interval: str = "15s"
    evaluation_interval: str = "15s"
    etcd_targets: tuple[str, ...] = ()
    rule_files: tuple[str, ...] = field(default=(f"{CONFIG_DIR}/rules/*.yml",))


def _pod_labels() -> list[dict[str, Any]]:
    """Kubernetes pod metadata -> the target labels every query groups by."""
    pairs = {
        "namespace": "__meta_kubernetes_namespace",
        "pod": "__meta_kubernetes_pod_name",
        "app": "__meta_kubernetes_pod_label_app",
        "version": "__meta_kubernetes_pod_label_version",
    }
    return [{"source_labels": [meta], "target_label": label} for label, meta in pairs.items()]


def _files(job: str) -> dict[str, Any]:
    return {"file_sd_configs": [{"files": [f"{CONFIG_DIR}/targets/{job}.json"], "refresh_interval": "30s"}]}


def _envoy(mode: str) -> dict[str, Any]:
    """Every sidecar's stats listener (Istio's http-envoy-prom port, 15090)."""
    job = {"job_name": "envoy-stats", "metrics_path": "/stats/prometheus"}
    if mode == "files":
        return {**job, **_files("envoy-stats")}
    keep = {"source_labels": ["__meta_kubernetes_pod_container_port_name"], "regex": ".*-envoy-prom", "action": "keep"}
    return {**job, "kubernetes_sd_configs": [{"role": "pod"}], "relabel_configs": [keep, *_pod_labels()]}


def _services(mode: str) -> dict[str, Any]:
    """The services' own /metrics, on the port the pod leaves outside the sidecar (its annotations say which)."""
    job = {"job_name": "miniapp-services", "metrics_path": "/metrics"}
    if mode == "files":
        return {**job, **_files("miniapp-services")}
    annotation = "__meta_kubernetes_pod_annotation_prometheus_io_"
    relabel = [
        {"source_labels": [f"{annotation}scrape"], "regex": "true", "action": "keep"},
        {"source_labels": [f"{annotation}path"], "regex": "(.+)", "target_label": "__metrics_path__"},
        {
            "source_labels": ["__meta_kubernetes_pod_ip", f"{annotation}port"],
            "regex": "(.+);(\\d+)",
            "replacement": "$1:$2",
            "target_label": "__address__",
        },
        *_pod_labels(),
    ]
    return {**job, "kubernetes_sd_configs": [{"role": "pod"}], "relabel_configs": relabel}


def _through_apiserver(job: str, path: str) -> dict[str, Any]:
    """A per-node kubelet endpoint, reached through the API server with Prometheus's service account."""
    return {
        "job_name": job,
        "scheme": "https",
        "kubernetes_sd_configs": [{"role": "node"}],
        "tls_config": {"ca_file": f"{SA_DIR}/ca.crt"},
        "authorization": {"credentials_file": f"{SA_DIR}/token"},
        "relabel_configs": [
            {"target_label": "__address__", "replacement": "kubernetes.default.svc:443"},
            {
                "source_labels": ["__meta_kubernetes_node_name"],
                "regex": "(.+)",
                "target_label": "__metrics_path__",
                "replacement": f"/api/v1/nodes/$1/proxy{path}",
            },
            {"source_labels": ["__meta_kubernetes_node_name"], "target_label": "node"},
        ],
    }


def _cadvisor(mode: str) -> dict[str, Any]:
    """Per-container working set, memory limit and CPU: the kubelet's cAdvisor (the lab: its stand-in)."""
    keep = [
        {"source_labels": ["__name__"], "regex": CADVISOR_KEEP, "action": "keep"},
        {"source_labels": ["container"], "regex": "|POD", "action": "drop"},
    ]
    job = {"job_name": "kubernetes-cadvisor"} | _files("kubernetes-cadvisor")
    if mode == "kubernetes":
        job = _through_apiserver("kubernetes-cadvisor", "/metrics/cadvisor")
    return {**job, "metric_relabel_configs": keep}


def _etcd(targets: tuple[str, ...]) -> dict[str, Any]:
    """The external etcd members' plain metrics listener (the etcd role's etcd_metrics_port)."""
    return {"job_name": "etcd", "static_configs": [{"targets": list(targets)}]}


def scrape_configs(options: PrometheusOptions) -> list[dict[str, Any]]:
    jobs = [_envoy(options.mode), _services(options.mode), _cadvisor(options.mode)]
    if options.mode == "kubernetes":
        jobs.append(_through_apiserver("kubernetes-kubelet", "/metrics"))
    if options.etcd_targets:
        jobs.append(_etcd(options.etcd_targets))
    return jobs


def _check(options: PrometheusOptions) -> None:
    if options.mode not in MODES:
        raise PrometheusConfigError(f"mode: {options.mode!r} is not one of {MODES}; use kubernetes on a cluster")
    bad = [t for t in options.etcd_targets if ":" not in t]
    if bad:
        raise PrometheusConfigError(f"etcd_targets: {bad} lack a port; write host:port (the etcd metrics port, 2381)")
    if not options.cluster:
        raise PrometheusConfigError("cluster: empty; set observability_cluster_name to name this cluster in alerts")


# Debian's Prometheus is built without Kubernetes discovery, so its promtool cannot check these sections:
# they are checked here against the fields and meta labels of Prometheus's kubernetes_sd_config reference.
SD_FIELDS = {"role", "namespaces", "selectors", "api_server", "kubeconfig_file", "attach_metadata"}
SD_META = {
    "pod": ("namespace", "pod_name", "pod_ip", "pod_label_", "pod_annotation_", "pod_container_port_name"),
    "node": ("node_name", "node_label_", "node_address_"),
}


def check_kubernetes_sd(config: dict[str, Any]) -> list[str]:
    """What in the config's kubernetes_sd_configs Prometheus would refuse or never fill; empty when none."""
    problems = []
    for job in config["scrape_configs"]:
        for sd in job.get("kubernetes_sd_configs", []):
            unknown = sorted(set(sd) - SD_FIELDS)
            if unknown:
                problems.append(f"{job['job_name']}: unknown kubernetes_sd_configs fields {unknown}")
            if sd.get("role") not in SD_META:
                problems.append(f"{job['job_name']}: role {sd.get('role')!r}; this config uses {sorted(SD_META)}")
                continue
            for rule in job.get("relabel_configs", []):
                for label in rule.get("source_labels", []):
                    name = label.removeprefix("__meta_kubernetes_")
                    if name != label and not name.startswith(SD_META[sd["role"]]):
                        problems.append(f"{job['job_name']}: role {sd['role']} has no meta label {label}")
    return problems


def prometheus_config(options: PrometheusOptions) -> dict[str, Any]:
    """The whole prometheus.yml."""
    _check(options)
    config = {
        "global": {
            "scrape_interval": options.scrape_interval,
            "evaluation_interval": options.evaluation_interval,
            "external_labels": {"cluster": options.cluster},
        },
        "rule_files": list(options.rule_files),
        "scrape_configs": scrape_configs(options),
    }
    problems = check_kubernetes_sd(config)
    if problems:
        raise PrometheusConfigError("; ".join(problems))
    return config
