"""Token reading never fails with anything but a reasoned 401, whatever arrives."""

import json
from datetime import UTC, datetime

import pytest

from miniapp_services.gateway import domain
from miniapp_services.kit import signing

SECRET = b"s" * 32
TENANT = "wx00000000000000a1"
KEYS = {TENANT: SECRET}.get
NOW = datetime(2026, 11, 26, 21, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "token",
    [
        "",
        "a.b.c",
        "..",
        "a.b",
        f"{signing.b64url(b'[1]')}.{signing.b64url(b'{}')}.x",
        "\u00e9.\u00e9.\u00e9",
        "a.%%%.c",
    ],
)
def test_garbage_is_malformed(token: str) -> None:
    with pytest.raises(domain.AuthError) as err:
        domain.read_token(token, KEYS, NOW)
    assert err.value.reason == "malformed"
    assert err.value.status == 401


def test_a_session_round_trips_and_expires() -> None:
    token, key, session = domain.open_session(7, "oABC", TENANT, SECRET, NOW)
    assert domain.read_token(token, KEYS, NOW) == session
    assert key == domain.signing_key(SECRET, session.jti)
    with pytest.raises(domain.AuthError, match="expired"):
        domain.read_token(token, KEYS, session.expires_at)


def _claims_token(**changes: object) -> str:
    """A token of this install whose claims are a fresh session's with the changes (None removes a claim)."""
    token, _, _ = domain.open_session(7, "oABC", TENANT, SECRET, NOW)
    claims = json.loads(signing.b64url_decode(token.split(".")[1]))
    claims = {k: v for k, v in (claims | changes).items() if v is not None}
    head, body = token.split(".")[0], signing.b64url(json.dumps(claims).encode())
    return f"{head}.{body}.{signing.sign(SECRET, f'{head}.{body}'.encode())}"


NOW_S = int(NOW.timestamp())
LEEWAY = domain.CLOCK_LEEWAY_S


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"iat": NOW_S + LEEWAY}, None),
        ({"iat": NOW_S + LEEWAY + 1}, "issued_in_future"),
        ({"nbf": NOW_S + LEEWAY}, None),
        ({"nbf": NOW_S + LEEWAY + 1}, "not_yet_valid"),
        ({"nbf": NOW_S - 3600}, None),
        ({"iat": None}, "malformed"),
        ({"iat": str(NOW_S)}, "malformed"),
        ({"exp": True}, "malformed"),
        ({"nbf": "soon"}, "malformed"),
        ({"exp": NOW_S}, "expired"),
        ({"exp": NOW_S + 0.5}, None),
    ],
)
def test_iat_nbf_and_exp_are_enforced_each_with_its_reason(changes: dict, reason: str | None) -> None:
    token = _claims_token(**changes)
    if reason is None:
        assert domain.read_token(token, KEYS, NOW).user_id == 7
        return
    with pytest.raises(domain.AuthError) as err:
        domain.read_token(token, KEYS, NOW)
    assert err.value.reason == reason


def test_the_window_is_symmetric() -> None:
    _, key, _ = domain.open_session(7, "oABC", TENANT, SECRET, NOW)
    for offset, ok in ((-300, True), (300, True), (-301, False), (301, False)):
        ts = str(int(NOW.timestamp()) + offset)
        message = signing.canonical("GET", "/api/home", ts, "n1", b"")
        request = domain.SignedRequest("GET", "/api/home", ts, "n1", signing.sign(key.encode(), message), b"")
        if ok:
            domain.check_request(key, request, NOW, 300)
        else:
            with pytest.raises(domain.AuthError, match="more than 300 s"):
                domain.check_request(key, request, NOW, 300)
