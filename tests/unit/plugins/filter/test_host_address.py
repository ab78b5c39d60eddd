"""A host's address as its peers reach it: default route first, else its first IPv4 address, else a clear error."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.miniapp.mesh.plugins.filter.host_address import host_address


def test_the_default_routes_address_wins():
    facts = {"default_ipv4": {"address": "10.20.0.11"}, "all_ipv4_addresses": ["10.89.0.5", "10.20.0.11"]}
    assert host_address(facts) == "10.20.0.11"


def test_a_host_without_a_default_route_gives_its_first_address():
    # What an internal podman network (the lab's, an air-gapped site's) gives: no default route at all.
    assert host_address({"default_ipv4": {}, "all_ipv4_addresses": ["10.89.7.10"]}) == "10.89.7.10"


def test_facts_without_an_address_name_the_host_and_the_fix():
    with pytest.raises(
        AnsibleFilterError, match=r"host_address: host etcd-1 has no IPv4 address.*gather_subset network"
    ):
        host_address({"nodename": "etcd-1", "default_ipv4": {}, "all_ipv4_addresses": []})


def test_input_that_is_not_facts_is_refused():
    with pytest.raises(AnsibleFilterError, match="host_address: input must be a host's ansible_facts"):
        host_address(["10.0.0.1"])
