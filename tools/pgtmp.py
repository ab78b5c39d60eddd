"""A throwaway PostgreSQL cluster on loopback, for the service tests and benchmarks.

Uses Debian's postgresql-15 server binaries (make bootstrap installs them). PostgreSQL refuses to run as
root, so as root the cluster runs as the `postgres` user the package creates.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy.engine import make_url


def free_port() -> int:
    with contextlib.closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _bindir() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found:
        raise FileNotFoundError("PostgreSQL server binaries not found under /usr/lib/postgresql: run `make bootstrap`")
    return found[-1].parent


@contextlib.contextmanager
def postgres(database: str = "services", max_connections: int = 300) -> Iterator[str]:
    """Start a cluster with one database; yield its postgresql+asyncpg URL (its owner, not a superuser); stop and
    delete it after."""
    # Not under a private tmp dir: the server may run as `postgres` and must reach its data directory.
    root = Path(tempfile.mkdtemp(prefix="miniapp-pg-"))
    bindir, data, port = _bindir(), root / "data", free_port()
    as_user: list[str] = []
    if os.geteuid() == 0:
        pg = pwd.getpwnam("postgres")
        shutil.chown(root, pg.pw_uid, pg.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]

    def run(*args: str) -> None:
        subprocess.run([*as_user, *args], check=True, capture_output=True, text=True)  # noqa: S603  # our own binaries

    try:
        run(f"{bindir}/initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        opts = f"-c listen_addresses=127.0.0.1 -p {port} -k {data} -c fsync=off -c max_connections={max_connections}"
        run(f"{bindir}/pg_ctl", "-D", str(data), "-o", opts, "-w", "-l", str(data / "server.log"), "start")
        run(
            f"{bindir}/psql",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-qc",
            # As at a site (roles/postgresql): the services log in as a role held by row-level security, never as
            # a superuser, which no policy holds. Here one role owns the database and so makes its own schemas.
            "CREATE ROLE miniapp LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS",
            "-c",  # apart: CREATE DATABASE cannot share a statement's transaction
            f"CREATE DATABASE {database} OWNER miniapp",
        )
        yield f"postgresql+asyncpg://miniapp@127.0.0.1:{port}/{database}"
    finally:
        if (data / "postmaster.pid").exists():
            run(f"{bindir}/pg_ctl", "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(root)


def as_superuser(url: str) -> str:
    """The cluster's URL for its superuser (what a site's invariants and audits connect as), from postgres()'s."""
    return make_url(url).set(username="postgres").render_as_string(hide_password=False)
