# -*- coding: utf-8 -*-
# Copyright: miniapp-mesh contributors
# Apache-2.0 (see LICENSE)
"""Loki's configuration and Grafana Alloy's pipeline, built through strict models of the fields we use
(written from the Loki 3 configuration reference and Alloy's component reference): an unknown field,
a bad duration or an unresolved component reference fails when rendered, since neither binary runs here."""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

_DURATION = re.compile(r"^(\d+)([smhdwy])$")
_HOURS = {"s": 1 / 3600, "m": 1 / 60, "h": 1, "d": 24, "w": 168, "y": 8760}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def hours(duration: str) -> float:
    match = _DURATION.match(duration)
    if not match:
        raise ValueError(f"{duration!r} is not a duration like 168h, 7d or 4w")
    return int(match.group(1)) * _HOURS[match.group(2)]


class LokiServer(_Strict):
    http_listen_port: int = Field(3100, ge=1, le=65535)
    grpc_listen_port: int = Field(9095, ge=1, le=65535)


class LokiFilesystem(_Strict):
    chunks_directory: str
    rules_directory: str


class LokiCommon(_Strict):
    path_prefix: str
    replication_factor: int = Field(1, ge=1)
    ring: dict[Literal["kvstore"], dict[Literal["store"], Literal["inmemory", "memberlist"]]]
    storage: dict[Literal["filesystem"], LokiFilesystem]


class LokiIndex(_Strict):
    prefix: str
    period: Literal["24h"]  # tsdb needs a 24h index period


class LokiPeriod(_Strict):
    from_: str = Field(alias="from", pattern=r"^\d{4}-\d{2}-\d{2}$")
    store: Literal["tsdb"]
    object_store: Literal["filesystem", "s3", "gcs", "azure"]
    schema_: Literal["v13"] = Field(alias="schema")
    index: LokiIndex


class LokiLimits(_Strict):
    retention_period: str
    allow_structured_metadata: bool = True
    reject_old_samples: bool = True
    reject_old_samples_max_age: str = "168h"

    @field_validator("retention_period")
    @classmethod
    def _whole_days(cls, value: str) -> str:
        if hours(value) < 24 or hours(value) % 24:
            raise ValueError(f"{value!r} must be whole days of at least 24h (Loki deletes by 24h index period)")
        return value


class LokiCompactor(_Strict):
    working_directory: str
    retention_enabled: bool
    delete_request_store: Literal["filesystem"]


class LokiConfig(_Strict):
    auth_enabled: bool
    server: LokiServer
    common: LokiCommon
    schema_config: dict[Literal["configs"], list[LokiPeriod]]
    limits_config: LokiLimits
    compactor: LokiCompactor
    analytics: dict[Literal["reporting_enabled"], Literal[False]]  # air-gapped: never phone home


def loki_config(retention: str, data_dir: str = "/var/loki") -> dict[str, Any]:
    """Single-binary Loki on a volume, TSDB schema v13, retention enforced by the compactor."""
    raw = {
        "auth_enabled": False,
        "server": {"http_listen_port": 3100, "grpc_listen_port": 9095},
        "common": {
            "path_prefix": data_dir,
            "replication_factor": 1,
            "ring": {"kvstore": {"store": "inmemory"}},
            "storage": {
                "filesystem": {"chunks_directory": f"{data_dir}/chunks", "rules_directory": f"{data_dir}/rules"}
            },
        },
        "schema_config": {
            "configs": [
                {
                    "from": "2024-04-01",
                    "store": "tsdb",
                    "object_store": "filesystem",
                    "schema": "v13",
                    "index": {"prefix": "index_", "period": "24h"},
                }
            ]
        },
        "limits_config": {"retention_period": retention},
        "compactor": {
            "working_directory": f"{data_dir}/compactor",
            "retention_enabled": True,
            "delete_request_store": "filesystem",
        },
        "analytics": {"reporting_enabled": False},
    }
    return LokiConfig.model_validate(raw).model_dump(by_alias=True)


# Alloy: the components the pipeline uses, with the arguments each requires and the fields it exports.
ALLOY_COMPONENTS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "discovery.kubernetes": (frozenset({"role"}), frozenset({"targets"})),
    "discovery.relabel": (frozenset({"targets"}), frozenset({"output"})),
    "loki.source.kubernetes": (frozenset({"targets", "forward_to"}), frozenset()),
    "loki.process": (frozenset({"forward_to"}), frozenset({"receiver"})),
    "loki.write": (frozenset(), frozenset({"receiver"})),
}
_REFERENCE = re.compile(r"\b((?:discovery|loki)\.[a-z_.]+?)\.([a-z_]+)\.([a-z_]+)\b")


class Expr(_Strict):
    """An Alloy expression written as is (a reference or a call), not as a string literal."""

    code: str


# Nested lists and maps hold the same kinds of values; _value() renders them.
Value = str | int | bool | Expr | list[Any] | dict[str, Any]


class Block(_Strict):
    name: str = Field(pattern=r"^[a-z_.]+$")
    attributes: dict[str, Value] = Field(default_factory=dict)
    blocks: list[Block] = Field(default_factory=list)


class Component(Block):
    label: str = Field(pattern=r"^[a-z][a-z0-9_]*$")

    @field_validator("name")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in ALLOY_COMPONENTS:
            raise ValueError(f"unknown Alloy component {value!r}; this pipeline uses {sorted(ALLOY_COMPONENTS)}")
        return value


def _value(value: Value) -> str:
    if isinstance(value, Expr):
        return value.code
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_value(v)}" for k, v in value.items()) + " }"
    return json.dumps(value)


def _block(block: Block, indent: str) -> list[str]:
    head = f'{block.name} "{block.label}"' if isinstance(block, Component) else block.name
    lines = [f"{indent}{head} {{"]
    lines += [f"{indent}  {key} = {_value(value)}" for key, value in block.attributes.items()]
    for inner in block.blocks:
        lines += _block(inner, indent + "  ")
    return [*lines, f"{indent}}}"]


def check_pipeline(components: list[Component]) -> list[str]:
    """Missing required arguments and references to components or exports that do not exist."""
    defined = {(c.name, c.label) for c in components}
    problems = []
    for component in components:
        required, _ = ALLOY_COMPONENTS[component.name]
        missing = sorted(required - set(component.attributes))
        if missing:
            problems.append(f'{component.name} "{component.label}": missing {missing}')
        for kind, label, export in _REFERENCE.findall("\n".join(_block(component, ""))):
            if (kind, label) not in defined:
                problems.append(f'{component.name} "{component.label}": refers to undefined {kind}.{label}')
            elif export not in ALLOY_COMPONENTS[kind][1]:
                problems.append(f'{component.name} "{component.label}": {kind} exports no {export!r}')
    return problems


def render_alloy(components: list[Component]) -> str:
    problems = check_pipeline(components)
    if problems:
        raise ValueError("Alloy pipeline: " + "; ".join(problems))
    return "\n\n".join("\n".join(_block(c, "")) for c in components) + "\n"


def alloy_pipeline(loki_push_url: str) -> list[Component]:
    """This node's pods' logs to Loki, labelled namespace, service, version, pod and container; the JSON
    line's level becomes a label and its trace_id structured metadata (many values: never a label)."""
    pod_meta = {
        "namespace": "__meta_kubernetes_namespace",
        "service": "__meta_kubernetes_pod_label_app",
        "version": "__meta_kubernetes_pod_label_version",
        "pod": "__meta_kubernetes_pod_name",
        "container": "__meta_kubernetes_pod_container_name",
    }
    rules = [
        Block(name="rule", attributes={"source_labels": [meta], "target_label": label})
        for label, meta in pod_meta.items()
    ]
    node = Block(
        name="selectors", attributes={"role": "pod", "field": Expr(code='"spec.nodeName=" + sys.env("NODE_NAME")')}
    )
    stages = [
        Block(name="stage.json", attributes={"expressions": {"level": "level", "trace_id": "trace_id"}}),
        Block(name="stage.labels", attributes={"values": {"level": ""}}),
        Block(name="stage.structured_metadata", attributes={"values": {"trace_id": ""}}),
    ]
    return [
        Component(name="discovery.kubernetes", label="pods", attributes={"role": "pod"}, blocks=[node]),
        Component(
            name="discovery.relabel",
            label="pods",
            attributes={"targets": Expr(code="discovery.kubernetes.pods.targets")},
            blocks=rules,
        ),
        Component(
            name="loki.source.kubernetes",
            label="pods",
            attributes={
                "targets": Expr(code="discovery.relabel.pods.output"),
                "forward_to": [Expr(code="loki.process.pods.receiver")],
            },
        ),
        Component(
            name="loki.process",
            label="pods",
            attributes={"forward_to": [Expr(code="loki.write.default.receiver")]},
            blocks=stages,
        ),
        Component(
            name="loki.write",
            label="default",
            blocks=[Block(name="endpoint", attributes={"url": loki_push_url})],
        ),
    ]
