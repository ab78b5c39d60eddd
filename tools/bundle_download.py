"""Download one artifact with a progress bar, verified before it is kept."""

import hashlib
import http.client
import sys
import urllib.request
from pathlib import Path

CHUNK = 1 << 16


class DownloadError(Exception):
    """A download that did not produce the expected file."""


def progress(name: str, done: int, total: int | None) -> None:
    if total:
        filled = int(30 * done / total)
        sys.stderr.write(f"\r{name} [{'#' * filled}{'.' * (30 - filled)}] {done * 100 // total:3d}% {done >> 20} MiB")
    else:
        sys.stderr.write(f"\r{name} {done >> 20} MiB")
    sys.stderr.flush()


def download(url: str, dest: Path, expected_sha256: str | None, timeout: float = 60) -> Path:
    """Fetch url into dest through dest.part; keep it only if complete and, when given, matching the sha256.

    Raises:
        DownloadError: naming the file, on an interrupted transfer or a checksum mismatch.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    digest, done = hashlib.sha256(), 0
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, part.open("wb") as out:  # noqa: S310 - https or test loopback only
            total = int(response.headers.get("Content-Length") or 0) or None
            while block := response.read(CHUNK):
                out.write(block)
                digest.update(block)
                done += len(block)
                progress(dest.name, done, total)
        sys.stderr.write("\n")
        if total is not None and done != total:
            raise DownloadError(
                f"{dest.name}: transfer interrupted at {done} of {total} bytes from {url}; run the command again"
            )
    except (OSError, ValueError, http.client.HTTPException) as exc:
        part.unlink(missing_ok=True)
        raise DownloadError(f"{dest.name}: download from {url} failed ({exc}); run the command again") from exc
    except DownloadError:
        part.unlink(missing_ok=True)
        raise
    if expected_sha256 is not None and digest.hexdigest() != expected_sha256:
        part.unlink()
        raise DownloadError(
            f"{dest.name}: sha256 {digest.hexdigest()} from {url} does not match the table's {expected_sha256}"
        )
    part.replace(dest)
    return dest
