"""The merchants this gateway serves (a tenant is a merchant's mini-program, named by its appid) and each one's
keys: the session key its tokens and signing keys are made with, and the platform secret its code2session is
simulated with. Both are made per install and per tenant by roles/services (Secret gateway-tenants), projected
as one JSON file. The file is checked again at most once a second, so a tenant removed from the inventory
loses its tokens as soon as the file changes; a file that does not validate leaves the previous keys in force."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from miniapp_services.kit.tenancy import Appid

_log = logging.getLogger(__name__)
RECHECK_S = 1.0


class TenantKeys(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=120, description="the merchant's name, as its notices give it")
    session_key: str = Field(min_length=32, description="signs the tenant's tokens and derives its signing keys")
    platform_secret: str = Field(min_length=32, description="the simulated code2session's key for this appid")


_FILE = TypeAdapter(dict[Appid, TenantKeys])


def parse(text: str, where: str) -> dict[str, TenantKeys]:
    """The file's tenants; a ValueError naming the appid and field that do not validate."""
    try:
        found = _FILE.validate_json(text)
    except ValidationError as err:
        first = err.errors()[0]
        place = ".".join(str(p) for p in first["loc"] if p != "[key]")
        raise ValueError(f"{where}: {place}: {first['msg']} (write it as roles/services does)") from None
    if not found:
        raise ValueError(f"{where}: no tenants; list at least one in services_tenants")
    return found


@dataclass
class Tenants:
    """The keys by appid, from the file; `get` re-reads it when it changed (checked at most every RECHECK_S)."""

    path: Path
    keys: dict[str, TenantKeys] = field(default_factory=dict)
    _stamp: int = 0
    _checked: float = 0.0

    def __post_init__(self) -> None:
        self.keys = parse(self.path.read_text(), str(self.path))
        self._stamp = self.path.stat().st_mtime_ns
        self._checked = time.monotonic()

    def get(self, appid: str) -> TenantKeys | None:
        if time.monotonic() - self._checked >= RECHECK_S:
            self._recheck()
        return self.keys.get(appid)

    def name_of(self, appid: str) -> str:
        """The merchant's name (its appid when it is no longer served)."""
        found = self.get(appid)
        return appid if found is None else found.name

    def session_key(self, appid: str) -> bytes | None:
        """The tenant's session key, None when it is not served (what the domain's `keys_of` asks)."""
        found = self.get(appid)
        return None if found is None else found.session_key.encode()

    def _recheck(self) -> None:
        self._checked = time.monotonic()
        try:
            stamp = self.path.stat().st_mtime_ns
            if stamp != self._stamp:
                self._stamp = stamp  # a bad file is reported once, not every second
                self.keys = parse(self.path.read_text(), str(self.path))
                _log.info("tenants reloaded: %d served", len(self.keys))
        except (OSError, ValueError) as err:
            _log.error("tenants file not reloaded, the previous %d tenants stay in force: %s", len(self.keys), err)
