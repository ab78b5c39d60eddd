# -*- coding: utf-8 -*-
# Copyright: miniapp-mesh contributors
# Apache-2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: istio_objects
short_description: The Istio control plane's objects the istio role owns, checked by the strict Istio models
version_added: 0.1.0
description:
  - Renders the IstioOperator (minimal profile, istio-cni, telemetry stripped, private hub, revision), the mesh-wide
    STRICT PeerAuthentication and the meshed namespaces' revision label; see plugins/module_utils/cluster_render.py.
  - The same file provides C(ingress_objects) (the NGINX Ingress Controller in the mesh) and C(istio_model_problems)
    (plugins/module_utils/istio_models.py over any list of objects).
options:
  _input:
    description: Settings (version, revision, hub, namespace, cni_namespace, cni_bin_dir, cni_conf_dir, injection_namespaces).
    type: dict
    required: true
"""

EXAMPLES = r"""
objects: "{{ settings | miniapp.mesh.istio_objects }}"
"""

RETURN = r"""
_value:
  description: Kubernetes objects; the filter fails naming every field the Istio models refuse.
  type: list
  elements: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.miniapp.mesh.plugins.module_utils import cluster_render, istio_models


def _checked(objects):
    refused = istio_models.validate(objects)
    if refused:
        raise AnsibleFilterError("Istio objects refused by the models: " + "; ".join(refused))
    return objects


def istio_objects(settings):
    try:
        return _checked(cluster_render.istio_objects(dict(settings)))
    except KeyError as err:
        raise AnsibleFilterError("istio_objects: missing setting %s" % err) from err


def ingress_objects(settings):
    try:
        return _checked(cluster_render.ingress_objects(dict(settings)))
    except KeyError as err:
        raise AnsibleFilterError("ingress_objects: missing setting %s" % err) from err


def istio_model_problems(objects):
    return istio_models.validate(list(objects))


class FilterModule(object):
    def filters(self):
        return {
            "istio_objects": istio_objects,
            "ingress_objects": ingress_objects,
            "istio_model_problems": istio_model_problems,
        }
