"""A client that signs every request the way the gateway requires (kit/signing.py): log in once, then pass
`SignedSession(token, signing_key, appid)` as httpx's `auth=`. Used by the tests, the benchmarks and the load."""

from __future__ import annotations

import secrets
import time
from collections.abc import Generator

import httpx

from miniapp_services.kit import signing


class SignedSession(httpx.Auth):
    requires_request_body = True

    def __init__(self, token: str, signing_key: str, appid: str) -> None:
        self.token, self.key, self.appid = token, signing_key.encode(), appid

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers.update(self.headers(request.method, request.url.raw_path.decode(), request.content))
        yield request

    def headers(self, method: str, path: str, body: bytes = b"") -> dict[str, str]:
        """The session and signature headers for one request (path with its query, body as sent)."""
        timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
        message = signing.canonical(method, path, timestamp, nonce, body)
        return {
            "authorization": f"Bearer {self.token}",
            signing.APPID: self.appid,
            signing.TIMESTAMP: timestamp,
            signing.NONCE: nonce,
            signing.SIGNATURE: signing.sign(self.key, message),
        }


def _session(reply: httpx.Response, appid: str) -> SignedSession:
    reply.raise_for_status()
    return SignedSession(reply.json()["token"], reply.json()["signing_key"], appid)


def login(client: httpx.Client, appid: str, code: str, nickname: str = "mini-program user") -> SignedSession:
    """POST /api/login to the merchant's mini-program (appid) and the signer for the session it opens."""
    return _session(client.post("/api/login", json={"appid": appid, "code": code, "nickname": nickname}), appid)


async def alogin(
    client: httpx.AsyncClient, appid: str, code: str, nickname: str = "mini-program user"
) -> SignedSession:
    reply = await client.post("/api/login", json={"appid": appid, "code": code, "nickname": nickname})
    return _session(reply, appid)
