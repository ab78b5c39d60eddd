"""Run the database failover drill (tests/mesh/test_mesh_failover.py) RUNS times on the running lab and write its
figures to docs/benchmarks.md: time to a new primary, client errors, the last error after the stop, and the
drill's judgements (every run must pass). Each run stops whichever member leads, so runs alternate the hosts.

Usage: python -m benchmarks.failover [RUNS]
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

from benchmarks.write_section import DOC, HEADER, replace_section

ROOT = Path(__file__).resolve().parents[1]
DRILL = ROOT / "tests" / "mesh" / "test_mesh_failover.py"
FIGURES = ROOT / ".cache" / "failover" / "figures.json"


def run_once() -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(DRILL)], check=False)
    figures: dict[str, Any] = json.loads(FIGURES.read_text())
    figures["passed"] = done.returncode == 0
    return figures


def section(runs: list[dict[str, Any]], command: str) -> str:
    rows = "\n".join(
        f"| {n} | {r['old_primary']} -> {r['new_primary']} | {r['new_primary_after_stop_s']:.1f} | "
        f"{r['requests']} | {r['errors']} ({100 * r['error_ratio']:.1f} %) | "
        f"{(r['last_error_after_stop_s'] or 0):.1f} | {r['rejoined_as_replica_after_start_s']:.1f} | "
        f"{'yes' if r['passed'] else 'NO'} |"
        for n, r in enumerate(runs, 1)
    )
    return f"""## Database failover drill

Machine: {os.cpu_count()} cores, {platform.freedesktop_os_release().get("PRETTY_NAME", "")}, kernel {platform.release()};
{datetime.date.today().isoformat()}; `{command}`. The lab's services write carts (8 signed clients through the edge, a PUT
every 50 ms each, 45 s); 10 s in, the primary's host is stopped (`podman stop`); Patroni promotes the synchronous
standby; the stopped host is started again and rejoins. Passed means: errors within the 5 % fault budget and none
20 s after the stop, no acknowledged write missing (each client's last acknowledged quantity, or a later one whose
reply was lost, is in the new primary), the saga's invariants hold.

| run | primary | new primary after (s) | requests | errors | last error after the stop (s) | old primary a replica again after its start (s) | passed |
|---|---|---|---|---|---|---|---|
{rows}
"""


def main() -> int:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    runs = [run_once() for _ in range(count)]
    text = DOC.read_text() if DOC.exists() else HEADER
    DOC.write_text(replace_section(text, "failover", section(runs, f"make bench-failover (RUNS={count})")))
    print(section(runs, "make bench-failover"))
    return 0 if all(r["passed"] for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
