"""Write every dashboard's JSON model; with --check, only say which committed file differs."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tools.dashboards import business, capacity, etcd, mesh, tenants

OUT = Path(__file__).resolve().parents[2] / "roles/observability/files/dashboards"
BUILDERS = (business, mesh, capacity, etcd, tenants)


def rendered() -> dict[str, str]:
    """File name -> JSON text of every dashboard."""
    models = [builder.build() for builder in BUILDERS]
    return {f"{m['uid']}.json": json.dumps(m, indent=2, sort_keys=True) + "\n" for m in models}


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m dashboards", description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if a committed dashboard is not current")
    args = parser.parse_args()
    stale = [
        name for name, text in rendered().items() if not (OUT / name).is_file() or (OUT / name).read_text() != text
    ]
    if args.check:
        for name in stale:
            print(f"{OUT / name} is not current: run `make dashboards`", file=sys.stderr)
        return 1 if stale else 0
    for name, text in rendered().items():
        (OUT / name).write_text(text)
    print(f"wrote {len(BUILDERS)} dashboards to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
