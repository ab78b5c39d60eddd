"""The merchants' mini-programs a replay logs in to: the inventory's tenant list (the lab's by default, a site's
with --tenants), checked as roles/services checks it, and a skewed pick among them: as across merchants in
production, a few large ones take most visits and a long tail the rest (Zipf, s = 1). The tenant with the lowest
rate limit configured in the list is the noisy neighbour the replay drives past its limit; the journeys pick among
the others."""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from ansible_collections.miniapp.mesh.plugins.module_utils import tenancy
from miniapp_services.gateway.tenant_config import TenantConfig

# The noisy neighbour's requests are named this, then " admitted" or " limited" by how the gateway answered.
NOISY_NAME = "noisy_neighbour"
LAB_TENANTS = Path(__file__).resolve().parents[1] / "inventories/lab/group_vars/all/services_tenants.yml"


@dataclass(frozen=True)
class Noisy:
    """The noisy neighbour: a tenant and the rate limit its configuration gives it (requests/s, and at once)."""

    appid: str
    limit_rps: float
    burst: int


@cache
def _listed(path: Path) -> tuple[tenancy.Tenant, ...]:
    raw = yaml.safe_load(path.read_text()) or {}
    try:
        return tenancy.load(raw.get("services_tenants"))
    except tenancy.TenancyError as err:
        raise ValueError(f"{path}: {err}") from None


def appids(path: Path = LAB_TENANTS) -> tuple[str, ...]:
    """The appids of the tenants the inventory file lists (services_tenants), in its order."""
    return tuple(t.appid for t in _listed(path))


def noisy(path: Path = LAB_TENANTS) -> Noisy | None:
    """The tenant with the lowest configured rate limit (the first listed on a tie); None when none has one."""
    limited = [t for t in _listed(path) if "rate_limit_rps" in t.config]
    if not limited:
        return None
    found = min(limited, key=lambda t: float(t.config["rate_limit_rps"]))
    # As the gateway reads the tenant's document, its default burst and all.
    rate = TenantConfig.model_validate(found.config).rate(found.appid)
    return Noisy(found.appid, rate.per_s, rate.burst)


@cache
def journey_appids(path: Path = LAB_TENANTS) -> tuple[str, ...]:
    """The tenants the journeys log in to: every one but the noisy neighbour."""
    drilled = noisy(path)
    return tuple(a for a in appids(path) if drilled is None or a != drilled.appid)


def pick(choices: tuple[str, ...], rng: random.Random) -> str:
    """A tenant, the first listed the likeliest: weight 1/rank."""
    return rng.choices(choices, weights=_zipf(len(choices)))[0]


@cache
def _zipf(n: int) -> tuple[float, ...]:
    return tuple(1 / rank for rank in range(1, n + 1))
