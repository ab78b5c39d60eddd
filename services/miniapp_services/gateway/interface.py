"""The gateway's HTTP API for the mini-program: every route but login needs a session, and the user
it acts for always comes from that session, never from the request body.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import time
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime
from typing import Annotated, Any

import httpx
import orjson
from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response, status
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field
from redis.exceptions import RedisError

from miniapp_services.clients.order import Lines
from miniapp_services.gateway import application as app_
from miniapp_services.gateway import domain, registry, tenant_config
from miniapp_services.gateway.degradation import BreakerState, Guard, guards
from miniapp_services.gateway.domain import Session, SignedRequest
from miniapp_services.gateway.infrastructure import (
    HttpUsers,
    RedisNonceStore,
    RedisReplicas,
    RulesError,
    SqlOrderQueue,
    load_rules,
)
from miniapp_services.gateway.tenants import Tenants
from miniapp_services.kit import signing, tenancy
from miniapp_services.kit.app import connection
from miniapp_services.kit.edge import TENANT_STATE
from miniapp_services.kit.errors import Conflict, Degraded, DomainError, Forbidden, NotFound, Unavailable, refusals
from miniapp_services.kit.etcd import Etcd
from miniapp_services.kit.outbound import Reply, Upstream
from miniapp_services.kit.tenancy import APPID_PATTERN
from miniapp_services.kit.types import Ident, IdentPath, Text

_log = logging.getLogger(__name__)
DEGRADED = "x-miniapp-degraded"  # says which fallback answered
NOTICE_TEMPLATE = "order_queued"  # notify's template name for the notice of an order accepted under overload
JSON = "application/json"
DRAIN_POLL_S = 5.0  # other replicas' queued orders are looked for this often; our own wake the drainer
STATES = tuple(state.value for state in BreakerState)
CACHE_ENTRIES = 10_000  # per fallback cache, per replica
# Each replica counts the live ones this often; one not heard from for REPLICA_TTL_S no longer takes a share.
REPLICAS_EVERY_S, REPLICA_TTL_S = 1.0, 3.0
UPSTREAMS = ("user", "product", "search", "cart", "order", "pay", "coupon", "checkin", "seckill", "notify")


def now() -> datetime:
    return datetime.now(UTC)


def up(request: Request, name: str) -> Upstream:
    """The service's healthy registered instance by weighted random when the registry knows one, else its URL."""
    instances = getattr(request.app.state, "instances", None)
    addr = instances.pick(name, random.random()) if instances is not None else None  # noqa: S311  # balancing
    base = f"http://{addr}" if addr else str(request.app.state.settings.upstreams[name])
    return Upstream(request.app.state.http, name, base)


def _signed(request: Request, body: bytes) -> SignedRequest:
    query = request.scope.get("query_string", b"")
    path = request.scope.get("raw_path", request.url.path.encode()).decode() + (f"?{query.decode()}" if query else "")
    headers = request.headers
    return SignedRequest(
        request.method,
        path,
        headers.get(signing.TIMESTAMP),
        headers.get(signing.NONCE),
        headers.get(signing.SIGNATURE),
        body,
    )


class Admitted(APIRoute):
    """A route whose requests are admitted from their headers (the session token, the signature's headers) before
    FastAPI reads and parses the body, which it does before any dependency runs: without this, malformed JSON
    with no session got 422, and anyone could make the gateway read and parse up to the body limit."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def admitted(request: Request) -> Response:
            settings = request.app.state.settings
            keys = _tenants(request.app).session_key
            headers = request.headers
            signature = (headers.get(signing.TIMESTAMP), headers.get(signing.NONCE), headers.get(signing.SIGNATURE))
            authorization, appid = headers.get("authorization"), headers.get(signing.APPID)
            request.state.session = app_.admit(
                authorization, appid, signature, keys, now(), settings.signature_window_s
            )
            setattr(request.state, TENANT_STATE, request.state.session.tenant)
            # The session's tenant, not the appid header's: admit checked they are the same.
            with tenancy.serving(request.state.session.tenant):
                return await handler(request)

        return admitted


async def current(request: Request) -> Session:
    """The session of a signed request (admitted from its headers by the route): its signature checked against
    the body, its tenant within its rate and its nonce claimed; anything else is 401 with a reason (429 over the
    rate), before any upstream is called."""
    settings = request.app.state.settings
    session: Session = request.state.session
    signed = _signed(request, await request.body())
    rate = _config(request, session.tenant).rate(session.tenant)
    keys = _tenants(request.app).session_key
    return await app_.verify(_nonces(request.app), session, signed, keys, rate, now(), settings.signature_window_s)


def _nonces(app: FastAPI) -> RedisNonceStore:
    """The replay guard on the nonces store's client (its script registered once per process)."""
    if not hasattr(app.state, "nonces"):
        app.state.nonces = RedisNonceStore(app.state.stores["nonces"])
    nonces: RedisNonceStore = app.state.nonces
    return nonces


User = Annotated[Session, Depends(current)]


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    appid: str = Field(pattern=APPID_PATTERN, description="the merchant's mini-program the user logs in to")
    code: str = Field(min_length=8, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")
    nickname: Text = Field(default="mini-program user", min_length=1, max_length=32)


class LoginOut(BaseModel):
    token: str
    signing_key: str
    user_id: int
    expires_at: datetime


async def background(app: FastAPI) -> None:
    """The gateway's loops for its lifetime: rules reload, queued-order drain, with a config centre the tenants'
    configuration and, with a registry, following and probing its instances. (Nonces and tenants' buckets expire
    in their store by themselves.)"""
    settings = app.state.settings
    # Alone until the store says otherwise; the rules' first load already takes this share.
    app.state.replicas = 1
    app.state.replicas_seen = RedisReplicas(
        app.state.stores["nonces"], f"{socket.gethostname()}:{os.getpid()}", REPLICA_TTL_S
    )
    loops = [_every(_reload_s(app), _reload_rules, app), _every(REPLICAS_EVERY_S, _count_replicas, app), _drain(app)]
    # The etcd clients stream watches over httpx; the request path uses the aiohttp session.
    centre_tls = tenant_config.tls(settings.config_tls_dir)
    async with httpx.AsyncClient(timeout=10) as client, httpx.AsyncClient(timeout=5, verify=centre_tls) as centre:
        if settings.config_endpoints:
            members = [Etcd(centre, str(url)) for url in settings.config_endpoints]
            loops.append(tenant_config.follow(members, app.state.tenant_configs, settings.tenant_config_refresh_s))
        if settings.registry_endpoint is not None:
            app.state.instances = domain.Instances()
            etcd = Etcd(client, str(settings.registry_endpoint))
            loops += [
                registry.follow(etcd, app.state.instances),
                registry.probe(etcd, app.state.instances, settings.registry_p0),
            ]
        await asyncio.gather(*loops)


def load_tenants(app: FastAPI) -> None:
    """Read the tenants and their keys at start (the file is re-read when it changes); one that does not validate
    stops the gateway, naming the field. Their configuration starts on the defaults until the config centre is
    read, which the background does first."""
    app.state.tenants = Tenants(app.state.settings.tenants_file)
    app.state.tenant_configs = tenant_config.TenantConfigs()


def _config(request: Request, tenant: str) -> tenant_config.TenantConfig:
    configs: tenant_config.TenantConfigs = request.app.state.tenant_configs
    return configs.of(tenant)


def _fallback_page(request: Request, tenant: str) -> str | None:
    """The page the tenant's mini-program shows when a degraded answer has nothing to give (its configuration)."""
    page = _config(request, tenant).fallback_page
    return None if page is None else str(page)


def _enabled(request: Request, session: Session, feature: tenant_config.Feature) -> None:
    """Refuse a feature the session's tenant switched off in its configuration."""
    if not _config(request, session.tenant).enabled(feature):
        raise Forbidden(
            f"{feature} is switched off for this mini-program (its configuration's features.{feature})",
            reason="feature_off",
        )


def _tenants(app: FastAPI) -> Tenants:
    served: Tenants = app.state.tenants
    return served


def _reload_s(app: FastAPI) -> float:
    return float(app.state.settings.rules_reload_s)


async def _every(seconds: float, step: Callable[[FastAPI], Awaitable[None]], app: FastAPI) -> None:
    while True:
        try:
            await step(app)
        except Exception:
            _log.exception("%s failed", step.__name__)
        await asyncio.sleep(seconds)


async def _reload_rules(app: FastAPI) -> None:
    """Load the rules file when it changed; a bad file is reported and the rules in force stay."""
    path = app.state.settings.rules_file
    if path is None:
        return
    stamp = path.stat().st_mtime_ns if path.exists() else None
    if stamp == getattr(app.state, "rules_stamp", -1):
        return
    app.state.rules_stamp = stamp
    try:
        rules = load_rules(path)
    except RulesError as err:
        app.state.metrics.rules_reloads.labels("gateway", "refused").inc()
        _log.error("degradation rules refused, keeping the current ones: %s", err)
        return
    # Unchanged rules keep their state: an edit of one endpoint closes no other's open breaker.
    app.state.guards = guards(rules, getattr(app.state, "guards", {}), app.state.replicas)
    for name, guard in app.state.guards.items():
        app.state.metrics.breaker_state(name, guard.breaker.state.value, STATES)
    app.state.metrics.rules_reloads.labels("gateway", "loaded").inc()
    _log.info("degradation rules loaded", extra={"endpoints": sorted(rules)})


async def _count_replicas(app: FastAPI) -> None:
    """How many gateway replicas share the per-service rates now; each then takes its share. With the store out of
    reach the last count stays."""
    try:
        live = await app.state.replicas_seen.live()
    except (RedisError, OSError) as err:
        _log.warning("gateway replicas not counted (%s); keeping %d", type(err).__name__, app.state.replicas)
        return
    if live != app.state.replicas:
        _log.info("gateway replicas live: %d; each serves 1/%d of every endpoint's rate", live, live)
    app.state.replicas = live
    for guard in getattr(app.state, "guards", {}).values():
        guard.bucket.replicas = live


async def _drain(app: FastAPI) -> None:
    """Place queued orders with the order service, oldest first; an order service that cannot answer
    keeps them queued for the next round. This replica's own queueing wakes it at once; others' are
    found within DRAIN_POLL_S."""
    app.state.queued = queued = asyncio.Event()
    while True:
        queued.clear()
        try:
            placed = await _place_one(app)
        except Unavailable:
            placed = False
        except Exception:
            _log.exception("queued order drain failed")
            placed = False
        if placed:
            await asyncio.sleep(0.05)
            continue
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(DRAIN_POLL_S):
                await queued.wait()


async def _place_one(app: FastAPI) -> bool:
    """Place the oldest queued order of the tenant whose order has waited longest, as that tenant."""
    with tenancy.every():
        async with app.state.db.connection() as db:
            tenant = await SqlOrderQueue(db).oldest_tenant()
    if tenant is None:
        return False
    with tenancy.serving(tenant):
        return await _place_oldest(app)


async def _place_oldest(app: FastAPI) -> bool:
    async with app.state.db.transaction() as db:
        queue = SqlOrderQueue(db)
        taken = await queue.take()
        if taken is None:
            return False
        # Conflict: placed already (a retry after a lost answer, or after its notice failed); order ids make it
        # idempotent. The row goes once the order is placed and its notice accepted, so neither is lost.
        with contextlib.suppress(Conflict):
            await Upstream(app.state.http, "order", _url(app, "order")).request("POST", "/orders", json=taken.body)
        if taken.notice is not None:
            await _notify(app, taken.body["user_id"], taken.order_id, taken.notice)
        await queue.done(taken.order_id)
        return True


async def _notify(app: FastAPI, user_id: int, order_id: str, notice: str) -> None:
    """The order's notice through notify (its sender is the platform's message API at a site)."""
    message = {"user_id": user_id, "template": NOTICE_TEMPLATE, "data": {"order_id": order_id, "text": notice}}
    try:
        await Upstream(app.state.http, "notify", _url(app, "notify")).request("POST", "/notifications", json=message)
    except Unavailable:
        raise  # kept queued: sent on a later round
    except DomainError as err:  # refused for good: a retry would be refused again and hold up the queue
        _log.error("notify refused the notice of queued order %s (%s); the order stands", order_id, err.message)


def _url(app: FastAPI, name: str) -> str:
    return str(app.state.settings.upstreams[name])


def _cache(request: Request, name: str) -> domain.Lru[Any]:
    state = request.app.state
    if not hasattr(state, name):
        setattr(state, name, domain.Lru[Any](CACHE_ENTRIES))
    cache: domain.Lru[Any] = getattr(state, name)
    return cache


def _guard(request: Request, endpoint: str) -> Guard | None:
    return getattr(request.app.state, "guards", {}).get(endpoint)


async def _degrade(
    request: Request, endpoint: str, call: Callable[[], Awaitable[Any]], fallback: Callable[[], Awaitable[Any]]
) -> tuple[Any, bool]:
    """Run the endpoint's call under its rule; every fallback taken is counted, even one that has nothing to give."""
    guard, metrics = _guard(request, endpoint), request.app.state.metrics

    async def counted(reason: app_.Fallback) -> Any:
        metrics.degraded.labels("gateway", endpoint, reason.value).inc()
        return await fallback()

    try:
        return await app_.guarded(guard, time.monotonic, call, counted)
    finally:
        if guard is not None:
            metrics.breaker_state(endpoint, guard.breaker.state.value, STATES)


class OrderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    order_id: Ident
    lines: Lines


class PayIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    order_id: Ident
    amount_cents: int = Field(strict=True, ge=1, le=10**12)


class QuantityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    quantity: int = Field(strict=True, ge=0, le=99)


class ClaimIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: Ident


def router() -> APIRouter:
    """Login is public; every other route is Admitted (headers first) and depends on the session."""
    public = APIRouter(prefix="/api", tags=["gateway"], responses=refusals(401, 429))
    api = APIRouter(prefix="/api", tags=["gateway"], route_class=Admitted, responses=refusals(401, 403, 429))
    _browse_routes(public, api)
    _trade_routes(api)
    both = APIRouter()
    both.include_router(public)
    both.include_router(api)
    return both


def _browse_routes(public: APIRouter, api: APIRouter) -> None:
    """Login, the landing page, catalogue, search, cart and check-in."""

    @public.post("/login", status_code=status.HTTP_201_CREATED)
    async def login(body: LoginIn, request: Request, response: Response) -> LoginOut:
        """Under overload, or with the user service down, a returning user logs in from the cached profile."""
        keys = _tenants(request.app).get(body.appid)
        if keys is None:
            raise domain.AuthError(domain.Reason.UNKNOWN_TENANT, "appid: this mini-program is not served here")
        # openids are per mini-program, as the platform's are: one code, two appids, two users.
        openid = domain.simulated_code2session(body.code, keys.platform_secret.encode())
        profiles: domain.Lru[int] = _cache(request, "profiles")
        users = HttpUsers(up(request, "user"))

        async def register() -> int:
            with tenancy.serving(body.appid):
                return await users.register(openid, body.nickname)

        async def cached() -> int:
            user_id = profiles.get(openid)
            if user_id is None:
                raise Degraded(
                    "login is degraded and this user has no cached profile: try again shortly",
                    _fallback_page(request, body.appid),
                )
            return user_id

        user_id, degraded = await _degrade(request, "login", register, cached)
        profiles.put(openid, user_id)
        token, key, s = domain.open_session(user_id, openid, body.appid, keys.session_key.encode(), now())
        if degraded:
            response.headers[DEGRADED] = "cached-profile"
        return LoginOut(token=token, signing_key=key, user_id=s.user_id, expires_at=s.expires_at)

    @api.get("/home")
    async def home(request: Request, user: User) -> Response:
        """The landing page: products and the check-in streak; a missing part degrades, never fails."""
        request.app.state.metrics.count("page_view")
        parts = (
            ("products", "product", "/products?limit=10"),
            ("checkin", "checkin", f"/checkins/{user.user_id}?days=7"),
        )
        # Both parts at once: the page waits for the slower one, not for their sum.
        replies = await asyncio.gather(
            *(up(request, name).send("GET", path) for _, name, path in parts), return_exceptions=True
        )
        page: dict[str, Any] = {"user_id": user.user_id, "degraded": []}
        for (key, name, _), reply in zip(parts, replies, strict=True):
            if isinstance(reply, Unavailable):
                page[key] = None
                page["degraded"].append(name)
            elif isinstance(reply, BaseException):
                raise reply
            else:
                page[key] = orjson.Fragment(reply.body)
        return Response(orjson.dumps(page), media_type=JSON)

    @api.get("/products/{sku}")
    async def product(sku: IdentPath, request: Request, user: User) -> Response:
        """Under overload, or with the product service down, the last page served for this product."""
        request.app.state.metrics.count("page_view")
        pages: domain.Lru[bytes] = _cache(request, "pages")
        key = f"{user.tenant}/{sku}"  # a merchant's page: another's product of the same SKU is another page

        async def fetch() -> bytes:
            return (await up(request, "product").send("GET", f"/products/{sku}")).body

        async def cached() -> bytes:
            page = pages.get(key)
            if page is None:
                raise Degraded(
                    "product pages are degraded and this one is not cached: try again shortly",
                    _fallback_page(request, user.tenant),
                )
            return page

        page, degraded = await _degrade(request, "product", fetch, cached)
        if degraded:
            return Response(page, media_type=JSON, headers={DEGRADED: "cached-page"})
        pages.put(key, page)
        return Response(page, media_type=JSON)

    @api.get("/search")
    async def search(
        request: Request, _user: User, q: Annotated[Text, Query(min_length=1, max_length=128)]
    ) -> Response:
        return _passed(await up(request, "search").send("GET", "/search", params={"q": q}))

    @api.get("/cart")
    async def cart(request: Request, user: User) -> Response:
        return _passed(await up(request, "cart").send("GET", f"/carts/{user.user_id}"))

    @api.put("/cart/items/{sku}", status_code=status.HTTP_204_NO_CONTENT)
    async def cart_item(sku: IdentPath, body: QuantityIn, request: Request, user: User) -> None:
        await up(request, "cart").send("PUT", f"/carts/{user.user_id}/items/{sku}", json=body.model_dump())

    @api.post("/checkin", status_code=status.HTTP_201_CREATED)
    async def checkin(request: Request, user: User) -> Response:
        _enabled(request, user, "checkin")
        reply = await up(request, "checkin").send("POST", "/checkins", json={"user_id": user.user_id})
        return _passed(reply, status.HTTP_201_CREATED)


def _trade_routes(api: APIRouter) -> None:
    """Orders, payments, flash sales and coupons: always on behalf of the session's user."""

    @api.post("/orders", status_code=status.HTTP_201_CREATED)
    async def place(body: OrderIn, request: Request, user: User) -> Response:
        """Under overload, the order is accepted into the queue (202) and placed shortly after."""
        order = {**body.model_dump(), "user_id": user.user_id}

        async def create() -> Response:
            return _passed(await up(request, "order").send("POST", "/orders", json=order), status.HTTP_201_CREATED)

        async def queue() -> Response:
            merchant = _tenants(request.app).name_of(user.tenant)
            notice = _config(request, user.tenant).notice(body.order_id, merchant)
            async with connection(request) as db:
                await SqlOrderQueue(db).put(body.order_id, order, notice, now())
            if (queued := getattr(request.app.state, "queued", None)) is not None:
                queued.set()
            accepted = {"order_id": body.order_id, "status": "queued"}
            return Response(orjson.dumps(accepted), status.HTTP_202_ACCEPTED, media_type=JSON)

        placed: Response
        placed, _ = await _degrade(request, "order_create", create, queue)
        return placed

    @api.get("/orders/{order_id}")
    async def order(order_id: IdentPath, request: Request, user: User) -> Response:
        return Response(await _own_order(request, user, order_id), media_type=JSON)

    @api.post("/payments", status_code=status.HTTP_201_CREATED)
    async def pay(body: PayIn, request: Request, user: User) -> Response:
        """Checkout: order runs the payment saga with pay (charge, confirm, or compensate). Order checks the
        order is this user's (another's is not found), so the gateway need not read it first."""
        checkout = {"amount_cents": body.amount_cents, "user_id": user.user_id}
        reply = await up(request, "order").send("POST", f"/orders/{body.order_id}/checkout", json=checkout)
        return _passed(reply, status.HTTP_201_CREATED)

    @api.get("/payments/{order_id}")
    async def payment(order_id: IdentPath, request: Request, user: User) -> Response:
        """The payment result page: the payment of this user's order, read from pay."""
        await _own_order(request, user, order_id)
        return _passed(await up(request, "pay").send("GET", f"/payments/{order_id}"))

    @api.post("/seckill/{event_id}", status_code=status.HTTP_201_CREATED)
    async def seckill(event_id: IdentPath, request: Request, user: User) -> Response:
        _enabled(request, user, "seckill")
        path = f"/seckill/events/{event_id}/attempts"
        return _passed(await up(request, "seckill").send("POST", path, json={"user_id": user.user_id}), 201)

    @api.post("/coupons", status_code=status.HTTP_201_CREATED)
    async def claim(body: ClaimIn, request: Request, user: User) -> Response:
        _enabled(request, user, "coupon")
        reply = await up(request, "coupon").send("POST", "/claims", json={"code": body.code, "user_id": user.user_id})
        return _passed(reply, status.HTTP_201_CREATED)


def _passed(reply: Reply, status_code: int = status.HTTP_200_OK) -> Response:
    """An upstream's JSON answer passed on as it came (no decoding and encoding again), with our status."""
    return Response(reply.body, status_code, media_type=JSON)


async def _own_order(request: Request, user: Session, order_id: str) -> bytes:
    """The order as JSON if it is this user's (one still queued says so); another user's is not found
    (nothing leaks)."""
    async with connection(request) as db:
        if await SqlOrderQueue(db).holds(order_id):
            return orjson.dumps({"order_id": order_id, "status": "queued"})
    reply = await up(request, "order").send("GET", f"/orders/{order_id}")
    if reply.json()["user_id"] != user.user_id:
        raise NotFound(f"no order {order_id!r}", field="order_id")
    return reply.body
