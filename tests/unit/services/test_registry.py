"""The service list is kept once (kit.settings.SERVICES); every one has a spec and the import contracts follow it."""

from pathlib import Path

import pytest
import yaml

from miniapp_services.kit.settings import SERVICES
from miniapp_services.registry import spec_for
from tools import import_contracts


@pytest.mark.parametrize("service", SERVICES)
def test_each_implemented_service_has_a_spec_of_its_name(service: str) -> None:
    spec = spec_for(service)
    assert spec.name == service
    assert spec.metadata.schema == service
    assert any(spec.migrations.glob("0001_*.py"))


def test_unknown_service_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="unknown service 'billing'"):
        spec_for("billing")


def test_import_contracts_are_made_from_the_service_list() -> None:
    """A service added to SERVICES is layered, kept pure and independent without being listed again; the INI
    make lint hands to lint-imports carries every one of them."""
    contracts = import_contracts.contracts(("alpha", "beta"))
    assert (
        contracts["layers"]["containers"]
        == contracts["independent"]["modules"]
        == [
            "miniapp_services.alpha",
            "miniapp_services.beta",
        ]
    )
    assert "miniapp_services.beta.application" in contracts["pure"]["source_modules"]
    text = import_contracts.ini(import_contracts.contracts())
    assert all(f"    miniapp_services.{s}\n" in text for s in SERVICES)
    assert "[importlinter:contract:kit]" in text


def test_catalog_calls_are_what_each_service_calls() -> None:
    """The mesh opens exactly the paths the code uses: the catalog's calls equal each spec's dependencies."""
    catalog = yaml.safe_load(
        (Path(__file__).parents[3] / "inventories/lab/group_vars/all/services_catalog.yml").read_text()
    )
    services = catalog["services_catalog"]["services"]
    assert set(services) == set(SERVICES)
    for name in SERVICES:
        spec = spec_for(name)
        assert set(services[name].get("calls", [])) == set(spec.requires + spec.degrades_without + spec.upstreams), name
