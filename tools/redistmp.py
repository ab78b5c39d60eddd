"""A throwaway Redis on loopback (Debian's redis-server, which make bootstrap installs), for the gateway's
replay-guard tests: no persistence, a password, stopped and deleted after."""

from __future__ import annotations

import contextlib
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator

from tools.pgtmp import free_port


@contextlib.contextmanager
def redis() -> Iterator[str]:
    """Start redis-server; yield its redis:// URL (with the password); stop it after."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise FileNotFoundError("redis-server not found: run `make bootstrap` (Debian package redis-server)")
    password, port = secrets.token_hex(16), free_port()
    with tempfile.TemporaryDirectory(prefix="miniapp-redis-") as tmp:
        config = f'port {port}\nbind 127.0.0.1\nsave ""\nappendonly no\ndir {tmp}\nrequirepass {password}\n'
        conf = f"{tmp}/redis.conf"
        with open(conf, "w") as out:
            out.write(config)
        with subprocess.Popen([binary, conf], stdout=subprocess.DEVNULL) as server:  # noqa: S603  # our own config
            try:
                _wait(port, server)
                yield f"redis://:{password}@127.0.0.1:{port}/0"
            finally:
                server.terminate()
                server.wait(timeout=10)


def _wait(port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while True:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        if time.monotonic() > deadline or server.poll() is not None:
            raise RuntimeError("redis-server did not start")
        time.sleep(0.05)
