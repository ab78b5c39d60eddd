# -*- coding: utf-8 -*-
# Copyright: miniapp-mesh contributors
# Apache-2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: tenant_config_documents
short_description: The config centre's documents, one per tenant with a configuration
version_added: 0.3.0
description:
  - Checks C(services_tenants) and returns key -> document for every tenant with a C(config),
    C(/config/<appid>/app.yaml), holding its rate limit, feature switches, fallback page and notice template (the
    gateway reads them; a tenant without one runs on its defaults). A field that does not validate fails the
    run, naming the tenant's entry and the field.
options:
  _input:
    description: The inventory's C(services_tenants).
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
documents: "{{ services_tenants | miniapp.mesh.tenant_config_documents }}"
"""

RETURN = r"""
_value:
  description: Key -> the document's text (JSON, which is YAML).
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.miniapp.mesh.plugins.module_utils import tenancy


def tenant_config_documents(raw):
    try:
        return tenancy.config_documents(tenancy.load(raw))
    except tenancy.TenancyError as err:
        raise AnsibleFilterError(str(err)) from err


class FilterModule(object):
    def filters(self):
        return {"tenant_config_documents": tenant_config_documents}
