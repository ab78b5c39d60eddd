"""The committed dashboards are what tools/dashboards generates, and every panel queries a provisioned
datasource (the lab proof, tests/mesh/test_observability_e2e.py, runs every PromQL query for real)."""

import json

from tools.dashboards.__main__ import OUT, rendered
from tools.dashboards.kit import queries


def test_committed_dashboards_are_current() -> None:
    stale = [name for name, text in rendered().items() if (OUT / name).read_text() != text]
    assert not stale, f"run `make dashboards`: {stale}"
    assert sorted(p.name for p in OUT.glob("*.json")) == sorted(rendered())


def test_panels_have_unique_ids_a_datasource_and_a_query() -> None:
    for name, text in rendered().items():
        model = json.loads(text)
        panels = [p for p in model["panels"] if p["type"] != "row"]
        assert len({p["id"] for p in model["panels"]}) == len(model["panels"]), name
        for panel in panels:
            assert panel["datasource"]["uid"] in ("prometheus", "loki"), (name, panel["title"])
            assert panel["targets"], (name, panel["title"])
            assert all(t["expr"] for t in panel["targets"]), (name, panel["title"])
        assert list(queries(model)), name
