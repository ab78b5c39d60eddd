"""The gateway's HTTP API for the mini-program: every route but login needs a session, and the user
it acts for always comes from that session, never from the request body.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field

from miniapp_services.gateway import application as app_
from miniapp_services.gateway.domain import Session, SignedRequest
from miniapp_services.gateway.infrastructure import HttpUsers
from miniapp_services.gateway.infrastructure import SqlNonceStore as Repo
from miniapp_services.kit import signing
from miniapp_services.kit.app import in_transaction, transaction
from miniapp_services.kit.errors import NotFound, Unavailable
from miniapp_services.kit.outbound import Upstream
from miniapp_services.kit.types import Ident, IdentPath

_log = logging.getLogger(__name__)
UPSTREAMS = ("user", "product", "search", "cart", "order", "pay", "coupon", "checkin", "seckill")


def now() -> datetime:
    return datetime.now(UTC)


def up(request: Request, name: str) -> Upstream:
    return Upstream(request.app.state.http, name, str(request.app.state.settings.upstreams[name]))


async def current(request: Request, authorization: Annotated[str | None, Header()] = None) -> Session:
    """The session of a signed request; anything else is 401 with a reason, before any upstream is called."""
    settings = request.app.state.settings
    query = request.scope.get("query_string", b"")
    path = request.scope.get("raw_path", request.url.path.encode()).decode() + (f"?{query.decode()}" if query else "")
    signed = SignedRequest(
        request.method,
        path,
        request.headers.get(signing.TIMESTAMP),
        request.headers.get(signing.NONCE),
        request.headers.get(signing.SIGNATURE),
        await request.body(),
    )
    secret = settings.session_secret.get_secret_value().encode()
    async with transaction(request) as db:
        return await app_.authenticate(Repo(db), authorization, signed, secret, now(), settings.signature_window_s)


User = Annotated[Session, Depends(current)]


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=8, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")
    nickname: str = Field(default="mini-program user", min_length=1, max_length=32)


class LoginOut(BaseModel):
    token: str
    signing_key: str
    user_id: int
    expires_at: datetime


async def purge_nonces(app: FastAPI) -> None:
    """Drop nonces past their window, once a minute, for the app's lifetime."""
    while True:
        try:
            await in_transaction(app, Repo, _purge, now())
        except Exception:
            _log.exception("nonce purge failed")
        await asyncio.sleep(60)


async def _purge(repo: Repo, at: datetime) -> int:
    return await repo.purge(at)


class LineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sku: Ident
    quantity: int = Field(ge=1, le=99)


class OrderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    order_id: Ident
    lines: list[LineIn] = Field(min_length=1, max_length=20)


class PayIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    order_id: Ident
    amount_cents: int = Field(ge=1, le=10**12)


class QuantityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    quantity: int = Field(ge=0, le=99)


class ClaimIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: Ident


def router() -> APIRouter:
    api = APIRouter(prefix="/api", tags=["gateway"])
    _browse_routes(api)
    _trade_routes(api)
    return api


def _browse_routes(api: APIRouter) -> None:
    """Login, the landing page, catalogue, search, cart and check-in."""

    @api.post("/login", status_code=status.HTTP_201_CREATED)
    async def login(body: LoginIn, request: Request) -> LoginOut:
        secret = request.app.state.settings.session_secret.get_secret_value().encode()
        token, key, s = await app_.login(HttpUsers(up(request, "user")), body.code, body.nickname, secret, now())
        return LoginOut(token=token, signing_key=key, user_id=s.user_id, expires_at=s.expires_at)

    @api.get("/home")
    async def home(request: Request, user: User) -> dict[str, Any]:
        """The landing page: products and the check-in streak; a missing part degrades, never fails."""
        request.app.state.metrics.count("page_view")
        page: dict[str, Any] = {"user_id": user.user_id, "degraded": []}
        for key, name, path in (
            ("products", "product", "/products?limit=10"),
            ("checkin", "checkin", f"/checkins/{user.user_id}?days=7"),
        ):
            try:
                page[key] = await up(request, name).request("GET", path)
            except Unavailable:
                page[key] = None
                page["degraded"].append(name)
        return page

    @api.get("/products/{sku}")
    async def product(sku: IdentPath, request: Request, _user: User) -> Any:
        request.app.state.metrics.count("page_view")
        return await up(request, "product").request("GET", f"/products/{sku}")

    @api.get("/search")
    async def search(request: Request, _user: User, q: Annotated[str, Query(min_length=1, max_length=128)]) -> Any:
        return await up(request, "search").request("GET", "/search", params={"q": q})

    @api.get("/cart")
    async def cart(request: Request, user: User) -> Any:
        return await up(request, "cart").request("GET", f"/carts/{user.user_id}")

    @api.put("/cart/items/{sku}", status_code=status.HTTP_204_NO_CONTENT)
    async def cart_item(sku: IdentPath, body: QuantityIn, request: Request, user: User) -> None:
        await up(request, "cart").request("PUT", f"/carts/{user.user_id}/items/{sku}", json=body.model_dump())

    @api.post("/checkin", status_code=status.HTTP_201_CREATED)
    async def checkin(request: Request, user: User) -> Any:
        return await up(request, "checkin").request("POST", "/checkins", json={"user_id": user.user_id})


def _trade_routes(api: APIRouter) -> None:
    """Orders, payments, flash sales and coupons: always on behalf of the session's user."""

    @api.post("/orders", status_code=status.HTTP_201_CREATED)
    async def place(body: OrderIn, request: Request, user: User) -> Any:
        return await up(request, "order").request(
            "POST", "/orders", json={**body.model_dump(), "user_id": user.user_id}
        )

    @api.get("/orders/{order_id}")
    async def order(order_id: IdentPath, request: Request, user: User) -> Any:
        return await _own_order(request, user, order_id)

    @api.post("/payments", status_code=status.HTTP_201_CREATED)
    async def pay(body: PayIn, request: Request, user: User) -> Any:
        await _own_order(request, user, body.order_id)
        return await up(request, "pay").request("POST", "/payments", json=body.model_dump())

    @api.post("/seckill/{event_id}", status_code=status.HTTP_201_CREATED)
    async def seckill(event_id: IdentPath, request: Request, user: User) -> Any:
        return await up(request, "seckill").request(
            "POST", f"/seckill/events/{event_id}/attempts", json={"user_id": user.user_id}
        )

    @api.post("/coupons", status_code=status.HTTP_201_CREATED)
    async def claim(body: ClaimIn, request: Request, user: User) -> Any:
        return await up(request, "coupon").request("POST", "/claims", json={"code": body.code, "user_id": user.user_id})


async def _own_order(request: Request, user: Session, order_id: str) -> Any:
    """The order if it is this user's; another user's order is reported as not found (nothing leaks)."""
    found = await up(request, "order").request("GET", f"/orders/{order_id}")
    if found["user_id"] != user.user_id:
        raise NotFound(f"no order {order_id!r}", field="order_id")
    return found
