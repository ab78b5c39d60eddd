"""The service list is kept once (kit.settings.SERVICES); every one has a spec and the import contracts follow it."""

import tomllib
from pathlib import Path

import pytest
import yaml

from miniapp_services.kit.settings import SERVICES
from miniapp_services.registry import spec_for

CONTRACTS = tomllib.loads((Path(__file__).parents[3] / "pyproject.toml").read_text())["tool"]["importlinter"][
    "contracts"
]


@pytest.mark.parametrize("service", SERVICES)
def test_each_implemented_service_has_a_spec_of_its_name(service: str) -> None:
    spec = spec_for(service)
    assert spec.name == service
    assert spec.metadata.schema == service
    assert any(spec.migrations.glob("0001_*.py"))


def test_unknown_service_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="unknown service 'billing'"):
        spec_for("billing")


def test_import_contracts_cover_every_implemented_service() -> None:
    layered = next(c for c in CONTRACTS if c["type"] == "layers")
    independent = next(c for c in CONTRACTS if c["type"] == "independence")
    expected = sorted(f"miniapp_services.{s}" for s in SERVICES)
    assert sorted(layered["containers"]) == sorted(independent["modules"]) == expected
    pure = next(c for c in CONTRACTS if c["type"] == "forbidden" and "fastapi" in c["forbidden_modules"])
    assert sorted(pure["source_modules"]) == sorted(
        f"{s}.{layer}" for s in expected for layer in ("application", "domain")
    )


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
