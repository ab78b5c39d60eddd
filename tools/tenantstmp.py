"""A gateway tenants file for services run outside an install (tests, benchmarks): fresh keys per tenant, in the
format roles/services writes (gateway/tenants.py reads it)."""

from __future__ import annotations

import contextlib
import secrets
import tempfile
from collections.abc import Iterator
from pathlib import Path

from ansible_collections.miniapp.mesh.plugins.module_utils import tenancy

# The mini-program the benchmarks log in to.
BENCH_TENANT = "wx0000000000000be1"


def keys_text(*appids: str) -> str:
    """The document roles/services writes (tenancy.keys_document, its one writer), with fresh keys."""
    tenants = tenancy.load([{"appid": a, "name": a} for a in appids])
    session_keys = [secrets.token_hex(32) for _ in appids]
    platform_secrets = [secrets.token_hex(32) for _ in appids]
    return tenancy.keys_document(tenants, session_keys, platform_secrets)


@contextlib.contextmanager
def tenants_file(*appids: str) -> Iterator[Path]:
    """The file, readable by the services image's user, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="miniapp-tenants-") as directory:
        path = Path(directory) / "tenants.json"
        path.write_text(keys_text(*appids))
        Path(directory).chmod(0o755)
        path.chmod(0o644)
        yield path
