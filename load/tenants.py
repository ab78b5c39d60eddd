"""The merchants' mini-programs a replay logs in to: the inventory's tenant list (the lab's by default, a site's
with --tenants), checked as roles/services checks it, and a skewed pick among them: as across merchants in
production, a few large ones take most visits and a long tail the rest (Zipf, s = 1)."""

from __future__ import annotations

import random
from functools import cache
from pathlib import Path

import yaml

from ansible_collections.miniapp.mesh.plugins.module_utils import tenancy

LAB_TENANTS = Path(__file__).resolve().parents[1] / "inventories/lab/group_vars/all/services_tenants.yml"


@cache
def appids(path: Path = LAB_TENANTS) -> tuple[str, ...]:
    """The appids of the tenants the inventory file lists (services_tenants), in its order."""
    raw = yaml.safe_load(path.read_text()) or {}
    try:
        return tuple(t.appid for t in tenancy.load(raw.get("services_tenants")))
    except tenancy.TenancyError as err:
        raise ValueError(f"{path}: {err}") from None


def pick(choices: tuple[str, ...], rng: random.Random) -> str:
    """A tenant, the first listed the likeliest: weight 1/rank."""
    return rng.choices(choices, weights=_zipf(len(choices)))[0]


@cache
def _zipf(n: int) -> tuple[float, ...]:
    return tuple(1 / rank for rank in range(1, n + 1))
