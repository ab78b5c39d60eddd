"""Outbound calls: a body is decoded, no content is None, refusals become domain errors."""

import asyncio

import httpx
import pytest

from miniapp_services.kit.errors import NotFound, Unavailable
from miniapp_services.kit.outbound import Upstream


def _call(status: int, content: bytes, headers: dict[str, str] | None = None) -> object:
    transport = httpx.MockTransport(lambda _request: httpx.Response(status, content=content, headers=headers))

    async def run() -> object:
        async with httpx.AsyncClient(transport=transport) as client:
            return await Upstream(client, "cart", "http://cart").request("PUT", "/carts/1/items/TEA")

    return asyncio.run(run())


def test_a_json_body_is_decoded() -> None:
    assert _call(200, b'{"ok": true}', {"content-type": "application/json"}) == {"ok": True}


def test_no_content_is_none() -> None:
    assert _call(204, b"") is None


def test_refusals_become_domain_errors() -> None:
    with pytest.raises(NotFound, match="cart"):
        _call(404, b'{"detail": {"msg": "no cart", "field": "user_id"}}', {"content-type": "application/json"})
    with pytest.raises(Unavailable, match="cart answered 503"):
        _call(503, b"")
