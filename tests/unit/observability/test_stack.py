"""The observability stack as rendered for a cluster: every object valid against the Kubernetes schemas,
Loki, Alloy, Tempo and Grafana configuration checked by their models, bad settings named with the fix."""

import json
import re
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from ansible_collections.miniapp.mesh.plugins.module_utils import obs_grafana, obs_logging, obs_stack, obs_tracing
from tools.dashboards.__main__ import rendered

ROOT = Path(__file__).parents[3]
RULES = {"miniapp.rules.yml": (ROOT / "roles/observability/files/rules/miniapp.rules.yml").read_text()}
SETTINGS = {
    "mode": "kubernetes",
    "cluster": "site-a",
    "namespace": "monitoring",
    "etcd_targets": ["10.0.0.11:2381", "10.0.0.12:2381", "10.0.0.13:2381"],
    "images": {name: f"registry.local:5000/{name}:1" for name in obs_stack.IMAGES},
    "rules": RULES,
    "dashboards": rendered(),
}
STACK = obs_stack.build(SETTINGS)


def _objects(kind: str) -> dict[str, dict]:
    return {o["metadata"]["name"]: o for o in STACK["objects"] if o["kind"] == kind}


def test_every_object_is_valid_against_the_kubernetes_schemas() -> None:
    done = subprocess.run(
        ["node", ROOT / "tools/schemas/validate.mjs"],
        input=json.dumps(STACK["objects"]),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == f"{len(STACK['objects'])} objects valid"


@pytest.mark.parametrize("version", ["1.35.0", "1.27.16"])
def test_every_object_is_valid_for_the_target_kubernetes_releases(version: str) -> None:
    """kubernetes-validate, strict (unknown fields refused), for the default and the design's line."""
    problems = []
    for obj in STACK["objects"]:
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as err:
            problems.append(f"{obj['kind']}/{obj['metadata']['name']}: {err.message}")
    assert problems == []


def test_workloads_run_from_the_site_registry_as_non_root_and_roll_on_config_change() -> None:
    workloads = [o for o in STACK["objects"] if o["kind"] in ("Deployment", "StatefulSet", "DaemonSet")]
    assert {w["metadata"]["name"] for w in workloads} == {"prometheus", "loki", "tempo", "alloy", "grafana"}
    for w in workloads:
        pod = w["spec"]["template"]
        assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
        assert pod["spec"]["containers"][0]["image"].startswith("registry.local:5000/")
        assert len(pod["metadata"]["annotations"]["miniapp.mesh/config-sha256"]) == 64
    changed = obs_stack.build({**SETTINGS, "rules": {"miniapp.rules.yml": RULES["miniapp.rules.yml"] + "\n"}})
    before = _objects("Deployment")["prometheus"]["spec"]["template"]["metadata"]["annotations"]
    after = next(o for o in changed["objects"] if o["metadata"]["name"] == "prometheus" and o["kind"] == "Deployment")
    assert before != after["spec"]["template"]["metadata"]["annotations"]


def test_grafana_is_offline_and_its_password_comes_from_the_per_install_secret() -> None:
    env = {e["name"]: e for e in _objects("Deployment")["grafana"]["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["GF_SECURITY_ADMIN_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == "grafana-admin"
    assert env["GF_ANALYTICS_CHECK_FOR_UPDATES"]["value"] == "false"
    assert "value" not in env["GF_SECURITY_ADMIN_PASSWORD"]
    dashboards = _objects("ConfigMap")["grafana-dashboards"]["data"]
    assert set(dashboards) == {
        f"{uid}.json"
        for uid in ("miniapp-business", "miniapp-mesh", "miniapp-capacity", "miniapp-etcd", "miniapp-tenants")
    }


def test_the_namespace_stays_outside_the_mesh() -> None:
    assert _objects("Namespace")["monitoring"]["metadata"]["labels"] == {"istio-injection": "disabled"}


def test_alloy_ships_container_logs_labelled_with_trace_id_as_metadata() -> None:
    text = STACK["alloy_config"]
    assert 'target_label = "service"' in text
    assert 'target_label = "version"' in text
    assert 'stage.structured_metadata {\n    values = { "trace_id" = "" }' in text
    assert 'url = "http://loki.monitoring.svc:3100/loki/api/v1/push"' in text
    assert "NODE_NAME" in text


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"loki_retention": "36h"}, "whole days of at least 24h"),
        ({"loki_retention": "a week"}, "is not a duration"),
        ({"namespace": "Monitoring"}, "observability_namespace"),
        ({"images": {"prometheus": "x"}}, "no image for ['loki', 'alloy', 'tempo', 'grafana']"),
        ({"tempo_retention": "a week"}, "is not a duration"),
        ({"scrape_interval": "fast"}, "observability_scrape_interval"),
        ({"etcd_targets": ["etcd1"]}, "lack a port"),
        ({"retention": "1d"}, "observability_retention: Extra inputs are not permitted"),
    ],
)
def test_bad_settings_are_named(overrides: dict, words: str) -> None:
    with pytest.raises(ValueError, match=re.escape(words)):
        obs_stack.build({**SETTINGS, **overrides})


def test_alloy_model_refuses_unknown_components_and_dangling_references() -> None:
    pipeline = obs_logging.alloy_pipeline("http://loki:3100/loki/api/v1/push")
    with pytest.raises(ValueError, match=re.escape("unknown Alloy component 'loki.source.file'")):
        obs_logging.Component(name="loki.source.file", label="x")
    dangling = [c for c in pipeline if c.name != "loki.write"]
    with pytest.raises(ValueError, match=re.escape("refers to undefined loki.write.default")):
        obs_logging.render_alloy(dangling)
    missing = [c.model_copy(update={"attributes": {}}) if c.name == "loki.process" else c for c in pipeline]
    assert obs_logging.check_pipeline(missing) == ["loki.process \"pods\": missing ['forward_to']"]


def test_grafana_models_refuse_unknown_fields() -> None:
    raw = obs_grafana.datasources("http://p:9090", "http://l:3100", "http://t:3200", "15s")
    raw["datasources"][1]["jsonData"]["maxLine"] = 10
    with pytest.raises(ValueError, match="maxLine"):
        obs_grafana.Datasources.model_validate(raw)
    loki = obs_logging.loki_config("7d")
    loki["limits_config"]["retention_perod"] = "7d"
    with pytest.raises(ValueError, match="retention_perod"):
        obs_logging.LokiConfig.model_validate(loki)


def test_an_exemplar_opens_its_trace_in_tempo_or_its_log_lines_in_loki() -> None:
    tempo, loki = STACK["datasources"]["datasources"][0]["jsonData"]["exemplarTraceIdDestinations"]
    assert tempo == {"name": "trace_id", "urlDisplayLabel": "The trace in Tempo", "datasourceUid": "tempo"}
    assert loki["name"] == "trace_id"
    assert "${__value.raw}" in loki["url"]
    assert "loki" in loki["url"]
    assert yaml.safe_load(yaml.safe_dump(STACK["loki_config"]))["analytics"] == {"reporting_enabled": False}


def test_traces_and_logs_open_each_other() -> None:
    """A span opens its service's log lines of that trace (Loki's label service is the span's service.name);
    a log line's trace_id (structured metadata) opens the trace."""
    by_uid = {d["uid"]: d for d in STACK["datasources"]["datasources"]}
    to_logs = by_uid["tempo"]["jsonData"]["tracesToLogsV2"]
    assert (to_logs["datasourceUid"], to_logs["filterByTraceID"]) == ("loki", True)
    assert to_logs["tags"] == [{"key": "service.name", "value": "service"}]
    assert by_uid["tempo"]["url"] == "http://tempo.monitoring.svc:3200/"
    (derived,) = by_uid["loki"]["jsonData"]["derivedFields"]
    assert (derived["matcherRegex"], derived["datasourceUid"], derived["url"]) == (
        "trace_id",
        "tempo",
        "$${__value.raw}",
    )
    with pytest.raises(ValueError, match="not both or neither"):
        obs_grafana.ExemplarLink(name="trace_id", urlDisplayLabel="x")


def test_tempo_takes_otlp_from_every_pod_keeps_the_retention_and_never_phones_home() -> None:
    config = STACK["tempo_config"]
    protocols = config["distributor"]["receivers"]["otlp"]["protocols"]
    assert protocols == {"grpc": {"endpoint": "0.0.0.0:4317"}, "http": {"endpoint": "0.0.0.0:4318"}}
    assert config["compactor"]["compaction"]["block_retention"] == "168h"
    assert config["usage_report"] == {"reporting_enabled": False}
    assert obs_tracing.tempo_config("14d")["compactor"]["compaction"]["block_retention"] == "336h"
    ports = {p["name"]: p["port"] for p in _objects("Service")["tempo"]["spec"]["ports"]}
    assert ports == {"http": 3200, "otlp-http": 4318, "otlp-grpc": 4317}
    tempo = _objects("StatefulSet")["tempo"]["spec"]["template"]["spec"]["containers"][0]
    assert {p["name"] for p in tempo["ports"]} == set(ports)
    with pytest.raises(ValueError, match="endpoint"):
        obs_tracing.OtlpProtocol(endpoint="localhost:4318")  # Tempo's own default: no other pod could send
