"""The tenant list (services_tenants) checked, and the gateway's keys document built from it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from ansible_collections.miniapp.mesh.plugins.module_utils import tenancy

ROOT = Path(__file__).resolve().parents[4]
A, B = "wx00000000000000a1", "wx00000000000000b2"
KEY = "k" * 64


def test_the_lab_serves_two_hundred_tenants_and_the_sample_lists_its_own() -> None:
    for inventory, at_least in (("lab", 200), ("production-sample", 1)):
        raw = yaml.safe_load((ROOT / f"inventories/{inventory}/group_vars/all/services_tenants.yml").read_text())
        assert len(tenancy.load(raw["services_tenants"])) >= at_least


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (None, "services_tenants: list at least one merchant's mini-program"),
        ([], "services_tenants: list at least one merchant's mini-program"),
        (["wx00000000000000a1"], "services_tenants[0]: 'wx00000000000000a1'; write {appid: wx<16 hex digits>"),
        ([{"appid": A}], "services_tenants[0]: {'appid'"),
        ([{"appid": "wxABC", "name": "Tea"}], "services_tenants[0].appid: 'wxABC' is not a mini-program appid"),
        ([{"appid": A, "name": "Tea"}, {"appid": A, "name": "Tea 2"}], "services_tenants[1].appid: " + A + " is listed twice"),
        ([{"appid": A, "name": " "}], "services_tenants[0].name: ' '; give the merchant's name"),
        ([{"appid": A, "name": "T" * 121}], "services_tenants[0].name: 'TTT"),
    ],
)  # fmt: skip
def test_a_bad_tenant_list_is_refused_naming_the_entry_and_the_fix(raw: object, message: str) -> None:
    with pytest.raises(tenancy.TenancyError, match=None) as err:
        tenancy.load(raw)
    assert message in str(err.value)


def test_the_keys_document_holds_each_tenants_two_keys() -> None:
    tenants = tenancy.load([{"appid": A, "name": "Tea"}, {"appid": B, "name": "Noodles"}])
    document = json.loads(tenancy.keys_document(tenants, [KEY + "1", KEY + "2"], [KEY + "3", KEY + "4"]))
    assert document == {
        A: {"name": "Tea", "session_key": KEY + "1", "platform_secret": KEY + "3"},
        B: {"name": "Noodles", "session_key": KEY + "2", "platform_secret": KEY + "4"},
    }


@pytest.mark.parametrize(
    ("session_keys", "platform_secrets", "message"),
    [
        ([KEY], [KEY, KEY], "keys for 2 tenants: got 1 session keys and 2 platform secrets"),
        ([KEY, "short"], [KEY, KEY], "a tenant key is 5 characters; make each 64 or more"),
    ],
)
def test_keys_that_do_not_fit_the_tenants_are_refused_without_echoing_them(
    session_keys: list[str], platform_secrets: list[str], message: str
) -> None:
    tenants = tenancy.load([{"appid": A, "name": "Tea"}, {"appid": B, "name": "Noodles"}])
    with pytest.raises(tenancy.TenancyError) as err:
        tenancy.keys_document(tenants, session_keys, platform_secrets)
    assert message in str(err.value)
    assert KEY not in str(err.value)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ([], "services_tenants[0].config: []; write a mapping of rate_limit_rps"),
        ({"rate_limit_rps": 0}, "services_tenants[0].config.rate_limit_rps: 0; give a number above 0"),
        ({"rate_limit_rps": True}, "services_tenants[0].config.rate_limit_rps: True; give a number"),
        ({"rate_burst": 1.5}, "services_tenants[0].config.rate_burst: 1.5; give a whole number"),
        ({"features": {"bingo": False}}, "services_tenants[0].config.features: {'bingo': False}; switch features"),
        ({"features": {"seckill": "no"}}, "services_tenants[0].config.features: {'seckill': 'no'}; switch features"),
        ({"fallback_page": "cdn/page"}, "services_tenants[0].config.fallback_page: 'cdn/page'; give the page's"),
        ({"notice_template": "Call {phone}"}, "services_tenants[0].config.notice_template: names ['phone']"),
        ({"notice_template": "Order {"}, "services_tenants[0].config.notice_template: not a template"),
        ({"rate": 5}, "services_tenants[0].config.rate: not a tenant setting; use rate_limit_rps"),
    ],
)
def test_a_bad_tenant_config_is_refused_naming_the_field(config: object, message: str) -> None:
    with pytest.raises(tenancy.TenancyError) as err:
        tenancy.load([{"appid": A, "name": "Tea", "config": config}])
    assert message in str(err.value)


def test_only_tenants_with_a_config_get_a_document_in_the_config_centre() -> None:
    config = {"rate_limit_rps": 50, "features": {"seckill": False}, "notice_template": "{merchant}: {order_id}"}
    tenants = tenancy.load([{"appid": A, "name": "Tea", "config": config}, {"appid": B, "name": "Noodles"}])
    documents = tenancy.config_documents(tenants)
    assert list(documents) == [f"/config/{A}/app.yaml"]
    assert json.loads(documents[f"/config/{A}/app.yaml"]) == config
