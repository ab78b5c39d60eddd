# -*- coding: utf-8 -*-
# Copyright: miniapp-mesh contributors
# Apache-2.0 (see LICENSE)
"""The merchants an installation serves (a tenant is a merchant's mini-program, named by its appid), checked, and
the gateway's keys document built from the keys made for them. Pure functions over plain data; errors name the
field and the fix. The inventory's services_tenants is the one list of tenants."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

APPID = re.compile(r"^wx[0-9a-f]{16}$")
KEY_LENGTH = 64


class TenancyError(ValueError):
    """A tenant entry that cannot be used; the message names the field and the fix."""


@dataclass(frozen=True)
class Tenant:
    appid: str
    name: str


def load(raw: object) -> tuple[Tenant, ...]:
    """services_tenants checked: a list of {appid, name}, appids well formed and unique."""
    if not isinstance(raw, list) or not raw:
        raise TenancyError("services_tenants: list at least one merchant's mini-program, as {appid, name}")
    tenants, seen = [], set()
    for i, entry in enumerate(raw):
        where = f"services_tenants[{i}]"
        if not isinstance(entry, dict) or sorted(entry) != ["appid", "name"]:
            raise TenancyError(f"{where}: {entry!r}; write {{appid: wx<16 hex digits>, name: <merchant>}}")
        appid, name = entry["appid"], entry["name"]
        if not isinstance(appid, str) or not APPID.match(appid):
            raise TenancyError(f"{where}.appid: {appid!r} is not a mini-program appid (wx and 16 hex digits)")
        if appid in seen:
            raise TenancyError(f"{where}.appid: {appid} is listed twice; each merchant once")
        if not isinstance(name, str) or not name.strip():
            raise TenancyError(f"{where}.name: {name!r}; give the merchant's name")
        seen.add(appid)
        tenants.append(Tenant(appid, name))
    return tuple(tenants)


def keys_document(tenants: tuple[Tenant, ...], session_keys: list[str], platform_secrets: list[str]) -> str:
    """The gateway's tenants file (gateway/tenants.py reads it): appid -> its session key and platform secret,
    the keys in the tenants' order."""
    if not len(tenants) == len(session_keys) == len(platform_secrets):
        raise TenancyError(
            f"keys for {len(tenants)} tenants: got {len(session_keys)} session keys and"
            f" {len(platform_secrets)} platform secrets; make one of each per tenant"
        )
    for key in (*session_keys, *platform_secrets):
        if len(key) < KEY_LENGTH:
            raise TenancyError(f"a tenant key is {len(key)} characters; make each {KEY_LENGTH} or more")
    document: dict[str, Any] = {
        t.appid: {"session_key": s, "platform_secret": p}
        for t, s, p in zip(tenants, session_keys, platform_secrets, strict=True)
    }
    return json.dumps(document, sort_keys=True)
