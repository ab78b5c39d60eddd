# -*- coding: utf-8 -*-
# Copyright: miniapp-mesh contributors
# Apache-2.0 (see LICENSE)
"""Everything roles/observability renders, from its settings, in one call (the filter observability_stack)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from . import obs_grafana, obs_logging, obs_prometheus, obs_render, obs_tracing

IMAGES = ("prometheus", "loki", "alloy", "tempo", "grafana")


class Settings(BaseModel):
    """The role's settings as the filter receives them; names are the role's variables without the prefix."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: str
    cluster: str
    namespace: str = Field(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    etcd_targets: list[str] = Field(default_factory=list)
    scrape_interval: str = Field("15s", pattern=r"^\d+[sm]$")
    prometheus_retention: str = Field("15d", pattern=r"^\d+[hdwy]$")
    loki_retention: str = "168h"
    tempo_retention: str = "168h"
    images: dict[str, str]
    rules: dict[str, str]
    dashboards: dict[str, str]
    storage: dict[str, str] = Field(
        default_factory=lambda: {"prometheus": "20Gi", "loki": "20Gi", "tempo": "20Gi", "grafana": "1Gi"}
    )
    storage_class: str = ""


def _describe(err: ValidationError) -> str:
    return "; ".join(f"observability_{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors())


def build(raw: dict[str, Any]) -> dict[str, Any]:
    try:
        s = Settings.model_validate(raw)
        loki_config = obs_logging.loki_config(s.loki_retention)
        tempo_config = obs_tracing.tempo_config(s.tempo_retention)
    except ValidationError as err:
        raise ValueError(_describe(err)) from None
    missing = [name for name in IMAGES if name not in s.images]
    if missing:
        raise ValueError(f"images: no image for {missing}; the bundle table (roles/offline_bundle) names them")
    prometheus_config = obs_prometheus.prometheus_config(
        obs_prometheus.PrometheusOptions(
            mode=s.mode,
            cluster=s.cluster,
            scrape_interval=s.scrape_interval,
            evaluation_interval=s.scrape_interval,
            etcd_targets=tuple(s.etcd_targets),
        )
    )
    svc = f"{s.namespace}.svc"
    alloy_config = obs_logging.render_alloy(obs_logging.alloy_pipeline(f"http://loki.{svc}:3100/loki/api/v1/push"))
    datasources = obs_grafana.datasources(
        f"http://prometheus.{svc}:9090",
        f"http://loki.{svc}:3100",
        f"http://tempo.{svc}:{obs_tracing.HTTP_PORT}",
        s.scrape_interval,
    )
    providers = obs_grafana.dashboard_providers()
    options = obs_render.ObsOptions(
        namespace=s.namespace,
        images=s.images,
        prometheus_config=prometheus_config,
        rules=s.rules,
        dashboards=s.dashboards,
        loki_config=loki_config,
        tempo_config=tempo_config,
        alloy_config=alloy_config,
        datasources=datasources,
        providers=providers,
        prometheus_retention=s.prometheus_retention,
        storage=s.storage,
        storage_class=s.storage_class,
    )
    return {
        "prometheus_config": prometheus_config,
        "loki_config": loki_config,
        "tempo_config": tempo_config,
        "alloy_config": alloy_config,
        "datasources": datasources,
        "providers": providers,
        "objects": obs_render.render(options),
    }
