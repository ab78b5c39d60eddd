"""The few panel shapes the dashboards use, so that every panel queries the provisioned datasources the
same way and every query can be found again (queries()) by the test that runs them against Prometheus."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from grafana_foundation_sdk.builders.dashboard import Dashboard, QueryVariable, Row
from grafana_foundation_sdk.builders.logs import Panel as LogsPanel
from grafana_foundation_sdk.builders.loki import Dataquery as LokiQuery
from grafana_foundation_sdk.builders.prometheus import Dataquery as PromQuery
from grafana_foundation_sdk.builders.stat import Panel as StatPanel
from grafana_foundation_sdk.builders.timeseries import Panel as TimeseriesPanel
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import DataSourceRef

P = TypeVar("P", TimeseriesPanel, StatPanel)

# The uids Grafana's provisioned datasources carry (roles/observability: grafana datasources).
PROMETHEUS = DataSourceRef(type_val="prometheus", uid="prometheus")
LOKI = DataSourceRef(type_val="loki", uid="loki")
REF_IDS = "ABCDEFGH"


@dataclass(frozen=True)
class Q:
    """One PromQL query and its legend."""

    expr: str
    legend: str = ""


def _targets(panel: P, queries: Iterable[Q]) -> P:
    for ref, query in zip(REF_IDS, queries, strict=False):
        panel = panel.with_target(PromQuery().expr(query.expr).legend_format(query.legend or "__auto").ref_id(ref))
    return panel


def or_zero(expr: str, like: str) -> str:
    """expr, and 0 for each series of `like` it has none for: a panel shows 0, not no data, where nothing
    happened (no 5xx, no refusals)."""
    return f"{expr}\nor {like} * 0"


def timeseries(title: str, unit: str, *queries: Q, description: str = "") -> TimeseriesPanel:
    panel = TimeseriesPanel().title(title).description(description).unit(unit).datasource(PROMETHEUS).min(0)
    return _targets(panel, queries)


def stat(title: str, unit: str, query: Q, description: str = "") -> StatPanel:
    panel = StatPanel().title(title).description(description).unit(unit).datasource(PROMETHEUS).height(5).span(6)
    return _targets(panel, [query])


def logs(title: str, logql: str, description: str = "") -> LogsPanel:
    query = LokiQuery().expr(logql).ref_id("A")
    return LogsPanel().title(title).description(description).datasource(LOKI).with_target(query).span(24)


def variable(name: str, query: str) -> QueryVariable:
    return QueryVariable(name).label(name).datasource(PROMETHEUS).query(query).multi(True).include_all(True)


def dashboard(
    uid: str, title: str, description: str, variables: Iterable[QueryVariable], rows: dict[str, list[Any]]
) -> dict[str, Any]:
    """The dashboard's JSON model, panels numbered in order (Grafana needs unique ids for links)."""
    board = (
        Dashboard(title)
        .uid(uid)
        .description(description)
        .tags(["miniapp"])
        .refresh("30s")
        .time("now-3h", "now")
        .timezone("browser")
    )
    for var in variables:
        board = board.with_variable(var)
    for row, panels in rows.items():
        board = board.with_row(Row(row))
        for panel in panels:
            board = board.with_panel(panel)
    model: dict[str, Any] = json.loads(json.dumps(board.build(), cls=JSONEncoder))
    for number, panel in enumerate(model["panels"], start=1):
        panel["id"] = number
    return model


def queries(model: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(panel title, PromQL) for every Prometheus target of the dashboard."""
    for panel in model["panels"]:
        if (panel.get("datasource") or {}).get("type") == "prometheus":
            for target in panel.get("targets", []):
                yield panel["title"], target["expr"]
