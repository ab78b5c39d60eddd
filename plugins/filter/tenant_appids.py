# -*- coding: utf-8 -*-
# Copyright: miniapp-mesh contributors
# Apache-2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: tenant_appids
short_description: The appids of the merchants' mini-programs an installation serves, checked
version_added: 0.1.0
description:
  - Checks C(services_tenants) (a list of C(appid), C(name)) and returns the appids in order; a bad entry fails
    naming its index, field and fix.
options:
  _input:
    description: The inventory's C(services_tenants).
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
appids: "{{ services_tenants | miniapp.mesh.tenant_appids }}"
"""

RETURN = r"""
_value:
  description: The appids, in the list's order.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.miniapp.mesh.plugins.module_utils import tenancy


def tenant_appids(raw):
    try:
        return [t.appid for t in tenancy.load(raw)]
    except tenancy.TenancyError as err:
        raise AnsibleFilterError(str(err)) from err


class FilterModule(object):
    def filters(self):
        return {"tenant_appids": tenant_appids}
