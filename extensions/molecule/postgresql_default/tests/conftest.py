"""Hosts of the database scenario by name, and the per-install passwords the role kept on the controller."""

import json
import os
from pathlib import Path

import pytest
import testinfra

MEMBERS = ("mol-pg1", "mol-pg2")


@pytest.fixture(scope="module")
def hosts():
    inventory = os.environ["MOLECULE_INVENTORY_FILE"]
    return {
        name: testinfra.get_host(f"ansible://{name}", ansible_inventory=inventory) for name in ("mol-pg-etcd", *MEMBERS)
    }


@pytest.fixture(scope="module")
def secrets():
    return Path(os.environ["MOLECULE_INVENTORY_FILE"]).parent / ".secrets"


def password(secrets: Path, name: str) -> str:
    # The password lookup keeps the password alone on the file's first line.
    return (secrets / name).read_text().split()[0]


def members(host) -> dict[str, dict]:
    """Patroni's view of the cluster, member name -> {role, state, host, ...}."""
    listed = host.check_output("patronictl -c /etc/patroni/config.yml list --format json")
    return {m["Member"]: m for m in json.loads(listed)}


def leader(hosts) -> str:
    (name,) = [n for n, m in members(hosts["mol-pg1"]).items() if m["Role"] == "Leader"]
    return name


def psql(host, dsn: str, sql: str, password_: str):
    """Run one statement with psql from host as a network client; return the command result."""
    return host.run(f"PGPASSWORD={password_} PGCONNECT_TIMEOUT=5 psql '{dsn}' -v ON_ERROR_STOP=1 -tAc \"{sql}\"")
