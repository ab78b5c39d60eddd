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
    ConfigMap, Deployment, AuthorizationPolicy and Sidecar (after the namespaces, a ServiceEntry per host group
    outside the cluster that a namespace's services reach), then per service ServiceAccount, Service,
    PodDisruptionBudget, a Deployment per version, DestinationRule, VirtualService, AuthorizationPolicy and Sidecar.
  - A catalog error fails with a message naming the field and the fix.
positional: image, store_image, revision, site
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
  site:
    description:
      - The hosts outside the cluster the pods reach, each C({hosts, port}), are C(database) (every service) and
        C(config_centre) (the site's etcd, for the gateway, which then reads its endpoints and client certificate from
        the Secret C(gateway-config-centre)). Each gets a ServiceEntry in its users' namespaces and a place in their
        Sidecar's egress, as REGISTRY_ONLY egress requires. Unset or without hosts, none.
      - C(traces_endpoint), the OTLP/HTTP traces URL every service exports its sampled spans to (its host, when a
        Service of the cluster, joins every service's Sidecar egress); empty, spans are not exported.
    type: dict
    default: {}
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

from ansible_collections.miniapp.mesh.plugins.module_utils import (
    cluster_render,
    mesh_catalog,
    mesh_render,
    mesh_tracing,
)


def _outside(site, name):
    """site[name] ({hosts, port}) as the renderer's Outside, None when the site has no such hosts."""
    found = (site or {}).get(name) or {}
    if not found.get("hosts"):
        return None
    try:
        return mesh_render.Outside(hosts=tuple(str(h) for h in found["hosts"]), port=int(found["port"]))
    except (KeyError, TypeError, ValueError):
        raise AnsibleFilterError(
            "mesh_objects: site.%s must be {hosts: [names], port: number}, got %r" % (name, found)
        ) from None


def mesh_objects(catalog, image, store_image, revision="", site=None):
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
            database=_outside(site, "database"),
            config_centre=_outside(site, "config_centre"),
            traces_endpoint=mesh_tracing.endpoint_checked(str((site or {}).get("traces_endpoint") or "")),
        )
        return mesh_render.render(mesh_catalog.load(catalog), options)
    except (mesh_catalog.CatalogError, mesh_tracing.TracingError) as err:
        raise AnsibleFilterError(str(err)) from err


class FilterModule(object):
    def filters(self):
        return {"mesh_objects": mesh_objects}
