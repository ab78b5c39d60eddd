"""Write the stages of the last full `make test` recorded in .cache/times.tsv to docs/benchmarks.md.

`make test` records each stage ("test lint", ...) and each molecule scenario ("molecule etcd_default")
as it ends, then "test" for the whole run; the last "test" row closes the run this section reports.

Usage: python benchmarks/test_stages.py [TIMES_TSV]
"""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path
from typing import NamedTuple

from benchmarks.write_section import DOC, HEADER, replace_section

TIMES = Path(__file__).resolve().parents[1] / ".cache" / "times.tsv"
BUDGET_S = 45 * 60
FIRST_STAGE = "lint"  # the first of the Makefile's TEST_STAGES


class Row(NamedTuple):
    what: str
    seconds: float
    at: str


def last_run(rows: list[Row]) -> list[Row]:
    """The rows of the last complete run: from its first stage ("test lint") to its closing "test" row."""
    ends = [i for i, row in enumerate(rows) if row.what == "test"]
    if not ends:
        raise SystemExit(f"{TIMES}: no complete `make test` recorded yet; run `make test` first")
    begin = max((i for i in range(ends[-1]) if rows[i].what == f"test {FIRST_STAGE}"), default=0)
    return [row for row in rows[begin : ends[-1] + 1] if row.what.startswith(("test", "molecule "))]


def section(run: list[Row]) -> str:
    total = run[-1]
    lines = [
        "## `make test`: time per stage",
        "",
        f"Machine: {os.cpu_count()} cores, {platform.freedesktop_os_release().get('PRETTY_NAME', '')}, "
        f"kernel {platform.release()}.",
        f"Date: {total.at}. Command: `make test` (a clean clone, as `.ci/run`), then `make bench-test`.",
        "",
        "| stage | seconds | share |",
        "|---|---|---|",
    ]
    lines += [f"| {row.what} | {row.seconds:.0f} | {row.seconds / total.seconds:.0%} |" for row in run[:-1]]
    verdict = "within" if total.seconds <= BUDGET_S else "over"
    lines += [f"| **total** | **{total.seconds:.0f}** ({total.seconds / 60:.1f} min, {verdict} the 45 min target) | |"]
    return "\n".join(lines) + "\n"


def main() -> None:
    times = Path(sys.argv[1]) if len(sys.argv) > 1 else TIMES
    rows = [Row(w, float(s), at) for w, s, at in (line.split("\t") for line in times.read_text().splitlines())]
    DOC.write_text(replace_section(DOC.read_text() if DOC.exists() else HEADER, "test-stages", section(last_run(rows))))


if __name__ == "__main__":
    main()
