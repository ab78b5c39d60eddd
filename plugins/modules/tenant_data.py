#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: miniapp-mesh contributors
# Apache-2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: tenant_data
short_description: Keep a removed tenant's rows in an archive schema or an export, then delete them
description:
  - Finds every base table of O(schemas) with a C(tenant) column and the tenant's rows in each. With
    O(keep=archive) it copies them into the schema C(archive_<appid>) (one table C(<schema>__<table>) per table,
    made like it, granted to no one); with O(keep=export) it writes them as C(<schema>.<table>.csv) (COPY's CSV
    with a header) into a new directory C(<export_dir>/<appid>-<UTC time>) with C(manifest.json) and
    C(SHA256SUMS). Then it deletes them, children before parents, in the same REPEATABLE READ transaction.
  - A rerun finds no rows and changes nothing; it reports where the tenant's rows were kept before. Check mode
    reports the rows it would move.
  - Connects as a superuser (row-level security does not hold one), like community.postgresql's modules; needs
    psycopg2 on the host (Patroni's dependency on a member of the postgresql role).
version_added: 0.4.0
options:
  appid:
    description: The tenant (a merchant's mini-program appid, C(wx) and 16 hex digits).
    type: str
    required: true
  keep:
    description: Where the rows go before they are deleted.
    type: str
    required: true
    choices: [archive, export]
  schemas:
    description: The schemas to search (the services' own, one per service).
    type: list
    elements: str
    required: true
  export_dir:
    description: Where O(keep=export) makes its directory, on the host the module runs on.
    type: path
    default: /var/lib/miniapp/tenant-exports
  login_host:
    description: The server's address.
    type: str
    default: 127.0.0.1
  login_port:
    description: The server's port.
    type: int
    default: 5432
  login_user:
    description: A superuser.
    type: str
    default: postgres
  login_password:
    description: Its password.
    type: str
    default: ""
  login_db:
    description: The services' database.
    type: str
    required: true
  ssl_mode:
    description: libpq's sslmode.
    type: str
    default: verify-full
  ca_cert:
    description: The CA the server's certificate is checked against.
    type: path
author:
  - miniapp-mesh contributors
"""

EXAMPLES = r"""
- name: Archive a removed merchant's rows, then delete them
  miniapp.mesh.tenant_data:
    appid: wx1f9d9f1d49d0f12b
    keep: archive
    schemas: [gateway, user, order, pay]
    login_password: "{{ superuser_password }}"
    login_db: miniapp
    ca_cert: /etc/postgresql/pki/ca.crt
"""

RETURN = r"""
location:
  description: The archive schema, or the export's directory on the host; on a rerun, where an earlier run kept them
    ('' when none did).
  returned: always
  type: str
rows:
  description: The tenant's rows per table (schema.table), moved or, in check mode and on a rerun, found.
  returned: always
  type: dict
files:
  description: The export's files, each with its SHA-256.
  returned: always
  type: list
  elements: dict
"""

import datetime
import traceback
from pathlib import Path

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.miniapp.mesh.plugins.module_utils import tenant_data

try:
    import psycopg2
    import psycopg2.extensions
except ImportError:
    psycopg2 = None
    _IMPORT_ERROR = traceback.format_exc()

SPEC = {
    "appid": {"type": "str", "required": True},
    "keep": {"type": "str", "required": True, "choices": ["archive", "export"]},
    "schemas": {"type": "list", "elements": "str", "required": True},
    "export_dir": {"type": "path", "default": "/var/lib/miniapp/tenant-exports"},
    "login_host": {"type": "str", "default": "127.0.0.1"},
    "login_port": {"type": "int", "default": 5432},
    "login_user": {"type": "str", "default": "postgres"},
    "login_password": {"type": "str", "default": "", "no_log": True},
    "login_db": {"type": "str", "required": True},
    "ssl_mode": {"type": "str", "default": "verify-full"},
    "ca_cert": {"type": "path"},
}


def connect(params):
    connection = psycopg2.connect(
        host=params["login_host"],
        port=params["login_port"],
        user=params["login_user"],
        password=params["login_password"],
        dbname=params["login_db"],
        sslmode=params["ssl_mode"],
        sslrootcert=params["ca_cert"],
        application_name="miniapp.mesh.tenant_data",
    )
    connection.set_session(isolation_level=psycopg2.extensions.ISOLATION_LEVEL_REPEATABLE_READ)
    return connection


def earlier(cursor, params):
    """Where an earlier run kept this tenant's rows."""
    if params["keep"] == "export":
        return tenant_data.earlier_export(Path(params["export_dir"]), params["appid"])
    schema = tenant_data.archive_schema(params["appid"])
    cursor.execute("SELECT count(*) FROM pg_namespace WHERE nspname = %s", (schema,))
    return schema if cursor.fetchall()[0][0] else ""


def keep(cursor, params, tables):
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    appid = params["appid"]
    if params["keep"] == "archive":
        return tenant_data.archive(cursor, tables, appid, when)
    directory = Path(params["export_dir"]) / ("%s-%s" % (appid, when))
    return tenant_data.export(cursor, tables, appid, directory, when)


def main():
    module = AnsibleModule(argument_spec=SPEC, supports_check_mode=True)
    if psycopg2 is None:
        module.fail_json(msg=missing_required_lib("psycopg2"), exception=_IMPORT_ERROR)
    params = module.params
    try:
        tenant_data.checked_appid(params["appid"])
        connection = connect(params)
    except (tenant_data.TenantDataError, psycopg2.Error) as err:
        module.fail_json(msg=str(err).strip())
    try:
        with connection.cursor() as cursor:
            tables = tenant_data.tenant_tables(cursor, params["schemas"])
            found = tenant_data.counts(cursor, tables, params["appid"])
            if not any(found.values()) or module.check_mode:
                location = earlier(cursor, params)
                connection.rollback()
                module.exit_json(changed=any(found.values()), location=location, rows=found, files=[])
            kept = keep(cursor, params, tables)
        connection.commit()
    except (tenant_data.TenantDataError, psycopg2.Error, OSError) as err:
        connection.rollback()
        module.fail_json(msg="%s's rows were not moved: %s" % (params["appid"], str(err).strip()))
    finally:
        connection.close()
    files = [{"path": path, "sha256": digest} for path, digest in kept.files]
    module.exit_json(changed=True, location=kept.location, rows=kept.rows, files=files)


if __name__ == "__main__":
    main()
