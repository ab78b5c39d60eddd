"""The lab's reading of the services' database Secrets (lab/mesh/plan.py)."""

import pytest

from lab.mesh import objects, plan

URL = "postgresql+asyncpg://{user}:pw@pg1:5432,pg2:5432/miniapp?target_session_attrs=read-write&sslmode=verify-full"


def secret(name: str, url: str) -> dict:
    return {"metadata": {"namespace": "trade", "name": f"{name}-db"}, "stringData": {"url": url, "ca.crt": "x"}}


def test_the_database_and_its_hosts_come_from_the_multi_host_urls() -> None:
    secrets = [secret(s, URL.format(user=s)) for s in ("order", "pay")] + [{"metadata": {}, "stringData": {}}]
    assert plan.database_of(secrets) == ("miniapp", ("pg1", "pg2"))


def test_urls_naming_two_databases_are_refused() -> None:
    other = URL.format(user="pay").replace("/miniapp?", "/other?")
    with pytest.raises(ValueError, match="name 2 databases"):
        plan.database_of([secret("order", URL.format(user="order")), secret("pay", other)])


def test_database_hosts_resolve_to_their_addresses() -> None:
    entries = plan.host_entries(objects.index([]), {"pg1": "10.89.6.3", "pg2": "10.89.6.4"})
    assert entries == ["pg1:10.89.6.3", "pg2:10.89.6.4"]


def test_the_config_centre_hosts_come_from_the_gateways_secret() -> None:
    centre = {
        "metadata": {"namespace": "miniapp", "name": "gateway-config-centre"},
        "stringData": {"endpoints": '["https://etcd1:2379", "https://etcd2:2379"]'},
    }
    assert plan.config_centre_hosts([secret("order", URL.format(user="order")), centre]) == ("etcd1", "etcd2")
    assert plan.config_centre_hosts([secret("order", URL.format(user="order"))]) == ()
