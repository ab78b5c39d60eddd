"""Container images this repository builds, saved into the bundle as OCI archives.

Their checksum cannot be locked in the table ahead of time (it changes with every source change): the
table says ``sha256: built`` and the bundle's signed manifest records the checksum of the archive saved.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BUILT = "built"
# source "build:<script>": the script builds the image and prints its reference with --tag-only.
PREFIX = "build:"


def is_built(entry: dict[str, Any]) -> bool:
    return str(entry["source"]).startswith(PREFIX)


def save(entry: dict[str, Any], out_dir: Path) -> Path:
    """Build the image if its recipe changed, then save it as an OCI archive named by the table."""
    script = ROOT / entry["source"].removeprefix(PREFIX)
    subprocess.run([script], check=True, stdout=subprocess.DEVNULL)  # noqa: S603  # our own build script
    ref = subprocess.run([script, "--tag-only"], check=True, capture_output=True, text=True).stdout.strip()  # noqa: S603
    target, saved_ref = out_dir / str(entry["file"]), out_dir / f".{entry['file']}.ref"
    # The archive is not byte-reproducible, so an unchanged image is not saved again.
    if target.exists() and saved_ref.exists() and saved_ref.read_text() == ref:
        return target
    target.unlink(missing_ok=True)
    subprocess.run(["podman", "save", "--quiet", "--format", "oci-archive", "-o", target, ref], check=True)  # noqa: S603, S607
    saved_ref.write_text(ref)
    return target
