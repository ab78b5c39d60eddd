"""Each tenant's configuration, from the installation's config centre: the design reads /config/<tenant>/app.yaml
and refreshes it every 30 s into a local cache; here the config centre is the site's etcd (what the installation
has), the key /config/<appid>/app.yaml. A document holds the tenant's feature switches, its rate limit, its
fallback page and its notice template; a tenant without one runs on the defaults below.

The cache is swapped whole, so a request sees one generation or the next, never a mix. A document that does not
validate is refused with its key and field named, and that tenant keeps what it had (its previous document, or
the defaults): a typo in one merchant's file neither reaches the request path nor resets anyone's limits."""

from __future__ import annotations

import asyncio
import logging
import math
import re
import ssl
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

import httpx
import yaml
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator

from miniapp_services.gateway.domain import TenantRate
from miniapp_services.kit.etcd import Etcd
from miniapp_services.kit.tenancy import APPID_PATTERN

_log = logging.getLogger(__name__)
PREFIX = "/config/"
DOCUMENT = "app.yaml"
Feature = Literal["checkin", "seckill", "coupon"]
NOTICE_FIELDS = ("order_id", "merchant")  # what a notice template may name; the gateway fills them in
NOTICE_MAX = 1000  # a filled-in notice is cut there (notify takes values up to that)


class TenantConfig(BaseModel):
    """One tenant's app.yaml. Every field has the installation's default, so a document names only what differs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rate_limit_rps: float = Field(
        default=500, gt=0, le=100_000, description="signed requests a second, for the service as a whole"
    )
    rate_burst: int | None = Field(
        default=None, ge=1, le=1_000_000, description="requests at once above the rate; unset: one second's worth"
    )
    features: dict[Feature, bool] = Field(
        default_factory=dict, description="switches the tenant turned off (false) or on; unnamed ones are on"
    )
    fallback_page: AnyHttpUrl | None = Field(
        default=None, description="the page the mini-program shows when a degraded answer has nothing to give"
    )
    notice_template: Annotated[str, StringConstraints(min_length=1, max_length=280)] = Field(
        default="Your order {order_id} is accepted and will be placed shortly.",
        description=f"the notice for an order accepted under overload; may name {', '.join(NOTICE_FIELDS)}",
    )

    @field_validator("notice_template")
    @classmethod
    def _known_fields(cls, value: str) -> str:
        try:
            named = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
        except ValueError as err:
            raise ValueError(f"not a template ({err}); write fields as {{order_id}}") from None
        unknown = sorted(named - set(NOTICE_FIELDS))
        if unknown:
            raise ValueError(f"names {unknown}; a notice may name only {', '.join(NOTICE_FIELDS)}")
        return value

    def notice(self, order_id: str, merchant: str) -> str:
        """The notice of an order accepted under overload (its fields checked when the document was read)."""
        return self.notice_template.format(order_id=order_id, merchant=merchant)[:NOTICE_MAX]

    def enabled(self, feature: Feature) -> bool:
        return self.features.get(feature, True)

    def rate(self, tenant: str) -> TenantRate:
        return TenantRate(tenant, self.rate_limit_rps, self.rate_burst or max(1, math.ceil(self.rate_limit_rps)))


DEFAULTS = TenantConfig()
_APPID = re.compile(APPID_PATTERN)


def key_of(appid: str) -> str:
    return f"{PREFIX}{appid}/{DOCUMENT}"


def appid_of(key: str) -> str:
    """The appid a document's key names (what key_of made it from, for a well-formed key)."""
    return key.removeprefix(PREFIX).removesuffix(f"/{DOCUMENT}")


def parse(key: str, text: str) -> tuple[str, TenantConfig]:
    """The appid a key names and its document; a ValueError naming the key, and the field, that do not validate."""
    appid = appid_of(key)
    if key != key_of(appid) or not _APPID.match(appid):
        raise ValueError(f"{key}: not a tenant's document; write {PREFIX}<appid>/{DOCUMENT}")
    try:
        raw = yaml.safe_load(text)
        return appid, TenantConfig.model_validate({} if raw is None else raw)
    except yaml.YAMLError as err:
        raise ValueError(f"{key}: not YAML: {err}") from None
    except ValidationError as err:
        first = err.errors()[0]
        place = ".".join(str(p) for p in first["loc"]) or "(document)"
        raise ValueError(f"{key}: {place}: {first['msg']}") from None


@dataclass
class TenantConfigs:
    """The cache: every tenant's configuration as last read, and the documents it was read from."""

    configs: Mapping[str, TenantConfig] = field(default_factory=dict)
    documents: Mapping[str, str] = field(default_factory=dict)

    def of(self, appid: str) -> TenantConfig:
        return self.configs.get(appid, DEFAULTS)

    def replace(self, documents: Mapping[str, str]) -> list[str]:
        """Swap in the documents as read now; returns the refusals among those that changed (each naming its key
        and field), whose tenants keep what they had. A tenant whose document is gone is back on the defaults."""
        fresh: dict[str, TenantConfig] = {}
        refused = []
        for key, text in documents.items():
            appid = appid_of(key)
            if self.documents.get(key) == text:
                if appid in self.configs:
                    fresh[appid] = self.configs[appid]
                continue
            try:
                appid, fresh[appid] = parse(key, text)
            except ValueError as err:
                refused.append(str(err))
                if appid in self.configs:
                    fresh[appid] = self.configs[appid]
        self.configs, self.documents = fresh, dict(documents)
        return refused


def tls(directory: Path | None) -> ssl.SSLContext | bool:
    """The client side of the config centre's TLS: its CA, and this gateway's certificate (the etcd role's
    PKI); without a directory, the system's trust (a plain-HTTP etcd in tests)."""
    if directory is None:
        return True
    context = ssl.create_default_context(cafile=directory / "ca.crt")
    context.load_cert_chain(directory / "tls.crt", directory / "tls.key")
    return context


async def follow(members: Sequence[Etcd], configs: TenantConfigs, every_s: float) -> None:
    """Read every tenant's document now and again every every_s seconds (only changed ones are parsed), from
    the first member that answers; with none answering the cache stays as it is."""
    turn = 0
    while True:
        for attempt in range(len(members)):
            member = members[(turn + attempt) % len(members)]
            try:
                documents, _ = await member.get_prefix(PREFIX)
            except httpx.HTTPError as err:
                _log.warning("tenant configuration not read from %s (%s)", member.endpoint, err)
                continue
            turn = (turn + attempt) % len(members)
            for refusal in configs.replace(documents):
                _log.error("tenant configuration refused, the previous one stays in force: %s", refusal)
            break
        else:
            _log.error("no config centre member answered; the cached tenant configuration stays in force")
        await asyncio.sleep(every_s)
