"""The inventory-wide filter: failure lines, or nothing."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.miniapp.mesh.plugins.filter.preflight_inventory_findings import preflight_inventory_findings


def test_good_inventory_has_no_failures():
    assert preflight_inventory_findings({"e1": "e1", "e2": "e2", "e3": "e3"}, "etcd", ["e1", "e2", "e3"]) == []


def test_even_group_and_clashing_names_are_both_reported():
    lines = preflight_inventory_findings({"e1": "node", "e2": "node"}, "etcd", ["e1", "e2"])
    assert lines == [
        "inventory: unique_hostnames: node shared by e1, e2. Fix: give each host its own hostname"
        " (hostnamectl set-hostname) before installing",
        "inventory: etcd_members: group 'etcd' has 2 members (e1, e2)."
        " Fix: list an odd number of hosts (1, 3 or 5) in the inventory group 'etcd'",
    ]


@pytest.mark.parametrize(
    ("nodenames", "members"), [(["e1"], ["e1"]), ({"e1": "e1"}, "e1")], ids=["input-not-dict", "members-not-list"]
)
def test_bad_arguments_raise(nodenames, members):
    with pytest.raises(AnsibleFilterError, match="preflight_inventory_findings"):
        preflight_inventory_findings(nodenames, "etcd", members)
