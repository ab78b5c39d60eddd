# -*- coding: utf-8 -*-
# Copyright: miniapp-mesh contributors
# Apache-2.0 (see LICENSE)
"""The two shapes every rendered Kubernetes object shares: its metadata and its envelope.

One place for them, so the cluster, mesh and observability renderers write objects the same way."""

from __future__ import annotations

from typing import Any


def metadata(
    name: str,
    namespace: str | None = None,
    labels: dict[str, Any] | None = None,
    annotations: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """``metadata`` with only the fields given; labels and annotations are copied, never shared."""
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    if labels:
        meta["labels"] = dict(labels)
    if annotations:
        meta["annotations"] = dict(annotations)
    return meta


def manifest(api: str, kind: str, meta: dict[str, Any], **body: object) -> dict[str, Any]:
    """One object: apiVersion, kind, metadata, then its body (spec, data, rules, ...)."""
    return {"apiVersion": api, "kind": kind, "metadata": meta, **body}
