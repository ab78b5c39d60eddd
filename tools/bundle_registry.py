"""Public container images in the bundle: pinned in the table by their registry digest (``sha256`` holds
it, trust on first use by ``bundle.py lock``) and copied by that digest into OCI archives with skopeo, so
what is fetched is exactly what was locked. The archive's own checksum goes into the signed manifest.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

PREFIX = "image:"
# Plain-HTTP registries are accepted only on loopback (a test registry); every other one needs TLS.
LOOPBACK = ("127.0.0.1", "localhost", "[::1]")


class ImageError(RuntimeError):
    """An image that cannot be resolved or fetched; the message names it and what to do."""


def is_image(entry: dict[str, Any]) -> bool:
    return str(entry["source"]).startswith(PREFIX)


def reference(entry: dict[str, Any]) -> str:
    return str(entry["source"]).removeprefix(PREFIX)


def _repository(ref: str) -> str:
    """registry/path/name without its tag."""
    head, _, tail = ref.rpartition("/")
    return f"{head}/{tail.split(':', 1)[0]}"


def _tls(ref: str, flag: str) -> list[str]:
    return [f"{flag}=false"] if ref.split("/", 1)[0].rsplit(":", 1)[0] in LOOPBACK else []


def _skopeo(*args: str, what: str) -> str:
    done = subprocess.run(["skopeo", *args], capture_output=True, text=True)  # noqa: S603, S607
    if done.returncode != 0:
        raise ImageError(f"{what}: {done.stderr.strip()[-600:]}")
    return done.stdout.strip()


def resolve_digest(entry: dict[str, Any]) -> str:
    """The hex digest the tag points at now (connected machine, `bundle.py lock`)."""
    ref = reference(entry)
    digest = _skopeo(
        "inspect", *_tls(ref, "--tls-verify"), "--format", "{{.Digest}}", f"docker://{ref}", what=entry["file"]
    )
    return digest.removeprefix("sha256:")


def fetch(entry: dict[str, Any], out_dir: Path) -> Path:
    """Copy the image pinned by the table's digest into out_dir/file as an OCI archive (tagged as its
    source), unless an archive of that digest is there already."""
    ref, target = reference(entry), out_dir / str(entry["file"])
    pinned = f"{_repository(ref)}@sha256:{entry['sha256']}"
    marker = out_dir / f".{entry['file']}.digest"
    if target.exists() and marker.exists() and marker.read_text() == entry["sha256"]:
        return target
    target.unlink(missing_ok=True)
    arch = ["--override-arch", entry["arch"]] if entry.get("arch") else []
    _skopeo(
        "copy", "--quiet", *arch, *_tls(ref, "--src-tls-verify"), f"docker://{pinned}", f"oci-archive:{target}:{ref}",
        what=f"{entry['file']} ({pinned}); check the digest in the table or run `bundle.py lock` on a connected machine",
    )  # fmt: skip
    marker.write_text(entry["sha256"])
    return target
