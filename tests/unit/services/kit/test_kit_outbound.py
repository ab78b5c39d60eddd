"""Outbound calls against a real HTTP server on loopback: a body is decoded, no content is None, refusals
and failures become domain errors, and the trace context and release tag travel with the call."""

import asyncio

import pytest
from aiohttp import web

from miniapp_services.kit import tracing
from miniapp_services.kit.errors import NotFound, Unavailable
from miniapp_services.kit.outbound import Upstream, make_http_client
from tools import pgtmp


def _call(status: int, content: bytes, content_type: str | None = None, tag: str | None = None) -> object:
    """PUT /carts/1/items/TEA on a server that answers (status, content); the call's result and the
    headers the server saw."""
    seen: dict[str, str] = {}

    async def handle(request: web.Request) -> web.Response:
        seen.update(request.headers)
        return web.Response(status=status, body=content, content_type=content_type)

    async def run() -> object:
        app = web.Application()
        app.router.add_put("/carts/1/items/TEA", handle)
        runner = web.AppRunner(app)
        await runner.setup()
        port = pgtmp.free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        token = tracing.current_release_tag.set(tag)
        client = make_http_client(4, 2)
        try:
            return await Upstream(client, "cart", f"http://127.0.0.1:{port}").request("PUT", "/carts/1/items/TEA")
        finally:
            tracing.current_release_tag.reset(token)
            await client.close()
            await runner.cleanup()

    result = asyncio.run(run())
    return result, seen


def test_a_json_body_is_decoded() -> None:
    assert _call(200, b'{"ok": true}', "application/json")[0] == {"ok": True}


def test_no_content_is_none() -> None:
    assert _call(204, b"")[0] is None


def test_refusals_become_domain_errors() -> None:
    with pytest.raises(NotFound, match="cart"):
        _call(404, b'{"detail": {"msg": "no cart", "field": "user_id"}}', "application/json")
    with pytest.raises(Unavailable, match="cart answered 503"):
        _call(503, b"")


def test_the_release_tag_travels_with_the_call() -> None:
    _, seen = _call(204, b"", tag="v2")
    assert seen[tracing.RELEASE_TAG] == "v2"


def test_an_upstream_that_does_not_answer_is_unavailable() -> None:
    async def run() -> None:
        client = make_http_client(4, 1)
        try:
            await Upstream(client, "cart", "http://127.0.0.1:1").request("GET", "/carts/1")
        finally:
            await client.close()

    with pytest.raises(Unavailable, match="cart did not answer"):
        asyncio.run(run())
