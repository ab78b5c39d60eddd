"""The gateway's tenants file: validated at load naming the appid and field, re-read when it changes, and a bad
rewrite leaves the keys in force."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from miniapp_services.gateway import domain, tenants
from tools import tenantstmp

A, B = "wx00000000000000a1", "wx00000000000000b2"


def _touch_later(path: Path, text: str) -> None:
    """Rewrite with an mtime surely past the last one (coarse filesystem clocks)."""
    stamp = path.stat().st_mtime_ns + 1_000_000_000
    path.write_text(text)
    os.utime(path, ns=(stamp, stamp))


@pytest.fixture
def keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(tenants, "RECHECK_S", 0.0)
    path = tmp_path / "tenants.json"
    path.write_text(tenantstmp.keys_text(A, B))
    return path


def test_a_removed_tenant_is_gone_at_the_next_check_and_a_bad_rewrite_changes_nothing(keys: Path) -> None:
    served = tenants.Tenants(keys)
    assert served.get(A) is not None
    assert served.get(B) is not None
    document = json.loads(keys.read_text())
    del document[B]
    _touch_later(keys, json.dumps(document))
    assert served.get(B) is None
    kept = served.get(A)
    _touch_later(keys, json.dumps({A: {"session_key": "short"}}))
    assert served.get(A) == kept


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({}, "no tenants; list at least one in services_tenants"),
        (
            {"wxBAD": {"name": "Tea", "session_key": "k" * 64, "platform_secret": "p" * 64}},
            "wxBAD: String should match",
        ),
        ({A: {"name": "Tea", "session_key": "k" * 64}}, f"{A}.platform_secret: Field required"),
        ({A: {"session_key": "k" * 64, "platform_secret": "p" * 64}}, f"{A}.name: Field required"),
        ({A: {"name": "Tea", "session_key": "k" * 64, "platform_secret": "p" * 64, "extra": 1}}, f"{A}.extra: Extra"),
    ],
)
def test_a_tenants_file_that_does_not_validate_is_refused_naming_the_field(
    keys: Path, document: dict, message: str
) -> None:
    keys.write_text(json.dumps(document))
    with pytest.raises(ValueError, match=r"tenants\.json: ") as err:
        tenants.Tenants(keys)
    assert message in str(err.value)
    assert "k" * 64 not in str(err.value)


def test_a_token_names_its_tenant_and_only_that_tenants_key_reads_it() -> None:
    now = datetime.now(UTC)
    key_a, key_b = b"a" * 64, b"b" * 64
    token, _, session = domain.open_session(7, "o-user", A, key_a, now)
    read = domain.read_token(token, {A: key_a, B: key_b}.get, now)
    assert (read.jti, read.user_id, read.openid, read.tenant) == (session.jti, 7, "o-user", A)
    with pytest.raises(domain.AuthError) as unknown:
        domain.read_token(token, {B: key_b}.get, now)
    assert unknown.value.reason == "unknown_tenant"
    with pytest.raises(domain.AuthError) as forged:
        domain.read_token(token, {A: key_b}.get, now)
    assert forged.value.reason == "wrong_key"
    with pytest.raises(domain.AuthError) as crossed:
        domain.check_tenant(session, B)
    assert crossed.value.reason == "tenant_mismatch"
