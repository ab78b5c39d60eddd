# -*- coding: utf-8 -*-
# Copyright: miniapp-mesh contributors
# Apache-2.0 (see LICENSE)
"""Grafana Tempo, single binary, as the services' trace backend: its configuration through a strict model of the
keys of Tempo's single-binary example (Tempo cannot run here, so a wrong field fails when rendered), and Grafana's
Tempo datasource with its links between traces and logs."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from .obs_logging import _Strict, hours

HTTP_PORT, OTLP_HTTP_PORT, OTLP_GRPC_PORT = 3200, 4318, 4317
TEMPO_UID = "tempo"


class TempoServer(_Strict):
    http_listen_port: int = Field(HTTP_PORT, ge=1, le=65535)


class OtlpProtocol(_Strict):
    # Since Tempo 2.7 receivers bind to localhost unless told: another pod could not send.
    endpoint: str = Field(pattern=r"^0\.0\.0\.0:\d{1,5}$")


class OtlpReceiver(_Strict):
    protocols: dict[Literal["grpc", "http"], OtlpProtocol]


class TempoDistributor(_Strict):
    receivers: dict[Literal["otlp"], OtlpReceiver]


class TempoCompaction(_Strict):
    block_retention: str = Field(pattern=r"^\d+h$")


class TempoCompactor(_Strict):
    compaction: TempoCompaction


class TempoLocal(_Strict):
    path: str


class TempoWal(_Strict):
    path: str


class TempoTraceStorage(_Strict):
    backend: Literal["local"]
    local: TempoLocal
    wal: TempoWal


class TempoConfig(_Strict):
    stream_over_http_enabled: bool  # Grafana's streaming search
    server: TempoServer
    distributor: TempoDistributor
    compactor: TempoCompactor
    storage: dict[Literal["trace"], TempoTraceStorage]
    usage_report: dict[Literal["reporting_enabled"], Literal[False]]  # air-gapped: never phone home


def tempo_config(retention: str, data_dir: str = "/var/tempo") -> dict[str, Any]:
    """Tempo on a volume: OTLP over gRPC and HTTP from every pod, blocks kept for the retention."""
    raw = {
        "stream_over_http_enabled": True,
        "server": {"http_listen_port": HTTP_PORT},
        "distributor": {
            "receivers": {
                "otlp": {
                    "protocols": {
                        "grpc": {"endpoint": f"0.0.0.0:{OTLP_GRPC_PORT}"},
                        "http": {"endpoint": f"0.0.0.0:{OTLP_HTTP_PORT}"},
                    }
                }
            }
        },
        "compactor": {"compaction": {"block_retention": f"{hours(retention):g}h"}},
        "storage": {
            "trace": {"backend": "local", "local": {"path": f"{data_dir}/blocks"}, "wal": {"path": f"{data_dir}/wal"}}
        },
        "usage_report": {"reporting_enabled": False},
    }
    return TempoConfig.model_validate(raw).model_dump()


class LogTag(_Strict):
    key: str  # the span's resource attribute
    value: str  # the Loki label it is


class TracesToLogs(_Strict):
    datasourceUid: str  # Grafana's field names
    filterByTraceID: bool
    spanStartTimeShift: str = Field(pattern=r"^-\d+[smh]$")
    spanEndTimeShift: str = Field(pattern=r"^\d+[smh]$")
    tags: list[LogTag] = Field(min_length=1)  # without one the link is not shown


class TempoJson(_Strict):
    tracesToLogsV2: TracesToLogs
    streamingEnabled: dict[Literal["search"], bool]


class DerivedField(_Strict):
    name: str
    matcherType: Literal["label", "regex"]
    matcherRegex: str
    url: str
    datasourceUid: str
    urlDisplayLabel: str


def tempo_json(loki_uid: str, service_label: str) -> dict[str, Any]:
    """A span opens its service's log lines of that trace in Loki (two seconds either side)."""
    raw = {
        "tracesToLogsV2": {
            "datasourceUid": loki_uid,
            "filterByTraceID": True,
            "spanStartTimeShift": "-2s",
            "spanEndTimeShift": "2s",
            "tags": [{"key": "service.name", "value": service_label}],
        },
        "streamingEnabled": {"search": True},
    }
    return TempoJson.model_validate(raw).model_dump()


def trace_of_log_line() -> dict[str, Any]:
    """Loki's derived field: a line's trace_id (structured metadata the pipeline keeps) opens the trace in Tempo.
    In provisioning files `$$` stands for `$`."""
    raw = {
        "name": "TraceID",
        "matcherType": "label",
        "matcherRegex": "trace_id",
        "url": "$${__value.raw}",
        "datasourceUid": TEMPO_UID,
        "urlDisplayLabel": "The trace in Tempo",
    }
    return DerivedField.model_validate(raw).model_dump()
