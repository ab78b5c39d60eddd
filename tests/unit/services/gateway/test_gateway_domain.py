"""Token reading never fails with anything but a reasoned 401, whatever arrives."""

from datetime import UTC, datetime

import pytest

from miniapp_services.gateway import domain
from miniapp_services.kit import signing

SECRET = b"s" * 32
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
        domain.read_token(token, SECRET, NOW)
    assert err.value.reason == "malformed"
    assert err.value.status == 401


def test_a_session_round_trips_and_expires() -> None:
    token, key, session = domain.open_session(7, "oABC", SECRET, NOW)
    assert domain.read_token(token, SECRET, NOW) == session
    assert key == domain.signing_key(SECRET, session.jti)
    with pytest.raises(domain.AuthError, match="expired"):
        domain.read_token(token, SECRET, session.expires_at)


def test_the_window_is_symmetric() -> None:
    _, key, _ = domain.open_session(7, "oABC", SECRET, NOW)
    for offset, ok in ((-300, True), (300, True), (-301, False), (301, False)):
        ts = str(int(NOW.timestamp()) + offset)
        message = signing.canonical("GET", "/api/home", ts, "n1", b"")
        request = domain.SignedRequest("GET", "/api/home", ts, "n1", signing.sign(key.encode(), message), b"")
        if ok:
            domain.check_request(key, request, NOW, 300)
        else:
            with pytest.raises(domain.AuthError, match="more than 300 s"):
                domain.check_request(key, request, NOW, 300)
