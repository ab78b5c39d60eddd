# -*- coding: utf-8 -*-
# Copyright: miniapp-mesh contributors
# Apache-2.0 (see LICENSE)
"""A removed tenant's rows, kept and then deleted: moved into an archive schema of its own, or exported as CSV
files (PostgreSQL's COPY format, so COPY FROM restores them) with their checksums and a manifest.

Every base table of the services' schemas with a tenant column is taken (kit/isolation.py gives every business
table one). The caller reads them in one REPEATABLE READ transaction and commits once: the copy and the deletes
see the same snapshot, so a row is either still where it was or kept and gone, and a row written by another
transaction meanwhile stays for the next run. Deletes go children first, as the foreign keys require. A rerun
finds nothing left and changes nothing. The caller is a superuser, whom row-level security does not hold, so every
statement names the tenant itself."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Iterable, Protocol, Sequence

from ansible_collections.miniapp.mesh.plugins.module_utils.tenancy import APPID

TENANT_COLUMN = "tenant"
ARCHIVE_PREFIX = "archive_"
MANIFEST, SUMS = "manifest.json", "SHA256SUMS"

_TABLES = """
SELECT c.table_schema, c.table_name FROM information_schema.columns c
JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
WHERE c.column_name = %s AND t.table_type = 'BASE TABLE' AND c.table_schema = ANY(%s)
"""
_REFERENCES = """
SELECT cn.nspname, cl.relname, pn.nspname, pl.relname FROM pg_constraint k
JOIN pg_class cl ON cl.oid = k.conrelid JOIN pg_namespace cn ON cn.oid = cl.relnamespace
JOIN pg_class pl ON pl.oid = k.confrelid JOIN pg_namespace pn ON pn.oid = pl.relnamespace
WHERE k.contype = 'f' AND cn.nspname = ANY(%s)
"""
_COLUMNS = """
SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position
"""


class TenantDataError(ValueError):
    """A request that cannot be carried out; the message names the field and the fix."""


class Cursor(Protocol):
    """What is used of a DB-API cursor (psycopg2's, with its COPY)."""

    rowcount: int

    def execute(self, sql: str, params: Sequence[Any] = ...) -> Any: ...

    def fetchall(self) -> list[tuple[Any, ...]]: ...

    def copy_expert(self, sql: str, file: IO[bytes]) -> Any: ...


@dataclass(frozen=True, order=True)
class Table:
    schema: str
    name: str

    @property
    def sql(self) -> str:
        return f"{ident(self.schema)}.{ident(self.name)}"

    @property
    def label(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass(frozen=True)
class Kept:
    """Where the rows went (the archive schema or the export's directory), rows per table, and the files written
    with their SHA-256 (an export's)."""

    location: str
    rows: dict[str, int]
    files: tuple[tuple[str, str], ...] = ()


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def checked_appid(appid: object) -> str:
    if not isinstance(appid, str) or not APPID.match(appid):
        raise TenantDataError(f"appid: {appid!r} is not a mini-program appid (wx and 16 hex digits)")
    return appid


def archive_schema(appid: str) -> str:
    return ARCHIVE_PREFIX + checked_appid(appid)


def deletion_order(tables: Iterable[Table], references: Iterable[tuple[Table, Table]]) -> tuple[Table, ...]:
    """The tables, each one that references another (child, parent) before it; otherwise by name."""
    remaining = set(tables)
    parents = {t: {p for c, p in references if c == t and p in remaining and p != t} for t in remaining}
    ordered: list[Table] = []
    while remaining:
        # A table goes once no table still to go references it.
        free = sorted(t for t in remaining if not any(t in parents[o] for o in remaining if o != t))
        if not free:
            raise TenantDataError(f"the foreign keys among {sorted(x.label for x in remaining)} form a cycle")
        ordered += free
        remaining -= set(free)
    return tuple(ordered)


def tenant_tables(cursor: Cursor, schemas: Sequence[str]) -> tuple[Table, ...]:
    """Every base table of these schemas with a tenant column, in deletion order."""
    cursor.execute(_TABLES, (TENANT_COLUMN, list(schemas)))
    tables = [Table(s, n) for s, n in cursor.fetchall()]
    cursor.execute(_REFERENCES, (list(schemas),))
    references = [(Table(a, b), Table(c, d)) for a, b, c, d in cursor.fetchall()]
    return deletion_order(tables, references)


def counts(cursor: Cursor, tables: Sequence[Table], appid: str) -> dict[str, int]:
    """The tenant's rows per table (by schema.table)."""
    found = {}
    for table in tables:
        cursor.execute(f"SELECT count(*) FROM {table.sql} WHERE {TENANT_COLUMN} = %s", (appid,))  # noqa: S608
        found[table.label] = int(cursor.fetchall()[0][0])
    return found


def delete(cursor: Cursor, tables: Sequence[Table], appid: str) -> None:
    for table in tables:
        cursor.execute(f"DELETE FROM {table.sql} WHERE {TENANT_COLUMN} = %s", (appid,))  # noqa: S608


def archive(cursor: Cursor, tables: Sequence[Table], appid: str, when: str) -> Kept:
    """Copy the tenant's rows into archive_<appid>.<schema>__<table> (made like the table, with its checks and
    indexes, but no foreign keys or defaults, and no grant to anyone), then delete them."""
    schema, rows = archive_schema(appid), {}
    cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {ident(schema)}")
    for table in tables:
        target = f"{ident(schema)}.{ident(table.schema + '__' + table.name)}"
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {target} (LIKE {table.sql} INCLUDING CONSTRAINTS INCLUDING INDEXES)"
        )
        cursor.execute(_COLUMNS, (table.schema, table.name))
        columns = ", ".join(ident(c) for (c,) in cursor.fetchall())
        cursor.execute(
            f"INSERT INTO {target} ({columns}) SELECT {columns} FROM {table.sql} WHERE {TENANT_COLUMN} = %s",  # noqa: S608
            (appid,),
        )
        rows[table.label] = cursor.rowcount
    delete(cursor, tables, appid)
    note = f"rows of tenant {appid}, removed from the services {when} (miniapp.mesh tenant_remove.yml)"
    cursor.execute(f"COMMENT ON SCHEMA {ident(schema)} IS %s", (note,))
    return Kept(schema, rows)


def export(cursor: Cursor, tables: Sequence[Table], appid: str, directory: Path, when: str) -> Kept:
    """Write the tenant's rows as <schema>.<table>.csv in a new directory (mode 0700, files 0600), then
    manifest.json and SHA256SUMS (sha256sum -c reads it), then delete them."""
    rows = counts(cursor, tables, appid)  # the snapshot COPY reads, so the manifest's counts are the files'
    directory.mkdir(mode=0o700, parents=True)
    files = []
    literal = "'" + checked_appid(appid) + "'"  # COPY takes no parameters; an appid is wx and hex digits only
    for table in tables:
        path = directory / f"{table.label}.csv"
        query = f"SELECT * FROM {table.sql} WHERE {TENANT_COLUMN} = {literal}"  # noqa: S608
        with _private(path) as out:
            cursor.copy_expert(f"COPY ({query}) TO STDOUT WITH (FORMAT csv, HEADER true)", out)
        files.append((path.name, _sha256(path)))
    manifest = {"appid": appid, "exported_at": when, "rows": rows, "files": dict(files)}
    with _private(directory / MANIFEST) as out:
        out.write(json.dumps(manifest, indent=2, sort_keys=True).encode())
    files.append((MANIFEST, _sha256(directory / MANIFEST)))
    with _private(directory / SUMS) as out:
        out.write("".join(f"{digest}  {name}\n" for name, digest in files).encode())
    files.append((SUMS, _sha256(directory / SUMS)))
    delete(cursor, tables, appid)
    return Kept(str(directory), rows, tuple((str(directory / n), d) for n, d in files))


def _private(path: Path) -> IO[bytes]:
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def earlier_export(root: Path, appid: str) -> str:
    """The newest export of this tenant under root, or ''."""
    found = sorted(p for p in root.glob(f"{checked_appid(appid)}-*") if (p / SUMS).is_file())
    return str(found[-1]) if found else ""
