#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: miniapp-mesh contributors
# Apache-2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: rendered_files
short_description: Write what a role rendered on the controller, many files in one task
description:
  - Writes each file under O(dest) only when its content differs (atomically, so a reader never sees half a file),
    creating the directories it needs, and sets its mode. One task for every file a role renders, where a copy task
    per file costs a module run each.
  - A file whose path matches a pattern of O(validate) is written only when that check accepts the new content.
  - Runs on the controller only (an action plugin); supports check mode and diff mode.
version_added: 0.2.0
options:
  dest:
    description: The directory the files go under.
    type: path
    required: true
  files:
    description: Path under O(dest) -> the file's content.
    type: dict
    required: true
  mode:
    description: The files' mode.
    type: str
    default: "0644"
  directory_mode:
    description: The mode of directories created for them.
    type: str
    default: "0755"
  validate:
    description:
      - Shell-style pattern of paths under O(dest) -> a command that checks the new content, C(%s) standing for a file
        holding it (as M(ansible.builtin.copy)'s C(validate)).
    type: dict
    default: {}
author:
  - miniapp-mesh contributors
"""

EXAMPLES = r"""
- name: Write Prometheus's configuration and rules, checked by promtool
  miniapp.mesh.rendered_files:
    dest: /srv/site/rendered/observability
    files:
      prometheus/prometheus.yml: "{{ prometheus_config | to_nice_yaml }}"
      prometheus/rules/miniapp.rules.yml: "{{ rules }}"
    validate:
      prometheus/prometheus.yml: promtool check config --syntax-only %s
      prometheus/rules/*: promtool check rules %s
  delegate_to: localhost
  run_once: true
"""

RETURN = r"""
files:
  description: The paths under O(dest) that were (or in check mode would be) written.
  returned: always
  type: list
  elements: str
"""
