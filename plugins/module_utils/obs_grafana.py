# -*- coding: utf-8 -*-
# Copyright: miniapp-mesh contributors
# Apache-2.0 (see LICENSE)
"""Grafana's provisioning files (datasources and the dashboard provider), built through strict models of
Grafana's provisioning reference: Grafana cannot run here, so a wrong field fails when rendered."""

from __future__ import annotations

import json
from typing import Any, Literal
from urllib.parse import quote

from pydantic import Field, HttpUrl, model_validator

from .obs_logging import _Strict
from .obs_tracing import TEMPO_UID, DerivedField, TempoJson, tempo_json, trace_of_log_line

# The dashboards query these uids (tools/dashboards/kit.py).
PROMETHEUS_UID, LOKI_UID = "prometheus", "loki"
DASHBOARDS_DIR = "/var/lib/grafana/dashboards"


class ExemplarLink(_Strict):
    """Where an exemplar's trace id leads: a URL, or a datasource of Grafana's (Tempo)."""

    name: str
    urlDisplayLabel: str  # Grafana's field names
    url: str | None = None
    datasourceUid: str | None = None

    @model_validator(mode="after")
    def _one_destination(self) -> ExemplarLink:
        if (self.url is None) == (self.datasourceUid is None):
            raise ValueError(f"exemplar link {self.name}: give a url or a datasourceUid, not both or neither")
        return self


class PrometheusJson(_Strict):
    timeInterval: str = Field(pattern=r"^\d+[smh]$")
    httpMethod: Literal["POST", "GET"] = "POST"
    exemplarTraceIdDestinations: list[ExemplarLink]


class LokiJson(_Strict):
    maxLines: int = Field(1000, ge=1)
    derivedFields: list[DerivedField] = Field(default_factory=list)


class Datasource(_Strict):
    name: str
    uid: str = Field(pattern=r"^[a-z0-9-]{1,40}$")
    type: Literal["prometheus", "loki", "tempo"]
    access: Literal["proxy"] = "proxy"
    url: HttpUrl
    isDefault: bool = False
    editable: bool = False
    jsonData: PrometheusJson | LokiJson | TempoJson


class Datasources(_Strict):
    apiVersion: Literal[1]
    datasources: list[Datasource]


class ProviderOptions(_Strict):
    path: str
    foldersFromFilesStructure: bool = False


class Provider(_Strict):
    name: str
    orgId: int = 1
    folder: str
    type: Literal["file"]
    disableDeletion: bool
    allowUiUpdates: bool
    updateIntervalSeconds: int = Field(ge=10)
    options: ProviderOptions


class Providers(_Strict):
    apiVersion: Literal[1]
    providers: list[Provider]


def _logs_of_trace() -> str:
    """Grafana Explore on Loki, every service's lines carrying the exemplar's trace_id."""
    query = {"datasource": LOKI_UID, "queries": [{"refId": "A", "expr": '{service=~".+"} | trace_id="TRACE"'}]}
    # Grafana fills ${__value.raw} in the URL as written: encode everything around it, not it.
    return "/explore?left=" + quote(json.dumps(query, separators=(",", ":"))).replace("TRACE", "${__value.raw}")


def datasources(prometheus_url: str, loki_url: str, tempo_url: str, scrape_interval: str) -> dict[str, Any]:
    """Prometheus (default; an exemplar's trace_id opens the trace in Tempo, or its log lines in Loki), Loki (a
    line's trace_id opens the trace) and Tempo (a span opens its service's lines of the trace)."""
    logs = {"name": "trace_id", "url": _logs_of_trace(), "urlDisplayLabel": "Log lines of this trace"}
    trace = {"name": "trace_id", "datasourceUid": TEMPO_UID, "urlDisplayLabel": "The trace in Tempo"}
    prometheus = {"timeInterval": scrape_interval, "exemplarTraceIdDestinations": [trace, logs]}
    raw = {
        "apiVersion": 1,
        "datasources": [
            {
                "name": "Prometheus",
                "uid": PROMETHEUS_UID,
                "type": "prometheus",
                "url": prometheus_url,
                "isDefault": True,
                "jsonData": prometheus,
            },
            {
                "name": "Loki",
                "uid": LOKI_UID,
                "type": "loki",
                "url": loki_url,
                "jsonData": {"maxLines": 1000, "derivedFields": [trace_of_log_line()]},
            },
            # The Loki label the pipeline gives a pod's app (obs_logging.alloy_pipeline), which is service.name.
            {
                "name": "Tempo",
                "uid": TEMPO_UID,
                "type": "tempo",
                "url": tempo_url,
                "jsonData": tempo_json(LOKI_UID, "service"),
            },
        ],
    }
    return Datasources.model_validate(raw).model_dump(mode="json", exclude_none=True)


def dashboard_providers(folder: str = "Mini-program") -> dict[str, Any]:
    """The committed dashboards, read-only in Grafana: changes go through the code (tools/dashboards)."""
    raw = {
        "apiVersion": 1,
        "providers": [
            {
                "name": "miniapp",
                "folder": folder,
                "type": "file",
                "disableDeletion": True,
                "allowUiUpdates": False,
                "updateIntervalSeconds": 60,
                "options": {"path": DASHBOARDS_DIR},
            }
        ],
    }
    return Providers.model_validate(raw).model_dump()
