"""Hosts of the etcd scenario by name, so one test can act on several members."""

import os

import pytest
import testinfra


@pytest.fixture(scope="module")
def members():
    inventory = os.environ["MOLECULE_INVENTORY_FILE"]
    return {
        name: testinfra.get_host(f"ansible://{name}", ansible_inventory=inventory)
        for name in ("mol-etcd1", "mol-etcd2", "mol-etcd3", "mol-etcd4")
    }


def etcdctl(host, *args):
    """Run etcdctl on a member with its own client certificate; return the command result."""
    return host.run("/usr/local/sbin/etcdctl-local " + " ".join(args))
