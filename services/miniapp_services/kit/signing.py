"""The mini-program's request signature, shared by the gateway that checks it and the clients that make it.

Every request after login carries its session token (a JWT) and is signed with the session's signing
key: HMAC-SHA256 over method, path with query, timestamp, nonce and the body's SHA-256, so a request
cannot be altered, replayed or sent late without the gateway noticing. Standard library only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

TIMESTAMP, NONCE, SIGNATURE = "x-mp-timestamp", "x-mp-nonce", "x-mp-signature"
# The mini-program a request comes from (the merchant's appid); must be the one its session was opened for.
APPID = "x-mp-appid"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def canonical(method: str, path: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    """What is signed: one field per line, the body by its hash."""
    return "\n".join((method.upper(), path, timestamp, nonce, hashlib.sha256(body).hexdigest())).encode()


def sign(key: bytes, message: bytes) -> str:
    return b64url(hmac.new(key, message, hashlib.sha256).digest())


def hs256_token(claims: dict[str, Any], secret: bytes) -> str:
    """A compact JWT signed with HS256 (RFC 7519 / 7515)."""
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = b64url(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
    return f"{header}.{payload}.{sign(secret, f'{header}.{payload}'.encode())}"
