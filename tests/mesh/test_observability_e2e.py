"""The observability proof on the lab: the real Prometheus (Debian's 2.42, run by roles/observability's lab
backend) scrapes the sidecars, the services, the cAdvisor stand-in and the lab's etcd; after a bounded load
through the edge and bounded writes to the lab's etcd (as K3s would make), every PromQL query of every committed dashboard panel and every rule is executed against
it. A query error fails; so does a panel without a finite value, since every panel has data after that load.
Loki and Grafana cannot run here: their configuration is checked by models (tests/unit/observability)."""

from __future__ import annotations

import asyncio
import json
import math
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import yaml
from conftest import INGRESS, ROOT

from load import evidence, tenants
from miniapp_services.clients.signed import alogin
from tools.dashboards.kit import queries

PROMETHEUS = "http://127.0.0.1:19090"  # published on loopback by lab/observability/up.py
DASHBOARDS = sorted((ROOT / "roles/observability/files/dashboards").glob("*.json"))
RULE_FILES = sorted((ROOT / "roles/observability/files/rules").glob("*.rules.yml"))
# The lab scrapes at the role's default interval; Grafana's variables as "All", and its rate interval
# (four scrapes) for that interval.
SCRAPE_S = int(
    yaml.safe_load((ROOT / "roles/observability/defaults/main.yml").read_text())[
        "observability_scrape_interval"
    ].rstrip("s")
)
VARIABLES = {"$__rate_interval": f"{4 * SCRAPE_S}s", "$namespace": ".*", "$app": ".*", "$tenant": ".*"}
USERS, ROUNDS = 16, 6


def promql(expr: str) -> dict:
    for name, value in VARIABLES.items():
        expr = expr.replace(name, value)
    reply = httpx.get(f"{PROMETHEUS}/api/v1/query", params={"query": expr}, timeout=30).json()
    return reply


def _finite(reply: dict) -> bool:
    result = reply["data"]["result"]
    samples = [result[1]] if reply["data"]["resultType"] == "scalar" else [s["value"] for s in result]
    return any(math.isfinite(float(value)) for _, value in samples)


def _seed() -> str:
    """A product with stock, and a flash sale open now, written straight to their services."""
    event = f"obs-{int(time.time())}"
    now = datetime.now(UTC)
    body = {"sku": "OBS-TEA", "price_cents": 99, "stock": 1000,
            "starts_at": (now - timedelta(minutes=1)).isoformat(), "ends_at": (now + timedelta(hours=1)).isoformat()}  # fmt: skip
    products = {"OBS-TEA": {"title": "Tea", "price_cents": 300, "category": "obs"}}
    evidence.write_catalogue(tenants.appids()[:USERS], products, stock=100_000, event=(event, body))
    return event


async def _journey(client: httpx.AsyncClient, user: int, event: str, run: str) -> list[int]:
    """One user's day, compressed: login, browse, check in, order and pay, try the flash sale."""
    auth = await alogin(client, tenants.appids()[user % len(tenants.appids())], f"obs-{run}-{user}")
    codes = [201]
    for r in range(ROUNDS):
        codes.append((await client.get("/api/home", auth=auth)).status_code)
        codes.append((await client.get("/api/products/OBS-TEA", auth=auth)).status_code)
        order_id = f"obs-{run}-{user}-{r}"
        lines = [{"sku": "OBS-TEA", "quantity": 1}]
        placed = await client.post("/api/orders", json={"order_id": order_id, "lines": lines}, auth=auth)
        codes.append(placed.status_code)
        if placed.status_code == 201:
            pay = {"order_id": order_id, "amount_cents": placed.json()["total_cents"]}
            codes.append((await client.post("/api/payments", json=pay, auth=auth)).status_code)
    codes.append((await client.post("/api/checkin", auth=auth)).status_code)
    codes.append((await client.post(f"/api/seckill/{event}", auth=auth)).status_code)
    return codes


def _write_etcd(keys: int = 200) -> None:
    """The writes K3s makes to its datastore all the time (no K3s here): a bounded run of puts, then gone."""
    script = (
        f"for i in $(seq {keys}); do /usr/local/sbin/etcdctl-local put /miniapp-proof/k$i v >/dev/null || exit 1; done;"
        " /usr/local/sbin/etcdctl-local del --prefix /miniapp-proof/ >/dev/null"
    )
    subprocess.run(["podman", "exec", "etcd1", "sh", "-c", script], check=True, capture_output=True, timeout=120)


@pytest.fixture(scope="module")
def loaded() -> list[int]:
    """Prometheus is up, then a bounded load through the edge, then two scrapes and a rule evaluation."""
    try:
        httpx.get(f"{PROMETHEUS}/-/ready", timeout=5).raise_for_status()
    except httpx.HTTPError as err:
        pytest.fail(f"lab Prometheus not reachable ({err}): run `make lab`")
    event, run = _seed(), str(int(time.time()))

    async def drive() -> list[int]:
        async with httpx.AsyncClient(base_url=INGRESS, timeout=15) as client:
            done = await asyncio.gather(*(_journey(client, u, event, run) for u in range(USERS)))
        return [code for codes in done for code in codes]

    codes = asyncio.run(drive())
    _write_etcd()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not promql("app:miniapp_requests:rate5m")["data"]["result"]:
        time.sleep(2)
    time.sleep(2 * SCRAPE_S + 2)  # two more scrapes and evaluations, so every rate has its samples
    return codes


def test_the_load_was_served(loaded: list[int]) -> None:
    assert loaded.count(201) + loaded.count(200) >= 0.95 * len(loaded), sorted(set(loaded))


@pytest.mark.usefixtures("loaded")
def test_every_target_is_scraped() -> None:
    targets = httpx.get(f"{PROMETHEUS}/api/v1/targets", timeout=10).json()["data"]["activeTargets"]
    down = [f"{t['labels']['job']} {t['scrapeUrl']}: {t['lastError']}" for t in targets if t["health"] != "up"]
    assert not down
    assert {t["labels"]["job"] for t in targets} == {
        "envoy-stats", "miniapp-services", "kubernetes-cadvisor", "etcd"
    }  # fmt: skip


@pytest.mark.usefixtures("loaded")
@pytest.mark.parametrize("board", DASHBOARDS, ids=[b.stem for b in DASHBOARDS])
def test_every_panel_query_runs_and_has_data(board: Path) -> None:
    model = json.loads(board.read_text())
    failures = []
    for title, expr in queries(model):
        reply = promql(expr)
        if reply["status"] != "success":
            failures.append(f"{title}: {reply.get('error')}")
        elif not _finite(reply):
            failures.append(f"{title}: no data for {expr}")
    assert not failures, "\n".join(failures)
    assert list(queries(model))


@pytest.mark.usefixtures("loaded")
def test_every_rule_expression_runs_and_recordings_have_data() -> None:
    failures = []
    for group in (g for path in RULE_FILES for g in yaml.safe_load(path.read_text())["groups"]):
        for rule in group["rules"]:
            reply = promql(rule["expr"])
            if reply["status"] != "success":
                failures.append(f"{rule.get('record') or rule['alert']}: {reply.get('error')}")
            elif "record" in rule and not _finite(promql(rule["record"])):
                failures.append(f"{rule['record']}: recorded nothing")
    assert not failures, "\n".join(failures)
    rules = httpx.get(f"{PROMETHEUS}/api/v1/rules", timeout=10).json()["data"]["groups"]
    unhealthy = [f"{r['name']}: {r.get('lastError')}" for g in rules for r in g["rules"] if r["health"] != "ok"]
    assert not unhealthy


@pytest.mark.usefixtures("loaded")
def test_request_exemplars_carry_trace_ids() -> None:
    """The metrics-to-logs link: exemplars on the services' request counters hold the W3C trace id."""
    end = time.time()
    params = {"query": "miniapp_http_requests_total", "start": end - 300, "end": end}
    data = httpx.get(f"{PROMETHEUS}/api/v1/query_exemplars", params=params, timeout=10).json()["data"]
    trace_ids = {e["labels"]["trace_id"] for series in data for e in series["exemplars"]}
    assert trace_ids
    assert all(len(t) == 32 for t in trace_ids)


@pytest.mark.usefixtures("loaded")
def test_the_checks_above_can_fail() -> None:
    assert promql("sum(rate(miniapp_http_requests_total[1m]")["status"] == "error"
    assert not _finite(promql('sum(rate(miniapp_http_requests_total{app="no-such-service"}[1m]))'))
