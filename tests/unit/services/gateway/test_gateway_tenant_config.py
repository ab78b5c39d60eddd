"""Each tenant's configuration from the config centre (etcd's /config/<appid>/app.yaml) and its rate limit: a
document is refused naming its key and field while the previous one stays in force, the cache follows etcd, the
limit is one bucket for every replica, over it is 429 with Retry-After, and other tenants are untouched."""

from __future__ import annotations

import asyncio
import base64
import collections
import contextlib
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from conftest import TENANT_A, TENANT_B, Running
from fastapi.testclient import TestClient
from redis.asyncio import Redis

from miniapp_services.clients.signed import login
from miniapp_services.gateway import tenant_config
from miniapp_services.gateway.domain import Nonce, TenantRate
from miniapp_services.gateway.infrastructure import RedisNonceStore
from miniapp_services.gateway.tenant_config import DEFAULTS, TenantConfigs, key_of
from miniapp_services.gateway.tenants import TenantKeys
from miniapp_services.kit.etcd import Etcd

KEY_A = key_of(TENANT_A)


@pytest.mark.parametrize(
    ("key", "text", "message"),
    [
        (KEY_A, "rate_limit_rps: -1", f"{KEY_A}: rate_limit_rps: Input should be greater than 0"),
        (KEY_A, "features: {bingo: false}", f"{KEY_A}: features.bingo.\\[key\\]: Input should be 'checkin'"),
        (KEY_A, "notice_template: 'Call {phone}'", f"{KEY_A}: notice_template: .*names \\['phone'\\]"),
        (KEY_A, "fallback_page: not-a-url", f"{KEY_A}: fallback_page: Input should be a valid URL"),
        (KEY_A, "rate_limit: 5", f"{KEY_A}: rate_limit: Extra inputs are not permitted"),
        (KEY_A, "[1, 2]", f"{KEY_A}: \\(document\\): Input should be a valid dictionary"),
        (KEY_A, "a: [", f"{KEY_A}: not YAML"),
        ("/config/wxBAD/app.yaml", "{}", "not a tenant's document; write /config/<appid>/app.yaml"),
    ],
)
def test_a_document_that_does_not_validate_is_refused_naming_key_and_field(key: str, text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        tenant_config.parse(key, text)


def test_a_refused_document_leaves_the_previous_in_force_and_a_removed_one_the_defaults() -> None:
    cache = TenantConfigs()
    assert cache.replace({KEY_A: "rate_limit_rps: 20\nfeatures: {seckill: false}"}) == []
    kept = cache.of(TENANT_A)
    assert (kept.rate(TENANT_A), kept.enabled("seckill"), kept.enabled("checkin")) == (
        TenantRate(TENANT_A, 20, 20),
        False,
        True,
    )
    refused = cache.replace({KEY_A: "rate_limit_rps: fast"})
    assert len(refused) == 1
    assert refused[0].startswith(f"{KEY_A}: rate_limit_rps:")
    assert cache.of(TENANT_A) is kept
    assert cache.replace({KEY_A: "rate_limit_rps: fast"}) == []  # reported once, not at every refresh
    assert cache.of(TENANT_A) is kept
    cache.replace({})
    assert cache.of(TENANT_A) is DEFAULTS
    assert DEFAULTS.rate(TENANT_B) == TenantRate(TENANT_B, 500, 500)  # the design's 500 requests/s


def test_one_bucket_per_tenant_whatever_the_number_of_replicas(nonce_store: str) -> None:
    """Two replicas' stores on one Redis: a tenant allowed a burst of 5 (and then one request every 10 s) gets 5
    of 20 between them, the rest with the wait until the next; another tenant's bucket is its own."""

    async def run() -> tuple[collections.Counter[Nonce], float, collections.Counter[Nonce]]:
        clients = [Redis.from_url(nonce_store), Redis.from_url(nonce_store)]
        replicas = [RedisNonceStore(c) for c in clients]
        slow, other = TenantRate("wx00000000000000c3", 0.1, 5), TenantRate("wx00000000000000d4", 0.1, 5)
        now = int(time.time())
        claims = [await replicas[i % 2].claim(f"n{i}", now, 60, slow) for i in range(20)]
        others = [await replicas[i % 2].claim(f"m{i}", now, 60, other) for i in range(5)]
        for client in clients:
            await client.aclose()
        waits = [c.retry_after_s for c in claims if c.nonce is Nonce.LIMITED]
        return collections.Counter(c.nonce for c in claims), min(waits), collections.Counter(c.nonce for c in others)

    slow_counts, first_wait, other_counts = asyncio.run(run())
    assert slow_counts == {Nonce.FRESH: 5, Nonce.LIMITED: 15}
    assert 0 < first_wait <= 10
    assert other_counts == {Nonce.FRESH: 5}


@pytest.fixture
def centre(etcd: str) -> Iterator[Callable[[str, str | None], None]]:
    """Write (or with None delete) a document in the config centre; every document is deleted after."""
    client = httpx.Client(base_url=etcd)

    def write(key: str, text: str | None) -> None:
        encoded = base64.b64encode(key.encode()).decode()
        if text is None:
            client.post("/v3/kv/deleterange", json={"key": encoded}).raise_for_status()
        else:
            body = {"key": encoded, "value": base64.b64encode(text.encode()).decode()}
            client.post("/v3/kv/put", json=body).raise_for_status()

    yield write
    write(KEY_A, None)
    client.close()


def _until(check: Callable[[], bool], what: str, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def test_the_gateway_follows_the_centre_limits_the_tenant_and_no_other(
    etcd: str,
    centre: Callable[[str, str | None], None],
    make_client: Callable[..., TestClient],
    upstreams: dict[str, Running],
) -> None:
    urls = {name: r.url for name, r in upstreams.items()} | dict.fromkeys(
        ("search", "cart", "order", "pay", "coupon", "seckill"), "http://127.0.0.1:1"
    )
    centre(KEY_A, "rate_limit_rps: 0.2\nrate_burst: 3\nfeatures: {seckill: false}")
    with make_client("gateway", upstreams=urls, config_endpoints=[etcd], tenant_config_refresh_s=0.1) as gateway:
        configs: TenantConfigs = gateway.app.state.tenant_configs
        _until(lambda: configs.of(TENANT_A).rate_limit_rps == 0.2, "the gateway never read the centre")
        a, b = login(gateway, TENANT_A, "code-config-a"), login(gateway, TENANT_B, "code-config-b")
        replies = [gateway.get("/api/products/GW-TEA", auth=a) for _ in range(6)]
        assert [r.status_code for r in replies] == [200, 200, 200, 429, 429, 429]
        refused = replies[-1]
        assert refused.json()["detail"]["reason"] == "tenant_rate_limited"
        assert 1 <= int(refused.headers["retry-after"]) <= 5
        assert collections.Counter(gateway.get("/api/products/GW-TEA", auth=b).status_code for _ in range(6)) == {
            200: 6
        }
        metrics = gateway.get("/metrics").text
        count = 'miniapp_tenant_request_duration_seconds_count{{outcome="{}",service="gateway",tenant="{}"}} {}'
        assert count.format("limited", TENANT_A, "3.0") in metrics
        assert count.format("ok", TENANT_A, "3.0") in metrics
        assert count.format("ok", TENANT_B, "6.0") in metrics
        assert 'outcome="limited",service="gateway",tenant="' + TENANT_B not in metrics
        centre(KEY_A, "rate_limit_rps: 1000\nfeatures: {seckill: off, checkin: sometimes}")
        time.sleep(0.5)  # several refreshes: the refused document changes nothing
        assert configs.of(TENANT_A).rate_limit_rps == 0.2
        centre(KEY_A, "rate_limit_rps: 1000\nfeatures: {seckill: false}")
        _until(lambda: configs.of(TENANT_A).rate_limit_rps == 1000, "a fixed document was never taken")
        switched_off = gateway.post("/api/seckill/GW-EVENT", auth=a)
        assert (switched_off.status_code, switched_off.json()["detail"]["reason"]) == (403, "feature_off")
        assert gateway.post("/api/seckill/GW-EVENT", auth=b).status_code != 403
        centre(KEY_A, None)
        _until(lambda: configs.of(TENANT_A) is DEFAULTS, "a deleted document left its configuration in force")


def test_the_inventory_check_knows_the_fields_the_gateway_reads() -> None:
    """The collection checks services_tenants' configs early (plugins/module_utils/tenancy.py); the gateway's model
    is the authority. Same fields, switches and template names, and a document the collection writes validates."""
    from typing import get_args

    from ansible_collections.miniapp.mesh.plugins.module_utils import tenancy

    assert tuple(tenant_config.TenantConfig.model_fields) == tenancy.CONFIG_FIELDS
    assert get_args(tenant_config.Feature) == tenancy.FEATURES
    assert tenancy.NOTICE_FIELDS == tenant_config.NOTICE_FIELDS
    assert TenantKeys.model_fields["name"].metadata[-1].max_length == tenancy.NAME_MAX
    assert (tenancy.CONFIG_PREFIX, tenancy.CONFIG_DOCUMENT) == (tenant_config.PREFIX, tenant_config.DOCUMENT)
    config = {"rate_limit_rps": 50, "rate_burst": 80, "features": {"seckill": False},
              "fallback_page": "https://cdn.example.com/tea", "notice_template": "{merchant}: order {order_id}"}  # fmt: skip
    documents = tenancy.config_documents(tenancy.load([{"appid": TENANT_A, "name": "Tea", "config": config}]))
    ((key, text),) = documents.items()
    assert tenant_config.parse(key, text) == (TENANT_A, tenant_config.TenantConfig.model_validate(config))


def test_the_first_member_that_answers_is_read(etcd: str, centre: Callable[[str, str | None], None]) -> None:
    centre(KEY_A, "rate_limit_rps: 7")

    async def run() -> TenantConfigs:
        cache = TenantConfigs()
        async with httpx.AsyncClient(timeout=2) as client:
            members = [Etcd(client, "http://127.0.0.1:1"), Etcd(client, etcd)]
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(1.5):
                    await tenant_config.follow(members, cache, 60)
        return cache

    assert asyncio.run(run()).of(TENANT_A).rate_limit_rps == 7
