"""The gateway in front of real service processes: login, a signed-in journey, ownership and degradation.

Upstreams run as `python -m miniapp_services serve` processes on loopback; the gateway under test runs in
a TestClient. search, cart, coupon and seckill point at a closed port, so their routes must degrade.
"""

import json
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import redis
from conftest import AS_A, TENANT_A, TENANT_B, Running
from fastapi.testclient import TestClient

from miniapp_services.clients.signed import SignedSession, login
from miniapp_services.kit import signing
from tools import tenantstmp

CLOSED = "http://127.0.0.1:1"


def _urls(upstreams: dict[str, Running]) -> dict[str, str]:
    return {name: r.url for name, r in upstreams.items()} | dict.fromkeys(
        ("search", "cart", "coupon", "seckill"), CLOSED
    )


@pytest.fixture(scope="module")
def gateway(make_client: Callable[..., TestClient], upstreams: dict[str, Running]) -> Iterator[TestClient]:
    with make_client("gateway", upstreams=_urls(upstreams), http_timeout_s=2) as client:
        yield client


def _login(gateway: TestClient, code: str) -> SignedSession:
    return login(gateway, TENANT_A, code, "Lin")


def test_login_is_stable_per_code_and_sessions_differ(gateway: TestClient) -> None:
    first = gateway.post("/api/login", json={"appid": TENANT_A, "code": "code-aaaa1111"}).json()
    again = gateway.post("/api/login", json={"appid": TENANT_A, "code": "code-aaaa1111"}).json()
    other = gateway.post("/api/login", json={"appid": TENANT_A, "code": "code-bbbb2222"}).json()
    assert first["user_id"] == again["user_id"] != other["user_id"]
    assert first["token"] != again["token"]


def test_journey_check_in_order_pay(gateway: TestClient) -> None:
    me = _login(gateway, "code-journey-1")
    assert gateway.post("/api/checkin", auth=me).json()["streak"] == 1
    home = gateway.get("/api/home", auth=me).json()
    assert (home["checkin"]["streak"], home["degraded"]) == (1, [])
    placed = gateway.post(
        "/api/orders", auth=me, json={"order_id": "gw-1", "lines": [{"sku": "GW-TEA", "quantity": 2}]}
    )
    assert placed.status_code == 201, placed.text
    paid = gateway.post("/api/payments", auth=me, json={"order_id": "gw-1", "amount_cents": 600})
    assert paid.status_code == 201, paid.text
    assert gateway.get("/api/orders/gw-1", auth=me).json()["status"] == "paid"
    result = gateway.get("/api/payments/gw-1", auth=me)
    assert (result.status_code, result.json()["status"], result.json()["amount_cents"]) == (200, "succeeded", 600)


def test_another_users_order_is_not_found(gateway: TestClient) -> None:
    owner, other = _login(gateway, "code-owner-1"), _login(gateway, "code-other-1")
    gateway.post("/api/orders", auth=owner, json={"order_id": "gw-2", "lines": [{"sku": "GW-TEA", "quantity": 1}]})
    assert gateway.get("/api/orders/gw-2", auth=other).status_code == 404
    assert gateway.post("/api/payments", auth=other, json={"order_id": "gw-2", "amount_cents": 300}).status_code == 404
    assert gateway.get("/api/payments/gw-2", auth=other).status_code == 404


def test_down_upstream_is_503_or_degraded_never_500(gateway: TestClient) -> None:
    me = _login(gateway, "code-degrade-1")
    assert gateway.get("/api/cart", auth=me).status_code == 503
    assert gateway.get("/api/search", auth=me, params={"q": "tea"}).status_code == 503


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/login", {"appid": TENANT_A, "code": "short"}, "code"),
        ("/api/login", {"appid": TENANT_A, "code": "has spaces in it"}, "code"),
        ("/api/login", {"appid": "wx-not-an-appid", "code": "code-badinput-2"}, "appid"),
        ("/api/orders", {"order_id": "x", "lines": []}, "lines"),
        ("/api/orders", {"order_id": "x", "lines": [{"sku": "A", "quantity": 1}], "user_id": 1}, "user_id"),
        ("/api/payments", {"order_id": "x"}, "amount_cents"),
    ],
)
def test_bad_input_is_422_naming_the_field(gateway: TestClient, path: str, body: dict, field: str) -> None:
    signer = _login(gateway, "code-badinput-1") if path != "/api/login" else None
    reply = gateway.post(path, auth=signer, json=body)
    assert reply.status_code == 422, reply.text
    assert field in reply.text


def test_gateway_refuses_to_start_without_its_tenants(make_client: Callable[..., TestClient]) -> None:
    with pytest.raises(ValueError, match="MINIAPP_TENANTS_FILE"):
        make_client("gateway", upstreams={}, tenants_file=None)


def test_gateway_refuses_to_start_on_a_tenants_file_that_does_not_validate(
    make_client: Callable[..., TestClient], upstreams: dict[str, Running], tmp_path: Path
) -> None:
    bad = tmp_path / "tenants.json"
    bad.write_text(
        json.dumps({TENANT_A: {"name": "Tea", "session_key": "short", "platform_secret": secrets.token_hex(32)}})
    )
    with pytest.raises(ValueError, match=f"{TENANT_A}.session_key: String should have at least 32 characters"):
        make_client("gateway", upstreams=_urls(upstreams), tenants_file=bad)


def _session_key(tenants_file: Path, appid: str = TENANT_A) -> str:
    return str(json.loads(tenants_file.read_text())[appid]["session_key"])


def _signed_headers(
    token: str, key: str, method: str, path: str, body: bytes, *, ts: int | None = None, appid: str = TENANT_A
) -> dict:
    timestamp, nonce = str(ts if ts is not None else int(time.time())), secrets.token_hex(8)
    message = signing.canonical(method, path, timestamp, nonce, body)
    return {
        "authorization": f"Bearer {token}",
        signing.APPID: appid,
        "content-type": "application/json",
        signing.TIMESTAMP: timestamp,
        signing.NONCE: nonce,
        signing.SIGNATURE: signing.sign(key.encode(), message),
    }


def _token(header: dict, claims: dict, secret: str, signature: str | None = None) -> str:
    head = signing.b64url(json.dumps(header).encode())
    body = signing.b64url(json.dumps(claims).encode())
    return f"{head}.{body}.{signature if signature is not None else signing.sign(secret.encode(), f'{head}.{body}'.encode())}"


def _bad_requests(session: dict, body: bytes, secret: str) -> dict[str, tuple[str, dict, bytes]]:
    """Reason code -> (case, headers, body) for every way a request must be refused (secret: the session's
    tenant's key)."""
    token, key, path = session["token"], session["signing_key"], "/api/orders"
    secret = secret
    good = _signed_headers(token, key, "POST", path, body)
    claims = json.loads(signing.b64url_decode(token.split(".")[1]))
    expired = _token({"alg": "HS256", "typ": "JWT"}, claims | {"exp": int(time.time()) - 1}, secret)
    foreign = _token({"alg": "HS256", "typ": "JWT"}, claims, secrets.token_hex(32))
    future = int(time.time()) + 120  # beyond the gateway's 30 s leeway for clocks
    early = _token({"alg": "HS256", "typ": "JWT"}, claims | {"nbf": future}, secret)
    ahead = _token({"alg": "HS256", "typ": "JWT"}, claims | {"iat": future}, secret)
    stranger = _token({"alg": "HS256", "typ": "JWT"}, claims | {"tid": "wx00000000000000ff"}, secret)
    return {
        "unsigned": ("bearer only", {"authorization": f"Bearer {token}"}, body),
        "malformed": ("not a JWT", _signed_headers("not-a-token", key, "POST", path, body), body),
        "alg_none": ("alg none", _signed_headers(_token({"alg": "none"}, claims, secret, ""), key, "POST", path, body), body),
        "bad_alg": ("alg HS512", _signed_headers(_token({"alg": "HS512"}, claims, secret), key, "POST", path, body), body),
        "wrong_key": ("token of another key", _signed_headers(foreign, key, "POST", path, body), body),
        "expired": ("expired token", _signed_headers(expired, key, "POST", path, body), body),
        "not_yet_valid": ("nbf 2 min ahead", _signed_headers(early, key, "POST", path, body), body),
        "issued_in_future": ("iat 2 min ahead", _signed_headers(ahead, key, "POST", path, body), body),
        "unknown_tenant": ("token of a tenant not served", _signed_headers(stranger, key, "POST", path, body), body),
        "tenant_mismatch": ("another merchant's appid", _signed_headers(token, key, "POST", path, body, appid=TENANT_B), body),
        "stale_timestamp": ("301 s old", _signed_headers(token, key, "POST", path, body, ts=int(time.time()) - 301), body),
        "tampered": ("body changed after signing", good, body.replace(b'"quantity":1', b'"quantity":9')),
        "tampered ": ("signed with another key", _signed_headers(token, signing.b64url(b"x" * 32), "POST", path, body), body),
    }  # fmt: skip


REASONS = (
    "unsigned",
    "malformed",
    "alg_none",
    "bad_alg",
    "wrong_key",
    "expired",
    "not_yet_valid",
    "issued_in_future",
    "unknown_tenant",
    "tenant_mismatch",
    "stale_timestamp",
    "tampered",
    "tampered ",
)


def test_every_bad_request_is_401_with_its_reason_and_never_reaches_order(
    gateway: TestClient, upstreams: dict[str, Running], tenants_file: Path
) -> None:
    session = gateway.post("/api/login", json={"appid": TENANT_A, "code": "code-matrix-1"}).json()
    refused = []
    for number, reason in enumerate(REASONS):
        order_id = f"gw-bad-{number}"
        payload = json.dumps({"order_id": order_id, "lines": [{"sku": "GW-TEA", "quantity": 1}]}, separators=(",", ":"))
        case, headers, body = _bad_requests(session, payload.encode(), _session_key(tenants_file))[reason]
        reply = gateway.post("/api/orders", headers=headers, content=body)
        refused.append((case, reply.status_code, reply.json()["detail"].get("reason"), reason.strip()))
        assert httpx.get(f"{upstreams['order'].url}/orders/{order_id}", headers=AS_A).status_code == 404, case
    assert [(c, status, got) for c, status, got, _ in refused] == [(c, 401, want) for c, _, _, want in refused]


@pytest.mark.parametrize(
    ("case", "headers"),
    [
        ("no session", {}),
        ("a token and no signature", {"authorization": "Bearer x.y.z"}),
        ("a forged token, signed", {"authorization": "Bearer x.y.z", signing.TIMESTAMP: "1", signing.NONCE: "n",
                                    signing.SIGNATURE: "s"}),
    ],
)  # fmt: skip
def test_an_unauthenticated_request_is_401_before_its_body_is_read(
    gateway: TestClient, case: str, headers: dict
) -> None:
    """Malformed JSON far from the route's model: 401, and the ASGI app never asked for the body."""
    asked: list[str] = []
    scope = {"type": "http", "http_version": "1.1", "method": "POST", "scheme": "http", "path": "/api/orders",
             "raw_path": b"/api/orders", "query_string": b"", "root_path": "", "server": ("gw", 80),
             "client": ("127.0.0.1", 1), "app": gateway.app,
             "headers": [(k.lower().encode(), v.encode()) for k, v in ({"content-type": "application/json"} | headers).items()]}  # fmt: skip
    sent: list[dict] = []

    async def receive() -> dict:
        asked.append("body")
        return {"type": "http.request", "body": b"{not json" * 1000, "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    gateway.portal.call(gateway.app, scope, receive, send)  # type: ignore[union-attr]
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    assert (start["status"], asked) == (401, []), (case, body)
    assert json.loads(body)["detail"]["reason"] in ("unsigned", "malformed"), body


def test_a_replayed_request_is_refused_and_the_original_served_once(gateway: TestClient) -> None:
    session = gateway.post("/api/login", json={"appid": TENANT_A, "code": "code-replay-1"}).json()
    headers = _signed_headers(session["token"], session["signing_key"], "GET", "/api/orders/gw-none", b"")
    assert gateway.get("/api/orders/gw-none", headers=headers).status_code == 404  # authenticated, no such order
    again = gateway.get("/api/orders/gw-none", headers=headers)
    assert (again.status_code, again.json()["detail"]["reason"]) == (401, "reused_nonce")


def test_a_request_replayed_to_another_replica_is_refused(
    gateway: TestClient, make_client: Callable[..., TestClient], upstreams: dict[str, Running]
) -> None:
    """Two replicas share one replay guard: a request served by one is refused by the other."""
    session = gateway.post("/api/login", json={"appid": TENANT_A, "code": "code-replay-2"}).json()
    headers = _signed_headers(session["token"], session["signing_key"], "GET", "/api/orders/gw-none", b"")
    assert gateway.get("/api/orders/gw-none", headers=headers).status_code == 404
    with make_client("gateway", upstreams=_urls(upstreams), http_timeout_s=2) as other:
        again = other.get("/api/orders/gw-none", headers=headers)
    assert (again.status_code, again.json()["detail"]["reason"]) == (401, "reused_nonce")


def test_after_the_guard_lost_its_memory_only_requests_signed_since_pass(gateway: TestClient, nonce_store: str) -> None:
    """A restarted (emptied) store cannot know what it saw before: requests signed earlier are refused as
    stale, so none can be replayed; a request signed afterwards passes."""
    session = gateway.post("/api/login", json={"appid": TENANT_A, "code": "code-replay-3"}).json()
    token, key = session["token"], session["signing_key"]
    before = _signed_headers(token, key, "GET", "/api/orders/gw-none", b"", ts=int(time.time()) - 5)
    redis.Redis.from_url(nonce_store).flushall()
    refused = gateway.get("/api/orders/gw-none", headers=before)
    assert (refused.status_code, refused.json()["detail"]["reason"]) == (401, "stale_timestamp")
    after = _signed_headers(token, key, "GET", "/api/orders/gw-none", b"")
    assert gateway.get("/api/orders/gw-none", headers=after).status_code == 404


def test_gateway_refuses_to_start_without_its_replay_guard(make_client: Callable[..., TestClient]) -> None:
    with pytest.raises(ValueError, match="MINIAPP_STORES__NONCES"):
        make_client("gateway", upstreams={}, stores={})


def test_a_login_names_a_tenant_served_here(gateway: TestClient) -> None:
    unknown = gateway.post("/api/login", json={"appid": "wx00000000000000ff", "code": "code-tenant-1"})
    assert (unknown.status_code, unknown.json()["detail"]["reason"]) == (401, "unknown_tenant")
    missing = gateway.post("/api/login", json={"code": "code-tenant-1"})
    assert missing.status_code == 422
    assert "appid" in missing.text


def test_one_code_is_two_users_in_two_merchants_mini_programs(gateway: TestClient) -> None:
    a, b = (gateway.post("/api/login", json={"appid": t, "code": "code-tenant-2"}).json() for t in (TENANT_A, TENANT_B))
    assert a["user_id"] != b["user_id"]
    signer_b = login(gateway, TENANT_B, "code-tenant-2")
    assert gateway.get("/api/orders/gw-none", auth=signer_b).status_code == 404  # admitted in its own mini-program


def test_a_removed_tenants_sessions_stop_once_its_keys_are_gone(
    make_client: Callable[..., TestClient], upstreams: dict[str, Running], tmp_path: Path
) -> None:
    """The tenant list shrinks (roles/services rewrites the Secret); the gateway re-reads the file within a second
    and the removed merchant's live session is refused, the other's still served."""
    keys = tmp_path / "tenants.json"
    keys.write_text(tenantstmp.keys_text(TENANT_A, TENANT_B))
    with make_client("gateway", upstreams=_urls(upstreams), http_timeout_s=2, tenants_file=keys) as gateway:
        kept, removed = login(gateway, TENANT_A, "code-tenant-3"), login(gateway, TENANT_B, "code-tenant-3")
        assert gateway.get("/api/orders/gw-none", auth=removed).status_code == 404
        document = json.loads(keys.read_text())
        del document[TENANT_B]
        keys.write_text(json.dumps(document))
        deadline = time.monotonic() + 10
        while (reply := gateway.get("/api/orders/gw-none", auth=removed)).status_code != 401:
            assert time.monotonic() < deadline, "the removed tenant's session still served"
            time.sleep(0.2)
        assert reply.json()["detail"]["reason"] == "unknown_tenant"
        assert gateway.get("/api/orders/gw-none", auth=kept).status_code == 404
