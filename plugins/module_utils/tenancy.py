# -*- coding: utf-8 -*-
# Copyright: miniapp-mesh contributors
# Apache-2.0 (see LICENSE)
"""The merchants an installation serves (a tenant is a merchant's mini-program, named by its appid), checked, and
the gateway's keys document built from the keys made for them. Pure functions over plain data; errors name the
field and the fix. The inventory's services_tenants is the one list of tenants, with each one's configuration (the
config centre's /config/<appid>/app.yaml, read by the gateway: services/miniapp_services/gateway/tenant_config.py,
whose model is the authority; this check fails the run early, and a unit test keeps the two in step)."""

from __future__ import annotations

import json
import re
import string
from dataclasses import dataclass, field
from typing import Any

APPID = re.compile(r"^wx[0-9a-f]{16}$")
KEY_LENGTH = 64
CONFIG_PREFIX, CONFIG_DOCUMENT = "/config/", "app.yaml"
CONFIG_FIELDS = ("rate_limit_rps", "rate_burst", "features", "fallback_page", "notice_template")
FEATURES = ("checkin", "seckill", "coupon")
NOTICE_FIELDS = ("order_id", "merchant")
NAME_MAX = 120  # a merchant's name, as its notices give it (gateway/tenants.py: TenantKeys.name)


class TenancyError(ValueError):
    """A tenant entry that cannot be used; the message names the field and the fix."""


@dataclass(frozen=True)
class Tenant:
    appid: str
    name: str
    config: dict[str, Any] = field(default_factory=dict, compare=False)


def load(raw: object) -> tuple[Tenant, ...]:
    """services_tenants checked: a list of {appid, name, config?}, appids well formed and unique."""
    if not isinstance(raw, list) or not raw:
        raise TenancyError("services_tenants: list at least one merchant's mini-program, as {appid, name}")
    tenants, seen = [], set()
    for i, entry in enumerate(raw):
        where = f"services_tenants[{i}]"
        if not isinstance(entry, dict) or not {"appid", "name"} <= set(entry) <= {"appid", "name", "config"}:
            raise TenancyError(
                f"{where}: {entry!r}; write {{appid: wx<16 hex digits>, name: <merchant>, config?: {{}}}}"
            )
        appid, name = entry["appid"], entry["name"]
        if not isinstance(appid, str) or not APPID.match(appid):
            raise TenancyError(f"{where}.appid: {appid!r} is not a mini-program appid (wx and 16 hex digits)")
        if appid in seen:
            raise TenancyError(f"{where}.appid: {appid} is listed twice; each merchant once")
        if not isinstance(name, str) or not name.strip() or len(name) > NAME_MAX:
            raise TenancyError(f"{where}.name: {name!r}; give the merchant's name, {NAME_MAX} characters at most")
        seen.add(appid)
        tenants.append(Tenant(appid, name, _config(f"{where}.config", entry.get("config", {}))))
    return tuple(tenants)


def _number(where: str, value: object, low: float, high: float, integer: bool = False) -> None:
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or not low < value <= high:
        kind = "a whole number" if integer else "a number"
        raise TenancyError(f"{where}: {value!r}; give {kind} above {low:g} and at most {high:g}")


def _config(where: str, raw: object) -> dict[str, Any]:
    """A tenant's configuration, its fields checked as the gateway's model checks them."""
    if not isinstance(raw, dict):
        raise TenancyError(f"{where}: {raw!r}; write a mapping of {', '.join(CONFIG_FIELDS)}")
    for key, value in raw.items():
        at = f"{where}.{key}"
        if key == "rate_limit_rps":
            _number(at, value, 0, 100_000)
        elif key == "rate_burst":
            _number(at, value, 0, 1_000_000, integer=True)
        elif key == "features":
            if not isinstance(value, dict) or any(
                f not in FEATURES or not isinstance(v, bool) for f, v in value.items()
            ):
                raise TenancyError(f"{at}: {value!r}; switch features by name ({', '.join(FEATURES)}) to true or false")
        elif key == "fallback_page":
            if not isinstance(value, str) or not re.match(r"^https?://[^\s/]+", value):
                raise TenancyError(f"{at}: {value!r}; give the page's http:// or https:// URL")
        elif key == "notice_template":
            _template(at, value)
        else:
            raise TenancyError(f"{at}: not a tenant setting; use {', '.join(CONFIG_FIELDS)}")
    return dict(raw)


def _template(where: str, value: object) -> None:
    if not isinstance(value, str) or not 0 < len(value) <= 280:
        raise TenancyError(f"{where}: {value!r}; give the notice's text, up to 280 characters")
    try:
        named = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
    except ValueError as err:
        raise TenancyError(f"{where}: not a template ({err}); write fields as {{order_id}}") from None
    unknown = sorted(named - set(NOTICE_FIELDS))
    if unknown:
        raise TenancyError(f"{where}: names {unknown}; a notice may name only {', '.join(NOTICE_FIELDS)}")


def config_documents(tenants: tuple[Tenant, ...]) -> dict[str, str]:
    """The config centre's documents: /config/<appid>/app.yaml for each tenant with a configuration (as JSON,
    which is YAML); a tenant without one runs on the gateway's defaults."""
    return {
        f"{CONFIG_PREFIX}{t.appid}/{CONFIG_DOCUMENT}": json.dumps(t.config, sort_keys=True) for t in tenants if t.config
    }


def keys_document(tenants: tuple[Tenant, ...], session_keys: list[str], platform_secrets: list[str]) -> str:
    """The gateway's tenants file (gateway/tenants.py reads it): appid -> the merchant's name, its session key
    and platform secret, the keys in the tenants' order."""
    if not len(tenants) == len(session_keys) == len(platform_secrets):
        raise TenancyError(
            f"keys for {len(tenants)} tenants: got {len(session_keys)} session keys and"
            f" {len(platform_secrets)} platform secrets; make one of each per tenant"
        )
    for key in (*session_keys, *platform_secrets):
        if len(key) < KEY_LENGTH:
            raise TenancyError(f"a tenant key is {len(key)} characters; make each {KEY_LENGTH} or more")
    document: dict[str, Any] = {
        t.appid: {"name": t.name, "session_key": s, "platform_secret": p}
        for t, s, p in zip(tenants, session_keys, platform_secrets, strict=True)
    }
    return json.dumps(document, sort_keys=True)
