# -*- coding: utf-8 -*-
# Copyright: miniapp-mesh contributors
# Apache-2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: tenant_keys
short_description: The gateway's tenants file, from the tenants and the keys made for them
version_added: 0.1.0
description:
  - Checks C(services_tenants) and returns the JSON document the gateway reads (appid -> C(name), C(session_key),
    C(platform_secret)), from one session key and one platform secret per tenant in the list's order. Keys are
    never echoed in its errors.
options:
  _input:
    description: The inventory's C(services_tenants).
    type: list
    elements: dict
    required: true
  session_keys:
    description: One session key per tenant (64 characters or more), in order.
    type: list
    elements: str
    required: true
  platform_secrets:
    description: One simulated code2session secret per tenant (64 characters or more), in order.
    type: list
    elements: str
    required: true
"""

EXAMPLES = r"""
document: "{{ services_tenants | miniapp.mesh.tenant_keys(session_keys, platform_secrets) }}"
"""

RETURN = r"""
_value:
  description: The document as JSON text.
  type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.miniapp.mesh.plugins.module_utils import tenancy


def tenant_keys(raw, session_keys, platform_secrets):
    try:
        return tenancy.keys_document(tenancy.load(raw), list(session_keys), list(platform_secrets))
    except tenancy.TenancyError as err:
        raise AnsibleFilterError(str(err)) from err


class FilterModule(object):
    def filters(self):
        return {"tenant_keys": tenant_keys}
