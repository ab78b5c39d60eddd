# -*- coding: utf-8 -*-
# Copyright: miniapp-mesh contributors
# Apache-2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: mesh_objects
short_description: Kubernetes and Istio objects for the service catalog
version_added: 0.1.0
description:
  - Checks the service catalog (C(services_catalog)) and renders every object the services need, namespaces first
    (Namespace, ResourceQuota, LimitRange, PeerAuthentication STRICT), then per store ServiceAccount, Service,
    ConfigMap, Deployment, AuthorizationPolicy and Sidecar, then per service ServiceAccount, Service,
    PodDisruptionBudget, a Deployment per version, DestinationRule, VirtualService, AuthorizationPolicy and Sidecar.
  - A catalog error fails with a message naming the field and the fix.
positional: image, store_image, revision, config_centre
options:
  _input:
    description: The service catalog.
    type: dict
    required: true
  image:
    description: Reference of the services image (registry/repository:tag).
    type: str
    required: true
  store_image:
    description: Reference of the stores' Redis image (registry/repository:tag).
    type: str
    required: true
  revision:
    description: Istio revision the services' namespaces select (istio.io/rev); empty selects the default control plane.
    type: str
    default: ""
  config_centre:
    description:
      - Whether the site has a config centre (its etcd) for the tenants' configuration; the gateway then reads it
        with the endpoints and client certificate of the Secret C(gateway-config-centre).
    type: bool
    default: false
"""

EXAMPLES = r"""
objects: "{{ services_catalog | miniapp.mesh.mesh_objects('registry.local:5000/miniapp-services:0.1.0', 'registry.local:5000/miniapp-redis:7.0') }}"
"""

RETURN = r"""
_value:
  description: The objects, in the order to apply them.
  type: list
  elements: dict
"""

from ansible.errors import AnsibleFilterError
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.miniapp.mesh.plugins.module_utils import cluster_render, mesh_catalog, mesh_render


def mesh_objects(catalog, image, store_image, revision="", config_centre=False):
    if not isinstance(catalog, dict):
        raise AnsibleFilterError(
            "mesh_objects: services_catalog must be a mapping (see roles/services/meta/argument_specs.yml)"
        )
    try:
        labels = tuple(cluster_render.mesh_label(str(revision)).items())
        options = mesh_render.RenderOptions(
            image=str(image),
            store_image=str(store_image),
            injection_labels=labels,
            config_centre=boolean(config_centre),
        )
        return mesh_render.render(mesh_catalog.load(catalog), options)
    except mesh_catalog.CatalogError as err:
        raise AnsibleFilterError(str(err)) from err


class FilterModule(object):
    def filters(self):
        return {"mesh_objects": mesh_objects}
