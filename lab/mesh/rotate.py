"""The lab's stand-in for the mesh CA's renewals (istio-agent asking istiod, or SPIRE's agent, at a site): every
sidecar's workload certificate is re-issued, for the same SPIFFE identity, once half its life has passed, and
written as the SDS files its Envoy reloads on their replacement, so no sidecar restarts and no connection drops.

    python3 -m lab.mesh.rotate PODS_DIR CA_DIR --every 60   # the lab's CA container: check every 60 s, for ever
    python3 -m lab.mesh.rotate PODS_DIR CA_DIR --force      # re-issue every certificate once, now (the tests)

Runs on the node image's Python (standard library and cryptography only).
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from lab.mesh import pki


def sidecars(pods_dir: Path) -> list[Path]:
    """Every directory holding a sidecar's certificate."""
    return sorted(path.parent for path in pods_dir.glob(f"*/{pki.CERTIFICATE}.json"))


def rotate(
    pods_dir: Path, ca: pki.Issued, now: datetime, validity: timedelta = pki.VALIDITY, force: bool = False
) -> list[str]:
    """Re-issue each sidecar's certificate that is due (all of them with force); the sidecars renewed, by name."""
    renewed = []
    for directory in sidecars(pods_dir):
        current = (directory / "cert.pem").read_bytes()
        if force or pki.due(current, now):
            pki.write(directory, ca, pki.issue(ca, pki.identity(current), now, validity))
            renewed.append(directory.name)
    return renewed


def main() -> int:
    parser = argparse.ArgumentParser(prog="python3 -m lab.mesh.rotate", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("pods_dir", type=Path, help="the lab's .cache/mesh/pods")
    parser.add_argument("ca_dir", type=Path, help="the lab's .cache/mesh/ca (ca.pem, ca.key)")
    parser.add_argument("--every", type=float, help="check again every this many seconds, until stopped")
    parser.add_argument("--force", action="store_true", help="re-issue every certificate now, due or not")
    parser.add_argument("--validity-s", type=int, default=int(pki.VALIDITY.total_seconds()))
    args = parser.parse_args()
    if args.every is not None and args.every <= 0:
        parser.error("--every: a number of seconds above 0")
    ca, validity = pki.load_ca(args.ca_dir), timedelta(seconds=args.validity_s)
    while True:
        renewed = rotate(args.pods_dir, ca, datetime.now(UTC), validity, args.force)
        if renewed:
            print(f"renewed {len(renewed)} certificates: {' '.join(renewed)}", flush=True)
        if args.every is None:
            return 0
        time.sleep(args.every)


if __name__ == "__main__":
    sys.exit(main())
